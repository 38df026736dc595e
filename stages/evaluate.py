"""DVC stage evaluate: student trained on real-only and on the mix, scored on the protected real eval set."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.backend_uplift import uplift_by_backend
from synthkit.config import load_params
from synthkit.evaluate import evaluate, ratio_curve
from synthkit.io import read_parquet, write_csv, write_json
from synthkit.mix import mix_weights
from synthkit.spec import load_spec
from synthkit.tasks import evaluate as task_evaluate, is_task, slice_plot_rows


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    train = read_parquet(args.train)
    seeds = read_parquet(args.seeds)
    eval_ = read_parquet(args.eval)
    real = mix_weights(seeds.filter(pl.col("split") == "seed"), params.mix)
    if is_task(spec):  # extraction, rewrite, summarization: the type's student and metrics (synthkit.tasks)
        metrics, detail = task_evaluate(spec, params, real, train, eval_, args.docs, args.eval_docs)
        write_json(metrics, args.metrics)
        write_json(detail, args.slices)
        write_csv(pl.DataFrame(slice_plot_rows(spec, metrics)), f"{args.plots}/slices.csv")
        return
    metrics, detail, preds = evaluate(real, train, eval_, spec.label_names, params.evaluate)
    metrics["by_backend"] = uplift_by_backend(train, eval_, spec.label_names, params.evaluate, metrics["real_only"]["macro_f1"])
    write_json(metrics, args.metrics)
    write_json(detail, args.slices)
    write_csv(pl.DataFrame({"actual": eval_["label"], "predicted": preds["mix"]}), f"{args.plots}/confusion.csv")
    rows = [
        {"slice": tag, "model": model, "metric": "macro_f1", "value": v[f"{model}_macro_f1"]}  # long format, as the task types write it
        for tag, v in {"all": {"real_only_macro_f1": metrics["real_only"]["macro_f1"], "mix_macro_f1": metrics["mix"]["macro_f1"]}, **metrics["slices"]}.items()
        for model in ("real_only", "mix")
    ]
    write_csv(pl.DataFrame(rows), f"{args.plots}/slices.csv")
    write_csv(pl.DataFrame(ratio_curve(train, eval_, spec.label_names, params.evaluate, params.seed)), f"{args.plots}/uplift_by_ratio.csv")


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "train", "seeds", "eval", "metrics", "slices", "plots")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    p.add_argument("--eval-docs", default=None, help="folder of the protected eval set's documents (default: --docs)")
    stage.run(main, p)

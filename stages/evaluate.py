"""DVC stage evaluate: student trained on real-only and on the mix, scored on the protected real eval set."""

import polars as pl

from synthkit import stage
from synthkit.backend_uplift import uplift_by_backend
from synthkit.config import load_params
from synthkit.evaluate import evaluate, ratio_curve
from synthkit.io import read_parquet, write_csv, write_json
from synthkit.mix import mix_weights
from synthkit.spec import load_spec


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    train = read_parquet(args.train)
    seeds = read_parquet(args.seeds)
    eval_ = read_parquet(args.eval)
    real = mix_weights(seeds.filter(pl.col("split") == "seed"), params.mix)
    metrics, detail, preds = evaluate(real, train, eval_, spec.label_names, params.evaluate)
    metrics["by_backend"] = uplift_by_backend(train, eval_, spec.label_names, params.evaluate, metrics["real_only"]["macro_f1"])
    write_json(metrics, args.metrics)
    write_json(detail, args.slices)
    write_csv(pl.DataFrame({"actual": eval_["label"], "predicted": preds["mix"]}), f"{args.plots}/confusion.csv")
    rows = [
        {"slice": tag, "model": model, "macro_f1": v[f"{model}_macro_f1"]}
        for tag, v in {"all": {"real_only_macro_f1": metrics["real_only"]["macro_f1"], "mix_macro_f1": metrics["mix"]["macro_f1"]}, **metrics["slices"]}.items()
        for model in ("real_only", "mix")
    ]
    write_csv(pl.DataFrame(rows), f"{args.plots}/slices.csv")
    write_csv(pl.DataFrame(ratio_curve(train, eval_, spec.label_names, params.evaluate, params.seed)), f"{args.plots}/uplift_by_ratio.csv")


if __name__ == "__main__":
    stage.run(main, stage.parser(__doc__, "spec", "train", "seeds", "eval", "metrics", "slices", "plots"))

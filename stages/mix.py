"""DVC stage mix: real seeds anchor the training set; synthetic rows join up to the ratio (or the amount
cross-validation over the seeds chooses: mix.synthetic_ratio auto) under caps, weighted."""

import sys
from functools import partial

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.embeddings import stage_embedder
from synthkit.io import read_parquet, write_csv, write_json, write_parquet
from synthkit.mix import mix
from synthkit.mix_auto import choose_amount
from synthkit.pipeline import stage_counts
from synthkit.spec import load_spec
from synthkit.tasks.base import TaskContext
from synthkit.tasks.registry import load_step


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    deduped = read_parquet(args.deduped)
    seeds = read_parquet(args.seeds)
    step = load_step(spec, params, "mix")
    ctx = TaskContext(spec, params, embedder=stage_embedder(args.embeddings_cache))
    scorer = partial(step.mix_score, ctx) if step.mix_score is not None else None
    teacher = partial(step.fold_teacher, ctx) if getattr(step, "fold_teacher", None) else None
    choice = choose_amount(seeds, deduped, params.mix, params.seed, scorer, student=params.evaluate.students[0] if scorer else "", teacher=teacher)
    if params.mix.synthetic_ratio == "auto" and "note" in choice:  # auto could not cross-validate: say how it mixed instead
        print(f"warning: mix.synthetic_ratio auto: {choice['note']} (reports/mix_auto.json)", file=sys.stderr)
    train, left_out = mix(seeds, deduped, params.mix, params.seed, target=choice["target"])
    write_parquet(train, args.out)
    write_parquet(left_out, args.rejects)
    write_json(choice, args.choice)
    synthetic = train.filter(pl.col("source") == "synthetic")
    composition = train.group_by("label", "family", "source").len().rename({"len": "rows"}).sort("label", "family", "source")
    write_csv(composition, args.plots)
    write_json(
        stage_counts(
            "mix", deduped.height, synthetic, left_out,
            train_rows=train.height, real_rows=train.height - synthetic.height,
            by_label={k: n for k, n in train.group_by("label").len().sort("label").iter_rows()},
            by_family={k: n for k, n in train.group_by("family").len().sort("family").iter_rows()},
            synthetic_amount={k: v for k, v in choice.items() if k != "curve"},
        ),
        args.counts,
    )


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "deduped", "seeds", "out", "rejects", "counts", "plots", "choice")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    stage.run(main, p)

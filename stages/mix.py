"""DVC stage mix: real seeds anchor the training set; synthetic rows join up to the ratio under caps, weighted."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.io import read_parquet, write_csv, write_json, write_parquet
from synthkit.mix import mix
from synthkit.pipeline import stage_counts


def main(args) -> None:
    params = load_params(args.params)
    deduped = read_parquet(args.deduped)
    seeds = read_parquet(args.seeds)
    train, left_out = mix(seeds, deduped, params.mix, params.seed)
    write_parquet(train, args.out)
    write_parquet(left_out, args.rejects)
    synthetic = train.filter(pl.col("source") == "synthetic")
    composition = train.group_by("label", "family", "source").len().rename({"len": "rows"}).sort("label", "family", "source")
    write_csv(composition, args.plots)
    write_json(
        stage_counts(
            "mix", deduped.height, synthetic, left_out,
            train_rows=train.height, real_rows=train.height - synthetic.height,
            by_label={k: n for k, n in train.group_by("label").len().sort("label").iter_rows()},
            by_family={k: n for k, n in train.group_by("family").len().sort("family").iter_rows()},
        ),
        args.counts,
    )


if __name__ == "__main__":
    stage.run(main, stage.parser(__doc__, "deduped", "seeds", "out", "rejects", "counts", "plots"))

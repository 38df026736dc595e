"""DVC stage monitor: drift of the training mix against production traffic; diversity and mode-collapse signals."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.io import read_parquet, write_json
from synthkit.monitor import diversity, drift


def main(args) -> None:
    params = load_params(args.params)
    train = read_parquet(args.train)
    production = read_parquet(args.production)
    write_json(drift(train["text"].to_list(), production["text"].to_list(), params.seed), args.drift)
    synthetic = train.filter(pl.col("source") == "synthetic")["text"].to_list()
    write_json(
        {
            "train": diversity(train["text"].to_list(), params.monitor, params.dedupe),
            "synthetic": diversity(synthetic, params.monitor, params.dedupe),
            "real": diversity(train.filter(pl.col("source") == "real")["text"].to_list(), params.monitor, params.dedupe),
        },
        args.diversity,
    )


if __name__ == "__main__":
    stage.run(main, stage.parser(__doc__, "train", "production", "drift", "diversity"))

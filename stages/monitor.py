"""DVC stage monitor: drift of the training mix against production traffic; diversity and mode-collapse signals, by n-grams and by meaning."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.embeddings import stage_embedder
from synthkit.io import read_parquet, write_json
from synthkit.monitor import diversity, drift
from synthkit.semantic_monitor import diversity_by_meaning, drift_by_meaning, label_distances


def main(args) -> None:
    params = load_params(args.params)
    train = read_parquet(args.train)
    production = read_parquet(args.production)
    embedder, m = stage_embedder(args.embeddings_cache), params.monitor
    report = drift(train["text"].to_list(), production["text"].to_list(), params.seed)
    if m.semantic:
        report["by_meaning"] = drift_by_meaning(train["text"].to_list(), production["text"].to_list(), m, params.seed, embedder)
    write_json(report, args.drift)
    corpora = {"train": train, "synthetic": train.filter(pl.col("source") == "synthetic"), "real": train.filter(pl.col("source") == "real")}
    out = {name: diversity(frame["text"].to_list(), m, params.dedupe) for name, frame in corpora.items()}
    if m.semantic:
        for name, frame in corpora.items():
            out[name]["by_meaning"] = diversity_by_meaning(frame["text"].to_list(), m, params.seed, embedder)
        labeled = train.filter(pl.col("label").is_not_null())
        out["by_label_meaning"] = label_distances(*(labeled[c].to_list() for c in ("text", "label", "source")), m, params.seed, embedder)
    write_json(out, args.diversity)


if __name__ == "__main__":
    p = stage.parser(__doc__, "train", "production", "drift", "diversity")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    stage.run(main, p)

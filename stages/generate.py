"""DVC stage generate: scenario-first candidates from the spec plus seed-based variation, with provenance."""

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.generators.combine import generate_candidates
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.spec import load_spec


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    seeds = read_parquet(args.seeds)
    pool = read_parquet(args.unlabeled) if args.unlabeled and "pseudo_label" in params.generate.backends else None
    candidates = generate_candidates(spec, seeds, pool, params.generate, params.seed)
    write_parquet(candidates, args.out)
    by = lambda col: {k: n for k, n in candidates.group_by(col).len().sort(col).iter_rows()}  # noqa: E731
    write_json(
        {
            "stage": "generate", "in": candidates.height, "kept": candidates.height, "rejected": 0,
            "rejected_by_gate": {}, "rejected_by_reason": {},
            "by_family": by("family"), "by_channel": by("channel"), "by_label": by("label"),
            "by_backend": {k: n for k, n in candidates.group_by(pl.col("generator").struct.field("backend")).len().sort("backend").iter_rows()},
        },
        args.counts,
    )


if __name__ == "__main__":
    parser = stage.parser(__doc__, "spec", "seeds", "out", "counts")
    parser.add_argument("--unlabeled", default=None, help="the prepared unlabeled pool (pseudo_label backend)")
    stage.run(main, parser)

"""DVC stage generate: scenario-first candidates from the spec plus seed-based variation, with provenance."""

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.generators.template import generate_template
from synthkit.generators.variation import generate_variations
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.spec import load_spec
from synthkit.tasks import generate as task_generate, generate_counts, is_task


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    seeds = read_parquet(args.seeds)
    if is_task(spec):  # extraction, rewrite, summarization: the type's own offline generator (synthkit.tasks)
        candidates = task_generate(spec, params, seeds, args.docs)
        write_parquet(candidates, args.out)
        write_json(generate_counts(candidates), args.counts)
        return
    scenario_rows = generate_template(spec, params.generate, params.seed)
    variation_rows = generate_variations(seeds, spec, params.generate, params.seed)
    candidates = pl.concat([scenario_rows, variation_rows]).unique("id", keep="first", maintain_order=True).sort("id")
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
    p = stage.parser(__doc__, "spec", "seeds", "out", "counts")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    stage.run(main, p)

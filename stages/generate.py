"""DVC stage generate: scenario-first candidates from the spec (template or openai backend) plus seed-based variation, with provenance."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.errors import InputError
from synthkit.generation import ensure_cache_dir, generate_candidates
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.pipeline import stage_counts
from synthkit.review import load_decisions
from synthkit.schemas import Reject, polars_schema
from synthkit.spec import load_spec
from synthkit.tasks import generate as task_generate, generate_counts, generate_openai as task_generate_openai, is_task


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    seeds = read_parquet(args.seeds)
    if is_task(spec):  # extraction, rewrite, summarization: the type's own offline generator, or the openai backend (synthkit.tasks)
        if params.generate.backends != ["template"]:
            raise InputError(args.params, f"task.type {spec.task.type} generates with the template or the openai backend only", field="generate.backends")
        if params.generate.backend == "openai":
            if args.rejects is None:
                raise InputError(args.spec, "the openai backend needs --rejects for generate rejects", field="--rejects")
            ensure_cache_dir(args.llm_cache)
            out = task_generate_openai(spec, params, seeds, args.docs, prompts_dir=args.prompts, cache_dir=args.llm_cache)
            write_parquet(out.candidates, args.out)
            write_parquet(out.rejects, args.rejects)
            counts = generate_counts(out.candidates)
            write_json(
                stage_counts(
                    "generate", out.candidates.height + out.rejects.height, out.candidates, out.rejects,
                    **{k: v for k, v in counts.items() if k.startswith("by_")}, not_run=out.not_run, prompts=out.prompts, llm=out.ledger.to_dict(),
                ),
                args.counts,
            )
            return
        candidates = task_generate(spec, params, seeds, args.docs)
        write_parquet(candidates, args.out)
        if args.rejects:
            write_parquet(pl.DataFrame(schema=polars_schema(Reject)), args.rejects)
        write_json(generate_counts(candidates), args.counts)
        return
    decisions = load_decisions(args.decisions, spec.label_names) if params.generate.rounds > 1 else {}
    pool = read_parquet(args.unlabeled) if args.unlabeled and "pseudo_label" in params.generate.backends else None
    ensure_cache_dir(args.llm_cache)
    out = generate_candidates(spec, seeds, params, decisions, prompts_dir=args.prompts, cache_dir=args.llm_cache, unlabeled=pool)
    candidates, rejects = out.candidates, out.rejects
    write_parquet(candidates, args.out)
    if args.rejects is None:
        raise InputError(args.spec, "the classification pipeline needs --rejects for generate rejects", field="--rejects")
    write_parquet(rejects, args.rejects)
    by = lambda col: {k: n for k, n in candidates.group_by(col).len().sort(col).iter_rows()}  # noqa: E731
    write_json(
        stage_counts(
            "generate", candidates.height + rejects.height, candidates, rejects,
            by_family=by("family"), by_channel=by("channel"), by_label=by("label"),
            by_backend={k: n for k, n in candidates.group_by(pl.col("generator").struct.field("backend")).len().sort("backend").iter_rows()},
            by_round={str(k): n for k, n in candidates.group_by("round").len().sort("round").iter_rows()},
            approved_by_round=out.approved_by_round, not_run=out.not_run, prompts=out.prompts, llm=out.ledger.to_dict(),
        ),
        args.counts,
    )


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "seeds", "out", "counts")
    p.add_argument("--rejects", default=None, help="generate rejects (required for the classification pipeline)")
    p.add_argument("--unlabeled", default=None, help="the prepared unlabeled pool (pseudo_label backend)")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    p.add_argument("--decisions", default="data/review/decisions.csv")
    p.add_argument("--prompts", default="prompts")
    p.add_argument("--llm-cache", default="data/llm_cache/generate")
    stage.run(main, p)

"""DVC stage filter: PII, toxicity and consistency gates, human review decisions, and a review sample."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import json

from synthkit import stage
from synthkit.config import load_params
from synthkit.cost import CostLedger
from synthkit.engine import open_engine
from synthkit.filtering import filter_candidates
from synthkit.gates.pii import build_analyzer
from synthkit.generation import ensure_cache_dir
from synthkit.io import read_parquet, write_csv, write_json, write_parquet, write_text
from synthkit.pipeline import stage_counts
from synthkit.review import REVIEW_COLUMNS, decision_counts, load_decisions, review_sample, to_labelstudio
from synthkit.spec import load_spec
from synthkit.tasks import SKIPPED_GATES, filter_task, is_task


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    validated = read_parquet(args.validated)
    seeds = read_parquet(args.seeds)
    decisions = load_decisions(args.decisions, spec.label_names)
    analyzer = build_analyzer(params.filter.pii.spacy_model) if params.filter.pii.enabled else None
    ledger = CostLedger()
    with open_engine(params) as engine:
        if is_task(spec):  # extraction, rewrite, summarization: PII and toxicity on text and target, no consistency student
            kept, rejects = filter_task(validated, seeds, params, decisions, analyzer)
        else:
            ensure_cache_dir(args.llm_cache)
            kept, rejects = filter_candidates(
                validated, seeds, params.filter, decisions, analyzer, params.llm, engine,
                spec=spec, prompts_dir=args.prompts, cache_dir=args.llm_cache, seed=params.seed, ledger=ledger,
            )
    sample = review_sample(kept, rejects, params.filter.review, params.seed)
    write_parquet(kept, args.out)
    write_parquet(rejects, args.rejects)
    write_csv(sample.select(REVIEW_COLUMNS), f"{args.review_dir}/sample.csv")
    # JSONL: one flat record per line (Argilla, Hugging Face datasets); JSON task list for Label Studio
    write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample.select(REVIEW_COLUMNS[:6]).to_dicts()), f"{args.review_dir}/sample.jsonl")
    write_json(to_labelstudio(sample), f"{args.review_dir}/sample.labelstudio.json")
    write_json(
        stage_counts(
            "filter", validated.height, kept, rejects,
            review={"decisions": decision_counts(decisions, set(validated["id"])), "sampled": sample.height},
            redacted=int(kept["text"].str.contains("<[A-Z_]+>").sum()),
            llm=ledger.to_dict(),
            **({"skipped_gates": SKIPPED_GATES} if is_task(spec) else {}),
        ),
        args.counts,
    )


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "validated", "seeds", "decisions", "out", "rejects", "review-dir", "counts")
    p.add_argument("--prompts", default="prompts")
    p.add_argument("--llm-cache", default="data/llm_cache/filter")
    stage.run(main, p)

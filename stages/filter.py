"""DVC stage filter: human review decisions, then the task type's filter gates (PII, toxicity, critic, ...), and a review sample."""

import sys

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.calibration import Calibration
from synthkit.config import load_params
from synthkit.embeddings import stage_embedder
from synthkit.engine import open_engine
from synthkit.errors import InputError
from synthkit.gates.pii import build_analyzer
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.llm.cache import ensure_cache_dir
from synthkit.llm.run import open_run
from synthkit.pipeline import run_gates, stage_counts
from synthkit.review import (
    apply_decisions,
    decision_counts,
    load_decisions,
    review_sample,
    write_review_sample,
)
from synthkit.spec import load_spec
from synthkit.tasks.base import TaskContext
from synthkit.tasks.registry import load_step, load_task


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    task, step = load_task(spec, params), load_step(spec, params, "filter")
    validated = read_parquet(args.validated)
    seeds = read_parquet(args.seeds)
    decisions = load_decisions(args.decisions, spec.label_names)
    analyzer = build_analyzer(params.filter.pii.spacy_model) if params.filter.pii.enabled else None
    ensure_cache_dir(args.llm_cache)
    ledger = open_run(args.llm_cache)
    ctx = TaskContext(spec, params, prompts_dir=args.prompts, llm_cache=args.llm_cache, ledger=ledger,
                      embedder=stage_embedder(args.embeddings_cache))
    candidates = apply_decisions(validated, decisions)
    with open_engine(params) as engine:
        calibration = Calibration(step, ctx, seeds, read_parquet(args.unlabeled), analyzer, engine)  # the gates on real text first
        gates = calibration.gates(step.filter_gates(ctx, seeds, decisions, analyzer, engine, ledger))
        kept, rejects = run_gates(candidates, gates)
    calibrated, by_label = calibration.report(candidates, rejects, list(dict.fromkeys(g for g, _ in gates)))
    write_json(calibrated, args.calibration)
    if (line := calibration.verdict()) and params.filter.calibration.action == "fail":
        raise InputError(args.unlabeled, f"gates miscalibrated on real text: {line}", field="filter.calibration")
    if line:
        print(f"warning: {line}", file=sys.stderr)
    sample = review_sample(kept, rejects, params.filter.review, params.seed)
    write_parquet(kept, args.out)
    write_parquet(rejects, args.rejects)
    write_review_sample(sample, args.review_dir)
    write_json(
        stage_counts(
            "filter", validated.height, kept, rejects,
            review={"decisions": decision_counts(decisions, set(validated["id"])), "sampled": sample.height},
            redacted=int(kept["text"].str.contains("<[A-Z_]+>").sum()), llm=ledger.to_dict(), **by_label,
            **({"skipped_gates": task.skipped_gates} if task.skipped_gates else {}),
        ),
        args.counts,
    )


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "validated", "seeds", "unlabeled", "decisions", "prompts", "llm-cache", "out", "rejects", "review-dir", "counts", "calibration")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    stage.run(main, p)

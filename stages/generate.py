"""DVC stage generate: candidates of the task type's generator backends, with provenance; failed LLM answers as rejects."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.config import load_params
from synthkit.embeddings import stage_embedder
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.llm.cache import ensure_cache_dir
from synthkit.llm.run import open_run
from synthkit.pipeline import generate_counts
from synthkit.review import load_decisions
from synthkit.spec import load_spec
from synthkit.tasks.base import TaskContext
from synthkit.tasks.registry import load_step


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    step = load_step(spec, params, "generate")
    seeds = read_parquet(args.seeds)
    unlabeled = read_parquet(args.unlabeled)
    decisions = load_decisions(args.decisions, spec.label_names)
    ensure_cache_dir(args.llm_cache)
    embedder = stage_embedder(args.embeddings_cache)
    ctx = TaskContext(spec, params, docs=args.docs, prompts_dir=args.prompts, llm_cache=args.llm_cache, ledger=open_run(args.llm_cache),
                      embedder=embedder)
    out = step.generate(ctx, seeds, unlabeled, decisions)
    write_parquet(out.candidates, args.out)
    write_parquet(out.rejects, args.rejects)
    write_json(generate_counts(out), args.counts)


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "seeds", "unlabeled", "decisions", "prompts", "llm-cache", "out", "rejects", "counts")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    stage.run(main, p)

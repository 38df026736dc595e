"""DVC stage evaluate: the task type's student trained on real-only and on the mix, scored on the protected real eval set."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

import sys

import polars as pl

from synthkit import stage
from synthkit.config import load_params
from synthkit.embeddings import stage_embedder
from synthkit.errors import InputError
from synthkit.io import read_parquet, write_csv, write_json
from synthkit.mix import mix_weights
from synthkit.spec import load_spec
from synthkit.tasks.base import TaskContext
from synthkit.tasks.registry import load_step
from synthkit.uplift import negative_uplift


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    step = load_step(spec, params, "evaluate")
    train = read_parquet(args.train)
    real = mix_weights(read_parquet(args.seeds).filter(pl.col("split") == "seed"), params.mix)
    eval_ = read_parquet(args.eval)
    ctx = TaskContext(spec, params, docs=args.docs, eval_docs=args.eval_docs, embedder=stage_embedder(args.embeddings_cache))
    result = step.evaluate(ctx, real, train, eval_)
    write_json(result.metrics, args.metrics)
    write_json(result.detail, args.slices)
    for name, rows in result.plots.items():
        write_csv(rows, f"{args.plots}/{name}")
    if line := negative_uplift(result.metrics):  # every output is written first: the figures behind the line are there
        if params.evaluate.on_negative_uplift == "fail":
            raise InputError(args.metrics, line, field="evaluate.on_negative_uplift")
        print(f"warning: {line} ({args.metrics})", file=sys.stderr)


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "train", "seeds", "eval", "metrics", "slices", "plots")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    p.add_argument("--eval-docs", default=None, help="folder of the protected eval set's documents (default: --docs)")
    stage.run(main, p)

"""DVC stage validate: the format gate (row model), the rule gate (spec) and the task type's correctness gates."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.config import load_params
from synthkit.gates.rules import gate_format, gate_rules
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.pipeline import run_gates, stage_counts
from synthkit.spec import load_spec
from synthkit.tasks.base import TaskContext
from synthkit.tasks.registry import load_step


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    step = load_step(spec, params, "validate")
    candidates = read_parquet(args.candidates)
    rules = ("rule", lambda f: gate_rules(f, spec, params.validate_.min_chars, params.validate_.max_chars))
    kept, rejects = run_gates(candidates, [("format", gate_format), rules, *step.validate_gates(TaskContext(spec, params, docs=args.docs))])
    write_parquet(kept, args.out)
    write_parquet(rejects, args.rejects)
    write_json(stage_counts("validate", candidates.height, kept, rejects), args.counts)


if __name__ == "__main__":
    p = stage.parser(__doc__, "spec", "candidates", "out", "rejects", "counts")
    p.add_argument("--docs", default=None, help="folder of source documents (summarization)")
    stage.run(main, p)

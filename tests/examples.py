"""The bundled task-type examples as test inputs: spec, params and prepared seeds, built in memory from data/raw."""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from synthkit.config import Params, load_params
from synthkit.prepare import load_labeled
from synthkit.spec import Spec, load_spec
from synthkit.tasks.base import Generated, TaskContext
from synthkit.tasks.registry import load_step
from tests.repo_copy import REPO

EXAMPLES = REPO / "examples"


def example(kind: str) -> tuple[Spec, Params, Path]:
    ex = EXAMPLES / kind
    return load_spec(ex / "spec.yaml"), load_params(ex / "params.yaml"), ex


@functools.cache
def prepared_seeds(kind: str) -> pl.DataFrame:
    """The example's seeds as the prepare stage writes them (dev_fraction 0 in every example)."""
    spec, params, ex = example(kind)
    check = load_step(spec, params, "prepare").target_check(spec)
    seeds, *_ = load_labeled(ex / params.prepare.seeds, "seed", params.prepare, spec.label_names, target_check=check)
    return seeds


def write_seeds(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}_seeds.parquet"
    prepared_seeds(kind).write_parquet(path)
    return path


def docs_of(kind: str) -> str | None:
    _, params, ex = example(kind)
    return str(ex / params.prepare.docs) if params.prepare.docs else None


def generate(spec: Spec, params: Params, seeds: pl.DataFrame, docs: str | None, cache_dir, prompts_dir=REPO / "prompts",
             unlabeled: pl.DataFrame | None = None, decisions: dict | None = None) -> Generated:
    """The generate step of the spec's task type, as the generate stage runs it."""
    ctx = TaskContext(spec, params, docs=docs, prompts_dir=str(prompts_dir), llm_cache=str(cache_dir), progress=False)
    return load_step(spec, params, "generate").generate(ctx, seeds, unlabeled, decisions or {})


def filter_frame(spec: Spec, params: Params, rows: pl.DataFrame, seeds: pl.DataFrame, decisions: dict, analyzer=None, cache_dir=None,
                 engine=None, ledger=None, prompts_dir=REPO / "prompts") -> tuple[pl.DataFrame, pl.DataFrame]:
    """The filter stage's gates over rows (human decisions applied first), as the filter stage runs them."""
    from synthkit.cost import CostLedger
    from synthkit.engine import LocalEngine
    from synthkit.pipeline import run_gates
    from synthkit.review import apply_decisions

    ctx = TaskContext(spec, params, prompts_dir=str(prompts_dir), llm_cache=str(cache_dir) if cache_dir else None, progress=False)
    gates = load_step(spec, params, "filter").filter_gates(ctx, seeds, decisions, analyzer, engine or LocalEngine(), ledger or CostLedger())
    return run_gates(apply_decisions(rows, decisions), gates)

"""Run a sequence of gates over a frame, collecting kept rows, rejects and per-reason counts."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from synthkit.gates.base import Verdict, split_verdicts
from synthkit.progress import note_rows
from synthkit.schemas import Reject, polars_schema

GateFn = Callable[[pl.DataFrame], list[Verdict]]


def run_gates(df: pl.DataFrame, gates: list[tuple[str, GateFn]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply gates in order; each sees only the rows the previous ones kept. Returns (kept, all rejects)."""
    rejects = [pl.DataFrame(schema=polars_schema(Reject))]
    kept = df
    for name, gate in gates:
        kept, dropped = split_verdicts(kept, gate(kept), name)
        rejects.append(dropped)
    return kept.sort("id"), pl.concat(rejects).sort("gate", "id")


def stage_counts(stage: str, n_in: int, kept: pl.DataFrame, rejects: pl.DataFrame, **extra) -> dict:
    """The counts a stage reports: in = kept + rejected, with rejects per gate and per reason."""
    by_reason = {r: n for r, n in rejects.group_by("reason").len().sort("reason").iter_rows()} if rejects.height else {}
    by_gate = {g: n for g, n in rejects.group_by("gate").len().sort("gate").iter_rows()} if rejects.height else {}
    counts = {"stage": stage, "in": n_in, "kept": kept.height, "rejected": rejects.height, "rejected_by_gate": by_gate, "rejected_by_reason": by_reason}
    if n_in != kept.height + rejects.height:
        raise AssertionError(f"{stage}: {n_in} in != {kept.height} kept + {rejects.height} rejected")
    counts.update(extra)
    note_rows(n_in)  # the rows of the stage's progress summary
    return counts



def _by(df: pl.DataFrame, col: str | pl.Expr, name: str) -> dict:
    return {str(k): n for k, n in df.group_by(col).len().sort(name).iter_rows()}


def generate_counts(out) -> dict:
    """The generate stage's counts (out: synthkit.tasks.base.Generated): every answer ends as a candidate or a reject;
    candidates by family, channel, label, backend and round; requests not run, prompts and LLM cost."""
    c = out.candidates
    return stage_counts(
        "generate", c.height + out.rejects.height, c, out.rejects,
        by_family=_by(c, "family", "family"), by_channel=_by(c, "channel", "channel"), by_label=_by(c, "label", "label"),
        by_backend=_by(c, pl.col("generator").struct.field("backend"), "backend"), by_round=_by(c, "round", "round"),
        approved_by_round=out.approved_by_round, not_run=out.not_run, prompts=out.prompts, llm=out.ledger.to_dict(),
    )

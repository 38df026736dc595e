"""Rewrite's validate step: the rewrite gate (target form, no new numbers or entities, bounded length ratio)."""

from synthkit.tasks.base import Gate, TaskContext
from synthkit.tasks.rewrite.gate import gate_rewrite


def validate_gates(ctx: TaskContext) -> list[Gate]:
    spec, bounds = ctx.spec.section, ctx.params.task.section.length_ratio
    return [("rewrite", lambda f: gate_rewrite(f["text"].to_list(), f["target"].to_list(), spec, bounds))]

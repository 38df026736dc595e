"""Extraction's validate step: the schema gate (JSON fits the fields) and the evidence gate (every value is in the text)."""

from synthkit.tasks.base import Gate, TaskContext
from synthkit.tasks.extraction.target import gate_evidence, gate_schema


def validate_gates(ctx: TaskContext) -> list[Gate]:
    ex = ctx.spec.section
    return [
        ("schema", lambda f: gate_schema(f["target"].to_list(), ex)),
        ("evidence", lambda f: gate_evidence(f["text"].to_list(), f["target"].to_list(), ex)),
    ]

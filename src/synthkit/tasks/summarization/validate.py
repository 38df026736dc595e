"""Summarization's validate step: the grounding gate against the source documents (prepare.docs)."""

from synthkit.tasks.base import Gate, TaskContext
from synthkit.tasks.summarization.docs import load_docs
from synthkit.tasks.summarization.gate import gate_grounding


def validate_gates(ctx: TaskContext) -> list[Gate]:
    docs, sm = load_docs(ctx.docs), ctx.spec.section
    return [("grounding", lambda f: gate_grounding(f, sm, docs))]

"""The grounding gate: outputs that state a number, name or date the source lacks, and QA answers that are not a
span of their document, are rejected.
"""

from __future__ import annotations

import polars as pl

from synthkit.gates.base import KEEP, Verdict
from synthkit.tasks.facts import new_facts, normalize_space
from synthkit.tasks.summarization.section import SummarizationSpec


def gate_grounding(df: pl.DataFrame, spec: SummarizationSpec, docs: dict[str, str]) -> list[Verdict]:
    """grounding gate: no new facts against the source (the passage; the document for QA); a QA answer must be a span of its document."""
    out = []
    for text, target, label, doc_id in df.select("text", "target", "label", "scenario_id").iter_rows():
        if target is None or not target.strip():
            out.append(Verdict("grounding_missing_target"))
            continue
        if label == spec.qa_label:
            doc = docs.get(doc_id)
            if doc is None:
                out.append(Verdict("grounding_unknown_doc", doc_id))
                continue
            if normalize_space(target) not in normalize_space(doc):
                out.append(Verdict("grounding_answer_unsupported", target[:60]))
                continue
            source = doc
        else:
            source = text
            if len(target) >= len(text):
                out.append(Verdict("grounding_not_shorter", f"{len(target)} >= {len(text)} chars"))
                continue
        fact = new_facts(target, source)
        out.append(Verdict(f"grounding_new_{fact[0]}", fact[1]) if fact else KEEP)
    return out


def check_target(spec: SummarizationSpec):
    def check(target: str | None) -> str:
        if target is None:
            raise ValueError("target: missing")
        return target
    return check

"""Validate-stage gates: the format gate (the pydantic row model) and the rule gate (the spec's rules)."""

from __future__ import annotations

import re

import polars as pl
from pydantic import ValidationError

from synthkit.gates.base import KEEP, Verdict
from synthkit.progress import progress
from synthkit.schemas import CHANNELS, FAMILIES, Example
from synthkit.spec import Spec

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


FORMAT_BATCH = 8192


def gate_format(rows: pl.DataFrame | list[dict]) -> list[Verdict]:
    """Reject rows that do not satisfy the Example row model, or whose text is blank or has control characters.

    A frame is read in batches of FORMAT_BATCH rows, so its rows never all exist as Python dicts at once.
    """
    if isinstance(rows, pl.DataFrame):
        batches = progress(rows.iter_slices(FORMAT_BATCH), "format gate", total=rows.height, size_of=len)
        return [_format_row(row) for batch in batches for row in batch.to_dicts()]
    return [_format_row(row) for row in rows]


def _format_row(row: dict) -> Verdict:
    try:
        Example.model_validate(row)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "_".join(str(p) for p in err["loc"]) or "row"
        return Verdict(f"format_invalid_{field}", err["msg"])
    return _text_verdict(row["text"])


def _text_verdict(text: str) -> Verdict:
    if not text.strip():
        return Verdict("format_blank_text")
    if _CONTROL.search(text):
        return Verdict("format_control_characters")
    return KEEP


def gate_rules(df: pl.DataFrame, spec: Spec, min_chars: int | None = None, max_chars: int | None = None) -> list[Verdict]:
    """Reject rows that break the spec: unknown label, family or channel, length bounds, forbidden patterns."""
    labels = set(spec.label_names)
    lo = spec.constraints.min_chars if min_chars is None else min_chars
    hi = spec.constraints.max_chars if max_chars is None else max_chars
    forbidden = [re.compile(p) for p in spec.constraints.forbid_patterns]
    verdicts = []
    for row in progress(df.select("text", "label", "family", "channel").iter_rows(named=True), "rule gate", total=df.height):
        text = row["text"]
        if row["label"] not in labels:
            verdicts.append(Verdict("rule_unknown_label", str(row["label"])))
        elif row["family"] not in FAMILIES:
            verdicts.append(Verdict("rule_unknown_family", row["family"]))
        elif row["channel"] not in CHANNELS:
            verdicts.append(Verdict("rule_unknown_channel", row["channel"]))
        elif len(text.strip()) < lo:
            verdicts.append(Verdict("rule_too_short", f"{len(text.strip())} < {lo} chars"))
        elif len(text) > hi:
            verdicts.append(Verdict("rule_too_long", f"{len(text)} > {hi} chars"))
        else:
            hit = next((p.pattern for p in forbidden if p.search(text)), None)
            verdicts.append(Verdict("rule_forbidden_pattern", hit) if hit else KEEP)
    return verdicts

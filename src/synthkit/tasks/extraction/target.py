"""Extraction targets: canonical JSON of the extracted fields, checked against the spec's schema and against the text.

The schema gate validates the JSON against the spec's fields; the evidence gate checks every value appears in the
text or normalises from it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)

from synthkit.gates.base import KEEP, Verdict
from synthkit.tasks.extraction.section import ExtractionSpec
from synthkit.tasks.facts import dates, normalize_space, number_value

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def canonical(obj: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, no null values, compact separators, non-ASCII kept."""
    return json.dumps({k: v for k, v in obj.items() if v is not None}, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _iso(v: str) -> str:
    dt.date.fromisoformat(v)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise ValueError("date must be YYYY-MM-DD")
    return v


def target_model(spec: ExtractionSpec):
    """A pydantic model of the target JSON built from the spec's fields (unknown keys forbidden)."""
    fields: dict[str, Any] = {}
    for name, f in spec.fields.items():
        if f.type == "number":
            typ: Any = StrictInt | StrictFloat
        elif f.type == "date":
            typ = Annotated[StrictStr, AfterValidator(_iso)]
        elif f.enum:
            typ = Literal[tuple(f.enum)]  # type: ignore[valid-type]
        else:
            typ = Annotated[StrictStr, AfterValidator(lambda v: v if v.strip() else (_ for _ in ()).throw(ValueError("empty string")))]
        fields[name] = (typ, ...) if name in spec.required else (typ | None, None)
    return create_model("ExtractionTarget", __config__=ConfigDict(extra="forbid"), **fields)


def parse_target(target: str | None, spec: ExtractionSpec) -> tuple[dict | None, str | None, str]:
    """(values, None, '') for a valid target, else (None, reason suffix, detail)."""
    if target is None or not target.strip():
        return None, "missing_target", ""
    try:
        obj = json.loads(target)
    except json.JSONDecodeError as exc:
        return None, "invalid_json", exc.msg
    if not isinstance(obj, dict):
        return None, "not_object", type(obj).__name__
    try:
        target_model(spec).model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        kind = {"extra_forbidden": "unknown_field", "missing": "missing_field", "literal_error": "not_in_enum"}.get(err["type"], "wrong_type")
        return None, kind, f"field={field}"
    return {k: v for k, v in obj.items() if v is not None}, None, ""


def check_target(spec: ExtractionSpec):
    """For prepare: the canonical target of a real row, or ValueError saying what is wrong."""
    def check(target: str | None) -> str:
        values, reason, detail = parse_target(target, spec)
        if values is None:
            raise ValueError(f"target: {reason.replace('_', ' ')} {detail}".strip())
        return canonical(values)
    return check


def gate_schema(targets: list[str | None], spec: ExtractionSpec) -> list[Verdict]:
    """schema gate: the target is JSON of the spec's fields with the right types, in canonical form."""
    out = []
    for t in targets:
        values, reason, detail = parse_target(t, spec)
        if values is None:
            out.append(Verdict(f"schema_{reason}", detail))
        elif canonical(values) != t:
            out.append(Verdict("schema_not_canonical", "sorted keys, no nulls"))
        else:
            out.append(KEEP)
    return out


def _surface_pattern(surface: str) -> re.Pattern[str]:
    s = re.escape(surface)
    return re.compile(rf"(?<![A-Za-z]){s}(?![A-Za-z])", re.I) if surface[:1].isalpha() else re.compile(s)


def find_value(text: str, field: str, value: Any, spec: ExtractionSpec) -> tuple[int, int] | None:
    """The character span of the text the value is written as (or normalises from), or None."""
    f = spec.fields[field]
    if field == spec.currency_field and spec.currencies:
        hits = [m.span() for s in spec.currencies.get(str(value), [str(value)]) if (m := _surface_pattern(s).search(text))]
        return min(hits) if hits else None
    if f.type == "number":
        want = Decimal(str(value))
        for m in re.finditer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text):
            if number_value(m.group()) == want:
                return m.span()
        return None
    if f.type == "date":
        want_d = dt.date.fromisoformat(str(value))
        return next(((s, e) for d, s, e in dates(text, spec.date_order) if d == want_d), None)
    m = re.search(re.escape(normalize_space(str(value))).replace(r"\ ", r"\s+"), text, re.I)
    return m.span() if m else None


def gate_evidence(texts: list[str], targets: list[str | None], spec: ExtractionSpec) -> list[Verdict]:
    """evidence gate: every extracted value appears in the text, or normalises from it (1,234.50 -> 1234.5, 3 March 2024 -> 2024-03-03)."""
    out = []
    for text, t in zip(texts, targets):
        values, _, _ = parse_target(t, spec)
        missing = [k for k, v in sorted((values or {}).items()) if find_value(text, k, v, spec) is None]
        out.append(Verdict("evidence_value_not_in_text", f"field={missing[0]}") if missing else KEEP)
    return out

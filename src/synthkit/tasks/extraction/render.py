"""Rendering slot values into an extraction template: amounts with their currency written as a text would, dates in
the spec's order, and the values the text then states (the target's source)."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from typing import Any

from synthkit.tasks.extraction.section import ExtractionSpec
from synthkit.tasks.extraction.target import MONTH_NAMES


def render_amount(value: Decimal, currency: str | None, spec: ExtractionSpec, rng: random.Random) -> str:
    """A money amount as people write it: 1,234.50 / 1234.50 / 45, with a symbol, code or word."""
    whole = value == value.to_integral_value()
    forms = [f"{value:,.2f}", f"{value:.2f}"] + ([f"{int(value):,}", f"{int(value)}"] if whole else [])
    num = rng.choice(forms)
    if currency is None:
        return num
    surfaces = spec.currencies.get(currency, [currency])
    s = rng.choice(surfaces)
    if not s[:1].isalpha():
        return f"{s}{num}"
    return f"{s} {num}" if s.isupper() and rng.random() < 0.5 else f"{num} {s}"


def render_date(d: dt.date, spec: ExtractionSpec, rng: random.Random) -> str:
    """A date as people write it: 3 March 2024, 3rd of March 2024, March 3, 2024, 3 Mar 2024, 2024-03-03, 03/03/2024."""
    month = MONTH_NAMES[d.month - 1]
    suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    slash = f"{d.day:02d}/{d.month:02d}/{d.year}" if spec.date_order == "dmy" else f"{d.month:02d}/{d.day:02d}/{d.year}"
    return rng.choice([f"{d.day} {month} {d.year}", f"{d.day}{suffix} of {month} {d.year}", f"{month} {d.day}, {d.year}",
                       f"{d.day} {month[:3]} {d.year}", d.isoformat(), slash])


SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def render(template: str, slots: dict[str, list[str]], spec: ExtractionSpec, rng: random.Random) -> tuple[str, dict]:
    """Fill a template; field slots get a canonical value (the target) rendered in a surface form."""
    names = SLOT.findall(template)
    currency = rng.choice(slots[spec.currency_field]) if spec.currency_field and spec.currency_field in slots else None
    values: dict[str, Any] = {}
    chosen: dict[str, str] = {}
    used: dict[str | None, set[str]] = {}  # raw values already rendered per field: a distractor never repeats the value
    for name in names:
        if name in chosen:
            continue
        field = name if name in spec.fields else spec.distractors.get(name)
        pool = slots[name] if name in slots else slots[field]
        options = [v for v in pool if v not in used.get(field, set())] or pool
        raw = rng.choice(options)
        used.setdefault(field, set()).add(raw)
        if field is not None and spec.fields[field].type == "number":
            surface = render_amount(Decimal(raw), currency, spec, rng)
            raw_value: Any = float(Decimal(raw))
        elif field is not None and spec.fields[field].type == "date":
            surface = render_date(dt.date.fromisoformat(raw), spec, rng)
            raw_value = raw
        else:
            surface, raw_value = raw, raw
        chosen[name] = raw
        if name in spec.fields:
            values[name] = raw_value
        template = template.replace("{" + name + "}", surface, 1)
        while "{" + name + "}" in template:  # a slot written twice says the same value twice
            template = template.replace("{" + name + "}", surface, 1)
    if currency is not None and any(spec.fields[f].type == "number" for f in values):
        values[spec.currency_field] = currency
    return re.sub(r"[ \t]+", " ", template).strip(), values

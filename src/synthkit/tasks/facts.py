"""Facts a text states, compared mechanically: numbers, capitalised names, month and weekday names, dates."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*$")
# dates: 3 March 2024, 3rd of March 2024, March 3, 2024, 3 Mar 2024, 2024-03-03, 03/03/2024 (dmy or mdy)
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE_PATTERNS = [
    ("dmy_name", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH_RE}\.?,?\s+(\d{{4}})\b", re.I)),
    ("mdy_name", re.compile(rf"\b{_MONTH_RE}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("slash", re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")),
]


def number_value(s: str) -> Decimal | None:
    """'1,234.50' -> Decimal('1234.50'); None when s is not a number."""
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def numbers(text: str) -> list[Decimal]:
    """Every number written in the text, thousands separators removed."""
    return [v for m in NUMBER.finditer(text) if (v := number_value(m.group())) is not None]


def dates(text: str, order: str = "dmy") -> list[tuple[dt.date, int, int]]:
    """Every date written in the text as (date, start, end); impossible dates are skipped."""
    found = []
    for kind, pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            g = m.groups()
            try:
                if kind == "dmy_name":
                    d = dt.date(int(g[2]), MONTHS[g[1].lower().rstrip(".")], int(g[0]))
                elif kind == "mdy_name":
                    d = dt.date(int(g[2]), MONTHS[g[0].lower().rstrip(".")], int(g[1]))
                elif kind == "iso":
                    d = dt.date(int(g[0]), int(g[1]), int(g[2]))
                else:
                    a, b = int(g[0]), int(g[1])
                    d = dt.date(int(g[2]), b, a) if order == "dmy" else dt.date(int(g[2]), a, b)
            except (ValueError, KeyError):
                continue
            found.append((d, m.start(), m.end()))
    return sorted(found, key=lambda x: (x[1], x[2]))


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (people, places, products, organisations), lower-cased."""
    out = set()
    for m in WORD.finditer(text):
        w = m.group()
        if w[0].isupper() and not _SENTENCE_END.search(text[: m.start()]) and w.lower() not in MONTHS and w.lower() not in WEEKDAYS:
            out.add(w.lower())
    return out


def calendar_words(text: str) -> set[str]:
    """Month and weekday names in the text, lower-cased, abbreviations expanded."""
    out = set()
    for m in WORD.finditer(text):
        w = m.group().lower().rstrip(".")
        if w in WEEKDAYS:
            out.add(w)
        elif w in MONTHS and (len(w) > 3 or m.group()[0].isupper()):
            out.add(list(MONTHS)[MONTHS[w] - 1])
    return out


def words(text: str) -> set[str]:
    return {m.group().lower() for m in WORD.finditer(text)}


def new_facts(output: str, source: str) -> tuple[str, str] | None:
    """The first fact the output states that the source does not: ('number' | 'name' | 'date', the value), or None."""
    src_numbers = set(numbers(source))
    for v in numbers(output):
        if v not in src_numbers:
            return "number", str(v)
    src_words = words(source)
    for n in sorted(names(output)):
        if n not in src_words:
            return "name", n
    src_cal = calendar_words(source)
    for c in sorted(calendar_words(output)):
        if c not in src_cal:
            return "date", c
    return None


def normalize_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()

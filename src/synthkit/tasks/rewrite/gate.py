"""The rewrite gate: the target matches the spec's form, adds no number or entity the source lacks, and keeps a
bounded length ratio.
"""

from __future__ import annotations

import re

from synthkit.gates.base import KEEP, Verdict
from synthkit.tasks.rewrite.section import RewriteSpec

POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) (\d[A-Z]{2})\b", re.I)  # a UK postcode with its space


ALPHA = re.compile(r"[A-Za-z]{2,}")


def gate_rewrite(texts: list[str], targets: list[str | None], spec: RewriteSpec, length_ratio: tuple[float, float]) -> list[Verdict]:
    """rewrite gate: target in the expected form, no new numbers or entities, length ratio within bounds."""
    pattern = re.compile(spec.target_pattern)
    expansions = {k.lower(): v.lower() for k, v in spec.expansions.items()}
    out = []
    for text, target in zip(texts, targets):
        if target is None or not target.strip():
            out.append(Verdict("rewrite_missing_target"))
            continue
        if not pattern.fullmatch(target):
            out.append(Verdict("rewrite_target_form", f"not a {spec.form}"))
            continue
        squashed = re.sub(r"\s+", "", text)
        new_number = next((d for d in re.findall(r"\d+", target) if d not in squashed), None)
        if new_number is not None:
            out.append(Verdict("rewrite_new_number", new_number))
            continue
        src_words = {w.lower() for w in ALPHA.findall(text)}
        allowed = src_words | {expansions[w] for w in src_words if w in expansions}
        new_word = next((w for w in ALPHA.findall(target) if w.lower() not in allowed and w.lower() not in squashed.lower()), None)
        if new_word is not None:
            out.append(Verdict("rewrite_new_entity", new_word))
            continue
        ratio = len(target) / max(1, len(text.strip()))
        if not length_ratio[0] <= ratio <= length_ratio[1]:
            out.append(Verdict("rewrite_length_ratio", f"{ratio:.2f}"))
            continue
        out.append(KEEP)
    return out


def check_target(spec: RewriteSpec):
    """For prepare: a real row's target must be present and in the target form."""
    pattern = re.compile(spec.target_pattern)

    def check(target: str | None) -> str:
        if target is None:
            raise ValueError("target: missing")
        if not pattern.fullmatch(target):
            raise ValueError(f"target: not in the {spec.form} form")
        return target
    return check

"""Text normalisation shared by exact dedupe, label-conflict checks and diffs (kept free of heavy imports)."""

from __future__ import annotations

import sys
import unicodedata
from functools import lru_cache

APOSTROPHES = "'\u2018\u2019\u02bc\u0060"


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str | None]:
    """A str.translate table: apostrophes vanish (don't -> dont), other Unicode punctuation (P*) becomes a space."""
    table: dict[int, str | None] = {
        cp: " " for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")
    }
    table.update({ord(c): None for c in APOSTROPHES})
    return table


def normalize_text(text: str) -> str:
    """NFKC, casefold, strip punctuation (apostrophes deleted, the rest split words) and collapse whitespace."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_punctuation_table()).split())

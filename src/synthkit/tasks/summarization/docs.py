"""Source documents of summarization and grounded QA (<folder>/<doc_id>.md or .txt), split into sentences.

Rows: summary rows have text = a passage (consecutive sentences of a document) and target = its summary; QA rows
have text = a question and target = the answer, with the document named by scenario_id (the doc id, the `group`
column of the input files).
"""

from __future__ import annotations

import re
from pathlib import Path

from synthkit.errors import InputError

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def load_docs(path: str | Path | None) -> dict[str, str]:
    """Every .md / .txt file of the folder as {doc id (file stem): text}; markdown headings dropped."""
    if path is None:
        return {}
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(str(folder), "docs folder not found")
    docs = {}
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() in (".md", ".txt"):
            text = "\n".join(line for line in f.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
            docs[f.stem] = re.sub(r"\s+", " ", text).strip()
    if not docs:
        raise InputError(str(folder), "no .md or .txt documents")
    return docs


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text.strip()) if s.strip()]


STOPWORDS = set("a an and are as at be by for from has have in is it its of on or that the this to was were will with you your we our not no can".split())


def content_words(s: str) -> set[str]:
    """The content words of a text: lower-cased words and numbers without stopwords or single characters."""
    return {w for w in re.findall(r"[a-z0-9]+", s.lower()) if w not in STOPWORDS and len(w) > 1}

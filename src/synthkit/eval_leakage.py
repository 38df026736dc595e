"""Eval leakage by meaning: each training text's nearest protected eval items by sentence-embedding cosine, verified
by char n-gram Jaccard, with thresholds stricter than within-synthetic dedupe (dedupe.eval_leakage).

Kinds of match (a text keeps its strongest, then the highest Jaccard):
- edit: Jaccard >= eval_leakage.jaccard (an eval text with words edited, inserted or dropped)
- semantic: cosine >= eval_leakage.cosine and Jaccard >= eval_leakage.cosine_jaccard (the same words rearranged or
  lightly rewritten)
Exact and near (Jaccard >= dedupe.threshold) matches stay with synthkit.dedupe's MinHash check.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthkit.config import DedupeParams
from synthkit.dedupe import normalize_text, pair_jaccard
from synthkit.embeddings import Embedder, cosine_top

KINDS = ("edit", "semantic")
BATCH = 65536  # training texts embedded and compared at once


def eval_matches(
    texts: Sequence[str], eval_texts: Sequence[str], params: DedupeParams, embedder: Embedder | None = None,
    batch: int = BATCH,
) -> list[list[tuple[str, int, float, float]]]:
    """Per text, its (kind, eval position, jaccard, cosine) matches: edit before semantic, then by Jaccard, then position."""
    out: list[list[tuple[str, int, float, float]]] = [[] for _ in texts]
    lk = params.eval_leakage
    if not texts or not eval_texts or not lk.enabled:
        return out
    embedder = embedder or Embedder(memory=False)
    index = embedder.encode(list(eval_texts))
    eval_norms = [normalize_text(t) for t in eval_texts]
    for lo in range(0, len(texts), batch):
        chunk = list(texts[lo : lo + batch])
        pos, sim = cosine_top(embedder.encode(chunk), index, lk.neighbours)
        rows = np.repeat(np.arange(len(chunk)), pos.shape[1])
        cols, cos = pos.ravel(), sim.ravel().astype(np.float64)
        norms = eval_norms + [normalize_text(t) for t in chunk]
        jac = pair_jaccard(norms, cols, rows + len(eval_norms), params)
        edit = jac >= lk.jaccard
        semantic = ~edit & (cos >= lk.cosine) & (jac >= lk.cosine_jaccard)
        for k in np.flatnonzero(edit | semantic):
            out[lo + rows[k]].append(("edit" if edit[k] else "semantic", int(cols[k]), float(jac[k]), float(cos[k])))
    return [sorted(m, key=lambda x: (KINDS.index(x[0]), -x[2], x[1])) for m in out]


__all__ = ["KINDS", "eval_matches"]

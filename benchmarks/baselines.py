"""Naive baselines the benchmarks measure the pipeline against, in the same run."""

from __future__ import annotations

from datasketch import MinHash, MinHashLSH

from synthkit.config import DedupeParams
from synthkit.dedupe import shingles


def naive_near_pairs(texts: list[str], params: DedupeParams) -> set[tuple[int, int]]:
    """The baseline: datasketch MinHash updated shingle by shingle, one LSH insert and query per text."""
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    sets = [shingles(t, params.shingle, params.ngram) for t in texts]
    pairs = set()
    for i, s in enumerate(sets):
        m = MinHash(num_perm=params.num_perm, seed=1)
        for sh in s:
            m.update(sh.encode("utf-8"))
        for j in lsh.query(m):
            if len(s & sets[j]) / len(s | sets[j]) >= params.threshold:
                pairs.add((j, i))
        lsh.insert(i, m)
    return pairs

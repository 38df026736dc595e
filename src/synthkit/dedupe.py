"""Exact and near-duplicate detection (MinHash LSH verified by true Jaccard) and the eval-leakage report."""

from __future__ import annotations

import gc
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import polars as pl
from datasketch import LeanMinHash, MinHash, MinHashLSH

from synthkit.config import DedupeParams
from synthkit.gates.base import KEEP, Verdict, split_verdicts

GATE = "dedupe"
REQUIRED_COLUMNS = ("id", "text")
# Banding is chosen so a pair exactly at the threshold becomes a candidate with at least this probability;
# candidates are verified by their true Jaccard, so extra candidates cost time, never precision.
LSH_RECALL_AT_THRESHOLD = 0.95

ShingleKind = Literal["char", "word"]
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


def _shingles_of_normalized(norm: str, kind: ShingleKind, n: int) -> set[str]:
    """Shingles of an already normalized text; shorter than n yields the whole text."""
    if kind == "char":
        if len(norm) < n:
            return {norm}
        return {norm[i : i + n] for i in range(len(norm) - n + 1)}
    if kind == "word":
        words = norm.split()
        if len(words) < n:
            return {" ".join(words)}
        return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}
    raise ValueError(f"unknown shingle kind {kind!r}: expected 'char' or 'word'")


def shingles(text: str, kind: ShingleKind, n: int) -> set[str]:
    """Character or word n-gram shingles of the normalized text (a text shorter than n is one shingle)."""
    if n < 1:
        raise ValueError(f"shingle size must be >= 1, got {n}")
    return _shingles_of_normalized(normalize_text(text), kind, n)


def jaccard(a: set[str], b: set[str]) -> float:
    """True Jaccard similarity of two sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (much of bulk MinHash's cost) and restore its previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _minhash_sets(sets: Iterable[set[str]], num_perm: int, seed: int = 1) -> list[LeanMinHash]:
    """LeanMinHash signatures of shingle sets via datasketch's bulk generator."""
    encoded = ([s.encode("utf-8") for s in shingle_set] for shingle_set in sets)
    with _gc_paused():
        return [LeanMinHash(m) for m in MinHash.generator(encoded, num_perm=num_perm, seed=seed)]


def minhashes(texts: Iterable[str], num_perm: int, kind: ShingleKind, n: int, seed: int = 1) -> list[LeanMinHash]:
    """LeanMinHash signatures of texts' shingle sets (bulk path, not shingle by shingle)."""
    return _minhash_sets((shingles(t, kind, n) for t in texts), num_perm, seed)


def lsh_bands(threshold: float, num_perm: int, recall: float = LSH_RECALL_AT_THRESHOLD) -> tuple[int, int]:
    """(bands, rows): the longest bands (fewest false candidates) catching a pair at the threshold with P >= recall."""
    for rows in range(num_perm // 2, 0, -1):
        bands = num_perm // rows
        if bands >= 2 and 1.0 - (1.0 - threshold**rows) ** bands >= recall:
            return bands, rows
    return num_perm, 1


@dataclass(frozen=True)
class Sketches:
    """Normalized texts with their shingle sets and MinHash signatures, position-aligned."""

    norms: list[str]
    sets: list[set[str]]
    hashes: list[LeanMinHash]


def sketch(texts: Sequence[str], params: DedupeParams) -> Sketches:
    """Normalize, shingle and MinHash texts once so several indexes can reuse them."""
    norms = [normalize_text(t) for t in texts]
    sets = [_shingles_of_normalized(t, params.shingle, params.ngram) for t in norms]
    return Sketches(norms, sets, _minhash_sets(sets, params.num_perm))


class NearDupIndex:
    """MinHash LSH over (key, text) pairs whose queries return keys verified by true Jaccard >= threshold."""

    def __init__(self, items: Sequence[tuple[str, str]], params: DedupeParams, sketches: Sketches | None = None):
        self.params = params
        self.keys = [k for k, _ in items]
        self.sketches = sketches if sketches is not None else sketch([t for _, t in items], params)
        if len(self.sketches.sets) != len(self.keys):
            raise ValueError("sketches must align with items")
        self._lsh = MinHashLSH(num_perm=params.num_perm, params=lsh_bands(params.threshold, params.num_perm))
        with _gc_paused(), self._lsh.insertion_session() as session:
            for pos, mh in enumerate(self.sketches.hashes):
                session.insert(pos, mh, check_duplication=False)

    def verified_positions(self, shingle_set: set[str], mh: LeanMinHash) -> list[tuple[int, float]]:
        """Positions of indexed items whose true Jaccard with the query set reaches the threshold."""
        found = []
        for pos in self._lsh.query(mh):
            j = jaccard(shingle_set, self.sketches.sets[pos])
            if j >= self.params.threshold:
                found.append((pos, j))
        return found

    def query_sketches(self, sk: Sketches) -> list[list[tuple[str, float]]]:
        """Verified (key, jaccard) neighbours per sketched query, best first, ties by key."""
        out = []
        for s, mh in zip(sk.sets, sk.hashes):
            hits = [(self.keys[pos], j) for pos, j in self.verified_positions(s, mh)]
            out.append(sorted(hits, key=lambda kj: (-kj[1], kj[0])))
        return out

    def query_many(self, texts: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Verified (key, jaccard) neighbours for each text, best first, ties by key."""
        return self.query_sketches(sketch(texts, self.params))

    def query(self, text: str) -> list[tuple[str, float]]:
        """Verified (key, jaccard) neighbours of one text, best first, ties by key."""
        return self.query_many([text])[0]


def _unique_positions(norms: Sequence[str]) -> dict[str, list[int]]:
    """Normalized text -> positions holding it, in first-seen order."""
    groups: dict[str, list[int]] = defaultdict(list)
    for pos, norm in enumerate(norms):
        groups[norm].append(pos)
    return dict(groups)


def _group_pairs(sk: Sketches, params: DedupeParams) -> tuple[list[list[int]], list[tuple[int, int, float]]]:
    """Exact-duplicate groups (positions, first-seen order) and verified near pairs between groups (gi < gj)."""
    groups = list(_unique_positions(sk.norms).values())
    reps = _subset(sk, [g[0] for g in groups])
    index = NearDupIndex([(str(i), "") for i in range(len(groups))], params, sketches=reps)
    pairs = []
    for gi, (s, mh) in enumerate(zip(reps.sets, reps.hashes)):
        pairs.extend((gi, gj, j) for gj, j in index.verified_positions(s, mh) if gj > gi)
    return groups, sorted(pairs)


def near_pairs(texts: Sequence[str], params: DedupeParams) -> list[tuple[int, int, float]]:
    """Verified near-duplicate position pairs (i < j, true Jaccard >= threshold) within one list of texts."""
    groups, group_pairs = _group_pairs(sketch(texts, params), params)
    pairs = [(a, b, 1.0) for g in groups for i, a in enumerate(g) for b in g[i + 1 :]]
    for gi, gj, j in group_pairs:
        pairs.extend((min(a, b), max(a, b), j) for a in groups[gi] for b in groups[gj])
    return sorted(pairs)


def _components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components over positions 0..n-1 (union-find), each sorted, ordered by first member."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, list[int]] = defaultdict(list)
    for x in range(n):
        comps[find(x)].append(x)
    return [comps[r] for r in sorted(comps)]


def near_duplicate_clusters(texts: list[str], params: DedupeParams) -> list[int]:
    """Sizes of near-duplicate clusters (connected components over verified pairs), largest first."""
    groups, group_pairs = _group_pairs(sketch(texts, params), params)
    comps = _components(len(groups), ((gi, gj) for gi, gj, _ in group_pairs))
    return sorted((sum(len(groups[g]) for g in comp) for comp in comps), reverse=True)


def _require_columns(df: pl.DataFrame, name: str, columns: Sequence[str] = REQUIRED_COLUMNS) -> None:
    """Raise a clear KeyError naming the frame when a needed column is missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"dedupe: {name} frame is missing column(s) {missing}")


def _subset(sk: Sketches, positions: Sequence[int]) -> Sketches:
    """The sketches at the given positions."""
    return Sketches(
        [sk.norms[p] for p in positions], [sk.sets[p] for p in positions], [sk.hashes[p] for p in positions]
    )


def _index(ids: Sequence[str], sk: Sketches, params: DedupeParams) -> NearDupIndex:
    """A near-duplicate index keyed by row id over already sketched rows."""
    return NearDupIndex(list(zip(ids, sk.norms)), params, sketches=sk)


def _matches(query: Sketches, index: NearDupIndex) -> list[list[tuple[str, str, float]]]:
    """Per query row, its verified (kind, key, jaccard) matches: exact first, then by jaccard desc, then key."""
    out = []
    for norm, s, mh in zip(query.norms, query.sets, query.hashes):
        found = []
        for pos, j in index.verified_positions(s, mh):
            exact = index.sketches.norms[pos] == norm
            found.append(("exact" if exact else "near", index.keys[pos], 1.0 if exact else j))
        out.append(sorted(found, key=lambda m: (m[0] != "exact", -m[2], m[1])))
    return out


def leakage_report(
    eval_rows: Sequence[dict], training: dict[str, tuple[Sequence[str], list[list[tuple[str, str, float]]]]]
) -> dict:
    """Every eval item with an exact or near training neighbour, as plain JSON-ready types.

    Args:
        eval_rows: dicts with id, text and label of the protected eval rows.
        training: source ("real"/"synthetic") -> (row ids, per row its (kind, eval id, jaccard) matches);
            synthetic neighbours are removed by dedupe, real ones only reported.
    """
    found: dict[str, list[dict]] = defaultdict(list)
    for source, (ids, matches) in training.items():
        for row_id, row_matches in zip(ids, matches):
            for kind, eval_id, j in row_matches:
                found[eval_id].append(
                    {
                        "id": row_id,
                        "source": source,
                        "kind": kind,
                        "jaccard": round(j, 6),
                        "removed": source == "synthetic",
                    }
                )
    leaked, by_source = [], {"real": 0, "synthetic": 0}
    for row in sorted(eval_rows, key=lambda r: (r["id"], r["text"])):
        neighbours = sorted(found.get(row["id"], []), key=lambda n: (-n["jaccard"], n["source"], n["id"]))
        if not neighbours:
            continue
        for source in by_source:
            by_source[source] += any(n["source"] == source for n in neighbours)
        leaked.append(
            {"eval_id": row["id"], "eval_text": row["text"], "label": row.get("label"), "neighbours": neighbours}
        )
    return {
        "eval_rows": len(eval_rows),
        "training_rows_checked": sum(len(ids) for ids, _ in training.values()),
        "leaked_eval_items": leaked,
        "n_leaked_eval_items": len(leaked),
        "by_source": by_source,
    }


def verbatim_key(text: str) -> str:
    """The same text up to case and whitespace: NFKC, casefold, whitespace collapsed (punctuation kept).

    Stricter than normalize_text: "What is my balance?" and "what is my balance" differ here (they are
    reported as near neighbours by the leakage report, with Jaccard 1.0 on normalized shingles).
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def verbatim_overlap(eval_rows: Sequence[dict], training_rows: Sequence[dict]) -> dict:
    """Eval items whose text also occurs, up to case and whitespace, in the real training rows (dicts with id, text).

    Returns the count and the items (eval id, text, label, the training ids and labels holding the same text),
    sorted by eval id; each eval text counts once however often it repeats.
    """
    by_key: dict[str, list[dict]] = defaultdict(list)
    for row in training_rows:
        by_key[verbatim_key(row["text"])].append(row)
    items, seen = [], set()
    for row in sorted(eval_rows, key=lambda r: (r["id"], r["text"])):
        key = verbatim_key(row["text"])
        if key in by_key and key not in seen:
            seen.add(key)
            hits = sorted(by_key[key], key=lambda r: r["id"])
            items.append({
                "eval_id": row["id"], "eval_text": row["text"], "label": row.get("label"),
                "training_ids": [h["id"] for h in hits], "training_labels": sorted({h.get("label") or "" for h in hits}),
            })
    return {"n_eval_texts": len(items), "items": items}


def _within_verdicts(ids: list[str], sk: Sketches, params: DedupeParams) -> list[Verdict]:
    """Within-synthetic verdicts for id-sorted rows: each exact group keeps its first row, and a group
    near an already kept group is dropped naming that kept row (greedy, so every drop is a verified pair)."""
    groups, group_pairs = _group_pairs(sk, params)
    earlier: dict[int, list[int]] = defaultdict(list)
    for gi, gj, _ in group_pairs:
        earlier[gj].append(gi)
    kept: set[int] = set()
    verdicts: list[Verdict] = [KEEP] * len(ids)
    for gi, members in enumerate(groups):  # groups in first-seen order == id order
        near_kept = sorted(ids[groups[g][0]] for g in earlier[gi] if g in kept)
        if near_kept:
            for m in members:
                verdicts[m] = Verdict(f"{GATE}_near", near_kept[0])
            continue
        kept.add(gi)
        for m in members[1:]:
            verdicts[m] = Verdict(f"{GATE}_exact", ids[members[0]])
    return verdicts


def _sorted_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by id then text, so output never depends on input order."""
    return df.sort(["id", "text"])


def dedupe(
    synth: pl.DataFrame, seeds: pl.DataFrame, eval_: pl.DataFrame, params: DedupeParams
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Drop synthetic rows that leak eval items, duplicate seeds, or duplicate each other.

    Returns (kept synthetic rows as Example, rejects as Reject with gate "dedupe", leakage report).
    Checks per synthetic row, first hit wins: eval (exact/near), seed (exact; near if
    params.drop_near_seed), then within synthetic, keeping the smallest id of each duplicate group.
    """
    for df, name in ((synth, "synthetic"), (seeds, "seeds"), (eval_, "eval")):
        _require_columns(df, name)
    synth, seeds, eval_ = _sorted_rows(synth), _sorted_rows(seeds), _sorted_rows(eval_)
    s_ids, r_ids, e_ids = synth["id"].to_list(), seeds["id"].to_list(), eval_["id"].to_list()
    s_sk, r_sk, e_sk = (sketch(df["text"].to_list(), params) for df in (synth, seeds, eval_))

    eval_index = _index(e_ids, e_sk, params)
    s_eval = _matches(s_sk, eval_index)
    eval_rows = eval_.select("id", "text", pl.col("label") if "label" in eval_.columns else pl.lit(None).alias("label"))
    training = {"real": (r_ids, _matches(r_sk, eval_index)), "synthetic": (s_ids, s_eval)}
    report = leakage_report(eval_rows.to_dicts(), training)

    verdicts: list[Verdict | None] = [None] * len(s_ids)
    for pos, found in enumerate(s_eval):
        if found:
            kind, eval_id, j = found[0]
            verdicts[pos] = Verdict(f"{GATE}_eval_{kind}", f"{eval_id} jaccard={j:.3f}")

    todo = [p for p, v in enumerate(verdicts) if v is None]
    for pos, found in zip(todo, _matches(_subset(s_sk, todo), _index(r_ids, r_sk, params))):
        if found and (found[0][0] == "exact" or params.drop_near_seed):
            verdicts[pos] = Verdict(f"{GATE}_seed_{found[0][0]}", found[0][1])

    todo = [p for p, v in enumerate(verdicts) if v is None]
    for pos, verdict in zip(todo, _within_verdicts([s_ids[p] for p in todo], _subset(s_sk, todo), params)):
        verdicts[pos] = verdict

    kept, rejects = split_verdicts(synth, [v or KEEP for v in verdicts], GATE)
    return kept, rejects, report


__all__ = [
    "NearDupIndex",
    "Sketches",
    "dedupe",
    "jaccard",
    "leakage_report",
    "lsh_bands",
    "minhashes",
    "near_duplicate_clusters",
    "near_pairs",
    "normalize_text",
    "shingles",
    "sketch",
    "verbatim_key",
    "verbatim_overlap",
]

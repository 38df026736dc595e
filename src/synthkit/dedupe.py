"""Exact and near-duplicate detection (MinHash LSH verified by true Jaccard) and the eval-leakage report."""

from __future__ import annotations

import gc
import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import polars as pl
from datasketch import LeanMinHash, MinHash

from synthkit.config import DedupeParams
from synthkit.embeddings import Embedder, cosine_top
from synthkit.gates.base import KEEP, Verdict, split_verdicts
from synthkit.progress import progress
from synthkit.textnorm import normalize_text

GATE = "dedupe"
REQUIRED_COLUMNS = ("id", "text")
# Banding is chosen so a pair exactly at the threshold becomes a candidate with at least this probability;
# candidates are verified by their true Jaccard, so extra candidates cost time, never precision.
LSH_RECALL_AT_THRESHOLD = 0.95

ShingleKind = Literal["char", "word"]


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


# --- vectorized shingle hashing, MinHash and banded LSH ------------------------------------------------------
#
# Every shingle becomes a 64-bit hash (a polynomial over its code points or word hashes, then the splitmix64
# finalizer); a MinHash value is min over a text's shingles of a multiply-add-shift hash of the shingle's top 32
# bits; each band of `rows` MinHash values collapses to one 64-bit bucket key. Texts are processed in batches,
# and a row keeps only its bucket keys (bands x 8 bytes: 144 bytes at 128 permutations and threshold 0.8), so the
# shingles of at most one batch are in memory at once. Candidate pairs (rows sharing a bucket key in some band)
# are found by sorting each band's keys, screened by the agreement of the rows' MinHash values, and verified
# by the Jaccard of the two rows' sets of 48-bit shingle hashes, which equals the Jaccard of the shingle
# strings unless two distinct shingles of the pair share 48 hash bits (probability about 1e-10 per pair).

_U64 = np.uint64
_POLY = _U64(0x100000001B3)
_SALT = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
SIGNATURE_BATCH = 4096  # texts per batch when computing signatures (bounds shingle memory)
VERIFY_CHUNK = 20_000  # candidate pairs verified at once (< 2**15: a pair number fits beside 48 hash bits)
AGREEMENT_CHUNK = 250_000  # candidate pairs screened at once
# A candidate pair is compared exactly only when the low bytes of its MinHash values agree in at least
# threshold - SCREEN_MARGIN of the values. Agreement estimates the Jaccard (standard deviation about 0.04 at
# J = 0.8 with 128 values), so a pair at the threshold fails the screen with probability below 1e-6.
SCREEN_MARGIN = 0.25


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: faster than np.unique's hash path on large integer arrays)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer (a bijection on uint64 with good avalanche), elementwise."""
    x = x ^ (x >> _U64(30))
    x *= _MIX1
    x ^= x >> _U64(27)
    x *= _MIX2
    x ^= x >> _U64(31)
    return x


def _whole_text_hash(norm: str) -> int:
    """The shingle hash of a text shorter than the shingle size (the whole normalized text is its one shingle)."""
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8, person=b"synthkit").digest(), "little")


def _ngram_hashes(units: np.ndarray, lens: np.ndarray, n: int, norms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of n consecutive units inside each text (one whole-text hash for shorter texts)."""
    counts = np.maximum(lens - n + 1, 1)
    total = int(counts.sum())
    starts = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    offsets = np.zeros(len(lens), np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    owner = np.repeat(np.arange(len(lens)), counts)
    local = np.arange(total, dtype=np.int64) - offsets[owner]
    out = np.empty(total, _U64)
    full = lens[owner] >= n
    m = len(units) - n + 1
    if m > 0 and full.any():
        window = np.zeros(m, _U64)
        for k in range(n):
            window = window * _POLY + units[k : k + m]
        window = _mix64(window + _U64((_SALT * (n + 1)) & 0xFFFFFFFFFFFFFFFF))
        out[full] = window[starts[owner[full]] + local[full]]
    short = np.flatnonzero(lens < n)
    if len(short):
        out[offsets[short]] = np.array([_whole_text_hash(norms[i]) for i in short], _U64)
    return out, counts


def shingle_hashes(norms: Sequence[str], kind: ShingleKind, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of normalized texts, concatenated (repeats kept), and per text their count."""
    if n < 1:
        raise ValueError(f"shingle size must be >= 1, got {n}")
    if not norms:
        return np.empty(0, _U64), np.empty(0, np.int64)
    if kind == "char":
        lens = np.fromiter((len(t) for t in norms), np.int64, count=len(norms))
        units = np.frombuffer("".join(norms).encode("utf-32-le"), np.uint32).astype(_U64)
        return _ngram_hashes(units, lens, n, norms)
    if kind == "word":
        words = pl.Series("w", norms, dtype=pl.String).str.split(" ")
        lens = words.list.len().to_numpy().astype(np.int64)
        lens[[i for i, t in enumerate(norms) if not t]] = 0  # "" has no words
        exploded = words.explode().drop_nulls()
        exploded = exploded.filter(exploded != "") if (lens == 0).any() else exploded
        units = _mix64(exploded.hash(seed=0).to_numpy().astype(_U64))
        return _ngram_hashes(units, lens, n, norms)
    raise ValueError(f"unknown shingle kind {kind!r}: expected 'char' or 'word'")


_EMPTY = np.iinfo(np.uint64).max
_ROTATE = _U64(0x9E3779B97F4A7C15)  # added per bin of distance when an empty bin borrows (rotation densification)


def _signature_batch(norms: Sequence[str], params: DedupeParams) -> np.ndarray:
    """(len(norms), num_perm) MinHash values of one batch of normalized texts by one-permutation hashing.

    Each shingle hash falls into one of num_perm bins (hash mod num_perm) and each bin keeps its smallest
    hash; an empty bin borrows the value of the next non-empty bin to its right (circularly) plus a constant
    per bin of distance. Two texts then agree in a bin with probability equal to the Jaccard of their shingle
    sets, like num_perm independent MinHash permutations, at the cost of one hash per shingle
    (Li, Owen and Zhang 2012; Shrivastava and Li 2014).
    """
    k = params.num_perm
    hashes, counts = shingle_hashes(norms, params.shingle, params.ngram)
    owner = np.repeat(np.arange(len(norms), dtype=np.int64), counts)
    flat = np.full(len(norms) * k, _EMPTY, _U64)
    np.minimum.at(flat, owner * k + (hashes % _U64(k)).astype(np.int64), hashes)
    sig = flat.reshape(len(norms), k)
    empty = sig == _EMPTY
    if empty.any():
        cols = np.arange(2 * k, dtype=np.int64)
        idx = np.where(np.tile(~empty, 2), cols, 2 * k)
        nearest = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :k]  # next filled column, circularly
        rows, bins = np.nonzero(empty)
        src = nearest[rows, bins]
        sig[rows, bins] = sig[rows, src % k] + _ROTATE * (src - bins).astype(_U64)
    return sig


def signatures(norms: Sequence[str], params: DedupeParams, batch_size: int = SIGNATURE_BATCH) -> np.ndarray:
    """MinHash signatures (len(norms) x num_perm, uint64) of normalized texts, computed batch by batch."""
    parts = [_signature_batch(norms[i : i + batch_size], params) for i in range(0, len(norms), batch_size)]
    return np.concatenate(parts) if parts else np.empty((0, params.num_perm), _U64)


def _band_keys_of(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit bucket key per band of `rows` consecutive signature values."""
    keys = np.empty((sig.shape[0], bands), _U64)
    for band in range(bands):
        key = np.full(sig.shape[0], _U64(band + 1), _U64)
        for col in range(band * rows, (band + 1) * rows):
            key = key * _POLY + sig[:, col]
        keys[:, band] = _mix64(key)
    return keys


def lsh_sketch(norms: Sequence[str], params: DedupeParams, batch_size: int = SIGNATURE_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """(bucket keys: len(norms) x bands uint64, marks: len(norms) x num_perm uint8, the low byte of each MinHash
    value) of normalized texts, batch by batch: a row keeps 8 * bands + num_perm bytes, never its shingles."""
    bands, rows = lsh_bands(params.threshold, params.num_perm)
    keys, marks = [], []
    for lo in progress(range(0, len(norms), batch_size), "minhash", total=len(norms), size_of=lambda lo: min(batch_size, len(norms) - lo)):
        sig = _signature_batch(norms[lo : lo + batch_size], params)
        keys.append(_band_keys_of(sig, bands, rows))
        marks.append((sig & _U64(0xFF)).astype(np.uint8))
    if not keys:
        return np.empty((0, bands), _U64), np.empty((0, params.num_perm), np.uint8)
    return np.concatenate(keys), np.concatenate(marks)


def band_keys(norms: Sequence[str], params: DedupeParams, batch_size: int = SIGNATURE_BATCH) -> np.ndarray:
    """LSH bucket keys (len(norms) x bands, uint64) of normalized texts."""
    return lsh_sketch(norms, params, batch_size)[0]


def _agreement(marks: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Share of equal marks (one byte per MinHash value) of rows i[k] and j[k], in chunks."""
    out = np.empty(len(i), np.float64)
    for lo in range(0, len(i), AGREEMENT_CHUNK):
        hi = lo + AGREEMENT_CHUNK
        out[lo:hi] = (marks[i[lo:hi]] == marks[j[lo:hi]]).mean(axis=1)
    return out


def candidate_pairs(
    keys: np.ndarray, marks: np.ndarray | None = None, min_agreement: float = 0.0, split: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j, sorted, unique) sharing a bucket key in at least one band (found by sorting each band's
    keys); with marks, only pairs whose marks agree in at least min_agreement of the values; with split, only
    pairs with i < split <= j (an index of rows [0, split) queried by rows [split, n))."""
    n = keys.shape[0]
    found: list[np.ndarray] = []
    for band in range(keys.shape[1] if n else 0):
        order = np.argsort(keys[:, band], kind="stable")
        k = keys[order, band]
        same = k[1:] == k[:-1]
        if not same.any():
            continue
        in_run = np.zeros(n, bool)
        in_run[1:] |= same
        in_run[:-1] |= same
        order, k = order[in_run], k[in_run]  # rows sharing this band's key with another row
        m = len(order)
        boundary = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        sizes = np.diff(np.append(boundary, m))
        run_end = np.repeat(boundary + sizes, sizes)  # exclusive end of each sorted position's run
        later = run_end - np.arange(m) - 1
        left = np.repeat(np.arange(m), later)
        right = left + 1 + (np.arange(len(left)) - np.repeat(np.cumsum(later) - later, later))
        i, j = order[left], order[right]
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        if split is not None:
            keep = (lo < split) & (hi >= split)
            lo, hi = lo[keep], hi[keep]
        if marks is not None and min_agreement > 0:
            keep = _agreement(marks, lo, hi) >= min_agreement
            lo, hi = lo[keep], hi[keep]
        found.append(_sorted_unique(lo.astype(_U64) * _U64(n) + hi.astype(_U64)))
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    codes = _sorted_unique(np.concatenate(found))
    return (codes // _U64(n)).astype(np.int64), (codes % _U64(n)).astype(np.int64)


_SET_BITS = 48  # shingle-hash bits kept when comparing sets; the rest of a 64-bit word holds the text or pair


def _short_sets(norms: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's distinct 48-bit shingle hashes, sorted and concatenated, with per-text offsets and sizes."""
    hashes, counts = shingle_hashes(norms, params.shingle, params.ngram)
    owner = np.repeat(np.arange(len(counts), dtype=_U64), counts)
    keys = _sorted_unique((owner << _U64(_SET_BITS)) | (hashes >> _U64(64 - _SET_BITS)))
    sizes = np.bincount((keys >> _U64(_SET_BITS)).astype(np.int64), minlength=len(counts)).astype(np.int64)
    offsets = np.zeros(len(counts), np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    return keys & _U64((1 << _SET_BITS) - 1), offsets, sizes


def pair_jaccard(norms: Sequence[str], i: np.ndarray, j: np.ndarray, params: DedupeParams) -> np.ndarray:
    """Jaccard of the shingle sets of norms[i[k]] and norms[j[k]] for every k, vectorized in chunks."""
    out = np.empty(len(i), np.float64)
    for lo in range(0, len(i), VERIFY_CHUNK):
        ci, cj = i[lo : lo + VERIFY_CHUNK], j[lo : lo + VERIFY_CHUNK]
        involved, inverse = np.unique(np.concatenate([ci, cj]), return_inverse=True)
        short, offsets, sizes = _short_sets([norms[p] for p in involved], params)
        li, lj = inverse[: len(ci)], inverse[len(ci) :]
        pairs = np.arange(len(ci), dtype=_U64) << _U64(_SET_BITS)
        pid = np.concatenate([np.repeat(pairs, sizes[li]), np.repeat(pairs, sizes[lj])])

        def members(rows: np.ndarray) -> np.ndarray:
            starts = np.repeat(offsets[rows] - np.cumsum(sizes[rows]) + sizes[rows], sizes[rows])
            return short[starts + np.arange(int(sizes[rows].sum()))]

        combined = np.sort(pid | np.concatenate([members(li), members(lj)]))
        dup = combined[1:] == combined[:-1]  # a shingle in both texts of a pair (each set has no repeats)
        inter = np.bincount((combined[1:][dup] >> _U64(_SET_BITS)).astype(np.int64), minlength=len(ci)).astype(np.float64)
        union = sizes[li] + sizes[lj] - inter
        out[lo : lo + len(ci)] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out


KeysFn = Callable[[Sequence[str], DedupeParams], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Sketches:
    """Normalized texts with their LSH bucket keys and MinHash marks (one row per text, position-aligned)."""

    norms: list[str]
    keys: np.ndarray
    marks: np.ndarray


def sketch(texts: Sequence[str], params: DedupeParams, keys_fn: KeysFn | None = None) -> Sketches:
    """Normalize texts and compute their LSH bucket keys and marks (locally, or with keys_fn, e.g. on Ray)."""
    norms = [normalize_text(t) for t in texts]
    return Sketches(norms, *(keys_fn or lsh_sketch)(norms, params))


def _screened_pairs(keys: np.ndarray, marks: np.ndarray, params: DedupeParams, split: int | None = None):
    """Candidate pairs that pass the MinHash agreement screen."""
    return candidate_pairs(keys, marks, params.threshold - SCREEN_MARGIN, split)


def _verified(index: Sketches, query: Sketches, params: DedupeParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query position, index position, jaccard) of every verified neighbour, sorted by query then index position."""
    split = len(index.norms)
    keys, marks = np.concatenate([index.keys, query.keys]), np.concatenate([index.marks, query.marks])
    qi, pj = _screened_pairs(keys, marks, params, split)
    i_pos, q_pos = qi, pj - split
    norms = list(index.norms) + list(query.norms)
    j = pair_jaccard(norms, i_pos, q_pos + split, params)
    keep = j >= params.threshold
    order = np.lexsort((i_pos[keep], q_pos[keep]))
    return q_pos[keep][order], i_pos[keep][order], j[keep][order]


class NearDupIndex:
    """LSH buckets over (key, text) pairs whose queries return keys verified by true Jaccard >= threshold."""

    def __init__(self, items: Sequence[tuple[str, str]], params: DedupeParams, sketches: Sketches | None = None):
        self.params = params
        self.keys = [k for k, _ in items]
        self.sketches = sketches if sketches is not None else sketch([t for _, t in items], params)
        if len(self.sketches.norms) != len(self.keys):
            raise ValueError("sketches must align with items")

    def verified(self, sk: Sketches) -> list[list[tuple[int, float]]]:
        """Per sketched query, (index position, jaccard) of its verified neighbours, by position."""
        out: list[list[tuple[int, float]]] = [[] for _ in sk.norms]
        for q, pos, j in zip(*(a.tolist() for a in _verified(self.sketches, sk, self.params))):
            out[q].append((pos, j))
        return out

    def query_sketches(self, sk: Sketches) -> list[list[tuple[str, float]]]:
        """Verified (key, jaccard) neighbours per sketched query, best first, ties by key."""
        return [
            sorted(((self.keys[pos], j) for pos, j in hits), key=lambda kj: (-kj[1], kj[0])) for hits in self.verified(sk)
        ]

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
    gi, gj = _screened_pairs(reps.keys, reps.marks, params)
    j = pair_jaccard(reps.norms, gi, gj, params)
    keep = j >= params.threshold
    return groups, list(zip(gi[keep].tolist(), gj[keep].tolist(), j[keep].tolist()))


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
    rows = np.asarray(positions, dtype=np.int64)
    return Sketches([sk.norms[p] for p in positions], sk.keys[rows], sk.marks[rows])


def _index(ids: Sequence[str], sk: Sketches, params: DedupeParams) -> NearDupIndex:
    """A near-duplicate index keyed by row id over already sketched rows."""
    return NearDupIndex(list(zip(ids, sk.norms)), params, sketches=sk)


def _matches(query: Sketches, index: NearDupIndex) -> list[list[tuple[str, str, float]]]:
    """Per query row, its verified (kind, key, jaccard) matches: exact first, then by jaccard desc, then key."""
    out = []
    for norm, hits in zip(query.norms, index.verified(query)):
        found = []
        for pos, j in hits:
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
        training: source ("real"/"synthetic") -> (row ids, per row its (kind, eval id, jaccard[, cosine]) matches);
            synthetic neighbours are removed by dedupe, real ones only reported.
    """
    found: dict[str, list[dict]] = defaultdict(list)
    for source, (ids, matches) in training.items():
        for row_id, row_matches in zip(ids, matches):
            for kind, eval_id, j, *cosine in row_matches:
                found[eval_id].append(
                    {
                        "id": row_id,
                        "source": source,
                        "kind": kind,
                        "jaccard": round(j, 6),
                        "removed": source == "synthetic",
                        **({"cosine": round(cosine[0], 6)} if cosine else {}),
                    }
                )
    leaked, by_source, by_kind = [], {"real": 0, "synthetic": 0}, defaultdict(int)
    for row in sorted(eval_rows, key=lambda r: (r["id"], r["text"])):
        neighbours = sorted(found.get(row["id"], []), key=lambda n: (-n["jaccard"], n["source"], n["id"]))
        if not neighbours:
            continue
        for source in by_source:
            by_source[source] += any(n["source"] == source for n in neighbours)
        for kind in {n["kind"] for n in neighbours}:
            by_kind[kind] += 1
        leaked.append(
            {"eval_id": row["id"], "eval_text": row["text"], "label": row.get("label"), "neighbours": neighbours}
        )
    return {
        "eval_rows": len(eval_rows),
        "training_rows_checked": sum(len(ids) for ids, _ in training.values()),
        "leaked_eval_items": leaked,
        "n_leaked_eval_items": len(leaked),
        "by_source": by_source,
        "by_kind": dict(sorted(by_kind.items())),  # eval items with at least one neighbour of each kind
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


# ------------------------------------------------------------------------------------------------ eval leakage by meaning


EVAL_KINDS = ("edit", "semantic")  # matches by meaning, strongest first (dedupe.eval_leakage)
EVAL_BATCH = 65536  # training texts embedded and compared at once


def eval_matches(
    texts: Sequence[str], eval_texts: Sequence[str], params: DedupeParams, embedder: Embedder | None = None,
    batch: int = EVAL_BATCH,
) -> list[list[tuple[str, int, float, float]]]:
    """Per text, its (kind, eval position, jaccard, cosine) matches: edit before semantic, then by Jaccard, then position.

    Each text's params.eval_leakage.neighbours nearest eval texts by sentence-embedding cosine are verified by the char
    n-gram Jaccard of params.shingle / params.ngram: edit at Jaccard >= eval_leakage.jaccard (words edited, inserted or
    dropped); semantic at cosine >= eval_leakage.cosine and Jaccard >= eval_leakage.cosine_jaccard (the same words
    rearranged or lightly rewritten). Exact and near matches stay with the MinHash check of dedupe().
    """
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
    return [sorted(m, key=lambda x: (EVAL_KINDS.index(x[0]), -x[2], x[1])) for m in out]


def _with_target(df: pl.DataFrame) -> list[str]:
    """Each row's text, followed by its target when it has one: by meaning, an eval item of a task with an output
    (extraction, rewrite, summarization) leaks as its input-output pair (a question reused about another document,
    with another answer, is not a copy)."""
    if "target" not in df.columns:
        return df["text"].to_list()
    return [t if g is None else f"{t}\n{g}" for t, g in df.select("text", "target").iter_rows()]


def _sorted_rows(df: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted by id then text, so output never depends on input order (no copy when ids already increase)."""
    ids = df["id"]
    if ids.null_count() == 0 and (df.height < 2 or (ids.slice(1) > ids.slice(0, df.height - 1)).all()):
        return df
    return df.sort(["id", "text"])


def dedupe(
    synth: pl.DataFrame,
    seeds: pl.DataFrame,
    eval_: pl.DataFrame,
    params: DedupeParams,
    keys_fn: KeysFn | None = None,
    embedder: Embedder | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Drop synthetic rows that leak eval items, duplicate seeds, or duplicate each other.

    Returns (kept synthetic rows as Example, rejects as Reject with gate "dedupe", leakage report).
    Checks per synthetic row, first hit wins: eval (exact/near; then edit/semantic by meaning with
    params.eval_leakage, eval_matches, on text and target), seed (exact; near if params.drop_near_seed), then within
    synthetic, keeping the smallest id of each duplicate group. keys_fn computes the LSH bucket keys of
    normalized texts (default: band_keys in this process); embedder (synthkit.embeddings) holds the cache.
    """
    for df, name in ((synth, "synthetic"), (seeds, "seeds"), (eval_, "eval")):
        _require_columns(df, name)
    synth, seeds, eval_ = _sorted_rows(synth), _sorted_rows(seeds), _sorted_rows(eval_)
    s_ids, r_ids, e_ids = synth["id"].to_list(), seeds["id"].to_list(), eval_["id"].to_list()
    s_sk, r_sk, e_sk = (sketch(df["text"].to_list(), params, keys_fn) for df in (synth, seeds, eval_))

    eval_index = _index(e_ids, e_sk, params)
    s_eval, r_eval = _matches(s_sk, eval_index), _matches(r_sk, eval_index)
    if params.eval_leakage.enabled:  # rows without an exact or near eval match: nearest eval items by meaning
        eval_texts = _with_target(eval_)
        for frame, found in ((synth, s_eval), (seeds, r_eval)):
            todo = [p for p, m in enumerate(found) if not m]
            texts = _with_target(frame)
            for p, m in zip(todo, eval_matches([texts[q] for q in todo], eval_texts, params, embedder)):
                found[p] = [(kind, e_ids[e], j, c) for kind, e, j, c in m]
    eval_rows = eval_.select("id", "text", pl.col("label") if "label" in eval_.columns else pl.lit(None).alias("label"))
    training = {"real": (r_ids, r_eval), "synthetic": (s_ids, s_eval)}
    report = leakage_report(eval_rows.to_dicts(), training)

    verdicts: list[Verdict | None] = [None] * len(s_ids)
    for pos, found in enumerate(s_eval):
        if found:
            kind, eval_id, j, *cosine = found[0]
            detail = f"{eval_id} jaccard={j:.3f}" + (f" cosine={cosine[0]:.3f}" if cosine else "")
            verdicts[pos] = Verdict(f"{GATE}_eval_{kind}", detail)

    todo = [p for p, v in enumerate(verdicts) if v is None]
    for pos, found in zip(todo, _matches(_subset(s_sk, todo), _index(r_ids, r_sk, params))):
        if found and (found[0][0] == "exact" or params.drop_near_seed):
            verdicts[pos] = Verdict(f"{GATE}_seed_{found[0][0]}", found[0][1])

    todo = [p for p, v in enumerate(verdicts) if v is None]
    for pos, verdict in zip(todo, _within_verdicts([s_ids[p] for p in todo], _subset(s_sk, todo), params)):
        verdicts[pos] = verdict

    kept, rejects = split_verdicts(synth, [v or KEEP for v in verdicts], GATE)
    return kept, rejects, report


def sketch_batch(table, params: DedupeParams):
    """One engine batch of normalized texts (column `norm`): its LSH bucket keys and marks as fixed-size lists."""
    import pyarrow as pa

    from synthkit.engine import ROW

    keys, marks = lsh_sketch(table.column("norm").to_pylist(), params)
    return pa.table(
        {
            ROW: table.column(ROW),
            "keys": pa.FixedSizeListArray.from_arrays(pa.array(keys.ravel(), pa.uint64()), keys.shape[1]),
            "marks": pa.FixedSizeListArray.from_arrays(pa.array(marks.ravel(), pa.uint8()), marks.shape[1]),
        }
    )


def engine_keys(engine) -> KeysFn | None:
    """The keys function that computes bucket keys and marks on an engine (synthkit.engine); None in this process."""
    if engine.in_process:
        return None

    def keys_fn(norms: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow as pa

        from synthkit.engine import ROW

        if not norms:
            return lsh_sketch([], params)
        table = pa.table({ROW: pa.array(np.arange(len(norms), dtype=np.int64)), "norm": pa.array(list(norms), pa.string())})
        out = engine.map_batches(table, partial(sketch_batch, params=params))
        keys, marks = out.column("keys").combine_chunks(), out.column("marks").combine_chunks()
        return (
            keys.values.to_numpy().reshape(len(norms), keys.type.list_size),
            marks.values.to_numpy().reshape(len(norms), marks.type.list_size),
        )

    return keys_fn


__all__ = [
    "NearDupIndex",
    "Sketches",
    "band_keys",
    "candidate_pairs",
    "pair_jaccard",
    "shingle_hashes",
    "signatures",
    "dedupe",
    "engine_keys",
    "jaccard",
    "leakage_report",
    "lsh_sketch",
    "lsh_bands",
    "minhashes",
    "near_duplicate_clusters",
    "near_pairs",
    "normalize_text",
    "shingles",
    "sketch",
    "sketch_batch",
    "verbatim_key",
    "verbatim_overlap",
]

"""Offline sentence embeddings (wordllama's bundled 256-dim token table), cached on disk by text hash.

A text's vector is the mean of its tokens' rows in the table, L2-normalized (as wordllama's own embed, to float
rounding). Each text is pooled on its own (float64 sums over its token counts), so a vector never depends on the batch it was encoded in: the same text
gives bit-identical bytes whether it is encoded alone, in a batch, or read back from the cache.

The cache is a directory of shards written atomically: `<name>.vecs.npy` (float32 rows) and then
`<name>.keys.npy` (sorted 16-byte text hashes); a shard counts once its keys file exists. A stage declares its
cache directory as a DVC output with `persist: true`, like the LLM cache: reruns reuse it and only new texts
are encoded.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from synthkit.errors import InputError
from synthkit.io import _atomic, write_text

MODEL = "wordllama/l2_supercat/256"  # part of every cache key: another table never reuses these vectors
DIM = 256
ENCODE_BATCH = 8192  # texts tokenized and pooled at once
MAX_SHARDS = 32  # more shards than this in a cache directory are merged into one
_KEY = np.dtype("S16")

CACHE_README = (
    "Sentence-embedding cache of this stage (wordllama 256-dim vectors keyed by a hash of the text).\n"
    "A DVC output with persist: true: reruns reuse it, so only new texts are encoded.\n"
    "Deleting it costs only the time to encode the texts again.\n"
)


class EmbeddingError(InputError):
    """The bundled embedding table or tokenizer, or a file of an embedding cache, cannot be read (one line, exit 2)."""


@lru_cache(maxsize=1)
def _model():
    """(token table float64 [vocab, DIM], tokenizer without padding) from the installed wordllama package, never downloaded."""
    root = logging.getLogger()
    guard = None if root.handlers else logging.NullHandler()
    if guard is not None:  # wordllama calls logging.basicConfig at import; a handler in place makes that a no-op
        root.addHandler(guard)
    try:
        import wordllama
        from wordllama import WordLlama
    finally:
        if guard is not None:
            root.removeHandler(guard)
    try:
        # the wheel ships weights/ and tokenizers/ in its package folder; the loader looks for the tokenizer in
        # <package>/tokenizer/, so the package folder is passed as the cache folder, where tokenizers/ is found
        model = WordLlama.load(config="l2_supercat", dim=DIM, cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise EmbeddingError(str(Path(wordllama.__file__).parent), f"cannot load the bundled l2_supercat {DIM}-dim model ({exc})") from None
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return np.ascontiguousarray(model.embedding, dtype=np.float64), tokenizer


def text_key(text: str) -> bytes:
    """The 16-byte cache key of a text under this module's model."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16, person=b"synthkit-emb", key=MODEL.encode()).digest()


def encode_uncached(texts: Sequence[str]) -> np.ndarray:
    """Unit-length mean-pooled token vectors (len(texts) x DIM, float32); a text without tokens gives zeros."""
    table, tokenizer = _model()
    out = np.zeros((len(texts), DIM), np.float32)
    for lo in range(0, len(texts), ENCODE_BATCH):
        chunk = list(texts[lo : lo + ENCODE_BATCH])
        ids = [e.ids for e in tokenizer.encode_batch(chunk, add_special_tokens=False)]
        lens = np.fromiter(map(len, ids), np.int64, count=len(ids))
        flat = np.fromiter(chain.from_iterable(ids), np.int64, count=int(lens.sum()))
        np.clip(flat, 0, table.shape[0] - 1, out=flat)
        # token counts per text (duplicates summed, columns sorted) times the table: each row is summed on its own
        counts = sp.csr_matrix((np.ones(len(flat)), flat, np.concatenate(([0], np.cumsum(lens)))), shape=(len(ids), table.shape[0]))
        counts.sum_duplicates()
        sums = counts @ table
        norms = np.sqrt(np.einsum("ij,ij->i", sums, sums))
        out[lo : lo + len(ids)] = (sums / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
    return out


def ensure_cache_dir(path: str | Path) -> None:
    """Create an embedding cache directory holding a fixed README.txt, so the DVC output exists when unused."""
    readme = Path(path) / "README.txt"
    if not readme.exists() or readme.read_text(encoding="utf-8") != CACHE_README:
        write_text(CACHE_README, readme)


class Embedder:
    """Encodes texts with the bundled model, reusing vectors already in memory or in the cache directory.

    Args:
        cache_dir: directory of cache shards (created on first write; read back memory-mapped); None keeps
            vectors in memory only.
        memory: without a cache directory, keep encoded vectors for later calls (False: encode every call).
    """

    def __init__(self, cache_dir: str | Path | None = None, memory: bool = True):
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.memory = memory
        self._shards: list[tuple[str | None, np.ndarray, np.ndarray]] | None = None  # (name, sorted keys, vectors)
        self.hits = 0
        self.misses = 0

    def __deepcopy__(self, memo) -> Embedder:
        """sklearn's clone deep-copies estimator params: every copy shares this embedder and its cache."""
        return self

    def _load(self) -> list[tuple[str | None, np.ndarray, np.ndarray]]:
        if self._shards is None:
            self._shards = []
            if self.cache_dir is not None and self.cache_dir.is_dir():
                for keys_path in sorted(self.cache_dir.glob("*.keys.npy")):
                    name = keys_path.name[: -len(".keys.npy")]
                    vecs_path = self.cache_dir / f"{name}.vecs.npy"
                    try:
                        keys = np.load(keys_path)
                        vecs = np.load(vecs_path, mmap_mode="r")
                    except (OSError, ValueError, EOFError):
                        keys, vecs = None, None
                    if keys is None or keys.dtype != _KEY or vecs.shape != (len(keys), DIM):
                        raise EmbeddingError(str(keys_path), "not a shard of this embedding cache (delete the directory to rebuild it)")
                    self._shards.append((name, keys, vecs))
        return self._shards

    def _write_shard(self, keys: np.ndarray, vecs: np.ndarray) -> str:
        name = hashlib.blake2b(keys.tobytes(), digest_size=8).hexdigest()
        assert self.cache_dir is not None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        _save_npy(vecs, self.cache_dir / f"{name}.vecs.npy")  # vectors first: a shard counts once its keys exist
        _save_npy(keys, self.cache_dir / f"{name}.keys.npy")
        return name

    def _add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        if self.cache_dir is None and not self.memory:
            return
        order = np.argsort(keys, kind="stable")
        keys, vecs = keys[order], np.ascontiguousarray(vecs[order])
        shards = self._load()
        name = None
        if self.cache_dir is not None:  # read back memory-mapped: cached vectors do not stay in this process's memory
            name = self._write_shard(keys, vecs)
            vecs = np.load(self.cache_dir / f"{name}.vecs.npy", mmap_mode="r")
        shards.append((name, keys, vecs))
        if len(shards) > MAX_SHARDS:
            self._compact()

    def _compact(self) -> None:
        """Merge every shard into one (written before the old files are removed)."""
        shards = self._load()
        keys = np.concatenate([k for _, k, _ in shards])
        vecs = np.concatenate([np.asarray(v) for _, _, v in shards])
        keys, first = np.unique(keys, return_index=True)
        vecs = np.ascontiguousarray(vecs[first])
        old = [n for n, _, _ in shards if n is not None]
        name = self._write_shard(keys, vecs) if self.cache_dir is not None else None
        if self.cache_dir is not None:
            for n in old:
                if n != name:
                    (self.cache_dir / f"{n}.keys.npy").unlink(missing_ok=True)
                    (self.cache_dir / f"{n}.vecs.npy").unlink(missing_ok=True)
            vecs = np.load(self.cache_dir / f"{name}.vecs.npy", mmap_mode="r")
        self._shards = [(name, keys, vecs)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors (len(texts) x DIM, float32) of the texts, encoding only those not seen before."""
        texts = list(texts)
        out = np.empty((len(texts), DIM), np.float32)
        if not texts:
            return out
        keys = np.array([text_key(t) for t in texts], dtype=_KEY)
        found = np.zeros(len(texts), bool)
        for _, shard_keys, shard_vecs in self._load():
            todo = np.flatnonzero(~found)
            if not len(todo):
                break
            pos = np.searchsorted(shard_keys, keys[todo])
            pos_ok = np.minimum(pos, len(shard_keys) - 1)
            hit = (pos < len(shard_keys)) & (shard_keys[pos_ok] == keys[todo])
            out[todo[hit]] = shard_vecs[pos_ok[hit]]
            found[todo[hit]] = True
        missing = np.flatnonzero(~found)
        self.hits += len(texts) - len(missing)
        if len(missing):
            uniq, first, inverse = np.unique(keys[missing], return_index=True, return_inverse=True)
            vecs = encode_uncached([texts[i] for i in missing[first]])
            out[missing] = vecs[inverse.ravel()]
            self.misses += len(missing)
            self._add(uniq, vecs)
        return out


def _save_npy(array: np.ndarray, path: Path) -> None:
    """Write one .npy file atomically (np.save gets an open file: given a bare path it would append .npy)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)

    _atomic(path, write)


def stage_embedder(cache_dir: str | Path | None, memory: bool = True) -> Embedder:
    """The embedder of a stage: its cache directory (created with its README so the DVC output exists), or memory only."""
    if cache_dir is not None:
        ensure_cache_dir(cache_dir)
    return Embedder(cache_dir, memory=memory)


def encode(texts: Sequence[str], cache_dir: str | Path | None = None) -> np.ndarray:
    """Unit-length vectors of texts (float32, len(texts) x DIM), through the cache directory when one is given."""
    return Embedder(cache_dir).encode(texts)


def cosine_top(queries: np.ndarray, index: np.ndarray, k: int, batch: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, the k most similar index rows by cosine (unit vectors): (positions, similarities), best first.

    Candidates come from one matrix product per batch of queries; their similarities are then recomputed pair by pair
    in float64, so a reported similarity never depends on the batch (ties break by index position).
    """
    n, m = len(queries), len(index)
    k = min(k, m)
    pos = np.zeros((n, k), np.int64)
    sim = np.zeros((n, k), np.float64)
    if not n or not k:
        return pos, sim
    index64 = index.astype(np.float64)
    for lo in range(0, n, batch):
        q = queries[lo : lo + batch]
        s = q @ index.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < m else np.broadcast_to(np.arange(m), s.shape).copy()
        q64 = q.astype(np.float64)
        exact = np.stack([np.einsum("rd,rd->r", q64, index64[part[:, j]]) for j in range(k)], axis=1)
        order = np.lexsort((part, -exact), axis=1)
        pos[lo : lo + batch] = np.take_along_axis(part, order, axis=1)
        sim[lo : lo + batch] = np.take_along_axis(exact, order, axis=1)
    return pos, sim


__all__ = [
    "DIM", "MODEL", "Embedder", "EmbeddingError", "cosine_top", "encode", "encode_uncached", "ensure_cache_dir", "stage_embedder", "text_key",
]

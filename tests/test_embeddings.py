"""Sentence embeddings: offline model, batch-independent bit-identical vectors, the on-disk cache, nearest neighbours."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from synthkit import embeddings
from synthkit.embeddings import DIM, Embedder, EmbeddingError, cosine_top, encode_uncached, stage_embedder

TEXTS = ["I want my money back for the double charge", "cannot log in since the update", "where is my parcel", "hi"]


def test_vectors_are_unit_length_and_empty_text_is_zero():
    v = encode_uncached(TEXTS + [""])
    assert v.shape == (5, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:4], axis=1), 1.0, atol=1e-6)
    assert not v[4].any()


def test_a_text_gets_the_same_bytes_alone_in_a_batch_and_in_another_order():
    together = encode_uncached(TEXTS)
    alone = np.stack([encode_uncached([t])[0] for t in TEXTS])
    reversed_ = encode_uncached(TEXTS[::-1])[::-1]
    assert together.tobytes() == alone.tobytes() == reversed_.tobytes()


def test_similar_meanings_are_closer_than_unrelated_ones():
    a, b, c = encode_uncached(["please refund my payment", "I want a refund of the charge", "the weather is sunny today"])
    assert a @ b > a @ c + 0.1


def test_model_loads_without_network(monkeypatch):
    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("the embedding model must not be downloaded")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "request", no_network)
    embeddings._model.cache_clear()
    try:
        assert encode_uncached(["offline"]).shape == (1, DIM)
    finally:
        embeddings._model.cache_clear()


def test_loading_the_model_adds_no_logging_handler():
    code = "import logging; from synthkit.embeddings import encode_uncached; encode_uncached(['x']); print(len(logging.getLogger().handlers))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_cache_makes_a_rerun_free_and_bit_identical(tmp_path, monkeypatch):
    first = Embedder(tmp_path / "cache")
    v1 = first.encode(TEXTS + TEXTS[:2])
    assert (first.hits, first.misses) == (0, 6) and len(list((tmp_path / "cache").glob("*.keys.npy"))) == 1

    def no_model(texts):
        raise AssertionError("a cached text was encoded again")

    monkeypatch.setattr(embeddings, "encode_uncached", no_model)
    again = Embedder(tmp_path / "cache")
    v2 = again.encode(TEXTS[::-1])
    assert v2.tobytes() == v1[:4][::-1].tobytes()
    assert (again.hits, again.misses) == (4, 0)


def test_only_new_texts_are_encoded_and_written_as_a_new_shard(tmp_path):
    Embedder(tmp_path).encode(TEXTS[:2])
    e = Embedder(tmp_path)
    out = e.encode(TEXTS)
    assert (e.hits, e.misses) == (2, 2)
    assert len(list(tmp_path.glob("*.keys.npy"))) == 2
    assert out.tobytes() == encode_uncached(TEXTS).tobytes()


def test_a_shard_without_its_keys_file_is_ignored(tmp_path):
    np.save(tmp_path / "deadbeef.vecs.npy", np.ones((1, DIM), np.float32))  # a crash between the two writes
    e = Embedder(tmp_path)
    assert e.encode(["hi"]).tobytes() == encode_uncached(["hi"]).tobytes() and e.misses == 1


def test_a_foreign_file_in_the_cache_is_a_clear_error(tmp_path):
    np.save(tmp_path / "x.keys.npy", np.arange(3))
    np.save(tmp_path / "x.vecs.npy", np.zeros((3, DIM), np.float32))
    with pytest.raises(EmbeddingError, match="not a shard of this embedding cache"):
        Embedder(tmp_path).encode(["hi"])


@pytest.mark.parametrize("damage", ["garbage", "no_vectors"])
def test_an_unreadable_shard_is_a_clear_error(tmp_path, damage):
    e = Embedder(tmp_path)
    e.encode(["hi"])
    keys = next(tmp_path.glob("*.keys.npy"))
    if damage == "garbage":
        keys.write_bytes(b"not numpy")
    else:
        (tmp_path / keys.name.replace(".keys.", ".vecs.")).unlink()
    with pytest.raises(EmbeddingError, match="not a shard of this embedding cache") as info:
        Embedder(tmp_path).encode(["hi"])
    assert str(info.value).startswith(str(keys)) and "\n" not in str(info.value)


def test_many_shards_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "MAX_SHARDS", 2)
    e = Embedder(tmp_path)
    for t in TEXTS:
        e.encode([t])
    assert len(list(tmp_path.glob("*.keys.npy"))) <= 2 and not list(tmp_path.glob("*.tmp"))
    fresh = Embedder(tmp_path)
    assert fresh.encode(TEXTS).tobytes() == encode_uncached(TEXTS).tobytes() and fresh.misses == 0


def test_memory_only_embedder_keeps_nothing_on_disk_and_can_forget(tmp_path):
    e = Embedder()
    e.encode(TEXTS)
    e.encode(TEXTS)
    assert e.hits == 4
    forgetful = Embedder(memory=False)
    forgetful.encode(TEXTS)
    forgetful.encode(TEXTS)
    assert forgetful.hits == 0 and forgetful.misses == 8


def test_stage_embedder_creates_the_cache_folder_with_its_readme(tmp_path):
    stage_embedder(tmp_path / "c")
    assert (tmp_path / "c" / "README.txt").read_text().startswith("Sentence-embedding cache")


def test_cosine_top_orders_by_similarity_then_position():
    index = np.eye(3, dtype=np.float32)[[0, 1, 1, 2]]  # rows 1 and 2 are equal
    queries = np.array([[0.0, 1.0, 0.0], [0.9, 0.0, 0.1]], np.float32)
    pos, sim = cosine_top(queries, index, 2)
    assert pos.tolist() == [[1, 2], [0, 3]]
    assert np.allclose(sim, [[1.0, 1.0], [0.9, 0.1]])
    assert cosine_top(queries, index, 10)[0].shape == (2, 4)
    assert cosine_top(queries[:0], index, 2)[0].shape == (0, 2)

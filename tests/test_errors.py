"""Errors raised in worker processes reach the stage as the same one line."""

from concurrent.futures import ProcessPoolExecutor

import pytest

from synthkit.embeddings import EmbeddingError
from synthkit.errors import InputError


def _raise(kind: str) -> None:
    if kind == "input":
        raise InputError("mine/seeds.csv", "missing column", row=2, field="intent")
    raise EmbeddingError("data/embeddings_cache/x.keys.npy", "not a shard of this embedding cache")


@pytest.mark.parametrize(
    ("kind", "cls", "line"),
    [
        ("input", InputError, "mine/seeds.csv: row 2: field 'intent': missing column"),
        ("embedding", EmbeddingError, "data/embeddings_cache/x.keys.npy: not a shard of this embedding cache"),
    ],
)
def test_an_input_error_raised_in_a_worker_process_arrives_whole(kind, cls, line):
    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(cls) as caught:
            pool.submit(_raise, kind).result()
    assert str(caught.value) == line
    assert caught.value.row == (2 if kind == "input" else None)

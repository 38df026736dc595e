"""The pseudo_label teacher with the embedding student and nearest-seed agreement by embedding cosine."""

from __future__ import annotations

import pytest

from synthkit.config import PseudoLabelParams
from synthkit.embeddings import Embedder
from synthkit.generators.pseudo_label import select_pseudo_labels
from tests.test_byod import POOL, TOPICS

TEXTS = [t for ts in TOPICS.values() for t in ts]
LABELS = [lab for lab, ts in TOPICS.items() for _ in ts]
TRUTH = {"i think i lost my card at the shop": "card_lost", "what's my current balance": "balance_check",
         "transfer failed with an error": "transfer_fail", "my wallet and card were stolen": "card_lost",
         "how much is in savings": "balance_check", "the bank declined my transfer": "transfer_fail", "block my lost card": "card_lost"}


@pytest.mark.parametrize("encoder", ["minilm", "wordllama"])
@pytest.mark.parametrize("student", ["embed_logreg", "both"])
@pytest.mark.parametrize("agreement", ["none", "views", "embed_knn", "views_embed_knn"])
def test_embedding_teacher_labels_the_pool(student, agreement, encoder):
    params = PseudoLabelParams(rounds=1, label_cap=10, student=student, agreement=agreement, knn_k=3, encoder=encoder)
    picked = select_pseudo_labels(TEXTS, LABELS, POOL, params)
    assert picked and all(TRUTH[POOL[pos]] == label for pos, label, _, _ in picked)
    assert picked == select_pseudo_labels(TEXTS, LABELS, POOL, params)  # deterministic


def test_neighbour_agreement_drops_texts_the_seeds_vote_against(monkeypatch):
    import numpy as np

    from synthkit.generators import pseudo_label

    def vote_balance(seed_texts, seed_labels, texts, k, embedder=None):
        return ["balance_check"] * len(texts), np.ones(len(texts))

    monkeypatch.setattr(pseudo_label, "neighbour_vote", vote_balance)
    params = PseudoLabelParams(rounds=1, label_cap=10, student="embed_logreg", agreement="embed_knn", knn_k=3)
    picked = select_pseudo_labels(TEXTS, LABELS, POOL, params)
    assert picked and {label for _, label, _, _ in picked} == {"balance_check"}
    everything = select_pseudo_labels(TEXTS, LABELS, POOL, params.model_copy(update={"agreement": "none"}))
    assert len(everything) > len(picked)


def test_teacher_with_the_students_own_encoder_uses_the_given_embedder_cache(tmp_path):
    embedder = Embedder(tmp_path)
    params = PseudoLabelParams(rounds=1, student="embed_logreg", agreement="embed_knn", encoder="wordllama")
    select_pseudo_labels(TEXTS, LABELS, POOL, params, embedder)
    assert embedder.misses == len(set(TEXTS + POOL)) and list(tmp_path.glob("*.keys.npy"))


def test_teacher_with_minilm_reads_minilm_vectors_and_leaves_the_students_encoder_alone(tmp_path, monkeypatch):
    from synthkit import minilm

    calls: list[int] = []
    real = minilm.MiniLM.encode_uncached
    monkeypatch.setattr(minilm.MiniLM, "encode_uncached", lambda self, texts: calls.append(len(texts)) or real(self, texts))
    minilm.shared_minilm().cache.clear()
    embedder = Embedder(tmp_path)
    picked = select_pseudo_labels(TEXTS, LABELS, POOL, PseudoLabelParams(rounds=1, student="embed_logreg", agreement="embed_knn"), embedder)
    assert picked and embedder.misses == 0 and not list(tmp_path.glob("*.keys.npy"))  # the stage's wordllama cache is untouched
    assert sum(calls) == len(set(TEXTS + POOL))  # every text encoded by MiniLM once, then read from its cache
    # a TF-IDF teacher with no embedding agreement reads no sentence vectors at all
    calls.clear()
    minilm.shared_minilm().cache.clear()
    select_pseudo_labels(TEXTS, LABELS, POOL, PseudoLabelParams(rounds=1, student="tfidf_logreg", agreement="views"), embedder)
    assert calls == [] and embedder.misses == 0

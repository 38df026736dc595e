"""Consistency gate: a student trained on the real seeds relabels each candidate, or the most similar seeds vote;
confident disagreement rejects."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from synthkit.config import ConsistencyParams
from synthkit.embeddings import Embedder
from synthkit.gates.base import KEEP, Verdict
from synthkit.students import neighbour_vote, predict_with_confidence


def gate_consistency(texts: list[str], labels: list[str], student: Pipeline | None, params: ConsistencyParams) -> list[Verdict]:
    """Reject a candidate when the seed-trained student predicts another label with probability >= min_confidence."""
    if not params.enabled or student is None:
        return [KEEP] * len(texts)
    predicted, confidence = predict_with_confidence(student, texts)
    return [
        Verdict("consistency_disagree", f"predicted={p} p={c:.3f}")
        if p != label and c >= params.min_confidence
        else KEEP
        for label, p, c in zip(labels, predicted, confidence)
    ]


def gate_consistency_knn(
    texts: list[str], labels: list[str], seed_texts: list[str], seed_labels: list[str], params: ConsistencyParams,
    embedder: Embedder | None = None,
) -> list[Verdict]:
    """Reject a candidate when its knn_k most similar seeds (embedding cosine) give another label >= knn_min_share of the votes."""
    if not params.enabled or not texts or len(set(seed_labels)) < 2:
        return [KEEP] * len(texts)
    voted, share = neighbour_vote(seed_texts, seed_labels, texts, params.knn_k, embedder)
    return [
        Verdict("consistency_knn_disagree", f"neighbours={v} share={s:.2f}")
        if v != label and s >= params.knn_min_share
        else KEEP
        for label, v, s in zip(labels, voted, share.tolist())
    ]

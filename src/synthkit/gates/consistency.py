"""Consistency gate: a student trained on the real seeds relabels each candidate; confident disagreement rejects."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from synthkit.config import ConsistencyParams
from synthkit.gates.base import KEEP, Verdict
from synthkit.student import predict_with_confidence


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

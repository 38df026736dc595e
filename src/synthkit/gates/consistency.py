"""Consistency gate: a student trained on the real seeds relabels each candidate, or the most similar seeds vote;
confident disagreement rejects."""

from __future__ import annotations

import math

from sklearn.pipeline import Pipeline

from synthkit.config import ConsistencyParams
from synthkit.embeddings import Embedder
from synthkit.gates.base import KEEP, Verdict
from synthkit.minilm import MiniLM, chosen_encoder
from synthkit.students import neighbour_vote, uses_embeddings


def consistency_encoder(params: ConsistencyParams, embedder: Embedder | None = None) -> Embedder | MiniLM | None:
    """The sentence encoder the gate reads: all-MiniLM-L6-v2 (params.encoder minilm) or the stage's embedder (wordllama,
    with its cache). A gate that reads no embedding (a TF-IDF student, the openai backend) loads none."""
    reads = params.backend == "embed_knn" or (params.backend == "student" and uses_embeddings(params.student))
    return chosen_encoder(params.encoder, reads, embedder)


def plausible_top(n_labels: int, share: float) -> int:
    """How many of the student's top labels are plausible for a candidate: ceil(share x labels), at least 1."""
    return max(1, math.ceil(share * n_labels - 1e-9))


def consistency_verdicts(student: Pipeline, texts: list[str], labels: list[str], params: ConsistencyParams) -> list[Verdict]:
    """Reject a text when the student predicts another label with probability >= min_confidence and ranks the text's
    own label below its top plausible_top labels (a confusable neighbour of the prediction is kept)."""
    if not texts:
        return []
    proba = student.predict_proba(list(texts))
    classes = [str(c) for c in student.classes_]
    index = {c: i for i, c in enumerate(classes)}
    top = plausible_top(len(classes), params.plausible_share)
    out = []
    for row, label in zip(proba, labels, strict=True):
        best = int(row.argmax())
        given = row[index[label]] if label in index else -1.0
        rank = int((row > given).sum()) + 1  # 1 = the student's first choice
        if classes[best] != label and row[best] >= params.min_confidence and rank > top:
            out.append(Verdict("consistency_disagree", f"predicted={classes[best]} p={row[best]:.3f} rank={rank}"))
        else:
            out.append(KEEP)
    return out


def gate_consistency(texts: list[str], labels: list[str], student: Pipeline | None, params: ConsistencyParams) -> list[Verdict]:
    """Reject a candidate when the seed-trained student confidently disagrees (consistency_verdicts)."""
    if not params.enabled or student is None:
        return [KEEP] * len(texts)
    return consistency_verdicts(student, texts, labels, params)


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

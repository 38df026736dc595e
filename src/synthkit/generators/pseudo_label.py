"""Pseudo-labeling: the seed-trained student labels a pool of unlabeled real texts, in rounds of self-training.

Each round the student (trained on the seeds plus the previous round's pseudo-labels) relabels the whole pool;
per label the most confident texts are taken, up to a cap that grows every round (class-balanced selection).
The student is one of synthkit.students (`student`); its sentence-embedding features come from `encoder`: by
default all-MiniLM-L6-v2 (synthkit.minilm), a stronger encoder than the deployed student's, so the teacher is not
wrong exactly where the student is. Optionally the single-view students (word n-grams, char
n-grams, and the sentence embedding when the student reads it) and/or the nearest seeds must agree with the
student, which keeps the pseudo-labels cleaner than confidence alone: `knn` takes the most similar seed by char
n-gram TF-IDF, `embed_knn` the majority of the `knn_k` most similar seeds by sentence-embedding cosine. Rows carry
their confidence and the round they were first taken in; they are candidates like any other and go through every
gate.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from synthkit.config import PseudoLabelParams
from synthkit.embeddings import Embedder
from synthkit.generators.template import template_hash
from synthkit.minilm import MiniLM, chosen_encoder
from synthkit.schemas import CHANNELS, Example, Generator, content_id, rows_to_frame
from synthkit.students import EmbeddingFeatures, neighbour_vote, train_student, uses_embeddings

BACKEND = "pseudo_label"


def _view_predictions(texts: list[str], labels: list[str], weights: list[float], pool: list[str], C: float,
                      embed: bool = False, embedder: Embedder | None = None) -> list[np.ndarray]:
    """Predictions of students that each see one view of the text: word 1-2-grams, char 2-5-grams (and the embedding)."""
    views = [TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
             TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)]
    if embed:
        views.append(EmbeddingFeatures(embedder))
    out = []
    for vec in views:
        clf = LogisticRegression(C=C, max_iter=3000).fit(vec.fit_transform(texts), labels, sample_weight=np.asarray(weights))
        out.append(np.asarray(clf.predict(vec.transform(pool))))
    return out


def _nearest_seed_labels(seed_texts: list[str], seed_labels: list[str], pool: list[str]) -> np.ndarray:
    """The label of each pool text's most similar seed (cosine over char 2-5-gram TF-IDF)."""
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(seed_texts + pool)
    sims = vec.transform(pool) @ vec.transform(seed_texts).T
    nearest = np.asarray(sims.argmax(axis=1)).ravel()
    return np.asarray(seed_labels)[nearest]


EMBED_KNN = ("embed_knn", "views_embed_knn")  # agreements where the seeds nearest by embedding vote


def teacher_encoder(params: PseudoLabelParams, embedder: Embedder | None = None) -> Embedder | MiniLM | None:
    """The sentence encoder the teacher reads: all-MiniLM-L6-v2 (params.encoder minilm), or the student's own (the
    stage's embedder, with its cache). A teacher that reads no embedding (a TF-IDF student, no embed_knn) loads none."""
    return chosen_encoder(params.encoder, uses_embeddings(params.student) or params.agreement in EMBED_KNN, embedder)


def select_pseudo_labels(
    seed_texts: list[str], seed_labels: list[str], pool: list[str], params: PseudoLabelParams, embedder: Embedder | None = None
) -> list[tuple[int, str, float, int]]:
    """Self-training over the pool; returns (pool position, label, confidence, first round) sorted by position.

    Deterministic: the student is deterministic and ties in confidence break by pool position.
    """
    if not pool or len(set(seed_labels)) < 2:
        return []
    embedder = teacher_encoder(params, embedder)
    first_round: dict[int, int] = {}
    chosen: list[tuple[int, str, float]] = []
    texts, labels, weights = list(seed_texts), list(seed_labels), [1.0] * len(seed_texts)
    knn = _nearest_seed_labels(seed_texts, seed_labels, pool) if params.agreement in ("knn", "views_knn") else None
    if params.agreement in EMBED_KNN:
        knn = np.asarray(neighbour_vote(seed_texts, seed_labels, pool, params.knn_k, embedder)[0])
    for rnd in range(1, params.rounds + 1):
        model = train_student(texts, labels, weights, C=params.C, kind=params.student, embedder=embedder)
        proba = model.predict_proba(pool)
        classes = np.asarray(model.classes_)
        pred = classes[proba.argmax(axis=1)]
        conf = proba.max(axis=1)
        ok = conf >= params.min_confidence
        if params.agreement in ("views", "views_knn", "views_embed_knn"):
            for view_pred in _view_predictions(texts, labels, weights, pool, params.C, uses_embeddings(params.student), embedder):
                ok &= view_pred == pred
        if knn is not None:
            ok &= knn == pred
        cap = int(round(params.label_cap * params.cap_growth ** (rnd - 1)))
        chosen = []
        for lab in classes:
            idx = np.flatnonzero((pred == lab) & ok)
            order = idx[np.lexsort((idx, -conf[idx]))][:cap]
            chosen.extend((int(i), str(lab), float(conf[i])) for i in order)
        for pos, _, _ in chosen:
            first_round.setdefault(pos, rnd)
        texts = list(seed_texts) + [pool[p] for p, _, _ in chosen]
        labels = list(seed_labels) + [lab for _, lab, _ in chosen]
        weights = [1.0] * len(seed_texts) + [params.weight] * len(chosen)
    return sorted((p, lab, c, first_round[p]) for p, lab, c in chosen)


def generate_pseudo_labels(seeds: pl.DataFrame, pool: pl.DataFrame, params: PseudoLabelParams, embedder: Embedder | None = None) -> pl.DataFrame:
    """Pseudo-labeled candidates from the unlabeled pool (texts identical to a seed are skipped), sorted by id."""
    train = seeds.filter(pl.col("split") == "seed").sort("id")
    seed_set = set(train["text"].to_list())
    pool = pool.filter(~pl.col("text").is_in(list(seed_set))).unique("text", keep="first").sort("id")
    pool_rows = pool.select("id", "text", "channel").to_dicts()
    picked = select_pseudo_labels(train["text"].to_list(), train["label"].to_list(), [r["text"] for r in pool_rows], params, embedder)
    recipe = template_hash(BACKEND, params.model_dump_json())
    rows: dict[str, Example] = {}
    for pos, label, conf, rnd in picked:
        src = pool_rows[pos]
        channel = src["channel"] if src["channel"] in CHANNELS else "chat"
        ex_id = content_id("synthetic", BACKEND, label, src["text"])
        rows.setdefault(ex_id, Example(
            id=ex_id, text=src["text"], label=label, source="synthetic", scenario_id=f"pool_{src['id']}",
            family="typical", channel=channel, split="candidate", parent_ids=[src["id"]],
            confidence=round(conf, 6), round=rnd,
            generator=Generator(backend=BACKEND, model=params.student, prompt_hash=recipe),
        ))
    return rows_to_frame(rows.values(), Example).sort("id")


def relabel_pseudo_labels(seeds: pl.DataFrame, rows: pl.DataFrame, params: PseudoLabelParams, embedder: Embedder | None = None) -> pl.DataFrame:
    """Pseudo-labelled rows relabelled by a teacher fitted on `seeds` (split seed) only, under generate's confidence,
    agreement, cap and round cut: label, confidence and round are the new teacher's; rows it does not take are dropped."""
    train = seeds.filter(pl.col("split") == "seed").sort("id")
    picked = select_pseudo_labels(train["text"].to_list(), train["label"].to_list(), rows["text"].to_list(), params, embedder)
    if not picked:
        return rows.head(0)
    pos, labels, conf, rnd = (list(c) for c in zip(*picked, strict=True))
    return rows[pos].with_columns(
        pl.Series("label", labels, dtype=rows.schema["label"]),
        pl.Series("confidence", [round(c, 6) for c in conf], dtype=rows.schema["confidence"]),
        pl.Series("round", rnd, dtype=rows.schema["round"]),
    )

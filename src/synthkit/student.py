"""The small student model: TF-IDF (word 1-2 + char 2-5) and logistic regression, trained in seconds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline


def train_student(texts: Sequence[str], labels: Sequence[str], weights: Sequence[float] | None = None, C: float = 10.0) -> Pipeline:
    """Fit the student on texts and labels, optionally with per-row sample weights."""
    if len(set(labels)) < 2:
        raise ValueError("the student needs at least two labels to train")
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
        ]
    )
    model = Pipeline([("features", features), ("clf", LogisticRegression(C=C, max_iter=3000))])
    sw = None if weights is None else np.asarray(weights, dtype=float)
    model.fit(list(texts), list(labels), clf__sample_weight=sw)
    return model


def predict_with_confidence(model: Pipeline, texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Predicted label and its probability for each text."""
    if not texts:
        return [], []
    proba = model.predict_proba(list(texts))
    classes = model.classes_
    best = proba.argmax(axis=1)
    return [str(classes[i]) for i in best], [float(proba[r, i]) for r, i in enumerate(best)]

"""Classification's mix step: the evaluate student's macro-F1 on held-out seeds, the criterion of mix.synthetic_ratio auto."""

from __future__ import annotations

import polars as pl

from synthkit.tasks.base import TaskContext
from synthkit.tasks.classification.evaluate import scores, train_eval_student


def mix_score(ctx: TaskContext, train: pl.DataFrame, heldout: pl.DataFrame) -> float:
    """Macro-F1 on held-out real rows of the evaluate student trained on `train` (text, label, weight)."""
    model = train_eval_student(train, ctx.params.evaluate)
    y_true = heldout["label"].to_list()
    return scores(
        y_true,
        [str(p) for p in model.predict(heldout["text"].to_list())],
        sorted(set(y_true)),
    )["macro_f1"]

"""Classification's mix step for mix.synthetic_ratio auto: the evaluate student's macro-F1 on held-out seeds, and the
fold teacher that relabels pseudo-labels from the fold's training seeds only."""

from __future__ import annotations

import polars as pl

from synthkit.generators.pseudo_label import BACKEND as PSEUDO_LABEL
from synthkit.generators.pseudo_label import relabel_pseudo_labels
from synthkit.tasks.base import TaskContext
from synthkit.tasks.classification.evaluate import scores, train_eval_student


def mix_score(ctx: TaskContext, train: pl.DataFrame, heldout: pl.DataFrame) -> float:
    """Macro-F1 on held-out real rows of the evaluate student trained on `train` (text, label, weight)."""
    model = train_eval_student(train, ctx.params.evaluate, ctx.embedder)
    y_true = heldout["label"].to_list()
    return scores(
        y_true,
        [str(p) for p in model.predict(heldout["text"].to_list())],
        sorted(set(y_true)),
    )["macro_f1"]


def fold_teacher(
    ctx: TaskContext, train_seeds: pl.DataFrame, synth: pl.DataFrame
) -> tuple[pl.DataFrame, dict]:
    """The synthetic rows a fold may train on: pseudo-labels relabelled by generate's teacher refitted on the fold's
    training seeds (generate.pseudo_label's cut; rows it does not take are dropped), other rows unchanged; with counts.
    A pseudo-label a person accepted or relabelled in review keeps the person's label: no teacher overrides it; the
    counts give those as `reviewed`, apart from the `pseudo_labels` the teacher relabels."""
    is_pseudo = synth["generator"].struct.field("backend") == PSEUDO_LABEL
    reviewed = 0
    if "review" in synth.columns:
        reviewed = int((is_pseudo & synth["review"].is_not_null()).sum())
        is_pseudo = is_pseudo & synth["review"].is_null()
    pseudo = synth.filter(is_pseudo)
    if pseudo.height == 0:
        return synth, {}
    relabelled = relabel_pseudo_labels(
        train_seeds, pseudo, ctx.params.generate.pseudo_label, ctx.embedder
    )
    before = dict(zip(pseudo["id"].to_list(), pseudo["label"].to_list(), strict=True))
    changed = sum(
        before[i] != lab
        for i, lab in zip(
            relabelled["id"].to_list(), relabelled["label"].to_list(), strict=True
        )
    )
    counts = {
        "pseudo_labels": pseudo.height,
        "reviewed": reviewed,
        "taken": relabelled.height,
        "relabelled": changed,
        "dropped": pseudo.height - relabelled.height,
    }
    return pl.concat(
        [synth.filter(~is_pseudo), relabelled], how="vertical_relaxed"
    ), counts

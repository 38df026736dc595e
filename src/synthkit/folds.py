"""Cross-validation folds over real seeds by group (scenario_id), so paraphrases never straddle folds."""

from __future__ import annotations

import numpy as np
import polars as pl


def seed_folds(real: pl.DataFrame, folds: int, seed: int) -> list[np.ndarray]:
    """Held-out row positions per fold: whole groups, stratified by label when every label has a row per fold;
    [] when there are fewer than 2 groups."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    groups = real["scenario_id"].to_list()
    n = min(folds, len(set(groups)))
    if n < 2:
        return []
    labels = (
        [x or "" for x in real["label"].to_list()]
        if "label" in real.columns
        else [""] * real.height
    )
    X = np.zeros((real.height, 1))
    min_label = (
        min(real.group_by("label").len()["len"].to_list())
        if "label" in real.columns
        else 0
    )
    splitter = (
        StratifiedGroupKFold(n, shuffle=True, random_state=seed)
        if min_label >= n
        else GroupKFold(n)
    )
    return [held for _, held in splitter.split(X, labels, groups)]

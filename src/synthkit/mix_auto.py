"""mix.synthetic_ratio auto: the amount of synthetic data chosen by cross-validation over the real seeds.

The seeds are split into folds by group (scenario_id, so paraphrases never straddle folds), stratified by label when
the groups allow. For each fold and each share in mix.auto.grid, the task type's evaluate student is trained on the
other folds' seeds plus that share of the synthetic rows (taken in the mix's priority order: a smaller share is a
confidence / round cut of a larger one) and scored on the held-out seeds. The share with the best mean score wins
(ties go to fewer rows). No fold trains on what its held-out seeds taught: synthetic rows derived from a held-out
seed (parent_ids) or in a held-out group (scenario_id) are left out of that fold, and the task type's fold teacher
relabels pseudo-labels from the fold's training seeds only (the generate stage's teacher saw every seed). The
protected eval set is never read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from synthkit.config import MixParams
from synthkit.folds import seed_folds
from synthkit.mix import mix_weights, select_synthetic, synthetic_target

# (training rows with text, label, weight; held-out real rows) -> score (higher is better)
Scorer = Callable[[pl.DataFrame, pl.DataFrame], float]
# (the fold's training seeds; synthetic rows) -> (the rows the fold may train on, relabelled; counts for the report)
Teacher = Callable[[pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, dict]]


def _round(x: float) -> float:
    return round(float(x), 6)


def _cut(chosen: pl.DataFrame) -> dict:
    """What the chosen rows imply for pseudo-labels: the lowest confidence and the latest round taken."""
    pseudo = (
        chosen.filter(pl.col("confidence").is_not_null())
        if "confidence" in chosen.columns
        else chosen.head(0)
    )
    if pseudo.height == 0:
        return {}
    return {
        "pseudo_labels": pseudo.height,
        "min_confidence": _round(pseudo["confidence"].min()),
        "max_round": int(pseudo["round"].max()),
    }


def choose_amount(
    seeds: pl.DataFrame,
    synth: pl.DataFrame,
    params: MixParams,
    seed: int,
    scorer: Scorer | None,
    student: str = "",
    teacher: Teacher | None = None,
) -> dict:
    """The number of synthetic rows the mix takes (`target`) and how it was chosen: the curve (per share of the
    synthetic rows: mean and per-fold score on held-out seeds) and the choice, or the fixed ratio / fallback used."""
    real = seeds.filter(pl.col("split") == "seed")
    if params.synthetic_ratio != "auto":
        ratio = float(params.synthetic_ratio)
        return {
            "method": "fixed",
            "ratio": ratio,
            "target": synthetic_target(real.height, ratio),
        }
    fallback = params.auto.fallback_ratio
    if scorer is None:
        return {
            "method": "fallback",
            "ratio": fallback,
            "target": synthetic_target(real.height, fallback),
            "note": f"this task type has no cross-validation student (tasks/<type>/mix.py mix_score); mixed at mix.auto.fallback_ratio {fallback}",
        }
    if synth.height == 0:
        return {
            "method": "cross_validation",
            "target": 0,
            "note": "no synthetic rows to mix",
            "curve": [],
        }
    folds = seed_folds(real, params.auto.folds, seed)
    if not folds:
        return {
            "method": "fallback",
            "ratio": fallback,
            "target": synthetic_target(real.height, fallback),
            "note": f"fewer than 2 seed groups to cross-validate over; mixed at mix.auto.fallback_ratio {fallback}",
        }
    capped = None
    if params.auto.max_rows is not None and synth.height > params.auto.max_rows:
        # the first max_rows rows in priority order: every share below is a cut of them, and auto takes no more
        capped = {"max_rows": params.auto.max_rows, "available": synth.height}
        verdicts = select_synthetic(synth, params.auto.max_rows, params, seed)
        synth = synth.filter(pl.Series([v.reason is None for v in verdicts]))
    shares = sorted(set(params.auto.grid))
    scores: dict[float, list[float]] = {s: [] for s in shares}
    parents = (
        synth["parent_ids"].to_list()
        if "parent_ids" in synth.columns
        else [[] for _ in range(synth.height)]
    )
    groups = synth["scenario_id"].to_list()
    per_fold: list[dict] = []
    for held in folds:
        held_mask = np.zeros(real.height, dtype=bool)
        held_mask[held] = True
        train_real, held_out = (
            real.filter(pl.Series(~held_mask)),
            real.filter(pl.Series(held_mask)),
        )
        held_ids = set(held_out["id"].to_list())
        held_groups = set(held_out["scenario_id"].to_list())
        pool = synth.filter(
            pl.Series(
                [
                    not (set(p or []) & held_ids) and g not in held_groups
                    for p, g in zip(parents, groups, strict=True)
                ]
            )
        )
        fold = {
            "held_out_seeds": held_out.height,
            "held_out_derived_dropped": synth.height - pool.height,
        }
        if teacher is not None:
            pool, counts = teacher(train_real, pool)
            if counts:
                fold["teacher"] = counts
        per_fold.append(fold)
        cache: dict[int, float] = {}
        for share in shares:
            n = round(share * pool.height)
            if n not in cache:
                verdicts = select_synthetic(pool, n, params, seed)
                chosen = pool.filter(pl.Series([v.reason is None for v in verdicts]))
                frame = mix_weights(
                    pl.concat(
                        [train_real.select(chosen.columns), chosen],
                        how="vertical_relaxed",
                    ),
                    params,
                )
                cache[n] = float(scorer(frame, held_out))
            scores[share].append(cache[n])
    curve = [
        {
            "share": s,
            "synthetic_rows": round(s * synth.height),
            "score": _round(np.mean(v)),
            "folds": [_round(x) for x in v],
        }
        for s, v in scores.items()
    ]
    best = max(curve, key=lambda p: (p["score"], -p["share"]))
    target = best["synthetic_rows"]
    verdicts = select_synthetic(synth, target, params, seed)
    chosen = synth.filter(pl.Series([v.reason is None for v in verdicts]))
    return {
        "method": "cross_validation",
        "student": student,
        "folds": len(folds),
        "seed_rows": real.height,
        "synthetic_available": synth.height if capped is None else capped["available"],
        **({"capped": capped} if capped is not None else {}),
        "curve": curve,
        "teacher_refit_per_fold": any("teacher" in f for f in per_fold),
        "per_fold": per_fold,
        "target": target,
        "chosen": {
            "share": best["share"],
            "synthetic_rows": chosen.height,
            "score": best["score"],
            "gain_over_real_only": _round(best["score"] - curve[0]["score"])
            if shares[0] == 0.0
            else None,
            "ratio": _round(chosen.height / (chosen.height + real.height))
            if real.height + chosen.height
            else 0.0,
            **_cut(chosen),
        },
    }

"""Mix: real seeds anchor the training set; synthetic rows join up to a ratio (or an amount chosen by
cross-validation, synthkit.mix_auto), under per-label and per-family caps."""

from __future__ import annotations

import polars as pl

from synthkit.config import MixParams
from synthkit.gates.base import KEEP, Verdict, split_verdicts
from synthkit.schemas import Example, conform, label_confidence


def mix_weights(df: pl.DataFrame, params: MixParams) -> pl.DataFrame:
    """The weight column: real_weight for real rows, synthetic_weight for synthetic ones."""
    return df.with_columns(
        pl.when(pl.col("source") == "real").then(pl.lit(params.real_weight)).otherwise(pl.lit(params.synthetic_weight)).alias("weight")
    )


def synthetic_target(n_real: int, ratio: float) -> int:
    """Synthetic rows that make `ratio` the synthetic share of a training set with n_real real rows."""
    return round(ratio / (1 - ratio) * n_real)


def priority_order(synth: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Row positions (_i) with label and family in the order the mix takes them: round-robin across labels; within a
    label, earlier rounds first, then the more confident pseudo-labels (rows labelled by construction count as
    confidence 1), ties in a seeded order. A smaller amount is therefore a confidence / round cut of a larger one."""
    cols = synth.columns
    conf = label_confidence(cols)
    rnd = pl.col("round").fill_null(0) if "round" in cols else pl.lit(0)
    order = synth.select(
        pl.int_range(pl.len()).alias("_i"), "label", "family", rnd.alias("_round"), conf.alias("_conf"), pl.col("id").hash(seed=seed).alias("_h")
    ).sort("label", "_round", pl.col("_conf"), "_h", descending=[False, False, True, False])
    order = order.with_columns(pl.int_range(pl.len()).over("label").alias("_rank")).sort("_rank", "label")
    return order.select("_i", "label", "family")


def select_synthetic(synth: pl.DataFrame, target: int, params: MixParams, seed: int, why: str | None = None) -> list[Verdict]:
    """Choose up to `target` synthetic rows in priority_order, honouring the per-label and per-family caps."""
    why = why or f"synthetic_ratio {params.synthetic_ratio} reached at {target}"
    verdicts: list[Verdict] = [KEEP] * synth.height
    per_label: dict[str, int] = {}
    per_family: dict[str, int] = {}
    taken = 0
    for i, label, family in priority_order(synth, seed).iter_rows():
        if params.label_cap is not None and per_label.get(label, 0) >= params.label_cap:
            verdicts[i] = Verdict("mix_label_cap", f"{label} has {params.label_cap}")
        elif family in params.family_caps and per_family.get(family, 0) >= params.family_caps[family]:
            verdicts[i] = Verdict("mix_family_cap", f"{family} has {params.family_caps[family]}")
        elif taken >= target:
            verdicts[i] = Verdict("mix_ratio", why)
        else:
            taken += 1
            per_label[label] = per_label.get(label, 0) + 1
            per_family[family] = per_family.get(family, 0) + 1
    return verdicts


def mix(seeds: pl.DataFrame, synth: pl.DataFrame, params: MixParams, seed: int, target: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The training set (real training seeds + selected synthetic rows, weighted) and the synthetic rows left out.

    target: the number of synthetic rows (synthkit.mix_auto's choice); None takes it from a numeric synthetic_ratio.
    """
    real = seeds.filter(pl.col("split") == "seed")
    why = None
    if target is None:
        if params.synthetic_ratio == "auto":
            raise ValueError("mix.synthetic_ratio auto: pass the amount chosen by synthkit.mix_auto.choose_amount")
        target = synthetic_target(real.height, params.synthetic_ratio)
    elif params.synthetic_ratio == "auto":
        why = f"synthetic_ratio auto: {target} rows chosen by cross-validation over the seeds"
    kept, left_out = split_verdicts(synth, select_synthetic(synth, target, params, seed, why), "mix")
    train = mix_weights(pl.concat([conform(real, Example), kept]), params).with_columns(pl.lit("train").alias("split"))
    return train.sort("id"), left_out.sort("id")

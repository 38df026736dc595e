"""Mix: real seeds anchor the training set; synthetic rows join up to a ratio, under per-label and per-family caps."""

from __future__ import annotations

import polars as pl

from synthkit.config import MixParams
from synthkit.gates.base import KEEP, Verdict, split_verdicts
from synthkit.schemas import Example, conform


def mix_weights(df: pl.DataFrame, params: MixParams) -> pl.DataFrame:
    """The weight column: real_weight for real rows, synthetic_weight for synthetic ones."""
    return df.with_columns(
        pl.when(pl.col("source") == "real").then(pl.lit(params.real_weight)).otherwise(pl.lit(params.synthetic_weight)).alias("weight")
    )


def select_synthetic(synth: pl.DataFrame, n_real: int, params: MixParams, seed: int) -> list[Verdict]:
    """Choose synthetic rows round-robin across labels (seeded order), honouring caps and the target ratio."""
    target = round(params.synthetic_ratio / (1 - params.synthetic_ratio) * n_real)
    order = synth.with_columns(pl.col("id").hash(seed=seed).alias("_h"), pl.int_range(pl.len()).alias("_i")).sort("label", "_h")
    order = order.with_columns(pl.int_range(pl.len()).over("label").alias("_rank")).sort("_rank", "label")
    verdicts: list[Verdict] = [KEEP] * synth.height
    per_label: dict[str, int] = {}
    per_family: dict[str, int] = {}
    taken = 0
    for i, label, family in order.select("_i", "label", "family").iter_rows():
        if params.label_cap is not None and per_label.get(label, 0) >= params.label_cap:
            verdicts[i] = Verdict("mix_label_cap", f"{label} has {params.label_cap}")
        elif family in params.family_caps and per_family.get(family, 0) >= params.family_caps[family]:
            verdicts[i] = Verdict("mix_family_cap", f"{family} has {params.family_caps[family]}")
        elif taken >= target:
            verdicts[i] = Verdict("mix_ratio", f"synthetic_ratio {params.synthetic_ratio} reached at {target}")
        else:
            taken += 1
            per_label[label] = per_label.get(label, 0) + 1
            per_family[family] = per_family.get(family, 0) + 1
    return verdicts


def mix(seeds: pl.DataFrame, synth: pl.DataFrame, params: MixParams, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The training set (real training seeds + selected synthetic rows, weighted) and the synthetic rows left out."""
    real = seeds.filter(pl.col("split") == "seed")
    kept, left_out = split_verdicts(synth, select_synthetic(synth, real.height, params, seed), "mix")
    train = mix_weights(pl.concat([conform(real, Example), kept]), params).with_columns(pl.lit("train").alias("split"))
    return train.sort("id"), left_out.sort("id")

"""Run the configured generator backends and combine their candidates under per-backend quotas."""

from __future__ import annotations

import polars as pl

from synthkit.config import GenerateParams
from synthkit.errors import InputError
from synthkit.schemas import Example, rows_to_frame
from synthkit.spec import Spec


def check_quotas(params: GenerateParams) -> None:
    """Every generate.quotas key names a backend in generate.backends."""
    unknown = sorted(set(params.quotas) - set(params.backends))
    if unknown:
        raise InputError("params.yaml", f"quota for a backend that is not in generate.backends: {unknown[0]}", field="generate.quotas")


def apply_quota(df: pl.DataFrame, quota: int | None, seed: int) -> pl.DataFrame:
    """At most `quota` rows, chosen round-robin across labels in a seeded order (all rows when quota is None)."""
    if quota is None or df.height <= quota:
        return df
    ranked = df.with_columns(pl.col("id").hash(seed=seed).alias("_h")).sort("label", "_h", "id")
    ranked = ranked.with_columns(pl.int_range(pl.len()).over("label").alias("_rank")).sort("_rank", "label", "_h", "id")
    return ranked.head(quota).drop("_h", "_rank")


def generate_candidates(spec: Spec, seeds: pl.DataFrame, pool: pl.DataFrame | None, params: GenerateParams, seed: int) -> pl.DataFrame:
    """Candidates of every backend in params.backends, each capped by params.quotas[backend]; unique by id, sorted."""
    check_quotas(params)
    frames = []
    for backend in params.backends:
        if backend == "template":
            from synthkit.generators.template import generate_template
            from synthkit.generators.variation import generate_variations

            frame = pl.concat([generate_template(spec, params, seed), generate_variations(seeds, spec, params, seed)])
        elif backend == "pseudo_label":
            from synthkit.generators.pseudo_label import generate_pseudo_labels

            if pool is None:
                raise InputError("params.yaml", "backend pseudo_label needs an unlabeled pool (prepare.unlabeled)", field="generate.backends")
            frame = generate_pseudo_labels(seeds, pool, params.pseudo_label)
        else:
            from synthkit.generators.seed_variation import generate_seed_variations

            frame = generate_seed_variations(seeds, spec, params.seed_variation, params.channels, seed)
        frames.append(apply_quota(frame, params.quotas.get(backend), seed))
    if not frames:
        return rows_to_frame([], Example)
    return pl.concat(frames).unique("id", keep="first", maintain_order=True).sort("id")

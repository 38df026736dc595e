"""Seed-based variation: real seeds re-rendered through channel wrappers, keyboard noise and added context."""

from __future__ import annotations

import random

import polars as pl

from synthkit.config import GenerateParams
from synthkit.generators.noise import make_messy
from synthkit.generators.template import template_hash
from synthkit.progress import progress
from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.spec import Spec

OPERATIONS = ("channel", "messy", "context")


def vary_seed(seed_row: dict, op: str, spec: Spec, params: GenerateParams, rng: random.Random) -> Example:
    """One variant of a real seed; its scenario is the seed's group, its parent the seed."""
    text, family, channel, recipe = seed_row["text"], "typical", seed_row["channel"], op
    if op == "messy":
        text, family = make_messy(text, params.typo_rate, rng), "messy"
    elif op == "context" and spec.context:
        text, family = f"{rng.choice(spec.context)} {text} {rng.choice(spec.context)}", "long"
    else:
        options = [c for c in params.channels if c in spec.channels and c != "ticket_subject"] or ["chat"]
        channel = rng.choice(options)
        wrapper = rng.choice([w for w in spec.channels.get(channel, ["{body}"]) if "{body}" in w] or ["{body}"])
        text, recipe = wrapper.replace("{short}", "").replace("{body}", text).strip(), wrapper
    if channel not in spec.channels and channel != "chat":
        channel = "chat"
    ex_id = content_id("synthetic", seed_row["label"], seed_row["scenario_id"], family, channel, text)
    return Example(
        id=ex_id, text=text, label=seed_row["label"], source="synthetic", scenario_id=seed_row["scenario_id"],
        family=family, channel=channel, split="candidate", parent_ids=[seed_row["id"]],
        generator=Generator(backend="variation", model=f"seed_{op}", prompt_hash=template_hash(op, recipe)),
    )


def generate_variations(seeds: pl.DataFrame, spec: Spec, params: GenerateParams, seed: int) -> pl.DataFrame:
    """`params.variation_per_seed` variants of every training seed, sorted by id; identical variants collapse."""
    rows: dict[str, Example] = {}
    train = seeds.filter(pl.col("split") == "seed").sort("id")
    for row in progress(train.iter_rows(named=True), "variation", total=train.height, unit="seeds"):
        rng = random.Random(f"{seed}:{row['id']}")
        if row["channel"] not in spec.channels:
            row = {**row, "channel": "chat"}
        for k in range(params.variation_per_seed):
            ex = vary_seed(row, OPERATIONS[k % len(OPERATIONS)], spec, params, rng)
            if ex.text != row["text"]:
                rows.setdefault(ex.id, ex)
    return rows_to_frame(rows.values(), Example).sort("id")

"""The offline `template` backend: scenario -> utterances across families and channels -> label from the scenario."""

from __future__ import annotations

import hashlib
import random
import re

import polars as pl

from synthkit.config import GenerateParams
from synthkit.generators.noise import make_messy
from synthkit.progress import progress
from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.spec import SLOT, Scenario, Spec

# How often each family is drawn when a scenario has templates for it.
FAMILY_WEIGHTS = {"typical": 4, "short": 2, "long": 2, "messy": 3, "multilingual": 2, "ambiguous": 1, "hard_negative": 3}
_BODY_FAMILIES = {"messy": "typical"}  # messy re-uses typical templates plus noise


def template_hash(*parts: str) -> str:
    """sha256 prefix of the template text(s) a row was rendered from."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def fill(template: str, scenario: Scenario, spec: Spec, rng: random.Random) -> str:
    """Fill every {slot} with a value drawn from the scenario's slots, else the spec's."""
    return SLOT.sub(lambda m: rng.choice(scenario.slots.get(m.group(1)) or spec.slots[m.group(1)]), template)


def _families(scenario: Scenario) -> list[str]:
    fams = [f for f in FAMILY_WEIGHTS if scenario.templates.get(_BODY_FAMILIES.get(f, f))]
    if "long" not in fams:
        fams.append("long")  # long is built from typical + context sentences when no long template exists
    return fams


def _body(family: str, scenario: Scenario, spec: Spec, params: GenerateParams, rng: random.Random) -> tuple[str, str]:
    source = _BODY_FAMILIES.get(family, family)
    templates = scenario.templates.get(source) or scenario.templates["typical"]
    template = rng.choice(templates)
    text = fill(template, scenario, spec, rng)
    if family == "messy":
        text = make_messy(text, params.typo_rate, rng)
    elif family == "long" and not scenario.templates.get("long") and spec.context:
        before = rng.sample(spec.context, k=min(2, len(spec.context)))
        text = " ".join([before[0], text, *before[1:]])
    return text, template


def _wrap(channel: str, body: str, short: str, spec: Spec, rng: random.Random) -> tuple[str, str]:
    wrappers = spec.channels.get(channel) or ["{body}"]
    wrapper = rng.choice(wrappers)
    text = wrapper.replace("{short}", short).replace("{body}", body)
    return re.sub(r"[ \t]+", " ", text).strip(), wrapper


def generate_scenario(scenario: Scenario, spec: Spec, params: GenerateParams, seed: int) -> list[Example]:
    """Render `params.per_scenario` candidates for one scenario; the RNG depends only on seed and scenario id."""
    rng = random.Random(f"{seed}:{scenario.id}")
    families = _families(scenario)
    weights = [FAMILY_WEIGHTS[f] for f in families]
    channels = [c for c in params.channels if c in spec.channels] or ["chat"]
    rows: dict[str, Example] = {}
    for _ in range(params.per_scenario):
        family = rng.choices(families, weights=weights)[0]
        channel = rng.choice(channels)
        body, template = _body(family, scenario, spec, params, rng)
        short = fill(rng.choice(scenario.templates.get("short") or scenario.templates["typical"]), scenario, spec, rng)
        text, wrapper = _wrap(channel, body, short, spec, rng)
        if "{body}" not in wrapper:
            family, template = "short", wrapper
        ex_id = content_id("synthetic", scenario.label, scenario.id, family, channel, text)
        rows.setdefault(
            ex_id,
            Example(
                id=ex_id, text=text, label=scenario.label, source="synthetic", scenario_id=scenario.id,
                family=family, channel=channel, split="candidate",
                generator=Generator(backend="template", model="scenario_templates", prompt_hash=template_hash(template, wrapper)),
            ),
        )
    return list(rows.values())


def apply_family_caps(df: pl.DataFrame, caps: dict[str, int], seed: int) -> pl.DataFrame:
    """Keep at most caps[family] rows per family, chosen by a seeded hash so every scenario keeps its share."""
    if not caps or df.is_empty():
        return df
    ranked = df.with_columns(pl.col("id").hash(seed=seed).alias("_rank")).sort("_rank")
    ranked = ranked.with_columns(pl.int_range(pl.len()).over("family").alias("_n"))
    cap = pl.col("family").replace_strict(caps, default=None, return_dtype=pl.Int64)
    return ranked.filter(cap.is_null() | (pl.col("_n") < cap)).drop("_rank", "_n")


def generate_template(spec: Spec, params: GenerateParams, seed: int) -> pl.DataFrame:
    """All scenario candidates of the spec, per-family capped, sorted by id."""
    scenarios = progress(sorted(spec.scenarios, key=lambda s: s.id), "template", unit="scenarios")
    rows = [ex for sc in scenarios for ex in generate_scenario(sc, spec, params, seed)]
    df = rows_to_frame(rows, Example)
    return apply_family_caps(df, params.family_caps, seed).sort("id")

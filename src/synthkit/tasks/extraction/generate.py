"""The offline extraction generator: slot values rendered into scenario templates, so targets are right by construction.

Hard negatives add a second amount or a date that is not the transaction date.
"""

from __future__ import annotations

import random

import polars as pl

from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.tasks.base import Generated, TaskContext
from synthkit.tasks.extraction.render import render
from synthkit.tasks.extraction.section import ExtractionSpec
from synthkit.tasks.extraction.target import canonical
from synthkit.tasks.targets import combined, seed_variations


def render_candidates(spec, params, seed: int) -> pl.DataFrame:
    """Scenario templates rendered per_scenario times with slot values; target = canonical JSON of the values used."""
    from synthkit.generators.template import FAMILY_WEIGHTS, template_hash

    ex_spec: ExtractionSpec = spec.section
    rows: dict[str, Example] = {}
    channels = [c for c in params.channels if c in spec.channels] or ["chat"]
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:{sc.id}")
        slots = {**spec.slots, **sc.slots}
        families = [f for f in FAMILY_WEIGHTS if sc.templates.get(f)]
        for _ in range(params.per_scenario):
            family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
            template = rng.choice(sc.templates[family])
            channel = rng.choice(channels)
            wrapper = rng.choice([w for w in spec.channels.get(channel, ["{body}"]) if "{body}" in w] or ["{body}"])
            body, values = render(template, slots, ex_spec, rng)
            text = wrapper.replace("{body}", body).strip()
            target = canonical(values)
            ex_id = content_id("synthetic", sc.label, sc.id, family, channel, text, target)
            rows.setdefault(ex_id, Example(
                id=ex_id, text=text, label=sc.label, target=target, source="synthetic", scenario_id=sc.id, family=family,
                channel=channel, split="candidate",
                generator=Generator(backend="template", model="extraction_templates", prompt_hash=template_hash(template, wrapper)),
            ))
    return rows_to_frame(rows.values(), Example)


def generate(ctx: TaskContext, seeds: pl.DataFrame, unlabeled: pl.DataFrame | None, decisions) -> Generated:
    """The generate step: rendered candidates (or the openai backend's) plus seed variations that keep their target."""
    if ctx.params.generate.backend == "openai":
        from synthkit.tasks.extraction.llm import generate_llm

        out = generate_llm(ctx)
    else:
        out = Generated(render_candidates(ctx.spec, ctx.params.generate, ctx.params.seed))
    out.candidates = combined([out.candidates, seed_variations(seeds, ctx)])
    return out

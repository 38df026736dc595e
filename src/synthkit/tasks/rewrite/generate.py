"""The offline rewrite generator: canonical targets from slot values, sources derived from them by deterministic
variants (lower-casing, abbreviations, dropped commas, squashed postcodes), so targets are right by construction.
"""

from __future__ import annotations

import random
import re

import polars as pl

from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.tasks.base import Generated, TaskContext
from synthkit.tasks.rewrite.gate import POSTCODE
from synthkit.tasks.rewrite.section import RewriteSpec
from synthkit.tasks.targets import combined, seed_variations


def apply_op(op: str, s: str, spec: RewriteSpec, rng: random.Random) -> str:
    """One deterministic source variant of a canonical text."""
    if op == "lower":
        return s.lower()
    if op == "upper":
        return s.upper()
    if op == "abbreviate":
        for abbr, full in sorted(spec.expansions.items()):
            form = rng.choice([abbr, abbr.capitalize(), abbr + "."])
            s = re.sub(rf"\b{re.escape(full)}\b", form, s)
        return s
    if op == "drop_commas":
        return s.replace(",", "")
    if op == "squash_postcode":
        return POSTCODE.sub(r"\1\2", s)
    if op == "extra_spaces":
        return s.replace(" ", "  ", 1)
    if op == "trailing_period":
        return s + "."
    raise ValueError(op)


def render_candidates(spec, params, seed: int) -> pl.DataFrame:
    """Canonical targets from the scenario templates; sources are variants (typical: 2 ops, messy: 3-4, hard_negative: none)."""
    from synthkit.generators.template import fill, template_hash

    rw: RewriteSpec = spec.section
    rows: dict[str, Example] = {}
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:{sc.id}")
        for _ in range(params.per_scenario):
            family = rng.choices(["typical", "messy", "hard_negative"], weights=[5, 3, 1])[0]
            template = rng.choice(sc.templates["typical"])
            target = re.sub(r"[ \t]+", " ", fill(template, sc, spec, rng)).strip()
            k = {"typical": 2, "messy": rng.choice([3, 4]), "hard_negative": 0}[family]
            ops = sorted(rng.sample(rw.source_ops, k=min(k, len(rw.source_ops))), key=rw.source_ops.index)
            text = target
            for op in ops:
                text = apply_op(op, text, rw, rng)
            ex_id = content_id("synthetic", sc.label, sc.id, family, text, target)
            rows.setdefault(ex_id, Example(
                id=ex_id, text=text, label=sc.label, target=target, source="synthetic", scenario_id=sc.id, family=family,
                channel="pasted_notes", split="candidate",
                generator=Generator(backend="template", model="rewrite_variants", prompt_hash=template_hash(template, *ops)),
            ))
    return rows_to_frame(rows.values(), Example)


def generate(ctx: TaskContext, seeds: pl.DataFrame, unlabeled: pl.DataFrame | None, decisions) -> Generated:
    """The generate step: rendered candidates (or the openai backend's) plus seed variations that keep their target."""
    if ctx.params.generate.backend == "openai":
        from synthkit.tasks.rewrite.llm import generate_llm

        out = generate_llm(ctx)
    else:
        out = Generated(render_candidates(ctx.spec, ctx.params.generate, ctx.params.seed))
    out.candidates = combined([out.candidates, seed_variations(seeds, ctx)])
    return out

"""The `openai` generate backend for rewrite: a canonical target is filled from the scenario templates and the model
writes a messy, typed variant of it; the rewrite gate verifies the pair."""

from __future__ import annotations

import random
import re

from synthkit.llm.answers import Answer
from synthkit.llm.asks import Ask, Asker
from synthkit.llm.run import require_llm_rows
from synthkit.prompts import Prompt, chain_hash, load_prompt
from synthkit.tasks.base import Generated, TaskContext

REWRITE_STYLE = {
    "typical": "a little untidy: for example lowercase or an abbreviated street type, or missing commas",
    "messy": "very untidy: several of lowercase or uppercase, abbreviations, missing commas, squashed postcode, extra spaces, a trailing period",
}
PROMPTS = {"source": {"task_description", "form", "target", "family_instruction"}}


def load_prompts(prompts_dir) -> dict[str, Prompt]:
    """The type's templates, loaded and variable-checked (an error names the file)."""
    return {name: load_prompt(prompts_dir, "rewrite", name, variables) for name, variables in PROMPTS.items()}


class SourceAnswer(Answer):
    """The answer to rewrite/source.md."""

    source: str


def generate_llm(ctx: TaskContext) -> Generated:
    """Candidates (generator.backend openai) and generate rejects: one untidy source per canonical target."""
    from synthkit.generators.template import fill

    spec, gen = ctx.spec, ctx.params.generate
    prompt = load_prompts(ctx.prompts_dir)["source"]
    asks = []
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{ctx.params.seed}:llm:{sc.id}")
        for i in range(gen.per_scenario):
            family = rng.choices(["typical", "messy"], weights=[5, 3])[0]
            target = re.sub(r"[ \t]+", " ", fill(rng.choice(sc.templates["typical"]), sc, spec, rng)).strip()
            values = {"task_description": spec.task.description or spec.task.name, "form": spec.section.form, "target": target,
                      "family_instruction": REWRITE_STYLE[family]}
            asks.append(Ask(f"rewrite:{sc.id}:{i}", prompt.messages(values), SourceAnswer, sc.label, sc.id, family, "pasted_notes",
                            chain_hash(prompt), target=target))
    asker = Asker(ctx.params.llm, ctx.llm_cache, seed=ctx.params.seed, max_tokens=gen.max_tokens, progress=ctx.progress, ledger=ctx.ledger)
    for ask, res, obj in asker.answers(asks, "generate rewrite"):
        text = obj.source.strip()
        if not text:
            asker.reject(ask, res, "empty_text", "the answer is empty")
        else:
            asker.add(ask, res, text, (ask.label, ask.scenario_id, ask.family, ask.channel, text, ask.target))
    candidates, rejects = asker.take_candidates(), asker.rejects_frame()
    require_llm_rows(candidates, rejects, asker.ledger, ctx.params.llm)
    return Generated(candidates, rejects, asker.ledger, asker.not_run, {"rewrite/source.md": prompt.sha256})

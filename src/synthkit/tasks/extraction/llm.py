"""The `openai` generate backend for extraction: the target is fixed before the request, the model writes around it.

Slot values are sampled by the offline renderer and the model writes a message stating them (hard negatives keep the
draft's distractor value); the target is the canonical JSON of the sampled values and the evidence gate verifies
the message states them.
"""

from __future__ import annotations

import random

from synthkit.llm.answers import Answer
from synthkit.llm.asks import Ask, Asker
from synthkit.llm.run import require_llm_rows
from synthkit.prompts import CHANNEL_STYLE, Prompt, chain_hash, load_prompt
from synthkit.tasks.base import Generated, TaskContext

FAMILY_STYLE = {
    "typical": "an ordinary, clear message as most customers write it",
    "short": "short: one or two sentences",
    "long": "long: a few sentences of context around the values",
    "messy": "messy: typos, lowercase, missing punctuation, abbreviations",
    "hard_negative": "an ordinary message that also mentions the distractor value from the draft",
}
PROMPTS = {"message": {"task_description", "fields", "values", "distractor_instruction", "draft", "family_instruction", "channel_instruction"}}


def load_prompts(prompts_dir) -> dict[str, Prompt]:
    """The type's templates, loaded and variable-checked (an error names the file)."""
    return {name: load_prompt(prompts_dir, "extraction", name, variables) for name, variables in PROMPTS.items()}


class MessageAnswer(Answer):
    """The answer to extraction/message.md."""

    message: str


def generate_llm(ctx: TaskContext) -> Generated:
    """Candidates (generator.backend openai) and generate rejects: one message per sampled set of values."""
    from synthkit.generators.template import FAMILY_WEIGHTS
    from synthkit.tasks.extraction.render import render
    from synthkit.tasks.extraction.target import canonical

    spec, gen = ctx.spec, ctx.params.generate
    ex = spec.section
    prompt = load_prompts(ctx.prompts_dir)["message"]
    fields = "\n".join(f"- {n} ({f.type}{', one of ' + ', '.join(f.enum) if f.enum else ''}): {f.description}".rstrip(": ")
                       for n, f in sorted(ex.fields.items()))
    channels = [c for c in gen.channels if c in spec.channels and c in CHANNEL_STYLE] or ["chat"]
    asks = []
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{ctx.params.seed}:llm:{sc.id}")
        slots = {**spec.slots, **sc.slots}
        families = [f for f in FAMILY_WEIGHTS if sc.templates.get(f) and f in FAMILY_STYLE]
        for i in range(gen.per_scenario):
            family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
            draft, values = render(rng.choice(sc.templates[family]), slots, ex, rng)
            channel = rng.choice(channels)
            target = canonical(values)
            hn = ("The draft also mentions another value of the same kind (for example a second amount or another date) that is NOT one of the "
                  "values above; mention it too, clearly as something other than these values.") if family == "hard_negative" else "Mention no other amount or date."
            values = {"task_description": spec.task.description or spec.task.name, "fields": fields, "values": target, "distractor_instruction": hn,
                      "draft": draft, "family_instruction": FAMILY_STYLE[family], "channel_instruction": CHANNEL_STYLE[channel]}
            asks.append(Ask(f"extraction:{sc.id}:{i}", prompt.messages(values), MessageAnswer, sc.label, sc.id, family, channel,
                            chain_hash(prompt), target=target))
    asker = Asker(ctx.params.llm, ctx.llm_cache, seed=ctx.params.seed, max_tokens=gen.max_tokens, progress=ctx.progress, ledger=ctx.ledger)
    for ask, res, obj in asker.answers(asks, "generate extraction"):
        text = obj.message.strip()
        if not text:
            asker.reject(ask, res, "empty_text", "the answer is empty")
        else:
            asker.add(ask, res, text, (ask.label, ask.scenario_id, ask.family, ask.channel, text, ask.target))
    candidates, rejects = asker.take_candidates(), asker.rejects_frame()
    require_llm_rows(candidates, rejects, asker.ledger, ctx.params.llm)
    return Generated(candidates, rejects, asker.ledger, asker.not_run, {"extraction/message.md": prompt.sha256})

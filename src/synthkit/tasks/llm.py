"""The `openai` generate backend for extraction, rewrite and summarization.

Targets stay mechanically checkable: the target is fixed before the request and the model only writes around it.
Extraction: slot values are sampled by the offline sampler (synthkit.tasks.extraction.render) and the model writes a
message stating them (hard negatives keep the distractor value of the draft); the target is the canonical JSON of
the sampled values and the evidence gate verifies the message states them. Rewrite: a canonical target is filled from
the scenario templates and the model writes a messy typed variant; the rewrite gate verifies. Summarization: the
model summarizes a sentence window of a document and writes QA pairs with verbatim answers; the grounding gate verifies.

Requests are deterministic (stable custom_id and seed) and go through synthkit.llm.run_requests with the stage's
response cache, so a rerun sends nothing. Every answer ends as candidates or as a generate reject with a reason.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import BaseModel

from synthkit.cost import CostLedger
from synthkit.generators.llm import CHANNEL_STYLE, GATE, _Out, parse_result, request_seed
from synthkit.prompts import Prompt, chain_hash, load_prompt
from synthkit.schemas import Example, Generator, Reject, content_id, rows_to_frame

FAMILY_STYLE = {
    "typical": "an ordinary, clear message as most customers write it",
    "short": "short: one or two sentences",
    "long": "long: a few sentences of context around the values",
    "messy": "messy: typos, lowercase, missing punctuation, abbreviations",
    "hard_negative": "an ordinary message that also mentions the distractor value from the draft",
}
REWRITE_STYLE = {
    "typical": "a little untidy: for example lowercase or an abbreviated street type, or missing commas",
    "messy": "very untidy: several of lowercase or uppercase, abbreviations, missing commas, squashed postcode, extra spaces, a trailing period",
}


class MessageAnswer(_Out):
    """The answer to extraction/message.md."""

    message: str


class SourceAnswer(_Out):
    """The answer to rewrite/source.md."""

    source: str


class SummaryAnswer(_Out):
    """The answer to summarization/summary.md."""

    summary: str


class QAPair(_Out):
    question: str
    answer: str


class QAAnswer(_Out):
    """The answer to summarization/qa.md."""

    pairs: list[QAPair]


@dataclass
class TaskGenerated:
    candidates: pl.DataFrame
    rejects: pl.DataFrame
    ledger: CostLedger
    not_run: int
    prompts: dict[str, str]


@dataclass
class _Ask:
    custom_id: str
    prompt: Prompt
    answer: type[BaseModel]
    values: dict
    label: str
    scenario_id: str
    family: str
    channel: str
    target: str | None = None  # fixed before the request (extraction, rewrite)
    parents: tuple[str, ...] = ()


def load_task_prompts(prompts_dir: str | Path, task_type: str) -> dict[str, Prompt]:
    """The type's templates, loaded and variable-checked (an error names the file)."""
    common = {"task_description"}
    if task_type == "extraction":
        names = {"message": common | {"fields", "values", "distractor_instruction", "draft", "family_instruction", "channel_instruction"}}
    elif task_type == "rewrite":
        names = {"source": common | {"form", "target", "family_instruction"}}
    else:
        names = {"summary": common | {"max_sentences", "passage"}, "qa": common | {"count", "document"}}
    return {name: load_prompt(prompts_dir, task_type, name, variables) for name, variables in names.items()}


def _extraction_asks(spec, gen, seed: int, prompts: dict[str, Prompt]) -> list[_Ask]:
    from synthkit.generators.template import FAMILY_WEIGHTS
    from synthkit.tasks.extraction import canonical, render

    ex = spec.extraction
    fields = "\n".join(f"- {n} ({f.type}{', one of ' + ', '.join(f.enum) if f.enum else ''}): {f.description}".rstrip(": ")
                       for n, f in sorted(ex.fields.items()))
    channels = [c for c in gen.channels if c in spec.channels and c in CHANNEL_STYLE] or ["chat"]
    asks = []
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:llm:{sc.id}")
        slots = {**spec.slots, **sc.slots}
        families = [f for f in FAMILY_WEIGHTS if sc.templates.get(f) and f in FAMILY_STYLE]
        for i in range(gen.per_scenario):
            family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
            draft, values = render(rng.choice(sc.templates[family]), slots, ex, rng)
            channel = rng.choice(channels)
            target = canonical(values)
            hn = ("The draft also mentions another value of the same kind (for example a second amount or another date) that is NOT one of the "
                  "values above; mention it too, clearly as something other than these values.") if family == "hard_negative" else "Mention no other amount or date."
            asks.append(_Ask(
                f"extraction:{sc.id}:{i}", prompts["message"], MessageAnswer,
                {"task_description": spec.task.description or spec.task.name, "fields": fields, "values": target, "distractor_instruction": hn,
                 "draft": draft, "family_instruction": FAMILY_STYLE[family], "channel_instruction": CHANNEL_STYLE[channel]},
                sc.label, sc.id, family, channel, target,
            ))
    return asks


def _rewrite_asks(spec, gen, seed: int, prompts: dict[str, Prompt]) -> list[_Ask]:
    from synthkit.generators.template import fill

    asks = []
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:llm:{sc.id}")
        for i in range(gen.per_scenario):
            family = rng.choices(["typical", "messy"], weights=[5, 3])[0]
            target = re.sub(r"[ \t]+", " ", fill(rng.choice(sc.templates["typical"]), sc, spec, rng)).strip()
            asks.append(_Ask(
                f"rewrite:{sc.id}:{i}", prompts["source"], SourceAnswer,
                {"task_description": spec.task.description or spec.task.name, "form": spec.rewrite.form, "target": target,
                 "family_instruction": REWRITE_STYLE[family]},
                sc.label, sc.id, family, "pasted_notes", target,
            ))
    return asks


def _summarization_asks(spec, gen, seed: int, prompts: dict[str, Prompt], docs: dict[str, str]) -> list[_Ask]:
    from synthkit.tasks.summarization import sentences

    sm = spec.summarization
    task = spec.task.description or spec.task.name
    sizes = sorted(set(sm.window_sentences))
    asks = []
    for doc_id, doc in sorted(docs.items()):
        rng = random.Random(f"{seed}:llm:{doc_id}")
        sents = sentences(doc)
        windows = [(w, i) for w in sizes for i in range(max(0, len(sents) - w + 1))]
        n_summaries = max(1, gen.per_scenario // 2)
        for w, i in sorted(rng.sample(windows, min(n_summaries, len(windows)))):
            family = "short" if w == sizes[0] and len(sizes) > 1 else "long" if w == sizes[-1] and len(sizes) > 1 else "typical"
            passage = " ".join(sents[i : i + w])
            asks.append(_Ask(f"summarization:{doc_id}:summary:{w}:{i}", prompts["summary"], SummaryAnswer,
                             {"task_description": task, "max_sentences": min(sm.summary_sentences, max(1, w - 1)), "passage": passage},
                             sm.summary_label, doc_id, family, "pasted_notes"))
        asks.append(_Ask(f"summarization:{doc_id}:qa", prompts["qa"], QAAnswer,
                         {"task_description": task, "count": max(1, gen.per_scenario - n_summaries), "document": doc},
                         sm.qa_label, doc_id, "typical", "chat"))
    return asks


def generate_task_llm(spec, params, docs: dict[str, str] | None, *, prompts_dir: str | Path, cache_dir: str | Path,
                      progress: bool = True) -> TaskGenerated:
    """Candidates (Example rows, generator.backend openai) and generate rejects of a non-classification task."""
    from synthkit.llm import LLMRequest, run_requests

    kind, gen, llm = spec.task.type, params.generate, params.llm
    prompts = load_task_prompts(prompts_dir, kind)
    if kind == "extraction":
        asks = _extraction_asks(spec, gen, params.seed, prompts)
    elif kind == "rewrite":
        asks = _rewrite_asks(spec, gen, params.seed, prompts)
    else:
        asks = _summarization_asks(spec, gen, params.seed, prompts, docs or {})
    requests = [
        LLMRequest(custom_id=a.custom_id, messages=a.prompt.messages(a.values), schema=a.answer.model_json_schema(),
                   schema_name=a.answer.__name__, max_tokens=gen.max_tokens, seed=request_seed(params.seed, a.custom_id))
        for a in asks
    ]
    ledger = CostLedger()
    results, stats = run_requests(requests, llm, cache_dir, label=f"generate {kind}", progress=progress)
    ledger.add(results, stats)

    rows: dict[str, dict] = {}
    rejects: list[dict] = []
    not_run = 0
    temperature = llm.temperature

    def generator(result, ask: _Ask) -> Generator:
        return Generator(backend="openai", model=result.model, temperature=temperature, prompt_hash=chain_hash(ask.prompt))

    def reject(ask: _Ask, result, failure: str, detail: str, text: str = "", target: str | None = None) -> None:
        rejects.append({
            "id": content_id("generate_reject", ask.custom_id, failure, str(len(rejects))), "text": text, "label": ask.label,
            "target": target, "source": "synthetic", "scenario_id": ask.scenario_id, "family": ask.family, "channel": ask.channel,
            "split": "candidate", "slices": [], "generator": generator(result, ask).model_dump(), "parent_ids": list(ask.parents),
            "confidence": None, "round": 1, "review": None, "weight": 1.0,
            "gate": GATE, "reason": f"{GATE}_{failure}", "detail": f"{ask.custom_id}: {detail}".strip(),
        })

    def add(ask: _Ask, result, text: str, target: str, family: str | None = None) -> None:
        family = family or ask.family
        ex_id = content_id("synthetic", ask.label, ask.scenario_id, family, ask.channel, text, target)
        rows.setdefault(ex_id, Example(
            id=ex_id, text=text, label=ask.label, target=target, source="synthetic", scenario_id=ask.scenario_id, family=family,
            channel=ask.channel, split="candidate", generator=generator(result, ask), parent_ids=list(ask.parents), round=1,
        ).model_dump())

    for ask, res in zip(asks, results):
        obj, failure, detail = parse_result(res, ask.answer)
        if failure == "budget_exhausted":
            not_run += 1
            continue
        if failure:
            reject(ask, res, failure, detail, text=res.text or "", target=ask.target)
            continue
        if isinstance(obj, MessageAnswer | SourceAnswer):
            text = (obj.message if isinstance(obj, MessageAnswer) else obj.source).strip()
            if not text:
                reject(ask, res, "empty_text", "the answer is empty", target=ask.target)
            else:
                add(ask, res, text, ask.target)
        elif isinstance(obj, SummaryAnswer):
            summary = obj.summary.strip()
            if not summary:
                reject(ask, res, "empty_text", "the summary is empty", text=ask.values["passage"])
            else:
                add(ask, res, ask.values["passage"], summary)
        else:
            if not obj.pairs:
                reject(ask, res, "empty_text", "no question in the answer", text=res.text or "")
            for i, pair in enumerate(obj.pairs):
                question, answer = pair.question.strip(), pair.answer.strip()
                if not question or not answer:
                    reject(ask, res, "empty_text", f"pair {i} has an empty question or answer", text=question or json.dumps(pair.model_dump()))
                else:
                    add(ask, res, question, answer)
    return TaskGenerated(rows_to_frame(rows.values(), Example).sort("id"), rows_to_frame(rejects, Reject).sort("id"), ledger, not_run,
                         {f"{kind}/{p.name}.md": p.sha256 for p in prompts.values()})

"""The `openai` generate backend for classification: scenarios per label (and hard negatives) -> label from the rules
-> utterances per scenario, family and channel, through any OpenAI-compatible server with structured outputs.

Every request is built deterministically (stable custom_id and seed), so a rerun hits the cache. Every answer ends as
candidates or as a generate reject with a reason; requests the budget stopped are counted as not_run, with those
their answers would have led to. Utterance requests are planned within generate.family_caps, and each row keeps the
scenario text and the label's rationale it was paid for (provenance).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from synthkit.config import GenerateParams, LlmParams
from synthkit.cost import CostLedger
from synthkit.llm.answers import Answer, LabelChoice, label_choice_schema, list_schema
from synthkit.llm.asks import Ask, Asker
from synthkit.prompts import (
    CHANNEL_STYLE,
    Prompt,
    chain_hash,
    label_text,
    labels_text,
    load_label_block,
    load_prompt,
)
from synthkit.spec import Spec

SCENARIO_FAMILIES = ("typical", "short", "long", "messy", "multilingual", "ambiguous")
FAMILY_STYLE = {
    "typical": "an ordinary, clear message as most customers write it",
    "short": "very short: a few words up to one sentence",
    "long": "long: several sentences of background and context before the actual request",
    "messy": "messy: typos, missing punctuation, lowercase, abbreviations, run-on sentences, maybe two topics mixed",
    "multilingual": "written in a language other than English (for example Spanish, German, French, Portuguese) or mixing one with English",
    "ambiguous": "ambiguous at first sight: mentions cues of a neighbouring label, but the rules still give this label",
    "hard_negative": "uses the words and cues of the confusable label named in the scenario, but the rules give this label",
}

class ScenarioItem(Answer):
    description: str


class ScenarioList(Answer):
    """The answer to scenarios.md and hard_negatives.md."""

    scenarios: list[ScenarioItem]


class UtteranceList(Answer):
    """The answer to utterances.md."""

    utterances: list[str]


def _bullets(texts: list[str]) -> str:
    return "\n".join(f"- {t}".replace("\n", " ") for t in texts) or "(none)"


@dataclass
class Prompts:
    """The generator's templates, loaded and checked once."""

    labels: Prompt
    scenarios: Prompt
    hard_negatives: Prompt
    label: Prompt
    utterances: Prompt

    @classmethod
    def load(cls, prompts_dir: str | Path, task_type: str) -> "Prompts":
        common = {"task_description", "labels"}
        return cls(
            labels=load_label_block(prompts_dir, task_type),
            scenarios=load_prompt(prompts_dir, task_type, "scenarios", common | {"count", "label", "examples"}),
            hard_negatives=load_prompt(prompts_dir, task_type, "hard_negatives", common | {"count", "label", "near_miss"}),
            label=load_prompt(prompts_dir, task_type, "label", common | {"label_names", "scenario"}),
            utterances=load_prompt(
                prompts_dir, task_type, "utterances",
                {"task_description", "label", "label_block", "scenario", "count", "family", "family_instruction", "channel", "channel_instruction", "examples"},
            ),
        )

    def hashes(self) -> dict[str, str]:
        return {p.name: p.sha256 for p in (self.labels, self.scenarios, self.hard_negatives, self.label, self.utterances)}


@dataclass
class _Scenario:
    id: str
    intended: str
    kind: str  # "scenario" | "hard_negative"
    description: str
    source: Prompt
    label: str | None = None
    parent_ids: list[str] = field(default_factory=list)
    rationale: str | None = None  # the rule the labelling answer quoted
    paid: tuple | None = None  # (ask, result) of the answer it came in


@dataclass
class GenerateResult:
    candidates: pl.DataFrame
    rejects: pl.DataFrame
    not_run: int
    prompts: dict[str, str]


def _examples(seeds: pl.DataFrame, label: str, k: int, seed: int) -> tuple[list[str], list[str]]:
    """Up to k seed texts of a label (seeded choice) and their ids: tone examples and the rows' parents."""
    if k == 0 or seeds.is_empty():
        return [], []
    pool = seeds.filter((pl.col("split") == "seed") & (pl.col("label") == label)).select("id", "text")
    pool = pool.with_columns(pl.col("id").hash(seed=seed).alias("_h")).sort("_h", "id").head(k).sort("id")
    return pool["text"].to_list(), pool["id"].to_list()


def _options(kind: str, gen: GenerateParams) -> list[tuple[str, str]]:
    """The family x channel combinations a scenario of this kind may be written in."""
    families = ["hard_negative"] if kind == "hard_negative" else list(SCENARIO_FAMILIES)
    return [(f, c) for f in families for c in ([c for c in gen.channels if c in CHANNEL_STYLE] or ["chat"])]


def _request_counts(gen: GenerateParams) -> list[int]:
    """Messages asked per request of one scenario: per_scenario in all, utterances_per_request at most each."""
    per_request = min(gen.utterances_per_request, gen.per_scenario)
    n = math.ceil(gen.per_scenario / per_request)
    return [per_request] * (n - 1) + [gen.per_scenario - per_request * (n - 1)]


def requests_per_scenario(kind: str, gen: GenerateParams) -> int:
    """Message requests one scenario of this kind leads to (before family caps)."""
    return min(len(_options(kind, gen)), len(_request_counts(gen)))


def utterance_plan(scenarios: list[_Scenario], gen: GenerateParams, seed: int, caps: dict[str, int] | None) -> list[tuple[_Scenario, str, str, int]]:
    """(scenario, family, channel, count) of every utterance request: per_scenario messages per scenario over a seeded
    subset of its family x channel combinations, taken round-robin across scenarios so that each family's remaining
    room under generate.family_caps (caps) is shared between labels; nothing is asked beyond that room."""
    combos = {}
    for sc in scenarios:
        options = _options(sc.kind, gen)
        random.Random(f"{seed}:{sc.id}").shuffle(options)
        combos[sc.id] = [(*fc, k) for fc, k in zip(options, _request_counts(gen))]
    room = dict(caps) if caps is not None else {}
    plan = []
    for i in range(max((len(v) for v in combos.values()), default=0)):
        for sc in scenarios:
            if i >= len(combos[sc.id]):
                continue
            family, channel, count = combos[sc.id][i]
            if family in room:
                count = min(count, room[family])
                room[family] -= count
            if count > 0:
                plan.append((sc, family, channel, count))
    return plan


def generate_llm(
    spec: Spec, seeds: pl.DataFrame, gen: GenerateParams, llm: LlmParams, seed: int, *,
    prompts_dir: str | Path, cache_dir: str | Path, ledger: CostLedger, caps: dict[str, int] | None = None, round_no: int = 1,
    progress: bool = True,
) -> GenerateResult:
    """One round of LLM generation: candidates (Example rows, within caps) and generate rejects (Reject rows).

    caps: family -> rows it may still take (generate.family_caps less earlier rounds'); requests are planned within it
    and decremented by the rows kept; an answer's row beyond it is a generate_family_cap reject.
    """
    prompts = Prompts.load(prompts_dir, spec.task.type)
    asker = Asker(llm, cache_dir, seed=seed, max_tokens=gen.max_tokens, progress=progress, ledger=ledger, caps=caps)
    examples = {lab: _examples(seeds, lab, gen.examples_per_prompt, seed) for lab in spec.label_names}
    common = {"task_description": spec.task.description or spec.task.name, "labels": labels_text(spec, prompts.labels)}

    def room(families) -> bool:  # may any of these families take another row?
        return caps is None or any(caps.get(f, 1) > 0 for f in families)

    # 1. scenarios per label, and hard negatives per label (none for families without room)
    asks: list[Ask] = []
    for lab in spec.labels:
        if room(SCENARIO_FAMILIES):
            n = gen.scenarios_per_label
            values = {**common, "count": n, "label": lab.name, "examples": _bullets(examples[lab.name][0])}
            asks.append(Ask(f"r{round_no}:scenarios:{lab.name}", prompts.scenarios.messages(values), ScenarioList, lab.name,
                            f"llm{round_no}_{lab.name}_scenario", "scenario", "", chain_hash(prompts.scenarios), round=round_no,
                            context=("scenario", prompts.scenarios), schema=list_schema(ScenarioList, "scenarios", n),
                            downstream=n * (1 + requests_per_scenario("scenario", gen))))
        if gen.hard_negatives_per_label and lab.near_miss and room(["hard_negative"]):
            n = gen.hard_negatives_per_label
            values = {**common, "count": n, "label": lab.name, "near_miss": " or ".join(f"`{m}`" for m in lab.near_miss)}
            asks.append(Ask(f"r{round_no}:hard_negatives:{lab.name}", prompts.hard_negatives.messages(values), ScenarioList, lab.name,
                            f"llm{round_no}_{lab.name}_hard_negative", "scenario", "", chain_hash(prompts.hard_negatives), round=round_no,
                            context=("hard_negative", prompts.hard_negatives), schema=list_schema(ScenarioList, "scenarios", n),
                            downstream=n * (1 + requests_per_scenario("hard_negative", gen))))
    scenarios: list[_Scenario] = []
    for ask, res, obj in asker.answers(asks, "generate scenarios"):
        kind, prompt = ask.context
        if not any(s.description.strip() for s in obj.scenarios):
            asker.reject(ask, res, "empty_text", "no scenario in the answer", text=res.text or "")
            continue
        tag = "s" if kind == "scenario" else "hn"
        for i, item in enumerate(obj.scenarios):
            sid = f"llm{round_no}_{ask.label}_{tag}{i}"
            if not item.description.strip():
                asker.reject(ask, res, "empty_text", f"scenario {i} is empty", scenario_id=sid)
                continue
            scenarios.append(_Scenario(sid, ask.label, kind, item.description.strip(), prompt,
                                       parent_ids=examples[ask.label][1] if kind == "scenario" else [], paid=(ask, res)))
    # a scenario the families' room leaves no utterance request for is not labelled: a generate_family_cap reject
    planned: dict[str, int] = {}
    for sc, *_ in utterance_plan(scenarios, gen, seed, caps):
        planned[sc.id] = planned.get(sc.id, 0) + 1
    for sc in scenarios:
        if sc.id not in planned:
            asker.reject(*sc.paid, "family_cap", "no room left under generate.family_caps for this scenario's families",
                         text=sc.description, scenario_id=sc.id, provenance={"scenario": sc.description, "rationale": None})
    scenarios = [sc for sc in scenarios if sc.id in planned]

    # 2. the label each scenario gets from the rules (at llm.label_temperature; the schema's enum is the spec's labels)
    label_schema = label_choice_schema(spec.label_names)
    label_asks = [
        Ask(f"r{round_no}:label:{sc.id}", prompts.label.messages({**common, "label_names": ", ".join(spec.label_names), "scenario": sc.description}),
            LabelChoice, sc.intended, sc.id, "scenario", "", chain_hash(sc.source, prompts.label), parent_ids=sc.parent_ids, round=round_no,
            context=sc, schema=label_schema, temperature=llm.label_temperature, provenance={"scenario": sc.description, "rationale": None},
            downstream=planned[sc.id])
        for sc in scenarios
    ]
    labeled: list[_Scenario] = []
    for ask, res, obj in asker.answers(label_asks, "generate labels"):
        sc = ask.context
        if obj.label.strip() not in spec.label_names:
            asker.reject(ask, res, "unknown_label", f"label {obj.label!r} is not in the spec", text=sc.description,
                         provenance={"scenario": sc.description, "rationale": obj.rule.strip() or None})
        else:
            sc.label, sc.rationale = obj.label.strip(), obj.rule.strip() or None
            labeled.append(sc)

    # 3. utterances per scenario x family x channel, planned within the families' room
    utterance_asks: list[Ask] = []
    for sc, family, channel, count in utterance_plan(labeled, gen, seed, caps):
        ex_texts, ex_ids = examples[sc.label]
        values = {
            "task_description": common["task_description"], "label": sc.label, "label_block": label_text(spec, sc.label, prompts.labels),
            "scenario": sc.description, "count": count, "family": family, "family_instruction": FAMILY_STYLE[family],
            "channel": channel, "channel_instruction": CHANNEL_STYLE[channel], "examples": _bullets(ex_texts),
        }
        utterance_asks.append(Ask(
            f"r{round_no}:utterances:{sc.id}:{family}:{channel}", prompts.utterances.messages(values), UtteranceList, sc.label, sc.id,
            family, channel, chain_hash(sc.source, prompts.label, prompts.utterances),
            parent_ids=ex_ids if sc.kind == "scenario" else [], round=round_no,
            schema=list_schema(UtteranceList, "utterances", count), provenance={"scenario": sc.description, "rationale": sc.rationale},
        ))
    for ask, res, obj in asker.answers(utterance_asks, "generate utterances"):
        texts = [t.strip() for t in obj.utterances]
        if not texts:
            asker.reject(ask, res, "empty_text", "no utterance in the answer", text=res.text or "")
        for i, text in enumerate(texts):
            if not text:
                asker.reject(ask, res, "empty_text", f"utterance {i} is empty")
                continue
            asker.add(ask, res, text, (ask.label, ask.scenario_id, ask.family, ask.channel, text))
    return GenerateResult(asker.take_candidates(), asker.rejects_frame(), asker.not_run, prompts.hashes())

"""The `openai` backend: scenarios per label (and hard negatives) -> label from the rules -> utterances per scenario,
family and channel, through any OpenAI-compatible server with structured outputs and a persistent response cache.

Every request is built deterministically (stable custom_id and seed), so a rerun hits the cache. Every answer ends
as candidates or as a generate reject with a reason; requests the budget stopped are counted as not_run.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from synthkit.config import GenerateParams, LlmParams
from synthkit.cost import CostLedger
from synthkit.generators.template import apply_family_caps
from synthkit.prompts import Prompt, chain_hash, load_prompt
from synthkit.schemas import Example, Generator, Reject, content_id, rows_to_frame
from synthkit.spec import Spec

GATE = "generate"
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
CHANNEL_STYLE = {
    "chat": "a live-chat message",
    "email": "an email: a 'Subject:' line, then the body",
    "ticket_subject": "only the subject line of a support ticket, under 12 words",
    "call_transcript": "a phone-call transcript with 'Agent:' and 'Customer:' turns",
    "pasted_notes": "notes pasted into the ticket: fragments, bullet points, timestamps",
}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioItem(_Out):
    description: str


class ScenarioList(_Out):
    """The answer to scenarios.md and hard_negatives.md."""

    scenarios: list[ScenarioItem]


class LabelChoice(_Out):
    """The answer to label.md and relabel.md."""

    label: str
    rule: str


class UtteranceList(_Out):
    """The answer to utterances.md."""

    utterances: list[str]


def request_seed(seed: int, custom_id: str) -> int:
    """A stable per-request sampling seed derived from the global seed and the request's id."""
    return int(hashlib.sha256(f"{seed}:{custom_id}".encode()).hexdigest()[:8], 16)


def parse_result(result, model: type[BaseModel]) -> tuple[BaseModel | None, str | None, str]:
    """(object, None, "") for a valid answer, else (None, failure, detail) with failure one of
    malformed_json, schema_invalid, refused, request_failed, batch_failed, budget_exhausted."""
    if not result.ok:
        return None, result.error or "request_failed", result.detail or ""
    if not isinstance(result.data, dict):
        return None, "malformed_json", "the answer is not a JSON object"
    try:
        return model.model_validate(result.data), None, ""
    except ValidationError as exc:
        err = exc.errors()[0]
        return None, "schema_invalid", f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"


def labels_text(spec: Spec, block: Prompt) -> str:
    """Every label's definition, rules and near misses rendered through prompts/<type>/labels.md."""
    return "\n".join(label_text(spec, name, block) for name in spec.label_names)


def label_text(spec: Spec, name: str, block: Prompt) -> str:
    lab = next(lab for lab in spec.labels if lab.name == name)
    return block.render_text(
        {
            "name": lab.name, "definition": lab.definition,
            "rules": "\n".join(f"- {r}" for r in lab.rules) or "- (no extra rules)",
            "near_miss": ", ".join(lab.near_miss) or "none",
        }
    )


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
            labels=load_prompt(prompts_dir, task_type, "labels", {"name", "definition", "rules", "near_miss"}),
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


def generate_llm(
    spec: Spec, seeds: pl.DataFrame, gen: GenerateParams, llm: LlmParams, seed: int, *,
    prompts_dir: str | Path, cache_dir: str | Path, ledger: CostLedger, round_no: int = 1, progress: bool = True,
) -> GenerateResult:
    """One round of LLM generation: candidates (Example rows, family-capped) and generate rejects (Reject rows)."""
    from synthkit.llm import LLMRequest, run_requests

    prompts = Prompts.load(prompts_dir, spec.task.type)
    all_labels = labels_text(spec, prompts.labels)
    temperature = getattr(llm, "temperature", None)
    rejects: list[dict] = []
    not_run = 0

    def request(custom_id: str, messages: list[dict], schema_model: type[BaseModel]) -> LLMRequest:
        return LLMRequest(
            custom_id=custom_id, messages=messages, schema=schema_model.model_json_schema(), schema_name=schema_model.__name__,
            max_tokens=gen.max_tokens, seed=request_seed(seed, custom_id),
        )

    def run(requests: list, label: str):
        results, stats = run_requests(requests, llm, cache_dir, label=label, progress=progress)
        ledger.add(results, stats)
        return results

    def provenance(result, *chain: Prompt) -> dict:
        return Generator(backend="openai", model=result.model, temperature=temperature, prompt_hash=chain_hash(*chain)).model_dump()

    def reject(custom_id: str, result, failure: str, detail: str, *, label, scenario_id, family, channel, chain, text="", parents=()):
        rejects.append(
            {
                "id": content_id("generate_reject", custom_id, failure, str(len(rejects))), "text": text or "", "label": label,
                "target": None, "source": "synthetic", "scenario_id": scenario_id, "family": family, "channel": channel,
                "split": "candidate", "slices": [], "generator": provenance(result, *chain), "parent_ids": list(parents),
                "confidence": None, "round": round_no, "review": None, "weight": 1.0,
                "gate": GATE, "reason": f"{GATE}_{failure}", "detail": f"{custom_id}: {detail}".strip(),
            }
        )

    examples = {lab: _examples(seeds, lab, gen.examples_per_prompt, seed) for lab in spec.label_names}
    common = {"task_description": spec.task.description or spec.task.name, "labels": all_labels}

    # 1. scenarios per label, and hard negatives per label
    asks: list[tuple[str, str, Prompt, LLMRequest]] = []
    for lab in spec.labels:
        cid = f"r{round_no}:scenarios:{lab.name}"
        values = {**common, "count": gen.scenarios_per_label, "label": lab.name, "examples": _bullets(examples[lab.name][0])}
        asks.append((lab.name, "scenario", prompts.scenarios, request(cid, prompts.scenarios.messages(values), ScenarioList)))
        if gen.hard_negatives_per_label and lab.near_miss:
            cid = f"r{round_no}:hard_negatives:{lab.name}"
            values = {**common, "count": gen.hard_negatives_per_label, "label": lab.name, "near_miss": " or ".join(f"`{n}`" for n in lab.near_miss)}
            asks.append((lab.name, "hard_negative", prompts.hard_negatives, request(cid, prompts.hard_negatives.messages(values), ScenarioList)))
    scenarios: list[_Scenario] = []
    for (label, kind, prompt, req), res in zip(asks, run([a[3] for a in asks], "generate scenarios")):
        obj, failure, detail = parse_result(res, ScenarioList)
        where = {"label": label, "scenario_id": f"llm{round_no}_{label}_{kind}", "family": "scenario", "channel": "", "chain": (prompt,)}
        if failure == "budget_exhausted":
            not_run += 1
        elif failure:
            reject(req.custom_id, res, failure, detail, text=res.text or "", **where)
        elif not any(s.description.strip() for s in obj.scenarios):
            reject(req.custom_id, res, "empty_text", "no scenario in the answer", text=res.text or "", **where)
        else:
            tag = "s" if kind == "scenario" else "hn"
            for i, item in enumerate(obj.scenarios):
                sid = f"llm{round_no}_{label}_{tag}{i}"
                if not item.description.strip():
                    reject(req.custom_id, res, "empty_text", f"scenario {i} is empty", **{**where, "scenario_id": sid})
                    continue
                scenarios.append(_Scenario(sid, label, kind, item.description.strip(), prompt, parent_ids=examples[label][1] if kind == "scenario" else []))

    # 2. the label each scenario gets from the rules
    label_reqs = [
        request(f"r{round_no}:label:{sc.id}", prompts.label.messages({**common, "label_names": ", ".join(spec.label_names), "scenario": sc.description}), LabelChoice)
        for sc in scenarios
    ]
    labeled: list[_Scenario] = []
    for sc, req, res in zip(scenarios, label_reqs, run(label_reqs, "generate labels")):
        obj, failure, detail = parse_result(res, LabelChoice)
        where = {"label": sc.intended, "scenario_id": sc.id, "family": "scenario", "channel": "", "chain": (sc.source, prompts.label), "parents": sc.parent_ids}
        if failure == "budget_exhausted":
            not_run += 1
        elif failure:
            reject(req.custom_id, res, failure, detail, text=res.text or "", **where)
        elif obj.label.strip() not in spec.label_names:
            reject(req.custom_id, res, "unknown_label", f"label {obj.label!r} is not in the spec", text=sc.description, **where)
        else:
            sc.label = obj.label.strip()
            labeled.append(sc)

    # 3. utterances per scenario x family x channel (a seeded subset of the combinations, per_scenario messages in all)
    channels = [c for c in gen.channels if c in CHANNEL_STYLE] or ["chat"]
    per_request = min(gen.utterances_per_request, gen.per_scenario)
    utt: list[tuple[_Scenario, str, str, LLMRequest]] = []
    for sc in labeled:
        families = ["hard_negative"] if sc.kind == "hard_negative" else list(SCENARIO_FAMILIES)
        combos = [(f, c) for f in families for c in channels]
        random.Random(f"{seed}:{sc.id}").shuffle(combos)
        ex_texts, _ = examples[sc.label]
        for family, channel in combos[: math.ceil(gen.per_scenario / per_request)]:
            values = {
                "task_description": common["task_description"], "label": sc.label, "label_block": label_text(spec, sc.label, prompts.labels),
                "scenario": sc.description, "count": per_request, "family": family, "family_instruction": FAMILY_STYLE[family],
                "channel": channel, "channel_instruction": CHANNEL_STYLE[channel], "examples": _bullets(ex_texts),
            }
            utt.append((sc, family, channel, request(f"r{round_no}:utterances:{sc.id}:{family}:{channel}", prompts.utterances.messages(values), UtteranceList)))
    rows: dict[str, dict] = {}
    for (sc, family, channel, req), res in zip(utt, run([u[3] for u in utt], "generate utterances")):
        chain = (sc.source, prompts.label, prompts.utterances)
        parents = examples[sc.label][1] if sc.kind == "scenario" else []
        where = {"label": sc.label, "scenario_id": sc.id, "family": family, "channel": channel, "chain": chain, "parents": parents}
        obj, failure, detail = parse_result(res, UtteranceList)
        if failure == "budget_exhausted":
            not_run += 1
            continue
        if failure:
            reject(req.custom_id, res, failure, detail, text=res.text or "", **where)
            continue
        texts = [t.strip() for t in obj.utterances]
        if not texts:
            reject(req.custom_id, res, "empty_text", "no utterance in the answer", text=res.text or "", **where)
        for i, text in enumerate(texts):
            if not text:
                reject(req.custom_id, res, "empty_text", f"utterance {i} is empty", **where)
                continue
            ex_id = content_id("synthetic", sc.label, sc.id, family, channel, text)
            rows.setdefault(
                ex_id,
                Example(
                    id=ex_id, text=text, label=sc.label, source="synthetic", scenario_id=sc.id, family=family, channel=channel,
                    split="candidate", generator=Generator(**provenance(res, *chain)), parent_ids=parents, round=round_no,
                ).model_dump(),
            )
    candidates = apply_family_caps(rows_to_frame(rows.values(), Example), gen.family_caps, seed).sort("id")
    return GenerateResult(candidates, rows_to_frame(rejects, Reject).sort("id"), not_run, prompts.hashes())

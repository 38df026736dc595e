"""LLM generation as asks: structured requests whose answers become Example rows, every failure a generate reject.

Every LLM generator (each task type's openai backend) builds Asks, sends them through one Asker and turns the parsed
answers into rows; the Asker keeps what each answer became: rows, rejects with a reason, requests the budget stopped
(not_run, with the requests their answers would have led to) and their cost. Nothing paid for is dropped silently: a
row over its family's cap (generate.family_caps) or repeating another row is a reject too. Requests are deterministic
(stable custom_id and seed), so a rerun is served from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from synthkit.config import LlmParams
from synthkit.cost import CostLedger
from synthkit.llm.answers import Answer, parse_result, request_seed
from synthkit.llm.request import LLMRequest
from synthkit.llm.run import ask as ask_llm
from synthkit.schemas import Example, Generator, Reject, content_id, rows_to_frame

GATE = "generate"


@dataclass
class Ask:
    """One structured request of a generator and the provenance of the rows its answer makes."""

    custom_id: str
    messages: list[dict]
    answer: type[Answer]
    label: str
    scenario_id: str
    family: str
    channel: str
    prompt_hash: str  # chain hash of the templates the row went through
    parent_ids: list[str] = field(default_factory=list)
    target: str | None = None  # fixed before the request (extraction, rewrite)
    round: int = 1
    context: Any = None  # the caller's data for turning the answer into rows
    schema: dict | None = None  # the JSON schema sent (None: the answer model's); the answer is parsed as `answer`
    temperature: float | None = None  # None: llm.temperature
    downstream: int = 0  # requests the answer leads to: never built when the budget stops this one (counted as not_run)
    provenance: dict | None = None  # synthkit.schemas.Provenance of the rows the answer makes


class Asker:
    """Sends asks through the LLM runtime and keeps rows, rejects, not_run and cost of one generate stage run.

    caps: family -> rows it may still take (generate.family_caps less what earlier rounds took); shared and decremented.
    """

    def __init__(self, llm: LlmParams, cache_dir: str | Path, *, seed: int, max_tokens: int | None, progress: bool = True,
                 ledger: CostLedger | None = None, caps: dict[str, int] | None = None):
        self.llm, self.cache_dir, self.seed, self.max_tokens, self.progress = llm, cache_dir, seed, max_tokens, progress
        self.rows: dict[str, dict] = {}
        self.rejects: list[dict] = []
        self.not_run = 0
        self.ledger = ledger if ledger is not None else CostLedger()
        self.caps = caps

    def answers(self, asks: list[Ask], label: str) -> list[tuple[Ask, Any, Answer]]:
        """(ask, result, parsed answer) for every ask answered validly; the rest become rejects or not_run."""
        requests = [
            LLMRequest(custom_id=a.custom_id, messages=a.messages, schema=a.schema or a.answer.model_json_schema(),
                       schema_name=a.answer.__name__, temperature=a.temperature, max_tokens=self.max_tokens,
                       seed=request_seed(self.seed, a.custom_id))
            for a in asks
        ]
        results = ask_llm(requests, self.llm, self.cache_dir, self.ledger, label=label, progress=self.progress)
        out = []
        for ask, res in zip(asks, results):
            obj, failure, detail = parse_result(res, ask.answer)
            if failure == "budget_exhausted":
                self.not_run += 1 + ask.downstream
                self.ledger.not_run += ask.downstream  # the requests this answer would have led to: never built
            elif failure:
                self.reject(ask, res, failure, detail, text=res.text or "")
            else:
                out.append((ask, res, obj))
        return out

    def generator(self, ask: Ask, result) -> Generator:
        temperature = ask.temperature if ask.temperature is not None else self.llm.temperature
        return Generator(backend="openai", model=result.model, temperature=temperature, prompt_hash=ask.prompt_hash)

    def reject(self, ask: Ask, result, failure: str, detail: str, text: str = "", **where) -> None:
        """A generate reject (`generate_<failure>`) for what the answer to `ask` could not give; where overrides the ask's fields."""
        a = replace(ask, **where) if where else ask
        self.rejects.append({
            "id": content_id("generate_reject", ask.custom_id, failure, str(len(self.rejects))), "text": text or "", "label": a.label,
            "target": a.target, "source": "synthetic", "scenario_id": a.scenario_id, "family": a.family, "channel": a.channel,
            "split": "candidate", "slices": [], "generator": self.generator(a, result).model_dump(), "parent_ids": list(a.parent_ids),
            "confidence": None, "round": a.round, "review": None, "weight": 1.0, "provenance": a.provenance,
            "gate": GATE, "reason": f"{GATE}_{failure}", "detail": f"{ask.custom_id}: {detail}".strip(),
        })

    def add(self, ask: Ask, result, text: str, id_parts: tuple[str | None, ...], **where) -> None:
        """A candidate row made from the answer to `ask`; a generate_duplicate reject when an earlier row has its id,
        a generate_family_cap reject when its family has no room left under generate.family_caps."""
        a = replace(ask, **where) if where else ask
        ex_id = content_id("synthetic", *id_parts)
        if ex_id in self.rows:
            self.reject(ask, result, "duplicate", f"the same row as {ex_id}", text=text, **where)
            return
        if self.caps is not None and a.family in self.caps:
            if self.caps[a.family] <= 0:
                self.reject(ask, result, "family_cap", f"family {a.family} is full (generate.family_caps)", text=text, **where)
                return
            self.caps[a.family] -= 1
        self.rows[ex_id] = Example(
            id=ex_id, text=text, label=a.label, target=a.target, source="synthetic", scenario_id=a.scenario_id, family=a.family,
            channel=a.channel, split="candidate", generator=self.generator(a, result), parent_ids=list(a.parent_ids), round=a.round,
            provenance=a.provenance,
        ).model_dump()

    def take_candidates(self) -> pl.DataFrame:
        """The candidate rows added so far (sorted by id); the next call starts empty."""
        frame = rows_to_frame(self.rows.values(), Example).sort("id")
        self.rows = {}
        return frame

    def rejects_frame(self) -> pl.DataFrame:
        return rows_to_frame(self.rejects, Reject).sort("id")

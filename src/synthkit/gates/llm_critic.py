"""LLM critic gate: after the offline checks, an OpenAI-compatible model scores each candidate 1-5 on realism,
label correctness and specificity (prompts/<type>/critic.md); a score under its threshold rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from synthkit.config import CriticParams, LlmParams
from synthkit.cost import CostLedger
from synthkit.gates.base import KEEP, Verdict
from synthkit.llm.answers import parse_result, request_seed
from synthkit.prompts import labels_text, load_label_block, load_prompt
from synthkit.spec import Spec


class CriticScores(BaseModel):
    """The answer to critic.md."""

    model_config = ConfigDict(extra="forbid")

    realism: Literal[1, 2, 3, 4, 5]
    label_correctness: Literal[1, 2, 3, 4, 5]
    specificity: Literal[1, 2, 3, 4, 5]
    reason: str


# score field -> (threshold field in CriticParams, reject reason)
CHECKS = {
    "realism": ("min_realism", "critic_llm_unrealistic"),
    "label_correctness": ("min_label_correctness", "critic_llm_wrong_label"),
    "specificity": ("min_specificity", "critic_llm_vague"),
}


def gate_llm_critic(
    frame: pl.DataFrame, spec: Spec, params: CriticParams, llm: LlmParams, *, prompts_dir: str | Path, cache_dir: str | Path,
    seed: int, ledger: CostLedger | None = None, progress: bool = True,
) -> list[Verdict]:
    """One verdict per row; rows the model could not judge are rejected too (critic_llm_<failure>), never kept unjudged."""
    if not params.enabled or params.backend != "openai" or frame.is_empty():
        return [KEEP] * frame.height
    from synthkit.llm import LLMRequest
    from synthkit.llm.run import ask

    labels = load_label_block(prompts_dir, spec.task.type)
    prompt = load_prompt(prompts_dir, spec.task.type, "critic", {"task_description", "labels", "channel", "label", "text"})
    common = {"task_description": spec.task.description or spec.task.name, "labels": labels_text(spec, labels)}
    requests = []
    for row_id, text, label, channel in frame.select("id", "text", "label", "channel").iter_rows():
        cid = f"critic:{row_id}"
        requests.append(
            LLMRequest(
                custom_id=cid, messages=prompt.messages({**common, "channel": channel, "label": label, "text": text}),
                schema=CriticScores.model_json_schema(), schema_name="CriticScores", model=params.model, temperature=0.0,
                seed=request_seed(seed, cid),
            )
        )
    results = ask(requests, llm, cache_dir, ledger, label="critic", progress=progress)
    verdicts = []
    for res in results:
        obj, failure, detail = parse_result(res, CriticScores)
        if failure:
            verdicts.append(Verdict(f"critic_llm_{failure}", detail))
            continue
        scores = {k: getattr(obj, k) for k in CHECKS}
        summary = " ".join(f"{k}={v}" for k, v in scores.items())
        failed = next((reason for k, (limit, reason) in CHECKS.items() if scores[k] < getattr(params, limit)), None)
        verdicts.append(Verdict(failed, f"{summary}: {obj.reason}"[:500]) if failed else KEEP)
    return verdicts

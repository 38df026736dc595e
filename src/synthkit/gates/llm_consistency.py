"""LLM consistency gate: an OpenAI-compatible model (optionally another one than the generator's) relabels each
candidate with its own prompt (prompts/<type>/relabel.md); a different label rejects."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from synthkit.config import ConsistencyParams, LlmParams
from synthkit.cost import CostLedger
from synthkit.gates.base import KEEP, Verdict
from synthkit.llm.answers import LabelChoice, label_choice_schema, parse_result, request_seed
from synthkit.prompts import labels_text, load_label_block, load_prompt
from synthkit.spec import Spec


def gate_llm_consistency(
    frame: pl.DataFrame, spec: Spec, params: ConsistencyParams, llm: LlmParams, *, prompts_dir: str | Path,
    cache_dir: str | Path, seed: int, ledger: CostLedger | None = None, progress: bool = True,
) -> list[Verdict]:
    """One verdict per row: consistency_llm_disagree when the relabel differs; unjudged rows are rejected with the failure."""
    if not params.enabled or params.backend != "openai" or frame.is_empty():
        return [KEEP] * frame.height
    from synthkit.llm import LLMRequest
    from synthkit.llm.run import ask

    labels = load_label_block(prompts_dir, spec.task.type)
    prompt = load_prompt(prompts_dir, spec.task.type, "relabel", {"task_description", "labels", "label_names", "text"})
    common = {"task_description": spec.task.description or spec.task.name, "labels": labels_text(spec, labels), "label_names": ", ".join(spec.label_names)}
    schema = label_choice_schema(spec.label_names)
    requests = []
    for row_id, text in frame.select("id", "text").iter_rows():
        cid = f"relabel:{row_id}"
        requests.append(
            LLMRequest(
                custom_id=cid, messages=prompt.messages({**common, "text": text}), schema=schema,
                schema_name="LabelChoice", model=params.model, temperature=llm.label_temperature, seed=request_seed(seed, cid),
            )
        )
    results = ask(requests, llm, cache_dir, ledger, label="relabel", progress=progress)
    verdicts = []
    for label, res in zip(frame["label"].to_list(), results):
        obj, failure, detail = parse_result(res, LabelChoice)
        if failure:
            verdicts.append(Verdict(f"consistency_llm_{failure}", detail))
        elif obj.label.strip() not in spec.label_names:
            verdicts.append(Verdict("consistency_llm_unknown_label", f"predicted={obj.label!r} is not in the spec"))
        elif obj.label.strip() != label:
            verdicts.append(Verdict("consistency_llm_disagree", f"predicted={obj.label.strip()}: {obj.rule}"[:500]))
        else:
            verdicts.append(KEEP)
    return verdicts

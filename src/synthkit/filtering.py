"""The filter stage's logic: PII, toxicity, offline critic, consistency with the seeds, then human review decisions."""

from __future__ import annotations

from functools import partial

import polars as pl

from synthkit.config import FilterParams, LlmParams
from synthkit.engine import LocalEngine, pii_batch, toxicity_batch
from synthkit.gates.base import KEEP
from synthkit.gates.consistency import gate_consistency
from synthkit.gates.critic import gate_critic
from synthkit.gates.llm_consistency import gate_llm_consistency
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.gates.pii import gate_pii
from synthkit.pipeline import run_gates
from synthkit.review import Decision, apply_decisions, gate_review
from synthkit.student import train_student


def seed_student(seeds: pl.DataFrame, C: float):
    """The student trained on the real training seeds, or None when they hold fewer than two labels."""
    train = seeds.filter(pl.col("split") == "seed")
    if train["label"].n_unique() < 2:
        return None
    return train_student(train["text"].to_list(), train["label"].to_list(), C=C)


def filter_candidates(
    df: pl.DataFrame, seeds: pl.DataFrame, params: FilterParams, decisions: dict[str, Decision], analyzer, llm: LlmParams | None = None,
    engine=None, *, spec=None, prompts_dir="prompts", cache_dir="data/llm_cache/filter", seed: int = 13, ledger=None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the filter gates in order; human decisions are applied first (relabel) and last (reject).

    The map-style gates (PII, toxicity) run on `engine` (synthkit.engine; default: this process). The LLM critic
    (filter.critic.backend openai) runs after the offline critic checks; the LLM consistency gate
    (filter.consistency.backend openai) replaces the seed-trained student. Both need `spec`.
    """
    engine = engine or LocalEngine()
    df = apply_decisions(df, decisions)
    student = seed_student(seeds, params.consistency.C) if params.consistency.enabled and params.consistency.backend == "student" else None
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()
    reviewed_accept = {k for k, d in decisions.items() if d.decision in ("accept", "relabel")}

    toxicity = partial(toxicity_batch, params=params.toxicity, llm=llm)  # the same function whole or per Ray batch
    llm_kw = {"prompts_dir": prompts_dir, "cache_dir": cache_dir, "seed": seed, "ledger": ledger}

    def consistency(frame: pl.DataFrame):
        if params.consistency.backend == "openai":
            verdicts = gate_llm_consistency(frame, spec, params.consistency, llm or LlmParams(), **llm_kw)
        else:
            verdicts = gate_consistency(frame["text"].to_list(), frame["label"].to_list(), student, params.consistency)
        # a human accept or relabel overrides the student's disagreement
        return [KEEP if i in reviewed_accept else v for v, i in zip(verdicts, frame["id"].to_list())]

    return run_gates(
        df,
        [
            ("pii", lambda f: engine.map_gate(f, lambda g: gate_pii(g["text"].to_list(), params.pii, analyzer), partial(pii_batch, params=params.pii))),
            ("toxicity", lambda f: engine.map_gate(f, toxicity, toxicity)),
            ("critic", lambda f: gate_critic(f, seed_texts, params.critic)),
            ("critic", lambda f: gate_llm_critic(f, spec, params.critic, llm or LlmParams(), **llm_kw)),
            ("consistency", consistency),
            ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
        ],
    )

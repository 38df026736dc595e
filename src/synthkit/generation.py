"""The generate stage's logic: the configured backend plus seed variation, over `generate.rounds` rounds.

Round 1 generates from the spec and the real seeds. For round r > 1, the candidates of round r - 1 that pass the
rule gate, the offline critic and (when configured) the LLM critic, and that no human rejected in
data/review/decisions.csv, join the seed set (a human relabel applies); the next round generates from it. This
approval is a pre-screen only: the full validate and filter stages still run on every round's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from synthkit.config import Params
from synthkit.cost import CostLedger
from synthkit.gates.critic import gate_critic
from synthkit.io import write_text
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.gates.rules import gate_rules
from synthkit.generators.combine import apply_quota, check_quotas, generate_candidates as generate_offline_backends
from synthkit.generators.llm import generate_llm
from synthkit.generators.template import generate_template
from synthkit.generators.variation import generate_variations
from synthkit.pipeline import run_gates
from synthkit.review import Decision, apply_decisions, gate_review
from synthkit.schemas import Example, Reject, conform, polars_schema
from synthkit.spec import Spec


CACHE_README = (
    "LLM response cache of this stage (content-addressed: model, messages, params, seed).\n"
    "A DVC output with persist: true: reruns reuse it, and it travels with dvc push / dvc pull.\n"
    "Delete the stage's entries to pay for the requests again.\n"
)


def ensure_cache_dir(path: str | Path) -> None:
    """Create an LLM cache directory holding a fixed README.txt, so the DVC output exists (and hashes the same) when unused."""
    readme = Path(path) / "README.txt"
    if not readme.exists() or readme.read_text(encoding="utf-8") != CACHE_README:
        write_text(CACHE_README, readme)


@dataclass
class Generated:
    candidates: pl.DataFrame
    rejects: pl.DataFrame
    ledger: CostLedger
    not_run: int = 0
    prompts: dict[str, str] = field(default_factory=dict)
    approved_by_round: dict[str, int] = field(default_factory=dict)


def approve(frame: pl.DataFrame, seed_texts: list[str], spec: Spec, params: Params, decisions: dict[str, Decision], *,
            prompts_dir: str | Path, cache_dir: str | Path, ledger: CostLedger, progress: bool = True) -> pl.DataFrame:
    """The rows of one round that may join the seeds: rule gate, offline critic, LLM critic if configured, human review."""
    frame = apply_decisions(frame, decisions)
    kept, _ = run_gates(
        frame,
        [
            ("rule", lambda f: gate_rules(f, spec, params.validate_.min_chars, params.validate_.max_chars)),
            ("critic", lambda f: gate_critic(f, seed_texts, params.filter.critic)),
            ("critic", lambda f: gate_llm_critic(f, spec, params.filter.critic, params.llm, prompts_dir=prompts_dir, cache_dir=cache_dir,
                                                 seed=params.seed, ledger=ledger, progress=progress)),
            ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
        ],
    )
    return kept


def generate_candidates(spec: Spec, seeds: pl.DataFrame, params: Params, decisions: dict[str, Decision], *,
                        prompts_dir: str | Path = "prompts", cache_dir: str | Path = "data/llm_cache/generate",
                        progress: bool = True, unlabeled: pl.DataFrame | None = None) -> Generated:
    """Candidates of every backend in generate.backends (unique ids, sorted) and the generate rejects.

    `template` stands for the scenario-first generator (generate.backend: template renders offline, openai asks the
    LLM) with seed variation, run for generate.rounds rounds (each row's `round` set); pseudo_label and seed_variation
    come from synthkit.generators.combine. generate.quotas caps each backend's candidates.
    """
    gen = params.generate
    check_quotas(gen)
    out = Generated(pl.DataFrame(), pl.DataFrame(schema=polars_schema(Reject)), CostLedger())
    frames, reject_frames = [], [out.rejects]
    pool = seeds
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()
    for r in range(1, (gen.rounds if "template" in gen.backends else 0) + 1):
        parts = []
        if gen.backend == "openai":
            res = generate_llm(spec, pool, gen, params.llm, params.seed, prompts_dir=prompts_dir, cache_dir=cache_dir,
                               ledger=out.ledger, round_no=r, progress=progress)
            parts.append(res.candidates)
            reject_frames.append(res.rejects)
            out.not_run += res.not_run
            out.prompts.update(res.prompts)
        elif r == 1:
            parts.append(generate_template(spec, gen, params.seed))
        new_seeds = pool if r == 1 else pool.filter(pl.col("round") == r - 1)
        parts.append(generate_variations(new_seeds, spec, gen, params.seed))
        round_rows = pl.concat(parts).with_columns(pl.lit(r, dtype=pl.Int64).alias("round"))
        if frames:
            seen = pl.concat([f.select("id") for f in frames])["id"]
            round_rows = round_rows.filter(~pl.col("id").is_in(seen.implode()))
        round_rows = round_rows.unique("id", keep="first", maintain_order=True).sort("id")
        frames.append(round_rows)
        if r < gen.rounds:
            approved = approve(round_rows, seed_texts, spec, params, decisions, prompts_dir=prompts_dir, cache_dir=cache_dir,
                               ledger=out.ledger, progress=progress)
            out.approved_by_round[str(r)] = approved.height
            pool = pl.concat([pool, approved.with_columns(pl.lit("seed").alias("split"))], how="vertical_relaxed")
    scenario_rows = pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(Example))
    frames = [apply_quota(scenario_rows, gen.quotas.get("template"), params.seed)]
    others = [b for b in gen.backends if b != "template"]
    if others:
        offline = gen.model_copy(update={"backends": others, "quotas": {k: v for k, v in gen.quotas.items() if k in others}})
        frames.append(generate_offline_backends(spec, seeds, unlabeled, offline, params.seed))
    out.candidates = conform(pl.concat([conform(f, Example) for f in frames]), Example).unique("id", keep="first", maintain_order=True).sort("id")
    out.rejects = pl.concat(reject_frames).unique("id", keep="first").sort("id")
    return out

"""Classification's generate step: the configured backends, over `generate.rounds` rounds, under per-backend quotas.

`template` in generate.backends stands for the scenario-first generator (generate.backend: template renders offline,
openai asks the LLM) plus seed variation, run for generate.rounds rounds. For round r > 1, the rows of round r - 1
that pass the pre-screen of generate.approve (the spec's rules, the critic, no human rejection in
data/review/decisions.csv) join the seed set (a human relabel applies); the next round generates from it. The
pre-screen never replaces the validate and filter stages, which judge every round's rows. pseudo_label and
seed_variation are template-free backends; generate.quotas caps each backend's candidates. With the openai backend,
generate.family_caps hold across rounds, LLM rows a quota drops are generate rejects, and a run without any LLM row
stops (synthkit.llm.run.require_llm_rows).
"""

from __future__ import annotations

import polars as pl

from synthkit.config import CriticParams, GenerateParams
from synthkit.cost import CostLedger
from synthkit.errors import InputError
from synthkit.gates.critic import gate_critic
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.gates.rules import gate_rules
from synthkit.generators.template import generate_template
from synthkit.generators.variation import generate_variations
from synthkit.llm.run import require_llm_rows
from synthkit.pipeline import run_gates
from synthkit.review import Decision, apply_decisions, gate_review
from synthkit.schemas import Example, Reject, conform, polars_schema, rows_to_frame
from synthkit.tasks.base import Generated, TaskContext


def check_quotas(params: GenerateParams) -> None:
    """Every generate.quotas key names a backend in generate.backends."""
    unknown = sorted(set(params.quotas) - set(params.backends))
    if unknown:
        raise InputError("params.yaml", f"quota for a backend that is not in generate.backends: {unknown[0]}", field="generate.quotas")


def apply_quota(df: pl.DataFrame, quota: int | None, seed: int) -> pl.DataFrame:
    """At most `quota` rows, chosen round-robin across labels in a seeded order (all rows when quota is None)."""
    if quota is None or df.height <= quota:
        return df
    ranked = df.with_columns(pl.col("id").hash(seed=seed).alias("_h")).sort("label", "_h", "id")
    ranked = ranked.with_columns(pl.int_range(pl.len()).over("label").alias("_rank")).sort("_rank", "label", "_h", "id")
    return ranked.head(quota).drop("_h", "_rank")


def template_free_candidates(spec, seeds: pl.DataFrame, pool: pl.DataFrame | None, params: GenerateParams, seed: int,
                             embedder=None) -> pl.DataFrame:
    """Candidates of the template-free backends in params.backends (pseudo_label, seed_variation), each capped by its quota.

    embedder (synthkit.embeddings, with its cache) serves a pseudo_label student or agreement reading sentence embeddings.
    """
    frames = []
    for backend in params.backends:
        if backend == "pseudo_label":
            from synthkit.generators.pseudo_label import generate_pseudo_labels

            if pool is None:
                raise InputError("params.yaml", "backend pseudo_label needs an unlabeled pool (prepare.unlabeled)", field="generate.backends")
            frame = generate_pseudo_labels(seeds, pool, params.pseudo_label, embedder)
        elif backend == "seed_variation":
            from synthkit.generators.seed_variation import generate_seed_variations

            frame = generate_seed_variations(seeds, spec, params.seed_variation, params.channels, seed)
        else:
            continue
        frames.append(apply_quota(frame, params.quotas.get(backend), seed))
    if not frames:
        return rows_to_frame([], Example)
    return pl.concat(frames).unique("id", keep="first", maintain_order=True).sort("id")


def approval_critic(params: GenerateParams) -> CriticParams:
    """The critic of the round pre-screen: the offline critic's per-row checks (not the population-relative repeated
    opening and length checks), plus the LLM critic at generate.approve's thresholds when approve.critic is openai."""
    a = params.approve
    return CriticParams(
        enabled=a.critic != "none", repeated_opening=False, length_outlier=False,
        backend="openai" if a.critic == "openai" else "offline",
        min_realism=a.min_realism, min_label_correctness=a.min_label_correctness, min_specificity=a.min_specificity, model=a.model,
    )


def dropped_llm_rows(before: pl.DataFrame, after: pl.DataFrame, reason: str, detail: str) -> pl.DataFrame:
    """LLM rows of `before` that `after` no longer holds, as generate rejects: a paid row is never dropped silently."""
    gone = before.filter((pl.col("generator").struct.field("backend") == "openai") & ~pl.col("id").is_in(after["id"].implode()))
    return conform(gone.with_columns(pl.lit("generate").alias("gate"), pl.lit(f"generate_{reason}").alias("reason"),
                                     pl.lit(detail).alias("detail")), Reject)


def approve(frame: pl.DataFrame, ctx: TaskContext, seed_texts: list[str], decisions: dict[str, Decision], ledger: CostLedger) -> pl.DataFrame:
    """The rows of one round that may join the seeds: the spec's rules, the pre-screen critic, no human rejection."""
    spec, params = ctx.spec, ctx.params
    critic = approval_critic(params.generate)
    kept, _ = run_gates(
        apply_decisions(frame, decisions),
        [
            ("rule", lambda f: gate_rules(f, spec)),
            ("critic", lambda f: gate_critic(f, seed_texts, critic)),
            ("critic", lambda f: gate_llm_critic(f, spec, critic, params.llm, prompts_dir=ctx.prompts_dir, cache_dir=ctx.llm_cache,
                                                 seed=params.seed, ledger=ledger, progress=ctx.progress)),
            ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
        ],
    )
    return kept


def generate(ctx: TaskContext, seeds: pl.DataFrame, unlabeled: pl.DataFrame | None, decisions: dict[str, Decision]) -> Generated:
    """Candidates of every backend in generate.backends (unique ids, sorted) and the generate rejects."""
    spec, params = ctx.spec, ctx.params
    gen = params.generate
    check_quotas(gen)
    out = Generated(pl.DataFrame(), ledger=ctx.ledger)
    caps = dict(gen.family_caps)  # what each family may still take, over every round
    frames, reject_frames = [], [pl.DataFrame(schema=polars_schema(Reject))]
    pool = seeds
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()
    for r in range(1, (gen.rounds if "template" in gen.backends else 0) + 1):
        parts = []
        if gen.backend == "openai":
            from synthkit.tasks.classification.llm import generate_llm

            res = generate_llm(spec, pool, gen, params.llm, params.seed, prompts_dir=ctx.prompts_dir, cache_dir=ctx.llm_cache,
                               ledger=out.ledger, caps=caps, round_no=r, progress=ctx.progress)
            parts.append(res.candidates)
            reject_frames.append(res.rejects)
            out.not_run += res.not_run
            out.prompts.update({f"{spec.task.type}/{name}.md": sha for name, sha in res.prompts.items()})
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
            approved = approve(round_rows, ctx, seed_texts, decisions, out.ledger)
            out.approved_by_round[str(r)] = approved.height
            pool = pl.concat([pool, approved.with_columns(pl.lit("seed").alias("split"))], how="vertical_relaxed")
    scenario_rows = pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(Example))
    frames = [apply_quota(scenario_rows, gen.quotas.get("template"), params.seed)]
    reject_frames.append(dropped_llm_rows(scenario_rows, frames[0], "quota", f"over generate.quotas template: {gen.quotas.get('template')}"))
    if any(b != "template" for b in gen.backends):
        frames.append(template_free_candidates(spec, seeds, unlabeled, gen, params.seed, ctx.embedder))
    out.candidates = conform(pl.concat([conform(f, Example) for f in frames]), Example).unique("id", keep="first", maintain_order=True).sort("id")
    out.rejects = pl.concat(reject_frames).unique("id", keep="first").sort("id")
    if gen.backend == "openai" and "template" in gen.backends:
        require_llm_rows(out.candidates, out.rejects, out.ledger, params.llm)
    return out

"""What the task types with a target (extraction, rewrite, summarization) share: seed variations that keep their
parent's target, and filter gates that judge the text and the target together."""

from __future__ import annotations

import difflib

import polars as pl

from synthkit.gates.base import KEEP, Verdict
from synthkit.schemas import Example, conform
from synthkit.tasks.base import Gate, TaskContext


def seed_variations(seeds: pl.DataFrame, ctx: TaskContext) -> pl.DataFrame:
    """Seed variations (channel wrappers, keyboard noise) that keep their parent's target; the gates judge whether it still holds."""
    from synthkit.generators.variation import generate_variations

    var = generate_variations(seeds, ctx.spec, ctx.params.generate, ctx.params.seed)
    if var.is_empty():
        return conform(var, Example)
    parents = seeds.select(pl.col("id").alias("_parent"), pl.col("target").alias("_target"))
    var = var.with_columns(pl.col("parent_ids").list.first().alias("_parent")).join(parents, on="_parent", how="left")
    return conform(var.with_columns(pl.col("_target").alias("target")), Example)


def combined(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Candidate frames as one, unique by id (first wins) and sorted."""
    return pl.concat([conform(f, Example) for f in frames]).unique("id", keep="first", maintain_order=True).sort("id")


def _removed(before: str, after: str) -> list[str]:
    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    return [before[i1:i2] for tag, i1, i2, _, _ in ops if tag in ("replace", "delete") and before[i1:i2].strip()]


def combine_text_target(text_verdicts: list[Verdict], target_verdicts: list[Verdict], gate: str) -> list[Verdict]:
    """One verdict per row from a gate run on the texts and on the targets.

    A rejecting finding in the target rejects the row (`<gate>_target_...`). Targets are never redacted: a
    redact-level finding in the target is judged on the text it came from (see pii_text_target), since
    values scanned out of context (an amount in a JSON target) are not the text's meaning.
    """
    out = []
    for v, t in zip(text_verdicts, target_verdicts):
        if v.reason is not None:
            out.append(v)
        elif t.reason is not None:
            out.append(Verdict(t.reason.replace(f"{gate}_", f"{gate}_target_", 1), t.detail))
        else:
            out.append(v)
    return out


def pii_text_target(texts: list[str], targets: list[str | None], text_verdicts: list[Verdict], target_verdicts: list[Verdict]) -> list[Verdict]:
    """PII verdicts over text and target: a redaction of the text is kept unless the redacted span also occurs in
    the target (`pii_redaction_changes_target`: the pair would no longer agree); otherwise as combine_text_target."""
    out = []
    for text, target, v, g in zip(texts, targets, text_verdicts, target_verdicts):
        if v.reason is None and g.reason is None and v.text is not None and target and any(s.strip() in target for s in _removed(text, v.text)):
            out.append(Verdict("pii_redaction_changes_target", v.detail))
        else:
            out.extend(combine_text_target([v], [g], "pii"))
    return out


def target_filter_gates(ctx: TaskContext, seeds: pl.DataFrame, decisions, analyzer, engine=None, ledger=None) -> list[Gate]:
    """The filter gates of a type with targets: PII and toxicity on text and target, the offline critic, human review
    (in this process: the engine and the LLM ledger are not used)."""
    from synthkit.gates.critic import gate_critic
    from synthkit.gates.pii import gate_pii
    from synthkit.gates.toxicity import gate_toxicity
    from synthkit.review import gate_review

    fp = ctx.params.filter
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()

    def pii(f: pl.DataFrame) -> list[Verdict]:
        texts, targets = f["text"].to_list(), f["target"].to_list()
        return pii_text_target(texts, targets, gate_pii(texts, fp.pii, analyzer), gate_pii([t or "" for t in targets], fp.pii, analyzer))

    def toxicity(f: pl.DataFrame) -> list[Verdict]:
        targets = f["target"].to_list()
        return combine_text_target(
            gate_toxicity(f["text"].to_list(), fp.toxicity, ctx.params.llm),
            gate_toxicity([t or "" for t in targets], fp.toxicity, ctx.params.llm) if any(targets) else [KEEP] * f.height,
            "toxicity",
        )

    return [
        ("pii", pii),
        ("toxicity", toxicity),
        ("critic", lambda f: gate_critic(f, seed_texts, fp.critic)),
        ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
    ]


def target_real_text_gates(ctx: TaskContext, seeds: pl.DataFrame, analyzer, engine=None) -> list:
    """The text-judging filter gates of a type with targets as they judge real text (gate calibration): PII and
    toxicity on text and target, the offline critic."""
    return [(name, fn) for name, fn in target_filter_gates(ctx, seeds, {}, analyzer) if name != "review"]


def no_pool_labels(ctx: TaskContext, seeds: pl.DataFrame, pool: pl.DataFrame) -> tuple[list[str | None], str]:
    """Pool texts of a type without labels are reported under one label for all."""
    return [None] * pool.height, "none (the task type has no labels)"

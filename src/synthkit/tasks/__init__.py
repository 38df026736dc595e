"""Task types beyond classification: extraction, rewrite and summarization.

Each type keeps its target in Example.target and brings its own spec section, offline generator, gates and
evaluation (synthkit.tasks.extraction, .rewrite, .summarization). The stage scripts call the functions below,
which dispatch on the spec's task type; classification never reaches them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import polars as pl

from synthkit.gates.base import KEEP, Verdict
from synthkit.schemas import Example, conform

TYPES = ("extraction", "rewrite", "summarization")
SKIPPED_GATES = {"consistency": "classification only: the seed-trained label student does not judge extraction, rewrite or summarization targets"}


def slice_groups(tags: list[list[str]], min_size: int) -> dict[str, list[int]]:
    """Row indices per evaluation group: "all", then every slice tag held by at least min_size rows (sorted)."""
    groups = {"all": list(range(len(tags)))}
    for tag in sorted({t for ts in tags for t in ts}):
        idx = [i for i, ts in enumerate(tags) if tag in ts]
        if len(idx) >= min_size:
            groups[tag] = idx
    return groups


def is_task(spec) -> bool:
    """True for a task type other than classification."""
    return spec.task.type in TYPES


def target_check(spec) -> Callable[[str | None], str] | None:
    """How prepare checks and canonicalises a real row's target; None for classification."""
    from synthkit.tasks import extraction, rewrite, summarization

    kind = spec.task.type
    if kind == "extraction":
        return extraction.check_target(spec.extraction)
    if kind == "rewrite":
        return rewrite.check_target(spec.rewrite)
    if kind == "summarization":
        return summarization.check_target(spec.summarization)
    return None


def _seed_variations(seeds: pl.DataFrame, spec, params, seed: int) -> pl.DataFrame:
    """Seed variations (channel wrappers, keyboard noise) that keep their parent's target; the gates judge whether it still holds."""
    from synthkit.generators.variation import generate_variations

    var = generate_variations(seeds, spec, params.generate, seed)
    if var.is_empty():
        return conform(var, Example)
    parents = seeds.select(pl.col("id").alias("_parent"), pl.col("target").alias("_target"))
    var = var.with_columns(pl.col("parent_ids").list.first().alias("_parent")).join(parents, on="_parent", how="left")
    return conform(var.with_columns(pl.col("_target").alias("target")), Example)


def generate(spec, params, seeds: pl.DataFrame, docs_path: str | None) -> pl.DataFrame:
    """All candidates of a non-classification task, unique by id and sorted."""
    from synthkit.tasks import extraction, rewrite, summarization

    kind = spec.task.type
    if kind == "extraction":
        frames = [extraction.generate(spec, params.generate, params.seed), _seed_variations(seeds, spec, params, params.seed)]
    elif kind == "rewrite":
        frames = [rewrite.generate(spec, params.generate, params.seed), _seed_variations(seeds, spec, params, params.seed)]
    else:
        frames = [summarization.generate(spec, params.generate, params.seed, summarization.load_docs(docs_path))]
    return pl.concat([conform(f, Example) for f in frames]).unique("id", keep="first", maintain_order=True).sort("id")


def generate_openai(spec, params, seeds: pl.DataFrame, docs_path: str | None, *, prompts_dir, cache_dir, progress: bool = True):
    """Candidates and generate rejects of a non-classification task from the openai backend (synthkit.tasks.llm), plus the
    offline seed variations of extraction and rewrite as with the template backend."""
    from synthkit.tasks import summarization
    from synthkit.tasks.llm import generate_task_llm

    docs = summarization.load_docs(docs_path) if spec.task.type == "summarization" else None
    out = generate_task_llm(spec, params, docs, prompts_dir=prompts_dir, cache_dir=cache_dir, progress=progress)
    frames = [out.candidates]
    if spec.task.type in ("extraction", "rewrite"):
        frames.append(_seed_variations(seeds, spec, params, params.seed))
    out.candidates = pl.concat([conform(f, Example) for f in frames]).unique("id", keep="first", maintain_order=True).sort("id")
    return out


def validate_gates(spec, params, docs_path: str | None) -> list[tuple[str, Callable[[pl.DataFrame], list[Verdict]]]]:
    """The type's correctness gates, run in the validate stage after the format and rule gates."""
    from synthkit.tasks import extraction, rewrite, summarization

    kind = spec.task.type
    if kind == "extraction":
        return [
            ("schema", lambda f: extraction.gate_schema(f["target"].to_list(), spec.extraction)),
            ("evidence", lambda f: extraction.gate_evidence(f["text"].to_list(), f["target"].to_list(), spec.extraction)),
        ]
    if kind == "rewrite":
        return [("rewrite", lambda f: rewrite.gate_rewrite(f["text"].to_list(), f["target"].to_list(), spec.rewrite, params.task.rewrite.length_ratio))]
    if kind == "summarization":
        docs = summarization.load_docs(docs_path)
        return [("grounding", lambda f: summarization.gate_grounding(f, spec.summarization, docs))]
    return []


def _removed(before: str, after: str) -> list[str]:
    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    return [before[i1:i2] for tag, i1, i2, _, _ in ops if tag in ("replace", "delete") and before[i1:i2].strip()]


def combine_text_target(text_verdicts: list[Verdict], target_verdicts: list[Verdict], gate: str) -> list[Verdict]:
    """One verdict per row from a gate run on the texts and on the targets.

    A rejecting finding in the target rejects the row (`<gate>_target_...`). Targets are never redacted: a
    redact-level finding in the target is judged on the text it came from (see filter_task's PII gate), since
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


def filter_task(df: pl.DataFrame, seeds: pl.DataFrame, params, decisions, analyzer) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The filter gates for non-classification tasks: PII and toxicity on text and target, the offline critic, human review."""
    from synthkit.gates.critic import gate_critic
    from synthkit.gates.pii import gate_pii
    from synthkit.gates.toxicity import gate_toxicity
    from synthkit.pipeline import run_gates
    from synthkit.review import apply_decisions, gate_review

    fp = params.filter
    df = apply_decisions(df, decisions)
    seed_texts = seeds.filter(pl.col("split") == "seed")["text"].to_list()

    def pii(f: pl.DataFrame) -> list[Verdict]:
        texts, targets = f["text"].to_list(), f["target"].to_list()
        return pii_text_target(texts, targets, gate_pii(texts, fp.pii, analyzer), gate_pii([t or "" for t in targets], fp.pii, analyzer))

    def toxicity(f: pl.DataFrame) -> list[Verdict]:
        targets = f["target"].to_list()
        return combine_text_target(
            gate_toxicity(f["text"].to_list(), fp.toxicity, params.llm),
            gate_toxicity([t or "" for t in targets], fp.toxicity, params.llm) if any(targets) else [KEEP] * f.height,
            "toxicity",
        )

    return run_gates(
        df,
        [
            ("pii", pii),
            ("toxicity", toxicity),
            ("critic", lambda f: gate_critic(f, seed_texts, fp.critic)),
            ("review", lambda f: gate_review(f["id"].to_list(), decisions)),
        ],
    )


def evaluate(spec, params, real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, docs_path: str | None,
             eval_docs_path: str | None = None) -> tuple[dict, dict]:
    """The type's metrics on the protected eval set: real-only student vs the mix student, overall and per slice.

    Summarization: the students learn from the documents in docs_path; eval rows are answered from eval_docs_path
    (documents only the protected eval set uses, so the generator never saw them), else docs_path.
    """
    from synthkit.tasks import extraction, rewrite, summarization

    kind, min_size = spec.task.type, params.evaluate.min_slice_size
    if kind == "extraction":
        return extraction.evaluate(real, train, eval_, spec, params, min_size)
    if kind == "rewrite":
        return rewrite.evaluate(real, train, eval_, spec, params, min_size)
    docs = summarization.load_docs(docs_path)
    eval_docs = summarization.load_docs(eval_docs_path) if eval_docs_path else docs
    return summarization.evaluate(real, train, eval_, spec, params, min_size, docs, eval_docs)


def generate_counts(candidates: pl.DataFrame) -> dict:
    """The generate stage's counts, as for classification: nothing is rejected at generation."""
    def by(col):
        return {k: n for k, n in candidates.group_by(col).len().sort(col).iter_rows()}

    return {
        "stage": "generate", "in": candidates.height, "kept": candidates.height, "rejected": 0,
        "rejected_by_gate": {}, "rejected_by_reason": {},
        "by_family": by("family"), "by_channel": by("channel"), "by_label": by("label"),
        "by_backend": {k: n for k, n in candidates.group_by(pl.col("generator").struct.field("backend")).len().sort("backend").iter_rows()},
    }


HEADLINE = {"extraction": [("f1", "f1")], "rewrite": [("exact_match", "exact_match")],
            "summarization": [("summary_chrf", "summary.chrf"), ("qa_answer_recall", "qa.answer_recall")]}


def slice_plot_rows(spec, metrics: dict) -> list[dict]:
    """Rows (slice, model, metric, value) of the type's headline metrics, overall and per slice, for the slices plot."""

    def get(d: dict, dotted: str) -> float:
        for part in dotted.split("."):
            d = d[part]
        return d  # type: ignore[return-value]

    rows = []
    for name, path in HEADLINE[spec.task.type]:
        rows += [{"slice": "all", "model": m, "metric": name, "value": float(get(metrics[m], path))} for m in ("real_only", "mix")]
        for tag, v in metrics["slices"].items():
            rows += [{"slice": tag, "model": m, "metric": name, "value": float(v[f"{m}_{name}"])} for m in ("real_only", "mix") if f"{m}_{name}" in v]
    return rows

"""The task-type interface: how a type generates, which validate and filter gates it adds, how it evaluates.

A task type is a package synthkit/tasks/<type>/ with a `task.py` that defines TASK (a TaskType) and, when the type
has its own spec or params section, a light `section.py` with SPEC_SECTION / PARAMS_SECTION models. Stage scripts
load the type named by the spec (synthkit.tasks.load_task) and call the methods below; they never branch on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import polars as pl

from synthkit.cost import CostLedger
from synthkit.gates.base import Verdict
from synthkit.schemas import Reject, polars_schema

if TYPE_CHECKING:
    import numpy as np

    from synthkit.config import Params
    from synthkit.spec import Spec

Gate = tuple[str, Callable[[pl.DataFrame], list[Verdict]]]

# What a stage that may call an LLM reads of `llm` (what shapes the answers and their cost)
LLM_READS = ("llm.base_url", "llm.model", "llm.temperature", "llm.budget_usd", "llm.prices", "llm.batch", "llm.batch_price_factor")
# The params every task type's stages read; a type adds its own in TaskType.reads.
COMMON_READS: dict[str, tuple[str, ...]] = {
    "prepare": ("seed", "task.type", "prepare.columns", "prepare.dev_fraction", "prepare.encoding", "prepare.conflicts"),
    "generate": ("seed", "task.type"),
    "validate": ("task.type", "validate.min_chars", "validate.max_chars"),
    "filter": ("seed", "task.type", "filter.pii.enabled", "filter.pii.spacy_model", "filter.pii.entities",
               "filter.toxicity", "filter.critic.enabled", "filter.critic.template_residue", "filter.critic.doubled_words",
               "filter.critic.doubled_word_allow", "filter.critic.repeated_opening", "filter.critic.opening_words",
               "filter.critic.max_opening_share", "filter.critic.boilerplate", "filter.critic.extra_boilerplate",
               "filter.critic.length_outlier", "filter.critic.length_quantiles", "filter.critic.length_widen",
               "filter.critic.min_seeds", "filter.critic.label_leak", "filter.critic.min_label_words",
               "filter.critic.label_leak_spaced", "filter.review", "filter.calibration", "llm.base_url"),
    "dedupe": ("dedupe",),
    "mix": ("seed", "mix"),
    "evaluate": ("task.type", "mix.real_weight", "mix.synthetic_weight", "evaluate.min_slice_size", "evaluate.on_negative_uplift"),
    "monitor": ("seed", "monitor", "dedupe.threshold", "dedupe.num_perm", "dedupe.shingle", "dedupe.ngram"),
    "manifest": ("seed", "generate", "validate", "filter", "dedupe", "mix", "llm"),
}

# Settings that change where or how fast work runs, never what it produces: read, but no stage's DVC param, so
# changing them reruns nothing (outputs are identical by construction; tests compare them).
EXECUTION_ONLY = ("engine", "ray", "filter.pii.workers", "filter.pii.chunk_size", "filter.pii.prescreen",
                  "llm.api_key_env", "llm.timeout_s", "llm.max_retries", "llm.max_concurrency", "llm.rpm", "llm.tpm",
                  "llm.batch_poll_s", "llm.retry_base_s", "llm.max_failure_rate")


class Encoder(Protocol):
    """Sentence embeddings with their cache (synthkit.embeddings.Embedder), typed here so a stage that embeds nothing
    does not depend on that module."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class TaskContext:
    """What a stage hands its task type: the spec, the params and the stage's paths."""

    spec: Spec
    params: Params
    docs: str | None = None  # folder of source documents (summarization)
    eval_docs: str | None = None  # folder of the protected eval set's documents (default: docs)
    prompts_dir: str = "prompts"
    llm_cache: str | None = None  # this stage's LLM response cache
    progress: bool = True
    ledger: CostLedger = field(default_factory=CostLedger)  # this stage's LLM cost in the pipeline run (synthkit.llm.run.open_run)
    embedder: Encoder | None = None  # this stage's sentence embeddings and their cache; None: in memory


@dataclass
class Generated:
    """What the generate stage writes: candidates, generate rejects and what the LLM calls did."""

    candidates: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=polars_schema(Reject)))
    ledger: CostLedger = field(default_factory=CostLedger)
    not_run: int = 0
    prompts: dict[str, str] = field(default_factory=dict)
    approved_by_round: dict[str, int] = field(default_factory=dict)


@dataclass
class Evaluation:
    """What the evaluate stage writes: metrics, per-slice detail, and plot rows per file under the plots folder."""

    metrics: dict
    detail: dict
    plots: dict[str, pl.DataFrame]


class TaskType:
    """What the pipeline needs to know of a task type before running any of its steps (synthkit/tasks/<type>/task.py).

    The steps themselves are modules of the type's package, one per stage that needs the type, each with one function
    (loaded by synthkit.tasks.registry.load_step, so a stage depends on its own step's code only):
      prepare.py   target_check(spec) -> check of a real row's target (None: the type has no target)
      generate.py  generate(ctx, seeds, unlabeled, decisions) -> Generated
      validate.py  validate_gates(ctx) -> the gates after the format and rule gates
      filter.py    filter_gates(ctx, seeds, decisions, analyzer, engine, ledger) -> the filter gates in order
                   real_text_gates(ctx, seeds, analyzer, engine) -> the text-judging gates as they judge real text
                   pool_labels(ctx, seeds, pool) -> (a label per pool text or None, how they were given) for gate calibration
      mix.py       mix_score: (ctx, train, heldout) -> score of the evaluate student, for mix.synthetic_ratio auto; None:
                   the type mixes at mix.auto.fallback_ratio
      evaluate.py  evaluate(ctx, real, train, eval_) -> Evaluation
    """

    name: ClassVar[str]
    # params each stage reads beyond COMMON_READS (DVC params of the stage; leaf keys, or a section read whole)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {}
    # evaluate's plots: file name under reports/plots -> DVC plot properties
    plots: ClassVar[dict[str, dict]] = {}
    # filter gates the type does not run, with why (reported in the filter counts)
    skipped_gates: ClassVar[dict[str, str]] = {}
    # generate.backends this type supports
    backends: ClassVar[tuple[str, ...]] = ("template",)


TARGET_SKIPPED_GATES = {"consistency": "classification only: the seed-trained label student does not judge extraction, rewrite or summarization targets"}
STEPS = ("prepare", "generate", "validate", "filter", "mix", "evaluate")


def slice_groups(tags: list[list[str]], min_size: int) -> dict[str, list[int]]:
    """Row indices per evaluation group: "all", then every slice tag held by at least min_size rows (sorted)."""
    groups = {"all": list(range(len(tags)))}
    for tag in sorted({t for ts in tags for t in ts}):
        idx = [i for i, ts in enumerate(tags) if tag in ts]
        if len(idx) >= min_size:
            groups[tag] = idx
    return groups


def slice_plot_rows(metrics: dict, headline: list[tuple[str, str]]) -> pl.DataFrame:
    """Rows (slice, model, metric, value) of headline metrics (name, dotted path in metrics[model]) overall and per slice."""

    def get(d: dict, dotted: str) -> float:
        for part in dotted.split("."):
            d = d[part]
        return float(d)  # type: ignore[arg-type]

    rows = []
    for name, path in headline:
        rows += [{"slice": "all", "model": m, "metric": name, "value": get(metrics[m], path)} for m in ("real_only", "mix")]
        for tag, v in metrics["slices"].items():
            rows += [{"slice": tag, "model": m, "metric": name, "value": float(v[f"{m}_{name}"])} for m in ("real_only", "mix") if f"{m}_{name}" in v]
    return pl.DataFrame(rows, schema={"slice": pl.String, "model": pl.String, "metric": pl.String, "value": pl.Float64})

"""params.yaml as pydantic models: a typo is a clear error naming the key, never a KeyError deep inside."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from synthkit import trace
from synthkit.errors import InputError, clip, validation_message
from synthkit.io import read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


StudentName = Literal["tfidf_logreg", "embed_logreg", "both"]  # the students of synthkit.students


class TaskParams(_Strict):
    """`task`: the task type, and that type's own params section (`task.<type>`, e.g. task.extraction)."""

    type: str = "classification"
    section: Any = None  # the type's params section, validated by its model (synthkit/tasks/<type>/section.py)

    @model_validator(mode="before")
    @classmethod
    def _type_section(cls, raw: Any) -> Any:
        from synthkit.task_types import sections, validate_section

        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        kind = raw.get("type", "classification")
        if not isinstance(kind, str):
            return raw
        try:
            _, model = sections(kind)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        given = raw.pop(kind, raw.pop("section", None))
        if model is not None:
            raw["section"] = given if isinstance(given, model) else validate_section(model, given, kind, cls.__name__)
        elif given is not None:
            raise ValueError(f"task type {kind!r} has no params section {kind!r}")
        return raw

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        out = handler(self)
        section = out.pop("section", None)
        if section is not None:
            out[self.type] = section
        return out


class Columns(_Strict):
    """Which column of an input file holds each field."""

    text: str = "text"
    label: str = "label"
    group: str = "group"
    slices: str = "slices"
    channel: str = "channel"
    target: str = "target"  # expected output for extraction, rewrite and summarization tasks


class PrepareParams(_Strict):
    columns: Columns = Field(default_factory=Columns)
    dev_fraction: float = Field(0.0, ge=0.0, lt=1.0)
    encoding: str = "utf-8"  # text encoding of CSV/JSONL inputs (a UTF-8 byte-order mark is always dropped)
    # the same normalised text with different labels: error (stop naming both rows), drop (every such row), first (keep the first label's rows)
    conflicts: Literal["error", "drop", "first"] = "error"
    # input files (CSV, JSONL or Parquet); dvc.yaml reads these paths through ${prepare.*} templating
    seeds: str = "data/raw/seeds.csv"
    eval: str = "data/raw/eval.csv"
    production: str = "data/raw/production.csv"
    unlabeled: str = "data/raw/production.csv"  # pool of unlabeled real texts for the pseudo_label backend
    docs: str | None = None  # folder of source documents (summarization): <doc_id>.md or .txt
    eval_docs: str | None = None  # folder of the protected eval set's documents (default: docs)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {clip(value)} (e.g. utf-8, cp1252, latin-1, utf-16)") from None
        return value


class PseudoLabelParams(_Strict):
    """`generate.pseudo_label`: the seed-trained student labels the unlabeled pool, in rounds."""

    rounds: int = Field(1, ge=1)                  # retrain on seeds + pseudo-labels, relabel the whole pool, repeat
    label_cap: int = Field(1000, ge=1)            # rows per label in the first round
    cap_growth: float = Field(1.0, ge=1.0)        # the per-label cap multiplies by this each round
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)  # below this probability a pool text is never taken
    weight: float = Field(0.5, gt=0.0)            # sample weight of pseudo-labeled rows while self-training
    student: StudentName = "both"                 # the self-training student (synthkit.students)
    # who must agree with the student: views (single-view students), knn (nearest seed, char n-grams),
    # embed_knn (majority of the knn_k nearest seeds by embedding cosine), or a combination
    agreement: Literal["none", "views", "knn", "views_knn", "embed_knn", "views_embed_knn"] = "none"
    knn_k: int = Field(1, ge=1)                   # embed_knn: seeds that vote
    C: float = Field(10.0, gt=0.0)
    # the teacher's sentence encoder (its embedding features, views and embed_knn): minilm (all-MiniLM-L6-v2, synthkit.minilm;
    # a stronger encoder than the student's, so the teacher's mistakes are not the student's) or wordllama (the student's own)
    encoder: Literal["minilm", "wordllama"] = "minilm"


class SeedVariationParams(_Strict):
    """`generate.seed_variation`: template-free variants of the real seeds."""

    per_seed: int = Field(4, ge=0)                # variants per seed (channel wrapper, noise, recombination)
    typo_rate: float = Field(0.04, ge=0.0, le=0.5)
    hard_negatives_per_pair: int = Field(4, ge=0)  # extra variants for label pairs the seed student confuses
    confused_pairs: int = Field(20, ge=0)         # how many most-confused label pairs get hard negatives
    C: float = Field(10.0, gt=0.0)


class ApproveParams(_Strict):
    """`generate.approve`: the pre-screen a round's rows pass to join the seeds of the next round (generate.rounds > 1)."""

    critic: Literal["none", "offline", "openai"] = "offline"  # offline: the critic's per-row checks; openai: also an LLM critic
    min_realism: int = Field(3, ge=1, le=5)  # openai: the LLM critic's thresholds for the pre-screen
    min_label_correctness: int = Field(4, ge=1, le=5)
    min_specificity: int = Field(3, ge=1, le=5)
    model: str | None = None  # openai: None = llm.model


class GenerateParams(_Strict):
    backend: Literal["template", "openai"] = "template"
    per_scenario: int = Field(40, ge=1)
    family_caps: dict[str, int] = Field(default_factory=dict)
    variation_per_seed: int = Field(2, ge=0)
    typo_rate: float = Field(0.06, ge=0.0, le=0.5)
    channels: list[str] = Field(default_factory=lambda: ["chat", "email", "ticket_subject", "call_transcript", "pasted_notes"])
    # rounds > 1: the rows of a round that pass generate.approve (and no human rejected) join the seeds of the next
    rounds: int = Field(1, ge=1)
    approve: ApproveParams = Field(default_factory=ApproveParams)
    # openai backend: scenarios asked per label, hard-negative scenarios per label, messages per request, seed examples shown
    scenarios_per_label: int = Field(3, ge=1)
    hard_negatives_per_label: int = Field(1, ge=0)
    utterances_per_request: int = Field(5, ge=1)
    examples_per_prompt: int = Field(3, ge=0)
    max_tokens: int | None = Field(2000, ge=1)
    backends: list[Literal["template", "pseudo_label", "seed_variation"]] = Field(default_factory=lambda: ["template"])
    quotas: dict[str, int] = Field(default_factory=dict)  # backend -> at most this many candidates (seeded choice)
    pseudo_label: PseudoLabelParams = Field(default_factory=PseudoLabelParams)
    seed_variation: SeedVariationParams = Field(default_factory=SeedVariationParams)


class ValidateParams(_Strict):
    min_chars: int | None = None
    max_chars: int | None = None


class PiiEntity(_Strict):
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    action: Literal["reject", "redact"] = "reject"


class PiiParams(_Strict):
    enabled: bool = True
    spacy_model: str | None = None
    prescreen: bool = True
    entities: dict[str, PiiEntity] = Field(default_factory=dict)
    workers: int = Field(0, ge=0)  # analyzer processes; 0: one per available core, 1: in this process
    chunk_size: int = Field(2000, ge=1)  # texts per task sent to a worker process


class ToxicityParams(_Strict):
    enabled: bool = True
    backend: Literal["profanity_check", "openai_moderation"] = "profanity_check"
    threshold: float = Field(0.8, ge=0.0, le=1.0)
    min_words: float = Field(2.0, ge=0.0)  # profanity_check: shorter texts are scored as if padded to this many words (0: off)
    moderation_model: str = "omni-moderation-latest"


class CriticParams(_Strict):
    """`filter.critic` in params.yaml: every check can be switched off or tuned on its own."""

    enabled: bool = True
    # critic_template_residue: unfilled {slots}, <placeholders>, [Your Name], lorem ipsum, TODO, doubled words (content
    # words only: closed-class words, words inside double quotes and words the seeds double are never flagged)
    template_residue: bool = True
    doubled_words: bool = True
    doubled_word_allow: list[str] = Field(
        default_factory=lambda: ["that", "had", "very", "really", "bye", "no", "so", "ha", "haha", "hey", "please",
                                 "more", "many", "again", "well", "yeah", "yes", "now", "go", "far", "hi", "oh", "is"]
    )  # fmt: skip
    # critic_repeated_opening: at most max_opening_share of the candidates may share their first opening_words words
    repeated_opening: bool = True
    opening_words: int = Field(4, ge=1)
    max_opening_share: float = Field(0.15, gt=0.0, le=1.0)
    # critic_boilerplate: assistant politeness and meta-talk; extra_boilerplate adds regexes (case-insensitive)
    boilerplate: bool = True
    extra_boilerplate: list[str] = Field(default_factory=list)
    # critic_length_outlier: word count outside [q_low / widen, q_high * widen] of the seed texts (default: the
    # shortest and the longest seed: real one-word answers and long messages are no outliers)
    length_outlier: bool = True
    length_quantiles: tuple[float, float] = (0.0, 1.0)
    length_widen: float = Field(2.0, ge=1.0)
    min_seeds: int = Field(10, ge=1)  # fewer seed texts: no length check
    # critic_label_leak: a label's words, joined by space, "_" or "-", appear in the text
    label_leak: bool = True
    min_label_words: int = Field(2, ge=1)  # one-word labels ("billing") are ordinary words: not checked by default
    label_leak_spaced: bool = True  # also "refund request" and "refund-request", not only the identifier "refund_request"
    # backend openai: after the offline checks, an LLM scores realism, label correctness and specificity 1-5
    backend: Literal["offline", "openai"] = "offline"
    min_realism: int = Field(3, ge=1, le=5)
    min_label_correctness: int = Field(4, ge=1, le=5)
    min_specificity: int = Field(3, ge=1, le=5)
    model: str | None = None  # None: llm.model

    @model_validator(mode="after")
    def _check(self) -> CriticParams:
        lo, hi = self.length_quantiles
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError("length_quantiles must be (low, high) with 0 <= low <= high <= 1")
        for pattern in self.extra_boilerplate:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"extra_boilerplate: invalid regex {clip(pattern)}: {exc}") from None
        return self


class ConsistencyParams(_Strict):
    enabled: bool = True
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    # backend student: a label among the student's top ceil(share x labels) (at least 1) is plausible and never rejected
    plausible_share: float = Field(0.12, ge=0.0, lt=1.0)
    C: float = Field(10.0, gt=0.0)
    student: StudentName = "embed_logreg"  # backend student: the seed-trained student (synthkit.students)
    # the sentence encoder of the student's embedding features and of embed_knn: minilm (all-MiniLM-L6-v2,
    # synthkit.minilm) or wordllama (the stage's embedder, with its cache)
    encoder: Literal["minilm", "wordllama"] = "minilm"
    knn_k: int = Field(5, ge=1)            # backend embed_knn: the seeds most similar by embedding cosine vote
    knn_min_share: float = Field(0.6, gt=0.0, le=1.0)  # embed_knn: reject when another label wins at least this share
    # backend student: the seed-trained student relabels; embed_knn: the nearest seeds vote; openai: an LLM relabels
    # each candidate with its own prompt (optionally another model); disagreement rejects
    backend: Literal["student", "embed_knn", "openai"] = "student"
    model: str | None = None  # None: llm.model


class ReviewParams(_Strict):
    fraction: float = Field(0.05, ge=0.0, le=1.0)
    min_per_stratum: int = Field(0, ge=0)
    order: Literal["least_confident", "random"] = "least_confident"  # within a stratum: least confident pseudo-labels first, or seeded random


class CalibrationParams(_Strict):
    """`filter.calibration`: the text-judging gates also judge the real seeds and the unlabeled pool."""

    max_real_reject: float = Field(0.02, ge=0.0, le=1.0)  # above this share of a label's real texts a gate is miscalibrated
    action: Literal["warn", "fail", "exempt"] = "warn"  # exempt: what a gate flags in a label's real text is not held against its candidates
    folds: int = Field(3, ge=2)  # consistency judges each seed with a student that did not see it (folds by group)
    max_pool: int = Field(20000, ge=0)  # pool texts judged (a seeded sample beyond this)
    examples: int = Field(3, ge=0)  # real texts quoted per miscalibrated label in the report
    shift_factor: float = Field(3.0, gt=1.0)  # a gate rejecting one label's candidates at more than this times its mean rate shifts the label mix
    shift_min_rejects: int = Field(3, ge=1)  # ... and rejecting at least this many of them


class FilterParams(_Strict):
    pii: PiiParams = Field(default_factory=PiiParams)
    toxicity: ToxicityParams = Field(default_factory=ToxicityParams)
    critic: CriticParams = Field(default_factory=CriticParams)
    consistency: ConsistencyParams = Field(default_factory=ConsistencyParams)
    review: ReviewParams = Field(default_factory=ReviewParams)
    calibration: CalibrationParams = Field(default_factory=CalibrationParams)


class EvalLeakageParams(_Strict):
    """`dedupe.eval_leakage`: the check against the protected eval set by meaning, stricter than within-synthetic dedupe.

    Each training text's `neighbours` nearest eval items by sentence-embedding cosine are verified by the char n-gram
    Jaccard of dedupe.shingle / dedupe.ngram (thresholds measured in benchmarks/leakage.py).
    """

    enabled: bool = True
    neighbours: int = Field(5, ge=1)
    jaccard: float = Field(0.45, gt=0.0, le=1.0)        # dedupe_eval_edit: Jaccard >= this with one of them
    cosine: float = Field(0.97, gt=0.0, le=1.0)         # dedupe_eval_semantic: cosine >= this ...
    cosine_jaccard: float = Field(0.1, ge=0.0, le=1.0)  # ... and Jaccard >= this


class DedupeParams(_Strict):
    threshold: float = Field(0.8, gt=0.0, le=1.0)
    num_perm: int = Field(128, ge=16)
    shingle: Literal["char", "word"] = "char"
    ngram: int = Field(5, ge=1)
    drop_near_seed: bool = True
    eval_leakage: EvalLeakageParams = Field(default_factory=EvalLeakageParams)

    @model_validator(mode="after")
    def _stricter(self) -> "DedupeParams":
        if self.eval_leakage.jaccard > self.threshold:
            raise ValueError("eval_leakage.jaccard must not exceed threshold (the eval check is the stricter one)")
        return self


class MixAutoParams(_Strict):
    """`mix.auto`: how synthetic_ratio auto picks the amount of synthetic data by cross-validation over the real seeds."""

    folds: int = Field(3, ge=2)  # folds over the seeds' groups (scenario_id); the protected eval set is never used
    grid: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0])  # shares of the synthetic rows, in priority order
    fallback_ratio: float = Field(0.6, ge=0.0, lt=1.0)  # task types without a cross-validation student mix at this ratio
    max_rows: int | None = Field(20000, ge=1)  # the synthetic rows the cross-validation weighs at most (the first in priority order); null: all

    @model_validator(mode="after")
    def _grid(self) -> "MixAutoParams":
        if not self.grid or any(not 0.0 <= g <= 1.0 for g in self.grid):
            raise ValueError("grid needs at least one share, each in [0, 1]")
        return self


class MixParams(_Strict):
    synthetic_ratio: float | Literal["auto"] = "auto"  # auto: chosen by cross-validation over the seeds (mix.auto)
    auto: MixAutoParams = Field(default_factory=MixAutoParams)

    @field_validator("synthetic_ratio", mode="wrap")
    @classmethod
    def _ratio(cls, value: Any, handler) -> float | str:
        if value == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number in [0, 1) or auto (got {clip(value)})")
        if not 0.0 <= value < 1.0:
            raise ValueError(f"must be at least 0 and less than 1 (or auto) (got {clip(value)})")
        return float(value)
    real_weight: float = Field(1.0, gt=0.0)
    synthetic_weight: float = Field(0.5, gt=0.0)
    label_cap: int | None = Field(None, ge=1)
    family_caps: dict[str, int] = Field(default_factory=dict)


class EvaluateParams(_Strict):
    # every student is trained on real-only and on the mix; the first one gives the headline metrics
    students: list[StudentName] = Field(default_factory=lambda: ["both", "tfidf_logreg", "embed_logreg"], min_length=1)
    C: float = Field(10.0, gt=0.0)
    min_slice_size: int = Field(5, ge=1)
    ratio_grid: list[float] = Field(default_factory=lambda: [0.0, 0.2, 0.4, 0.6])
    # when the mix scores below real-only on a headline metric of the protected eval set (the synthetic data hurt):
    # warn names the metrics on stderr and the report leads with it; fail also stops the stage (exit 2)
    on_negative_uplift: Literal["warn", "fail"] = "warn"

    @model_validator(mode="after")
    def _grid(self) -> "EvaluateParams":
        if not self.ratio_grid or any(not 0.0 <= r < 1.0 for r in self.ratio_grid):
            raise ValueError("ratio_grid needs at least one ratio, each in [0, 1)")
        if len(set(self.students)) != len(self.students):
            raise ValueError("students lists a student twice")
        return self


class MonitorParams(_Strict):
    top_archetypes: int = Field(10, ge=1)
    archetype_words: int = Field(3, ge=1)
    # by meaning (synthkit.semantic_monitor): production clusters the training mix covers, spread, per-label distances
    semantic: bool = True
    clusters: int = Field(20, ge=2)              # production clusters (fewer when production is small)
    min_cluster_size: int = Field(5, ge=1)       # production texts per cluster at least, on average
    coverage_quantile: float = Field(0.5, ge=0.0, le=1.0)  # covered: a training text as close to the centre as this quantile of members
    spread_sample: int = Field(2000, ge=2)       # texts sampled for the mean pairwise cosine distance


class LlmPrice(_Strict):
    """USD per one million tokens."""

    input: float = Field(ge=0.0)
    output: float = Field(ge=0.0)


class LlmParams(_Strict):
    """Where the OpenAI-compatible server is and how to reach it; the key itself only ever comes from the environment."""

    base_url: str | None = None  # None: the official OpenAI endpoint
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_s: float = Field(60.0, gt=0.0)
    max_retries: int = Field(4, ge=0)
    model: str = "gpt-4o-mini"
    temperature: float = Field(0.9, ge=0.0, le=2.0)
    max_concurrency: int = Field(8, ge=1)
    rpm: int | None = Field(None, ge=1)  # requests per minute; None: no client-side limit
    tpm: int | None = Field(None, ge=1)  # tokens per minute (estimated before sending, reconciled with usage)
    budget_usd: float | None = Field(None, ge=0.0)  # one budget for every LLM call of a pipeline run; None: no limit
    prices: dict[str, LlmPrice] = Field(default_factory=dict)  # model -> USD per 1M tokens
    batch: bool = False
    batch_poll_s: float = Field(10.0, gt=0.0)
    batch_price_factor: float = Field(0.5, ge=0.0)  # Batch API price as a share of the listed price
    retry_base_s: float = Field(1.0, ge=0.0)  # first backoff delay; doubles per retry, with jitter
    # a stage whose failed requests (after retries) pass this share of those it sent stops with one line naming the
    # server, the model and the first cause (exit 3); 1.0: never
    max_failure_rate: float = Field(0.2, ge=0.0, le=1.0)
    label_temperature: float = Field(0.0, ge=0.0, le=2.0)  # labelling (generate) and relabelling (LLM consistency)


class RayParams(_Strict):
    """`ray` in params.yaml: where engine: ray runs."""

    address: str | None = None  # None: RAY_ADDRESS if set, else a local Ray started for the stage
    num_cpus: int | None = Field(None, ge=1)  # CPUs of a locally started Ray (None: all)
    batch_size: int = Field(4096, ge=1)  # rows per Ray Data batch


class Params(_Strict):
    """The whole params.yaml."""

    seed: int = 13
    task: TaskParams = Field(default_factory=TaskParams)
    llm: LlmParams = Field(default_factory=LlmParams)
    prepare: PrepareParams = Field(default_factory=PrepareParams)
    generate: GenerateParams = Field(default_factory=GenerateParams)
    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    filter: FilterParams = Field(default_factory=FilterParams)
    dedupe: DedupeParams = Field(default_factory=DedupeParams)
    mix: MixParams = Field(default_factory=MixParams)
    evaluate: EvaluateParams = Field(default_factory=EvaluateParams)
    monitor: MonitorParams = Field(default_factory=MonitorParams)
    engine: Literal["local", "ray"] = "local"
    ray: RayParams = Field(default_factory=RayParams)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Load params.yaml; an unknown, mistyped or invalid key stops with the file and the key path."""
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise InputError(str(path), "expected a mapping at the top level")
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        loc, msg = validation_message(exc.errors()[0])
        raise InputError(str(path), msg, field=loc) from None
    return trace.params(params)

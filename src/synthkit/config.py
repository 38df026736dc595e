"""params.yaml as pydantic models: a typo is a clear error naming the key, never a KeyError deep inside."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthkit.errors import InputError
from synthkit.io import read_yaml
from synthkit.schemas import FAMILIES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskParams(_Strict):
    type: Literal["classification", "extraction", "rewrite", "summarization"] = "classification"


class Columns(_Strict):
    """Which column of an input file holds each field."""

    text: str = "text"
    label: str = "label"
    group: str = "group"
    slices: str = "slices"
    channel: str = "channel"


class PrepareParams(_Strict):
    columns: Columns = Field(default_factory=Columns)
    dev_fraction: float = Field(0.0, ge=0.0, lt=1.0)


class GenerateParams(_Strict):
    backend: Literal["template"] = "template"
    per_scenario: int = Field(40, ge=1)
    family_caps: dict[str, int] = Field(default_factory=dict)
    variation_per_seed: int = Field(2, ge=0)
    typo_rate: float = Field(0.06, ge=0.0, le=0.5)
    channels: list[str] = Field(default_factory=lambda: ["chat", "email", "ticket_subject", "call_transcript", "pasted_notes"])


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


class ToxicityParams(_Strict):
    enabled: bool = True
    threshold: float = Field(0.8, ge=0.0, le=1.0)


class ConsistencyParams(_Strict):
    enabled: bool = True
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    C: float = Field(10.0, gt=0.0)


class ReviewParams(_Strict):
    fraction: float = Field(0.05, ge=0.0, le=1.0)
    min_per_stratum: int = Field(0, ge=0)


class FilterParams(_Strict):
    pii: PiiParams = Field(default_factory=PiiParams)
    toxicity: ToxicityParams = Field(default_factory=ToxicityParams)
    consistency: ConsistencyParams = Field(default_factory=ConsistencyParams)
    review: ReviewParams = Field(default_factory=ReviewParams)


class DedupeParams(_Strict):
    threshold: float = Field(0.8, gt=0.0, le=1.0)
    num_perm: int = Field(128, ge=16)
    shingle: Literal["char", "word"] = "char"
    ngram: int = Field(5, ge=1)
    drop_near_seed: bool = True


class MixParams(_Strict):
    synthetic_ratio: float = Field(0.6, ge=0.0, lt=1.0)
    real_weight: float = Field(1.0, gt=0.0)
    synthetic_weight: float = Field(0.5, gt=0.0)
    label_cap: int | None = Field(None, ge=1)
    family_caps: dict[str, int] = Field(default_factory=dict)


class EvaluateParams(_Strict):
    student: Literal["tfidf_logreg"] = "tfidf_logreg"
    C: float = Field(10.0, gt=0.0)
    min_slice_size: int = Field(5, ge=1)


class MonitorParams(_Strict):
    top_archetypes: int = Field(10, ge=1)
    archetype_words: int = Field(3, ge=1)


class Params(_Strict):
    """The whole params.yaml."""

    seed: int = 13
    task: TaskParams = Field(default_factory=TaskParams)
    prepare: PrepareParams = Field(default_factory=PrepareParams)
    generate: GenerateParams = Field(default_factory=GenerateParams)
    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    filter: FilterParams = Field(default_factory=FilterParams)
    dedupe: DedupeParams = Field(default_factory=DedupeParams)
    mix: MixParams = Field(default_factory=MixParams)
    evaluate: EvaluateParams = Field(default_factory=EvaluateParams)
    monitor: MonitorParams = Field(default_factory=MonitorParams)


def _describe(err: dict) -> tuple[str, str]:
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return loc, "unknown key (check the spelling against the documented params)"
    return loc, err["msg"]


def load_params(path: str | Path = "params.yaml") -> Params:
    """Load params.yaml; an unknown, mistyped or invalid key stops with the file and the key path."""
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise InputError(str(path), "expected a mapping at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        loc, msg = _describe(exc.errors()[0])
        raise InputError(str(path), msg, field=loc) from None

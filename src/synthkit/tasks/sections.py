"""Spec sections of the non-classification task types (extraction, rewrite, summarization)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """One field of the extraction schema: a JSON-schema-like type, optional enum of allowed values."""

    type: Literal["number", "string", "date"]
    enum: list[str] | None = None
    description: str = ""


class ExtractionSpec(_Strict):
    """`extraction:` the fields to extract; template slots named like a field render that field's value.

    distractors: extra slots rendered like a field (slot -> field) but never extracted, e.g. a second
    amount or a date that is not the transaction date (hard negatives).
    currencies: currency code -> the ways a text may write it (symbol, code, word).
    """

    fields: dict[str, FieldSpec] = Field(min_length=1)
    required: list[str] = Field(default_factory=list)
    distractors: dict[str, str] = Field(default_factory=dict)
    currency_field: str | None = None
    currencies: dict[str, list[str]] = Field(default_factory=dict)
    date_order: Literal["dmy", "mdy"] = "dmy"

    @model_validator(mode="after")
    def _check(self) -> "ExtractionSpec":
        for name in self.required:
            if name not in self.fields:
                raise ValueError(f"required field {name!r} is not in fields")
        for slot, field in self.distractors.items():
            if field not in self.fields:
                raise ValueError(f"distractor {slot!r}: field {field!r} is not in fields")
        if self.currency_field is not None and self.currency_field not in self.fields:
            raise ValueError(f"currency_field {self.currency_field!r} is not in fields")
        return self


class RewriteSpec(_Strict):
    """`rewrite:` the target form every output must match, and the deterministic source variants.

    target_pattern: a regex the whole target must match.
    expansions: abbreviation -> canonical word ("st" -> "Street"); the generator abbreviates with them.
    source_ops: the variants the offline generator applies to a canonical target to make a source.
    """

    form: str
    target_pattern: str
    expansions: dict[str, str] = Field(default_factory=dict)
    source_ops: list[Literal["lower", "upper", "abbreviate", "drop_commas", "squash_postcode", "extra_spaces", "trailing_period"]] = Field(
        default_factory=lambda: ["lower", "abbreviate", "drop_commas", "squash_postcode"]
    )

    @model_validator(mode="after")
    def _check(self) -> "RewriteSpec":
        try:
            re.compile(self.target_pattern)
        except re.error as exc:
            raise ValueError(f"target_pattern: invalid regex: {exc}") from None
        return self


class QaPattern(_Strict):
    """A grounded question: when `pattern` matches a document sentence, `question` is filled from its named groups; group `answer` is the answer.

    Groups named lc_* start lower-case in the question ("Refunds are processed" -> "for refunds to be processed").
    """

    pattern: str
    question: str

    @model_validator(mode="after")
    def _check(self) -> "QaPattern":
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"qa pattern: invalid regex: {exc}") from None
        if "answer" not in compiled.groupindex:
            raise ValueError("qa pattern needs a named group (?P<answer>...)")
        return self


class SummarizationSpec(_Strict):
    """`summarization:` passages are windows of consecutive document sentences; summaries pick sentences from them."""

    summary_label: str = "summary"
    qa_label: str = "qa"
    window_sentences: list[int] = Field(default_factory=lambda: [3, 4, 5])
    summary_sentences: int = Field(2, ge=1)
    qa: list[QaPattern] = Field(default_factory=list)

"""The extraction type's spec section (`extraction:` the fields to extract) and params section (`task.extraction`: the student)."""

from __future__ import annotations

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


class ExtractionParams(_Strict):
    """`task.extraction`: the CRF extractor used as the student."""

    c1: float = Field(0.05, ge=0.0)  # L1 regularisation
    c2: float = Field(0.05, ge=0.0)  # L2 regularisation
    max_iterations: int = Field(100, ge=1)


SPEC_SECTION = ExtractionSpec
PARAMS_SECTION = ExtractionParams

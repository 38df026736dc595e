"""Structured answers: the pydantic models an LLM answer must satisfy, parsed totally (garbage -> a failure and a reason)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model


class Answer(BaseModel):
    """Base of every structured answer: unknown keys are a schema violation."""

    model_config = ConfigDict(extra="forbid")


class LabelChoice(Answer):
    """The answer to label.md and relabel.md: the label and the rule that decides it (the rationale kept on the row)."""

    label: str
    rule: str


def label_choice_schema(labels: list[str]) -> dict:
    """LabelChoice's JSON schema with `label` one of the spec's labels (an enum), for the servers that follow it; the
    answer is still parsed as LabelChoice, so a label outside the spec keeps its own reject reason."""
    choice = create_model("LabelChoice", __base__=LabelChoice, __doc__=LabelChoice.__doc__,
                          label=(Literal[tuple(labels)], ...))  # type: ignore[valid-type]
    return choice.model_json_schema()


def list_schema(model: type[Answer], field: str, count: int) -> dict:
    """model's JSON schema with its list `field` holding 1 to count items: the request asks for count, no more."""
    annotation = model.model_fields[field].annotation
    bounded = create_model(model.__name__, __base__=model, __doc__=model.__doc__,
                           **{field: (Annotated[annotation, Field(min_length=1, max_length=count)], ...)})  # type: ignore[call-overload]
    return bounded.model_json_schema()


def request_seed(seed: int, custom_id: str) -> int:
    """A stable per-request sampling seed derived from the global seed and the request's id."""
    return int(hashlib.sha256(f"{seed}:{custom_id}".encode()).hexdigest()[:8], 16)


def parse_result(result, model: type[BaseModel]) -> tuple[BaseModel | None, str | None, str]:
    """(object, None, "") for a valid answer, else (None, failure, detail) with failure one of
    malformed_json, schema_invalid, refused, request_failed, batch_failed, budget_exhausted."""
    if not result.ok:
        return None, result.error or "request_failed", result.detail or ""
    if not isinstance(result.data, dict):
        return None, "malformed_json", "the answer is not a JSON object"
    try:
        return model.model_validate(result.data), None, ""
    except ValidationError as exc:
        err = exc.errors()[0]
        return None, "schema_invalid", f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"

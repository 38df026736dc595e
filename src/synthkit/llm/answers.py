"""Structured answers: the pydantic models an LLM answer must satisfy, parsed totally (garbage -> a failure and a reason)."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, ValidationError


class Answer(BaseModel):
    """Base of every structured answer: unknown keys are a schema violation."""

    model_config = ConfigDict(extra="forbid")


class LabelChoice(Answer):
    """The answer to label.md and relabel.md."""

    label: str
    rule: str


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

"""The summarization type's spec section (`summarization:` passages, summaries, QA) and params section (`task.summarization`)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class SummarizationParams(_Strict):
    """`task.summarization`: the extractive student."""

    C: float = Field(1.0, gt=0.0)


SPEC_SECTION = SummarizationSpec
PARAMS_SECTION = SummarizationParams

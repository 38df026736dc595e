"""The rewrite type's spec section (`rewrite:` the target form) and params section (`task.rewrite`: the gate's bounds)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class RewriteParams(_Strict):
    """`task.rewrite`: bounds of the rewrite gate."""

    length_ratio: tuple[float, float] = (0.6, 1.8)  # len(target) / len(text) must fall inside

    @model_validator(mode="after")
    def _ratio(self) -> "RewriteParams":
        if not 0.0 < self.length_ratio[0] <= self.length_ratio[1]:
            raise ValueError("length_ratio must be (low, high) with 0 < low <= high")
        return self


SPEC_SECTION = RewriteSpec
PARAMS_SECTION = RewriteParams

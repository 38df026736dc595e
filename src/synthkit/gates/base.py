"""What every gate returns, and how verdicts split a frame into kept rows and rejects."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from synthkit.schemas import Example, Reject, conform


@dataclass(frozen=True)
class Verdict:
    """One row's outcome: reason is None to keep; text replaces the row's text when set (redaction)."""

    reason: str | None = None
    detail: str = ""
    text: str | None = None


KEEP = Verdict()


def split_verdicts(df: pl.DataFrame, verdicts: list[Verdict], gate: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply verdicts to a frame: (kept rows as Example, dropped rows as Reject with gate and reason)."""
    if len(verdicts) != df.height:
        raise ValueError(f"gate {gate}: {len(verdicts)} verdicts for {df.height} rows")
    for v in verdicts:
        if v.reason is not None and not v.reason.startswith(f"{gate}_"):
            raise ValueError(f"gate {gate}: reason {v.reason!r} must start with '{gate}_'")
    marked = df.with_columns(
        pl.Series("_reason", [v.reason for v in verdicts], dtype=pl.String),
        pl.Series("_detail", [v.detail for v in verdicts], dtype=pl.String),
        pl.Series("text", [v.text if v.text is not None else t for v, t in zip(verdicts, df["text"].to_list())], dtype=pl.String),
    )
    kept = conform(marked.filter(pl.col("_reason").is_null()), Example)
    rejects = conform(
        marked.filter(pl.col("_reason").is_not_null()).with_columns(
            pl.lit(gate).alias("gate"), pl.col("_reason").alias("reason"), pl.col("_detail").alias("detail")
        ),
        Reject,
    )
    return kept, rejects

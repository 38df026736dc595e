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


def map_gate(engine, frame: pl.DataFrame, local, batch) -> list[Verdict]:
    """Verdicts of a map-style gate on an engine (synthkit.engine): `local(frame)` when the engine runs in this
    process, else `batch` applied to each engine batch (rows travel as Arrow, verdicts come back in row order)."""
    if engine.in_process:
        return local(frame)
    from functools import partial

    from synthkit.engine import ROW

    out = engine.map_batches(frame.with_row_index(ROW).to_arrow(), partial(verdict_batch, gate=batch))
    return [Verdict(r, d or "", x) for r, d, x in zip(*(out.column(c).to_pylist() for c in ("reason", "detail", "text")))]


def verdict_batch(table, gate):
    """One engine batch: its rows' verdicts as an Arrow table keyed by row number."""
    import pyarrow as pa

    from synthkit.engine import ROW

    frame = pl.from_arrow(table)
    verdicts = gate(frame.drop(ROW))
    return pa.table(
        {
            ROW: table.column(ROW),
            "reason": pa.array([v.reason for v in verdicts], pa.string()),
            "detail": pa.array([v.detail for v in verdicts], pa.string()),
            "text": pa.array([v.text for v in verdicts], pa.string()),
        }
    )

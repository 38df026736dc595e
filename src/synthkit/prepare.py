"""Prepare: validate the real inputs, give them content-hash ids, and split by group so paraphrases never straddle splits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from synthkit.config import Columns
from synthkit.errors import InputError
from synthkit.io import read_records
from synthkit.schemas import (
    CHANNELS,
    Example,
    Generator,
    RawLabeled,
    RawUnlabeled,
    content_id,
    rows_to_frame,
)

SLICE_SEPARATOR = ";"


def _real_row(text: str, label: str | None, split: str, group: str | None, slices: list[str], channel: str | None, target: str | None = None) -> Example:
    ex_id = content_id("real", text, label) if target is None else content_id("real", text, label, target)
    return Example(
        id=ex_id, text=text, label=label, target=target, source="real", scenario_id=group or f"row_{ex_id}", family="real",
        channel=channel if channel in CHANNELS else "unknown", split=split, slices=slices,
        generator=Generator(backend="human"),
    )


def load_labeled(
    path: str | Path, split: str, columns: Columns, labels: list[str], target_check: Callable[[str | None], str | None] | None = None
) -> tuple[pl.DataFrame, int]:
    """Read a labeled file into Example rows; a label not in the spec names its file, row and field.

    target_check (extraction, rewrite, summarization) returns the canonical target or raises ValueError,
    reported with the file, row and target column.

    Returns the frame (unique by id, sorted) and the number of exact duplicate rows collapsed.
    """
    mapping = columns.model_dump()
    allowed = set(labels)
    rows: dict[str, Example] = {}
    records = read_records(path, RawLabeled, mapping)
    for rowno, rec in records:
        if rec.label not in allowed:
            raise InputError(str(path), f"label {rec.label!r} is not in the spec", row=rowno, field=columns.label)
        slices = sorted({s.strip() for s in (rec.slices or "").split(SLICE_SEPARATOR) if s.strip()})
        target = None
        if target_check is not None:
            try:
                target = target_check(rec.target or None)
            except ValueError as exc:
                raise InputError(str(path), str(exc), row=rowno, field=columns.target) from None
        ex = _real_row(rec.text, rec.label, split, rec.group, slices, rec.channel, target)
        rows.setdefault(ex.id, ex)
    return rows_to_frame(rows.values(), Example).sort("id"), len(records) - len(rows)


def load_unlabeled(path: str | Path, columns: Columns, split: str = "production") -> pl.DataFrame:
    """Read an unlabeled file (a production sample, an unlabeled pool) into Example rows of the given split."""
    rows: dict[str, Example] = {}
    for _, rec in read_records(path, RawUnlabeled, {"text": columns.text, "channel": columns.channel}):
        ex = _real_row(rec.text, None, split, None, [], rec.channel)
        rows.setdefault(ex.id, ex)
    return rows_to_frame(rows.values(), Example).sort("id")


def split_by_group(df: pl.DataFrame, fraction: float, seed: int, name: str) -> pl.DataFrame:
    """Move whole groups (scenario_id) to split `name` until about `fraction` of rows are there; deterministic."""
    if fraction <= 0 or df.is_empty():
        return df
    ranked = df.select("scenario_id").unique().with_columns(pl.col("scenario_id").hash(seed=seed).alias("_h")).sort("_h", "scenario_id")
    sizes = df.group_by("scenario_id").len()
    ranked = ranked.join(sizes, on="scenario_id").sort("_h", "scenario_id").with_columns(pl.col("len").cum_sum().alias("_cum"))
    chosen = ranked.filter(pl.col("_cum") <= round(fraction * df.height))["scenario_id"]
    return df.with_columns(pl.when(pl.col("scenario_id").is_in(chosen.implode())).then(pl.lit(name)).otherwise(pl.col("split")).alias("split"))


def check_disjoint_groups(seeds: pl.DataFrame, eval_: pl.DataFrame, eval_path: str) -> None:
    """Stop when a paraphrase group has rows in both the seeds and the protected eval set."""
    explicit = pl.col("scenario_id").str.starts_with("row_").not_()
    shared = sorted(set(seeds.filter(explicit)["scenario_id"].to_list()) & set(eval_.filter(explicit)["scenario_id"].to_list()))
    if shared:
        raise InputError(eval_path, f"group {shared[0]!r} also appears in the seeds ({len(shared)} shared groups); paraphrases must not straddle splits", field="group")

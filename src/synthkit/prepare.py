"""Prepare: validate the real inputs, give them content-hash ids, and split by group so paraphrases never straddle splits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from synthkit.config import Columns, PrepareParams
from synthkit.errors import InputError, clip
from synthkit.io import read_records
from synthkit.schemas import CHANNELS, Example, Generator, RawLabeled, RawUnlabeled, content_id, rows_to_frame
from synthkit.textnorm import normalize_text

SLICE_SEPARATOR = ";"


def _real_row(text: str, label: str | None, split: str, group: str | None, slices: list[str], channel: str | None, target: str | None = None) -> Example:
    ex_id = content_id("real", text, label) if target is None else content_id("real", text, label, target)
    return Example(
        id=ex_id, text=text, label=label, target=target, source="real", scenario_id=group or f"row_{ex_id}", family="real",
        channel=channel if channel in CHANNELS else "unknown", split=split, slices=slices,
        generator=Generator(backend="human"),
    )


class Loaded(NamedTuple):
    """A labeled input file as Example rows, with what was taken out on the way."""

    frame: pl.DataFrame  # unique by id, sorted by id
    duplicates: int  # exact duplicate rows collapsed
    conflicts: int  # rows removed by the prepare.conflicts policy (0 under "error")


def _settings(columns: Columns | PrepareParams) -> PrepareParams:
    return columns if isinstance(columns, PrepareParams) else PrepareParams(columns=columns)


def label_clashes(rows: list[tuple[int, Any]]) -> dict[str, list[tuple[int, str]]]:
    """Normalised text -> its (row, label) pairs in row order, for texts that carry more than one label (rows: (row
    number, anything with .text and .label)). Texts that normalise to nothing are left alone."""
    seen: dict[str, list[tuple[int, str]]] = {}
    for rowno, ex in rows:
        norm = normalize_text(ex.text)
        if norm:
            seen.setdefault(norm, []).append((rowno, ex.label))
    return {norm: pairs for norm, pairs in seen.items() if len({lab for _, lab in pairs}) > 1}


def first_clash(clashes: dict[str, list[tuple[int, str]]]) -> tuple[int, str, int, str] | None:
    """(row, label, first row, its label) of the earliest row whose label contradicts its text's first row."""
    found = [
        next((row, lab, pairs[0][0], pairs[0][1]) for row, lab in pairs if lab != pairs[0][1]) for pairs in clashes.values()
    ]
    return min(found, default=None)


def resolve_conflicts(path: str | Path, rows: list[tuple[int, Example]], policy: str, label_field: str) -> list[tuple[int, Example]]:
    """Apply the conflicts policy to rows whose normalised text carries more than one label.

    error: stop, naming the first row and the row that contradicts it; drop: remove every row of such a text;
    first: keep the rows with the label of the text's first row. Texts that normalise to nothing are left alone.
    """
    clashes = label_clashes(rows)
    if not clashes:
        return rows
    if policy == "error":
        rowno, label, row0, label0 = first_clash(clashes)
        raise InputError(
            str(path), f"same text as row {row0} (after normalising case, spacing and punctuation) but label {clip(label)} "
            f"instead of {clip(label0)}; fix one, or set prepare.conflicts to drop or first", row=rowno, field=label_field,
        )
    bad = {row for pairs in clashes.values() for row, _ in pairs}
    if policy == "drop":
        return [row for row in rows if row[0] not in bad]
    keep = {row for pairs in clashes.values() for row, lab in pairs if lab == pairs[0][1]}
    return [row for row in rows if row[0] not in bad or row[0] in keep]


def load_labeled(
    path: str | Path, split: str, columns: Columns | PrepareParams, labels: list[str],
    target_check: Callable[[str | None], str | None] | None = None,
) -> Loaded:
    """Read a labeled file into Example rows; a label not in the spec names its file, row and field.

    columns: the column mapping, or the whole prepare section (columns, encoding, conflicts policy).
    target_check (extraction, rewrite, summarization) returns the canonical target or raises ValueError,
    reported with the file, row and target column.
    """
    settings = _settings(columns)
    columns = settings.columns
    allowed = set(labels)
    examples: list[tuple[int, Example]] = []
    records = read_records(path, RawLabeled, columns.model_dump(), encoding=settings.encoding)
    for rowno, rec in records:
        if rec.label not in allowed:
            raise InputError(str(path), f"label {clip(rec.label)} is not in the spec", row=rowno, field=columns.label)
        slices = sorted({s.strip() for s in (rec.slices or "").split(SLICE_SEPARATOR) if s.strip()})
        target = None
        if target_check is not None:
            try:
                target = target_check(rec.target or None)
            except ValueError as exc:
                raise InputError(str(path), str(exc), row=rowno, field=columns.target) from None
        examples.append((rowno, _real_row(rec.text, rec.label, split, rec.group, slices, rec.channel, target)))
    kept = resolve_conflicts(path, examples, settings.conflicts, columns.label)
    rows: dict[str, Example] = {}
    for _, ex in kept:
        rows.setdefault(ex.id, ex)
    frame = rows_to_frame(rows.values(), Example).sort("id")
    return Loaded(frame, len(kept) - len(rows), len(examples) - len(kept))


def load_unlabeled(path: str | Path, columns: Columns | PrepareParams, split: str = "production") -> pl.DataFrame:
    """Read an unlabeled file (a production sample, an unlabeled pool) into Example rows of the given split."""
    settings = _settings(columns)
    mapping = {"text": settings.columns.text, "channel": settings.columns.channel}
    rows: dict[str, Example] = {}
    for _, rec in read_records(path, RawUnlabeled, mapping, encoding=settings.encoding):
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

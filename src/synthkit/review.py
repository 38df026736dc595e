"""The human review loop: a stratified sample out, decisions (accept, reject, relabel) back in on every rerun."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from synthkit.config import ReviewParams
from synthkit.errors import InputError
from synthkit.gates.base import KEEP, Verdict
from synthkit.io import read_records, write_csv, write_json, write_text
from synthkit.schemas import label_confidence

REVIEW_COLUMNS = ["id", "label", "family", "channel", "outcome", "text", "scenario", "rationale", "confidence", "decision", "new_label", "note"]
# what a reviewer sees of a row: LLM rows also show their scenario and label rationale, pseudo-labels their teacher's
# confidence (blank for rows labelled by construction)
SHOWN = REVIEW_COLUMNS[:9]


class Decision(BaseModel):
    """One human decision from data/review/decisions.csv."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1)
    decision: str = Field(pattern=r"^(accept|reject|relabel)$")
    new_label: str | None = None
    note: str | None = None


def load_decisions(path: str | Path, labels: list[str]) -> dict[str, Decision]:
    """Read decisions; a relabel to a label not in the spec names the file, row and field."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}
    out: dict[str, Decision] = {}
    for rowno, dec in read_records(path, Decision, allow_empty=True):
        if dec.decision == "relabel" and dec.new_label not in labels:
            raise InputError(str(path), f"new_label {dec.new_label!r} is not in the spec", row=rowno, field="new_label")
        out[dec.id] = dec
    return out


def apply_decisions(df: pl.DataFrame, decisions: dict[str, Decision]) -> pl.DataFrame:
    """Relabel rows a human relabeled and record every decision in the row's `review` column."""
    if not decisions:
        return df
    labels, reviews = [], []
    for ex_id, label, review in zip(df["id"].to_list(), df["label"].to_list(), df["review"].to_list()):
        dec = decisions.get(ex_id)
        if dec is None:
            labels.append(label), reviews.append(review)
            continue
        note = f": {dec.note}" if dec.note else ""
        reviews.append(f"{dec.decision}{' ' + label + '->' + dec.new_label if dec.decision == 'relabel' else ''}{note}")
        labels.append(dec.new_label if dec.decision == "relabel" else label)
    return df.with_columns(pl.Series("label", labels, dtype=pl.String), pl.Series("review", reviews, dtype=pl.String))


def gate_review(ids: list[str], decisions: dict[str, Decision]) -> list[Verdict]:
    """Drop the rows a human rejected, with their note as the detail."""
    return [
        Verdict("review_rejected", decisions[i].note or "") if i in decisions and decisions[i].decision == "reject" else KEEP
        for i in ids
    ]


def decision_counts(decisions: dict[str, Decision], present_ids: set[str]) -> dict[str, int]:
    """How many decisions of each kind there are, and how many name a row that no longer exists."""
    counts = {"accept": 0, "reject": 0, "relabel": 0, "stale": 0}
    for ex_id, dec in decisions.items():
        counts[dec.decision] += 1
        counts["stale"] += ex_id not in present_ids
    return counts


def to_labelstudio(sample: pl.DataFrame) -> list[dict]:
    """The sample as Label Studio import tasks (one {"data": {...}} object per row)."""
    return [{"data": row} for row in sample.select(SHOWN).to_dicts()]


def review_sample(kept: pl.DataFrame, rejects: pl.DataFrame, params: ReviewParams, seed: int) -> pl.DataFrame:
    """A stratified sample over label x family x gate outcome, `fraction` of each stratum (at least min_per_stratum).

    Within a stratum rows come in a seeded order; with params.order least_confident, the least confident
    pseudo-labels come first (a wrong pseudo-label is most often a low-confidence one, and it teaches the student
    its own mistake), rows labelled by construction after them in the seeded order.
    """
    frames = [kept.with_columns(pl.lit("kept").alias("outcome"))]
    if rejects.height:
        frames.append(rejects.with_columns(pl.col("reason").alias("outcome")))
    cols = ["id", "label", "family", "channel", "outcome", "text"]
    pool = pl.concat([f.select(*cols, *_provenance(f), _shown_confidence(f), label_confidence(f.columns).alias("_conf")) for f in frames])
    if pool.is_empty() or params.fraction == 0:
        return pool.head(0).drop("_conf").with_columns(pl.lit("").alias(c) for c in ("decision", "new_label", "note"))
    ranked = pool.with_columns(pl.col("id").hash(seed=seed).alias("_h"))
    ranked = ranked.sort("_conf", "_h") if params.order == "least_confident" else ranked.sort("_h")
    ranked = ranked.drop("_conf")
    ranked = ranked.with_columns(
        pl.int_range(pl.len()).over("label", "family", "outcome").alias("_n"),
        pl.len().over("label", "family", "outcome").alias("_size"),
    )
    quota = pl.max_horizontal((pl.col("_size") * params.fraction).ceil().cast(pl.Int64), pl.lit(params.min_per_stratum))
    sample = ranked.filter(pl.col("_n") < quota).drop("_h", "_n", "_size")
    return sample.sort("label", "family", "outcome", "id").with_columns(pl.lit("").alias(c) for c in ("decision", "new_label", "note"))


def _shown_confidence(frame: pl.DataFrame) -> pl.Expr:
    """A pseudo-label's teacher confidence, rounded for a reviewer; null for rows labelled by construction."""
    if "confidence" not in frame.columns:
        return pl.lit(None, dtype=pl.Float64).alias("confidence")
    return pl.col("confidence").cast(pl.Float64).round(3).alias("confidence")


def _provenance(frame: pl.DataFrame) -> list[pl.Expr]:
    """The scenario and rationale columns of a frame's rows (null where it has no provenance)."""
    if "provenance" not in frame.columns:
        return [pl.lit(None, dtype=pl.String).alias(c) for c in ("scenario", "rationale")]
    return [pl.col("provenance").struct.field(c).alias(c) for c in ("scenario", "rationale")]


def write_review_sample(sample: pl.DataFrame, folder: str | Path) -> None:
    """The sample as sample.csv (for a spreadsheet), sample.jsonl (one flat record per line: Argilla, Hugging Face
    datasets) and sample.labelstudio.json (a Label Studio task list)."""
    import json

    write_csv(sample.select(REVIEW_COLUMNS), f"{folder}/sample.csv")
    write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample.select(SHOWN).to_dicts()), f"{folder}/sample.jsonl")
    write_json(to_labelstudio(sample), f"{folder}/sample.labelstudio.json")

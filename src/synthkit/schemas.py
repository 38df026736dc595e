"""Row models of every artifact; Parquet schemas are derived from them, never written by hand."""

from __future__ import annotations

import hashlib
import types
import typing
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

FAMILIES = ("typical", "short", "long", "messy", "multilingual", "ambiguous", "hard_negative")
CHANNELS = ("chat", "email", "ticket_subject", "call_transcript", "pasted_notes")


class Generator(BaseModel):
    """How a row came to be: backend, model, temperature and the hash of the prompt/template."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    model: str | None = None
    temperature: float | None = None
    prompt_hash: str | None = None


class Provenance(BaseModel):
    """What an LLM was paid to write on the way to a row: the scenario it came from and the rationale of its label."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | None = None
    rationale: str | None = None  # the rule the labelling answer quoted


class Example(BaseModel):
    """One labeled example, real or synthetic; the common columns of every artifact."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    label: str | None = None
    target: str | None = None
    source: Literal["real", "synthetic"]
    scenario_id: str
    family: str
    channel: str
    split: str
    slices: list[str] = Field(default_factory=list)
    generator: Generator
    parent_ids: list[str] = Field(default_factory=list)
    confidence: float | None = None
    round: int = 0
    review: str | None = None
    weight: float = 1.0
    provenance: Provenance | None = None  # LLM rows: the scenario text and the label rationale


class Reject(Example):
    """An example a gate dropped, with the gate and a snake_case reason prefixed by the gate."""

    gate: str
    reason: str
    detail: str = ""


class RawLabeled(BaseModel):
    """One row of a real labeled input file (seeds, protected eval)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    text: str = Field(min_length=1)
    label: str = Field(min_length=1)
    group: str | None = None
    slices: str | None = None
    channel: str | None = None
    target: str | None = None  # extraction / rewrite / summarization: the expected output (empty: none)


class RawUnlabeled(BaseModel):
    """One row of an unlabeled real input file (production sample)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    text: str = Field(min_length=1)
    channel: str | None = None


_SCALARS: dict[type, pl.DataType] = {str: pl.String(), float: pl.Float64(), int: pl.Int64(), bool: pl.Boolean()}


def _dtype(annotation: object) -> pl.DataType:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return _dtype(args[0])
    if origin is Literal:
        return _dtype(type(args[0]))
    if origin is list:
        return pl.List(_dtype(args[0]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pl.Struct({n: _dtype(f.annotation) for n, f in annotation.model_fields.items()})
    return _SCALARS[annotation]  # type: ignore[index]


def polars_schema(model: type[BaseModel]) -> pl.Schema:
    """The Parquet/polars schema of a row model, field order preserved."""
    return pl.Schema({name: _dtype(f.annotation) for name, f in model.model_fields.items()})


def rows_to_frame(rows: typing.Iterable[BaseModel | dict], model: type[BaseModel]) -> pl.DataFrame:
    """Build a frame with the model's schema from validated rows or plain dicts."""
    dicts = [r.model_dump() if isinstance(r, BaseModel) else r for r in rows]
    return pl.DataFrame(dicts, schema=polars_schema(model))


def conform(df: pl.DataFrame, model: type[BaseModel]) -> pl.DataFrame:
    """Select and cast a frame to exactly the model's columns; missing optional columns get defaults."""
    schema = polars_schema(model)
    exprs = []
    for name, dtype in schema.items():
        if name in df.columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            field = model.model_fields[name]
            if field.is_required():
                raise KeyError(f"missing column {name!r} required by {model.__name__}")
            default = field.get_default(call_default_factory=True)
            exprs.append(pl.lit(default, dtype=dtype).alias(name))
    return df.select(exprs)


def label_confidence(columns: typing.Iterable[str]) -> pl.Expr:
    """A row's label confidence as a Float64 expression: a pseudo-label's teacher probability; rows labelled by
    construction (null confidence, or a frame without the column) count as 1."""
    return pl.col("confidence").cast(pl.Float64).fill_null(1.0) if "confidence" in columns else pl.lit(1.0, dtype=pl.Float64)


def content_id(*parts: str | None) -> str:
    """A stable 16-hex-digit content hash of the given parts."""
    h = hashlib.sha256()
    for p in parts:
        h.update((p or "").encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]

"""Reading inputs with clear errors and writing artifacts atomically and deterministically."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import yaml
from pydantic import BaseModel, ValidationError

from synthkit.errors import InputError


def _atomic(path: str | Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pl.DataFrame, path: str | Path) -> None:
    """Write a frame to Parquet atomically with settings that give byte-identical files for equal frames."""
    _atomic(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=False, row_group_size=100_000))


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON atomically with sorted keys and a trailing newline."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_text(text: str, path: str | Path) -> None:
    """Write a text file atomically."""
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_csv(df: pl.DataFrame, path: str | Path) -> None:
    """Write a frame to CSV atomically."""
    _atomic(path, lambda tmp: df.write_csv(tmp))


def read_parquet(path: str | Path) -> pl.DataFrame:
    """Read an artifact, naming the file when it is missing or unreadable."""
    try:
        return pl.read_parquet(path)
    except (FileNotFoundError, OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(str(path), f"cannot read Parquet artifact ({exc.__class__.__name__})") from None


def count_rows(path: str | Path) -> int:
    """Rows of a Parquet artifact, from its metadata (the data is not read)."""
    return pl.scan_parquet(path).select(pl.len()).collect().item()


def read_yaml(path: str | Path) -> Any:
    """Load a YAML file, reporting syntax errors with their line."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark else None
        raise InputError(str(path), f"invalid YAML: {getattr(exc, 'problem', exc)}", row=row) from None


def _iter_records(path: Path, columns: dict[str, str] | None) -> Iterator[tuple[int, dict]]:
    """Yield (row number, record) from CSV, JSONL or Parquet; CSV rows count from 2 (after the header)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(str(path), "empty file, expected a header row") from None
            except csv.Error as exc:
                raise InputError(str(path), f"malformed CSV: {exc}", row=1) from None
            rowno = 1
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise InputError(str(path), f"malformed CSV: {exc}", row=reader.line_num) from None
                rowno += 1
                if not values:
                    continue
                if len(values) != len(header):
                    raise InputError(str(path), f"malformed CSV: expected {len(header)} fields, found {len(values)}", row=rowno)
                yield rowno, dict(zip(header, values))
    elif suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as fh:
            for rowno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(str(path), f"malformed JSON: {exc.msg}", row=rowno) from None
                if not isinstance(rec, dict):
                    raise InputError(str(path), "expected a JSON object per line", row=rowno)
                yield rowno, rec
    elif suffix == ".parquet":
        for rowno, rec in enumerate(read_parquet(path).iter_rows(named=True), start=1):
            yield rowno, rec
    else:
        raise InputError(str(path), f"unsupported file type {suffix!r} (use .csv, .jsonl or .parquet)")


def read_records(
    path: str | Path, model: type[BaseModel], columns: dict[str, str] | None = None, allow_empty: bool = False
) -> list[tuple[int, BaseModel]]:
    """Read and validate every row of a CSV/JSONL/Parquet input file into `model`.

    Args:
        path: the input file.
        model: the pydantic row model each record must satisfy.
        columns: optional mapping from model field to the file's column name.
        allow_empty: return [] for a file with a header and no rows instead of stopping.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    columns = columns or {}
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    out: list[tuple[int, BaseModel]] = []
    for rowno, rec in _iter_records(path, columns):
        mapped = {name: rec.get(columns.get(name, name)) for name in model.model_fields if columns.get(name, name) in rec}
        for name in required:
            if name not in mapped:
                raise InputError(str(path), "missing column", row=rowno, field=columns.get(name, name))
        try:
            out.append((rowno, model.model_validate(mapped)))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = columns.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else None
            msg = "empty text" if err["type"] == "string_too_short" else err["msg"].lower()
            raise InputError(str(path), msg, row=rowno, field=field) from None
    if not out and not allow_empty:
        raise InputError(str(path), "no rows")
    return out

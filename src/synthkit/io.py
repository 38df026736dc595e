"""Reading inputs with clear errors and writing artifacts atomically and deterministically."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import yaml
from pydantic import BaseModel, ValidationError

from synthkit.errors import InputError, clip


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last one silently)."""


class _DuplicateKey(Exception):
    def __init__(self, key: object, first: int, again: int):
        self.key, self.first, self.again = key, first, again


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with `<<:` may be overridden on purpose
        key, line = loader.construct_object(key_node, deep=deep), key_node.start_mark.line + 1
        try:
            if key in seen:
                raise _DuplicateKey(key, seen[key], line)
            seen[key] = line
        except TypeError:
            continue  # an unhashable key: construct_mapping reports it
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_yaml(path: str | Path) -> Any:
    """Load a YAML file, reporting syntax errors with their line and a key given twice with both lines."""
    path = Path(path)
    try:
        text = _decode(path, _read_bytes(path), DEFAULT_ENCODING, csv_rows=False, hint="save it as UTF-8")
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as dup:
        raise InputError(str(path), f"key {clip(dup.key)} given twice (lines {dup.first} and {dup.again})", row=dup.again) from None
    except yaml.reader.ReaderError as exc:
        row = text.count("\n", 0, exc.position) + 1
        raise InputError(str(path), f"invalid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})", row=row) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark else None
        raise InputError(str(path), f"invalid YAML: {getattr(exc, 'problem', None) or exc}", row=row) from None


# control characters no text may hold (tab, newline and carriage return are fine); C1 controls included
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# letters that render as blank space (fillers, the braille blank) although their category says otherwise
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# controls, format characters (zero-width space, joiners, marks), separators, and combining marks on their own
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_SURROGATE = re.compile(r"[\ud800-\udfff]")
DEFAULT_ENCODING = "utf-8"


def has_visible_char(text: str) -> bool:
    """Whether any character of the text renders as a mark (zero-width spaces, joiners, fillers and whitespace do not)."""
    return any(
        not ch.isspace() and ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES for ch in text
    )


def check_text_value(value: str) -> str | None:
    """Why a text cell is unusable (a control character, nothing visible), or None when it is fine."""
    bad = _CONTROL.search(value)
    if bad:
        name = "NUL" if bad.group() == "\0" else f"U+{ord(bad.group()):04X}"
        return f"control character {name} at character {bad.start() + 1}"
    lone = _SURROGATE.search(value)
    if lone:
        return f"lone surrogate U+{ord(lone.group()):04X} at character {lone.start() + 1} (not a character)"
    if value.strip() and not has_visible_char(value):
        return "no visible character (only spaces, zero-width or format characters)"
    return None


def _read_bytes(path: Path) -> bytes:
    """The bytes of an input file; a directory, a missing or an unreadable file is one clear error."""
    if path.is_dir():
        raise InputError(str(path), "is a directory, expected a file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except PermissionError:
        raise InputError(str(path), "cannot read the file (permission denied)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({exc.strerror or exc.__class__.__name__})") from None


def _csv_row_at(prefix: str) -> int:
    """The CSV row (header = 1, blank lines counted) that the text after `prefix` belongs to."""
    try:
        return sum(1 for _ in csv.reader(io.StringIO(prefix + "x")))
    except csv.Error:
        return prefix.count("\n") + 1


def _decode(path: Path, raw: bytes, encoding: str, csv_rows: bool, hint: str = "") -> str:
    """Decode an input file; a UTF-8 byte-order mark is dropped; an undecodable byte names its row and offset."""
    if codecs.lookup(encoding).name == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode(encoding, errors="replace")
        row = _csv_row_at(prefix) if csv_rows else prefix.count("\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        hint = hint or "set prepare.encoding to the file's encoding (e.g. cp1252, latin-1, utf-16)"
        raise InputError(str(path), f"not valid {encoding} at byte offset {exc.start} (0x{byte}); {hint}", row=row) from None


def _check_header(path: Path, header: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen and name.strip():
            raise InputError(str(path), f"duplicate column name (columns {seen[name]} and {i})", row=1, field=name)
        seen.setdefault(name, i)


def _unique_keys(path: Path, rowno: int):
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise InputError(str(path), "duplicate key in one JSON object", row=rowno, field=key)
            out[key] = value
        return out

    return hook


def _iter_records(path: Path, columns: dict[str, str] | None, encoding: str = DEFAULT_ENCODING) -> Iterator[tuple[int, dict]]:
    """Yield (row number, record) from CSV, JSONL or Parquet; CSV rows count from 2 (after the header)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise InputError(str(path), "is a directory, expected a file")
    if suffix not in (".csv", ".jsonl", ".ndjson", ".parquet"):
        raise InputError(str(path), f"unsupported file type {suffix!r} (use .csv, .jsonl or .parquet)")
    if suffix == ".parquet":
        for rowno, rec in enumerate(read_parquet(path).iter_rows(named=True), start=1):
            yield rowno, rec
        return
    text = _decode(path, _read_bytes(path), encoding, csv_rows=suffix == ".csv")
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(str(path), "empty file, expected a header row") from None
        except csv.Error as exc:
            raise InputError(str(path), f"malformed CSV: {exc}", row=1) from None
        _check_header(path, header)
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
    else:
        for rowno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line, object_pairs_hook=_unique_keys(path, rowno))
            except json.JSONDecodeError as exc:
                raise InputError(str(path), f"malformed JSON: {exc.msg}", row=rowno) from None
            if not isinstance(rec, dict):
                raise InputError(str(path), "expected a JSON object per line", row=rowno)
            yield rowno, rec


def read_records(
    path: str | Path, model: type[BaseModel], columns: dict[str, str] | None = None, allow_empty: bool = False,
    encoding: str = DEFAULT_ENCODING,
) -> list[tuple[int, BaseModel]]:
    """Read and validate every row of a CSV/JSONL/Parquet input file into `model`.

    Args:
        path: the input file.
        model: the pydantic row model each record must satisfy.
        columns: optional mapping from model field to the file's column name.
        allow_empty: return [] for a file with a header and no rows instead of stopping.
        encoding: the text encoding of a CSV or JSONL file (a UTF-8 byte-order mark is always dropped).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found")
    columns = columns or {}
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    out: list[tuple[int, BaseModel]] = []
    for rowno, rec in _iter_records(path, columns, encoding):
        mapped = {name: rec.get(columns.get(name, name)) for name in model.model_fields if columns.get(name, name) in rec}
        for name in required:
            if name not in mapped:
                raise InputError(str(path), "missing column", row=rowno, field=columns.get(name, name))
        for name, value in mapped.items():
            problem = check_text_value(value) if isinstance(value, str) else None
            if problem:
                raise InputError(str(path), problem, row=rowno, field=columns.get(name, name))
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

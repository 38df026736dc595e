"""Read-only DuckDB over every artifact: each Parquet file is a view named after it (train, candidates, rejects, ...).

The connection can read the artifacts and nothing else: each view is a polars scan of its file handed to DuckDB, then
DuckDB's file system access is switched off (`enable_external_access = false`) and its configuration locked, so no
statement can read, write, attach or export a file. `check_read_only` lets only SELECT statements (SHOW, DESCRIBE,
SUMMARIZE and FROM-first queries included) reach the connection, as DuckDB's own parser classifies them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from synthkit.errors import one_line

# view name -> path (relative to the project root); 'rejects' is the union of every data/rejects/*.parquet
ARTIFACTS = {
    "seeds": "data/prepared/seeds.parquet",
    "eval": "data/prepared/eval.parquet",
    "production": "data/prepared/production.parquet",
    "candidates": "data/candidates.parquet",
    "validated": "data/validated.parquet",
    "filtered": "data/filtered.parquet",
    "deduped": "data/deduped.parquet",
    "train": "data/train.parquet",
}
ALLOWED_STATEMENTS = (duckdb.StatementType.SELECT,)


class QueryRefused(Exception):
    """A statement the read-only query command does not run (it would write, or it is not a query)."""


def artifact_files(root: str | Path = ".") -> dict[str, Path]:
    """View name -> Parquet file for every artifact present under root (rejects_<stage> per reject file)."""
    root = Path(root)
    files = {name: root / rel for name, rel in ARTIFACTS.items() if (root / rel).is_file()}
    files.update({f"rejects_{p.stem}": p for p in sorted((root / "data/rejects").glob("*.parquet")) if p.is_file()})
    return files


def connect(root: str | Path = ".") -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """An in-memory DuckDB connection with a view per artifact that exists and no file access; returns it and the view names."""
    con = duckdb.connect()
    files = artifact_files(root)
    for name, path in files.items():
        try:
            pl.read_parquet_schema(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise QueryRefused(f"{path}: cannot read the artifact ({exc.__class__.__name__}: {one_line(str(exc), 120)})") from None
        con.register(name, pl.scan_parquet(path))
    views = list(files)
    rejects = [v for v in views if v.startswith("rejects_")]
    if rejects:
        con.execute("create view rejects as " + " union all by name ".join(f"select * from {v}" for v in rejects))
        views.append("rejects")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con, views


def check_read_only(sql: str) -> None:
    """Refuse anything but SELECT statements (COPY, CREATE, INSERT, UPDATE, DELETE, ATTACH, EXPORT, SET, PRAGMA, CALL, ...)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"cannot parse the query: {str(exc).splitlines()[0]}") from None
    if not statements:
        raise QueryRefused("empty query")
    for st in statements:
        if st.type not in ALLOWED_STATEMENTS:
            raise QueryRefused(
                f"read-only: {st.type.name} statements are not run; only SELECT (and SHOW, DESCRIBE, SUMMARIZE) over the views"
            )

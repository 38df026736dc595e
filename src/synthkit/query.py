"""DuckDB over every artifact: each Parquet file is a view named after it (train, candidates, rejects, ...)."""

from __future__ import annotations

from pathlib import Path

import duckdb

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


def connect(root: str | Path = ".") -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """An in-memory DuckDB connection with a view per artifact that exists; returns it and the view names."""
    root = Path(root)
    con = duckdb.connect()
    views = []
    for name, rel in ARTIFACTS.items():
        path = root / rel
        if path.exists():
            con.execute(f"create view {name} as select * from read_parquet('{path.as_posix()}')")
            views.append(name)
    rejects = sorted((root / "data/rejects").glob("*.parquet"))
    for path in rejects:
        con.execute(f"create view rejects_{path.stem} as select * from read_parquet('{path.as_posix()}')")
        views.append(f"rejects_{path.stem}")
    if rejects:
        files = ", ".join(f"'{p.as_posix()}'" for p in rejects)
        con.execute(f"create view rejects as select * from read_parquet([{files}], union_by_name = true)")
        views.append("rejects")
    return con, views

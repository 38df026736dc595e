"""The `synthkit` command: query the artifacts with SQL."""

from __future__ import annotations

import json
import sys

import duckdb
import typer

from synthkit.query import connect

app = typer.Typer(add_completion=False, no_args_is_help=True, help="synthkit: audit and query a synthetic dataset build.")


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL over the views: seeds, eval, production, candidates, validated, filtered, deduped, train, rejects, rejects_<stage>"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json"),
    root: str = typer.Option(".", help="project root"),
) -> None:
    """Run SQL with DuckDB over every artifact, each exposed as a view by name."""
    con, views = connect(root)
    try:
        rel = con.sql(sql)
    except duckdb.Error as exc:
        typer.echo(f"error: {exc.__class__.__name__}: {str(exc).splitlines()[0]} (views: {', '.join(views) or 'none; run dvc repro'})", err=True)
        raise typer.Exit(2) from None
    if rel is None:
        return
    df = rel.pl()
    if fmt == "json":
        typer.echo(json.dumps(df.to_dicts(), ensure_ascii=False, default=str, indent=2))
    elif fmt == "csv":
        df.write_csv(sys.stdout)
    else:
        import polars as pl

        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=80):
            typer.echo(str(df))


@app.command()
def version() -> None:
    """Print the synthkit version."""
    from importlib.metadata import version as v

    typer.echo(v("synthkit"))


if __name__ == "__main__":
    app()

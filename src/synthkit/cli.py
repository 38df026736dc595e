"""The `synthkit` command: query the artifacts with SQL, diff them between revisions, export the training set."""

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
def diff(
    rev_a: str = typer.Argument(..., help="the old git revision (commit, tag, branch, HEAD~1, ...)"),
    rev_b: str = typer.Argument(None, help="the new git revision; default: the workspace"),
    artifact: str = typer.Option("train", "--artifact", "-a", help="a view name (train, deduped, candidates, ...) or rejects/<stage>"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    sample: int = typer.Option(20, help="rows listed per added/removed/flip sample"),
    root: str = typer.Option(".", help="project root (a git + DVC repo)"),
) -> None:
    """Row-level diff of an artifact between two revisions: added/removed rows, label flips, per-label/family deltas, changed params."""
    from synthkit.diff import DiffError, diff_revs, format_text
    from synthkit.errors import InputError

    try:
        result = diff_revs(root, rev_a, rev_b, artifact=artifact, sample=sample)
    except (DiffError, InputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(format_text(result))


@app.command()
def export(
    fmt: str = typer.Option(..., "--format", "-f", help="openai (chat fine-tuning JSONL), hf (Parquet + dataset card) or csv"),
    out: str = typer.Option(..., "--out", "-o", help="output directory"),
    system_prompt: str = typer.Option(None, "--system-prompt", help="openai: the system message (default: names the labels; '' for none)"),
    train: str = typer.Option("data/train.parquet", help="the training set to export"),
    reports: str = typer.Option("reports", help="where manifest.json and funnel.json are (hf dataset card)"),
) -> None:
    """Export the training set for fine-tuning (OpenAI chat JSONL), Hugging Face datasets (Parquet + README.md) or CSV."""
    from synthkit.errors import InputError
    from synthkit.export import export as run_export

    try:
        result = run_export(fmt, out, train=train, system_prompt=system_prompt, reports=reports)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {result['rows']} rows as {result['format']}: {', '.join(result['files'])}")


@app.command()
def version() -> None:
    """Print the synthkit version."""
    from importlib.metadata import version as v

    typer.echo(v("synthkit"))


if __name__ == "__main__":
    app()

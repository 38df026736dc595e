"""The `synthkit` command: query the artifacts with SQL, diff them between revisions, export the training set, write the run report."""

from __future__ import annotations

import json
import sys

import duckdb
import typer

from synthkit.errors import clip, one_line
from synthkit.stage import exit_on_interrupt


class _Synthkit(typer.Typer):
    """The command group; Ctrl-C and SIGTERM end any command with one line and exit 130 / 143."""

    def __call__(self, *args, **kwargs):
        command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
        with exit_on_interrupt(f"synthkit {command}".strip(), keyboard=False):
            return super().__call__(*args, **kwargs)


app = _Synthkit(add_completion=False, no_args_is_help=True, help="synthkit: audit and query a synthetic dataset build.")


@app.command()
def query(
    sql: str = typer.Argument(..., help="SQL over the views: seeds, eval, production, candidates, validated, filtered, deduped, train, rejects, rejects_<stage>"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json"),
    root: str = typer.Option(".", help="project root"),
) -> None:
    """Run read-only SQL with DuckDB over every artifact, each exposed as a view by name; nothing else is readable or writable."""
    from synthkit.query import QueryRefused, check_read_only, connect

    if fmt not in ("table", "csv", "json"):
        typer.echo(f"error: --format: unknown format {clip(fmt)} (choose from table, csv, json)", err=True)
        raise typer.Exit(2)
    try:
        check_read_only(sql)
        con, views = connect(root)
    except QueryRefused as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(2) from None
    try:
        rel = con.sql(sql)
        df = rel.pl() if rel is not None else None
    except duckdb.PermissionException:
        typer.echo(f"error: synthkit query reads only the artifact views ({', '.join(views) or 'none; run dvc repro'}); file access is disabled", err=True)
        raise typer.Exit(2) from None
    except duckdb.Error as exc:
        typer.echo(f"error: {exc.__class__.__name__}: {one_line(str(exc).splitlines()[0])} (views: {', '.join(views) or 'none; run dvc repro'})", err=True)
        raise typer.Exit(2) from None
    if df is None:
        return
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
    sample: int = typer.Option(20, min=0, help="rows listed per added/removed/flip sample"),
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
    force: bool = typer.Option(False, "--force", help="write into a folder that already holds files (files of the same name are replaced)"),
) -> None:
    """Export the training set for fine-tuning (OpenAI chat JSONL), Hugging Face datasets (Parquet + README.md) or CSV."""
    from synthkit.errors import InputError
    from synthkit.export import export as run_export

    try:
        result = run_export(fmt, out, train=train, system_prompt=system_prompt, reports=reports, force=force)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {result['rows']} rows as {result['format']}: {', '.join(result['files'])}")


@app.command()
def init(
    data: str = typer.Argument(..., help="your labeled seed file (CSV, JSONL or Parquet)"),
    eval_file: str = typer.Option(None, "--eval", help="your protected eval file (same columns); never trained on"),
    unlabeled: str = typer.Option(None, "--unlabeled", help="a file of unlabeled real texts for the pseudo_label backend"),
    text_column: str = typer.Option(None, "--text-column", help="the column holding the text (default: inferred)"),
    label_column: str = typer.Option(None, "--label-column", help="the column holding the label (default: inferred)"),
    definitions: str = typer.Option(None, "--definitions", help="optional YAML mapping label -> definition"),
    name: str = typer.Option("my_task", "--name", help="task name written into the spec"),
    folder: str = typer.Option(None, "--dir", help="the new project folder, inside this repository (default: <repository>/projects/<name>)"),
    force: bool = typer.Option(False, "--force", help="replace the project files of an existing folder (says which first)"),
) -> None:
    """Make a project folder for a new dataset: spec.yaml from its labels, params.yaml (the repository's, comments kept,
    with your files, columns and the template-free backends set), dvc.yaml; then say what to edit next."""
    import os
    from pathlib import Path

    import yaml

    from synthkit import dag
    from synthkit.byod import derive_spec, infer_columns, init_params_text, label_conflicts, labels_of, load_definitions
    from synthkit.errors import InputError
    from synthkit.io import read_records, write_text
    from synthkit.schemas import RawUnlabeled

    repo = dag.REPO
    target = Path(folder).resolve() if folder is not None else (repo / "projects" / name).resolve()
    files = {n: target / n for n in ("params.yaml", "spec.yaml", "dvc.yaml", "data/review/decisions.csv")}
    try:
        target.relative_to(repo)
    except ValueError:
        typer.echo(f"error: {target}: the project folder must be inside the repository ({repo}), which holds its stages", err=True)
        raise typer.Exit(2) from None
    existing = [p for p in files.values() if p.exists()]
    if existing and not force:
        typer.echo(f"error: {target} already holds {', '.join(str(p.relative_to(target)) for p in existing)}; pass --force to replace them, "
                   "or --dir for a new folder", err=True)
        raise typer.Exit(2)
    try:
        columns = infer_columns(data, text_column, label_column)
        labels = labels_of(data, columns)
        if eval_file is not None:
            eval_labels = labels_of(eval_file, columns)
            missing = sorted(set(eval_labels) - set(labels))
            if missing:
                raise InputError(eval_file, f"label {missing[0]!r} has no seed example ({len(missing)} such labels)", field=columns.label)
        if unlabeled is not None:
            read_records(unlabeled, RawUnlabeled, {"text": columns.text, "channel": columns.channel})  # the text column must exist
        spec = derive_spec(labels, load_definitions(definitions), name=name, source=data)
        conflicts = {p: label_conflicts(p, columns) for p in (data, eval_file) if p is not None}
        conflicts = {p: c for p, c in conflicts.items() if c[0]}
        rel = lambda p: os.path.relpath(Path(p).resolve(), target) if p is not None else None  # noqa: E731
        params = init_params_text((repo / "params.yaml").read_text(encoding="utf-8"), columns, rel(data), rel(eval_file), rel(unlabeled),
                                  source=str(repo / "params.yaml"), conflicts=bool(conflicts))
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for p in existing:
        typer.echo(f"replacing {p}")
    dump = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120)
    write_text("# Derived from the labels of " + data + " by `synthkit init`; add definitions, rules, near_miss\n" + dump, files["spec.yaml"])
    write_text(params, files["params.yaml"])
    if not files["data/review/decisions.csv"].exists():
        write_text("id,decision,new_label,note\n", files["data/review/decisions.csv"])
    write_text(dag.render(dag.Project(target, repo)), files["dvc.yaml"])
    shown = target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target
    backends = yaml.safe_load(params)["generate"]["backends"]
    typer.echo(f"columns: text={columns.text!r} label={columns.label!r}; {len(labels)} labels")
    for p, (n, example) in conflicts.items():
        typer.echo(f"warning: {p}: {n} text(s) carry more than one label ({example}); params.yaml sets prepare.conflicts: drop, "
                   "so prepare leaves every copy of them out (fix the file and set it back to error to keep them)", err=True)
    typer.echo(f"wrote {shown}/: spec.yaml, params.yaml, dvc.yaml, data/review/decisions.csv. Next:")
    typer.echo(f"  1. {shown}/spec.yaml: write a real definition for each label (the consistency and critic gates and any LLM backend read them)")
    if eval_file is None:
        typer.echo(f"  2. {shown}/params.yaml: set prepare.eval to your protected eval file (real, labeled, never trained on)")
    else:
        typer.echo(f"  2. check prepare.eval ({eval_file}) is real, labeled and never trained on")
    typer.echo(f"  3. generate.backends is {backends}; mix.synthetic_ratio auto picks the amount of synthetic data by cross-validation")
    typer.echo(f"  4. dvc repro {shown}/dvc.yaml, then read {shown}/reports/metrics.json, mix_auto.json and gates_calibration.json")


@app.command("cancel-batches")
def cancel_batches_cmd(
    cache_dir: list[str] = typer.Option(
        ["data/llm_cache/generate", "data/llm_cache/filter"], "--cache-dir", help="LLM cache folder(s) whose pending batches to cancel"
    ),
    params_path: str = typer.Option("params.yaml", "--params", help="params file with the llm section (server, key variable)"),
) -> None:
    """Cancel the OpenAI batches a run is waiting for (llm.batch: true); the next `dvc repro` collects what they finished."""
    from synthkit.config import load_params
    from synthkit.errors import InputError
    from synthkit.llm import cancel_batches

    try:
        llm = load_params(params_path).llm
        cancelled = [b for d in cache_dir for b in cancel_batches(d, llm)]
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for batch_id in cancelled:
        typer.echo(f"cancelled {batch_id}")
    if not cancelled:
        typer.echo("no pending batch")


@app.command()
def dag(check: bool = typer.Option(False, "--check", help="only compare: exit 1 when a dvc.yaml differs from what the code gives")) -> None:
    """Write every pipeline's dvc.yaml (the root and examples/*) from the one stage definition and the stages' imports."""
    from synthkit.dag import write_all
    from synthkit.errors import InputError

    try:
        stale = write_all(check=check)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in stale:
        typer.echo(f"{'differs' if check else 'wrote'}: {path}")
    if check and stale:
        typer.echo("error: run `synthkit dag` to bring the dvc.yaml files up to date with the code", err=True)
        raise typer.Exit(1)


@app.command()
def report(
    reports: str = typer.Option("reports", "--reports", "-r", help="the run's reports folder (examples/<type>/reports for an example)"),
    out: str = typer.Option(None, "--out", "-o", help="where to write the page (default: <reports>/report.html)"),
) -> None:
    """Write one self-contained HTML page (no network needed) of what a run did: funnel, rejects, uplift, mix, drift, cost, provenance."""
    from pathlib import Path

    from synthkit.errors import InputError
    from synthkit.io import write_text
    from synthkit.report import build_report

    target = out or str(Path(reports) / "report.html")
    try:
        page = build_report(reports)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    write_text(page.html, target)
    missing = f"; absent inputs: {', '.join(page.absent)}" if page.absent else ""
    typer.echo(f"wrote {target} ({page.charts} charts, {len(page.html) // 1024} KiB){missing}")


@app.command("plots-template")
def plots_template(
    out: str = typer.Option(".dvc/plots/offline.html", "--out", "-o", help="where to write the template"),
) -> None:
    """Write an HTML template with Vega inlined, for `dvc plots show --html-template <it>` to draw without network."""
    from synthkit.io import write_text
    from synthkit.report import dvc_plots_template

    write_text(dvc_plots_template(), out)
    typer.echo(f"wrote {out}; now: dvc plots show --html-template {out}")


@app.command()
def version() -> None:
    """Print the synthkit version."""
    from importlib.metadata import version as v

    typer.echo(v("synthkit"))


if __name__ == "__main__":
    app()

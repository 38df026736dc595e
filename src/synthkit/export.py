"""Export the training set: OpenAI chat fine-tuning JSONL, Hugging Face Parquet + dataset card, or CSV.

Every file is written atomically through synthkit.io.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from synthkit.errors import InputError, clip
from synthkit.io import read_parquet, write_csv, write_parquet, write_text

FORMATS = ("openai", "hf", "csv")
CHAT_ROLES = ("system", "user", "assistant")
# plain columns of the hf and csv exports; `generator` is flattened to generator_<field>
FLAT_COLUMNS = ("id", "text", "label", "weight", "source", "family", "channel", "scenario_id")
LICENSE_NOTE = "bundled example data: written for this project"
OPENAI_MIN_EXAMPLES = 10


def default_system_prompt(labels: list[str]) -> str:
    return f"Classify the customer message into exactly one label: {', '.join(labels)}. Answer with the label only."


def flat_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Plain scalar columns (no structs or lists): FLAT_COLUMNS plus generator_<field>, sorted by id."""
    cols = [pl.col(c) for c in FLAT_COLUMNS if c in df.columns]
    if "generator" in df.columns and isinstance(df.schema["generator"], pl.Struct):
        cols += [pl.col("generator").struct.field(f.name).alias(f"generator_{f.name}") for f in df.schema["generator"].fields]
    return df.select(cols).sort("id")


def _labeled(df: pl.DataFrame, path: str) -> pl.DataFrame:
    for col in ("id", "text", "label"):
        if col not in df.columns:
            raise InputError(path, f"missing column {col!r}")
    out = df.filter(pl.col("label").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    if out.height == 0:
        raise InputError(path, "no labeled rows to export")
    return out


def check_training_set(df: pl.DataFrame, path: str) -> None:
    """Stop unless the frame is a training set as the mix stage writes it: no gate verdicts, split 'train' on every row.

    A rejects file (gate and reason columns), candidates (split 'candidate'), seeds or the protected eval set are
    refused, naming the first row that gives them away.
    """
    hint = "export the mix stage's training set (data/train.parquet)"
    for col in ("gate", "reason"):
        if col in df.columns:
            first = df.select(pl.col(col).cast(pl.String)).to_series().drop_nulls().head(1).to_list()
            seen = f", e.g. {clip(first[0])}" if first else ""
            raise InputError(path, f"not a training set: it holds gate verdicts (rejected rows{seen}); {hint}", field=col)
    if "split" not in df.columns:
        raise InputError(path, f"not a training set: no 'split' column (every synthkit artifact has one); {hint}", field="split")
    bad = df.with_row_index("_row", offset=1).filter(pl.col("split").is_null() | (pl.col("split").cast(pl.String) != "train"))
    if bad.height:
        row, split = bad.row(0, named=True)["_row"], bad.row(0, named=True)["split"]
        raise InputError(path, f"not a training set: split {clip(split)} on {bad.height} of {df.height} rows (a training set has only 'train'); {hint}", row=row, field="split")


def check_target(out_dir: Path, force: bool) -> None:
    """Stop when the export folder is a file, or holds files and force is not set."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(str(out_dir), "is a file, expected a folder to export into")
    if out_dir.is_dir() and not force:
        try:
            entries = sorted(p.name for p in out_dir.iterdir())
        except OSError as exc:
            raise InputError(str(out_dir), f"cannot list the folder ({exc.strerror or exc.__class__.__name__})") from None
        if entries:
            held = f"{len(entries)} entries, e.g. {clip(entries[0])}" if len(entries) > 1 else clip(entries[0])
            raise InputError(str(out_dir), f"not empty (holds {held}); pass --force to overwrite, or choose an empty folder")


# ---------------------------------------------------------------------------------------------------- OpenAI


def openai_chat_lines(df: pl.DataFrame, system_prompt: str | None = None) -> list[str]:
    """One chat fine-tuning example per row: system (if any), user = text, assistant = label."""
    lines = []
    for text, label in df.sort("id").select("text", "label").iter_rows():
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages += [{"role": "user", "content": text}, {"role": "assistant", "content": label}]
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    return lines


def check_openai_chat_jsonl(path: str | Path, min_examples: int = OPENAI_MIN_EXAMPLES) -> list[str]:
    """Problems of a chat fine-tuning JSONL file against OpenAI's documented format; [] when it is valid.

    Rules: every line is a JSON object with a non-empty `messages` list; each message is an object with `role` in
    system/user/assistant and a string `content` (non-empty for user and assistant); an optional `weight` on
    assistant messages is 0 or 1; at least one assistant message, and the last message is the assistant's; the file
    holds at least `min_examples` examples (OpenAI requires 10).
    """
    problems: list[str] = []
    n = 0
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return [f"{path}: cannot read ({exc.__class__.__name__})"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [f"{path}: not UTF-8"]
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # the final newline ends the last line
    for lineno, line in enumerate(lines, start=1):
        where = f"line {lineno}"
        if not line.strip():
            problems.append(f"{where}: blank line")
            continue
        n += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        messages = obj.get("messages")
        if not isinstance(messages, list) or not messages:
            problems.append(f"{where}: 'messages' must be a non-empty list")
            continue
        ok = True
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                problems.append(f"{where}: messages[{i}] is not an object")
                ok = False
                continue
            role, content = m.get("role"), m.get("content")
            if role not in CHAT_ROLES:
                problems.append(f"{where}: messages[{i}].role {role!r} is not one of {', '.join(CHAT_ROLES)}")
                ok = False
            if not isinstance(content, str):
                problems.append(f"{where}: messages[{i}].content must be a string")
                ok = False
            elif role in ("user", "assistant") and not content.strip():
                problems.append(f"{where}: messages[{i}].content is empty")
                ok = False
            if "weight" in m and (role != "assistant" or m["weight"] not in (0, 1) or isinstance(m["weight"], bool)):
                problems.append(f"{where}: messages[{i}].weight must be 0 or 1 and only on assistant messages")
                ok = False
        if not ok:
            continue
        roles = [m["role"] for m in messages]
        if "assistant" not in roles:
            problems.append(f"{where}: no assistant message")
        elif roles[-1] != "assistant":
            problems.append(f"{where}: the last message must be the assistant's")
    if n < min_examples:
        problems.append(f"{path}: {n} examples, fewer than the required {min_examples}")
    return problems


# ---------------------------------------------------------------------------------------------------- dataset card


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def dataset_card(df: pl.DataFrame, manifest: dict | None, funnel: dict | None, data_file: str) -> str:
    """README.md for the Hugging Face export: YAML metadata, sources, counts, labels, gates, provenance, license."""
    n = df.height
    size = "n<1K" if n < 1_000 else "1K<n<10K" if n < 10_000 else "10K<n<100K" if n < 100_000 else "100K<n<1M"
    task = (manifest or {}).get("task", {})
    name = task.get("name", "synthkit dataset")
    lines = [
        "---",
        "license: other",
        f"license_name: {json.dumps(LICENSE_NOTE)}",
        "task_categories:",
        "  - text-classification",
        "size_categories:",
        f"  - {size}",
        "configs:",
        "  - config_name: default",
        "    data_files:",
        "      - split: train",
        f"        path: {data_file}",
        "---",
        "",
        f"# {name}",
        "",
        "A training set built by synthkit: real labeled seeds plus gated synthetic rows "
        "(every generated candidate passed format, rule, PII, toxicity, consistency, review and dedupe gates, then mixing).",
        "",
    ]
    if manifest:
        lines += [f"Dataset id `{manifest.get('dataset_id')}`; task type `{task.get('type')}`; spec md5 `{task.get('spec_md5')}`.", ""]
    else:
        lines += ["(reports/manifest.json not found: run `dvc repro` for provenance.)", ""]

    lines += ["## Columns", "", ", ".join(f"`{c}`" for c in df.columns) + ". `weight` is the training weight "
              "(real and synthetic rows are weighted by `mix.real_weight` / `mix.synthetic_weight`).", ""]

    lines += ["## Sources", ""]
    src = df.group_by("source").agg(pl.len().alias("rows")).sort("source") if "source" in df.columns else pl.DataFrame()
    backends = (
        df.group_by("source", "generator_backend").agg(pl.len().alias("rows")).sort("source", "generator_backend")
        if {"source", "generator_backend"} <= set(df.columns) else pl.DataFrame()
    )
    if backends.height:
        lines += _table(("source", "generator backend", "rows"), list(backends.iter_rows()))
    elif src.height:
        lines += _table(("source", "rows"), list(src.iter_rows()))
    gen = (manifest or {}).get("generator", {})
    if gen:
        settings = {k: v for k, v in gen.get("settings", {}).items()}
        lines += ["", f"Generator settings (seed {gen.get('seed')}): `{json.dumps(settings, sort_keys=True)}`."]
    lines.append("")

    lines += ["## Counts", ""]
    counts = (manifest or {}).get("counts") or {}
    count_rows = [("train rows", n)] + [(k.replace("_", " "), v) for k, v in sorted(counts.items()) if k != "train_rows"]
    lines += _table(("what", "rows"), count_rows) + [""]

    lines += ["## Label distribution", ""]
    by_label = df.group_by("label").agg(pl.len().alias("rows")).sort(["rows", "label"], descending=[True, False])
    lines += _table(("label", "rows", "share"), [(lab, r, f"{r / n:.1%}") for lab, r in by_label.iter_rows()]) + [""]

    lines += ["## Gates", ""]
    if funnel:
        lines += ["Candidates dropped per stage, gate and reason (`reports/funnel.json`):", ""]
        rows = []
        for st in funnel.get("stages", []):
            for reason, k in sorted(st.get("rejected_by_reason", {}).items()):
                rows.append((st.get("stage"), reason.split("_")[0], reason, k))
        lines += _table(("stage", "gate", "reason", "rows"), rows) if rows else ["No candidate was rejected."]
        lines += ["", f"Candidates {funnel.get('candidates')}, rejected {funnel.get('rejected')}, "
                  f"synthetic rows in train {funnel.get('synthetic_in_train')}; the counts add up: {funnel.get('adds_up')}.", ""]
    else:
        lines += ["(reports/funnel.json not found: run `dvc repro`.)", ""]

    versions = (manifest or {}).get("versions")
    if versions:
        lines += ["## Provenance", "", "Library versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".", ""]
        mixing = manifest.get("mixing")
        if mixing:
            lines += [f"Mixing: `{json.dumps(mixing, sort_keys=True)}`.", ""]

    lines += ["## Licenses", "", f"- Real seeds and templates: {LICENSE_NOTE}.",
              "- Synthetic rows: derived from the templates and seeds above, same terms.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- export


def export(fmt: str, out_dir: str | Path, train: str | Path = "data/train.parquet", system_prompt: str | None = None,
           reports: str | Path = "reports", force: bool = False) -> dict[str, Any]:
    """Write the export; returns {"format", "rows", "files"}. Raises InputError on bad input or an unwritable target.

    Refuses an input that is not a training set and a non-empty target folder unless force is set.
    """
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown format {clip(fmt)} (choose from {', '.join(FORMATS)})")
    out_dir, reports = Path(out_dir), Path(reports)
    if Path(train).is_dir():
        raise InputError(str(train), "is a directory, expected a Parquet file")
    raw = read_parquet(train)
    check_training_set(raw, str(train))
    df = _labeled(raw, str(train))
    check_target(out_dir, force)
    try:
        return _write(fmt, df, out_dir, system_prompt, reports)
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or exc.__class__.__name__
        raise InputError(str(out_dir), f"cannot write the export ({reason})") from None


def _write(fmt: str, df: pl.DataFrame, out_dir: Path, system_prompt: str | None, reports: Path) -> dict[str, Any]:
    files: list[str] = []
    if fmt == "openai":
        prompt = system_prompt if system_prompt is not None else default_system_prompt(sorted(df["label"].unique().to_list()))
        path = out_dir / "train.jsonl"
        write_text("\n".join(openai_chat_lines(df, prompt or None)) + "\n", path)
        problems = check_openai_chat_jsonl(path)
        if problems:
            raise InputError(str(path), f"export failed its own format check: {problems[0]}")
        files.append(str(path))
    elif fmt == "hf":
        flat = flat_frame(df)
        rel = "data/train-00000-of-00001.parquet"
        write_parquet(flat, out_dir / rel)
        card = dataset_card(flat, _read_json(reports / "manifest.json"), _read_json(reports / "funnel.json"), "data/train-*.parquet")
        write_text(card, out_dir / "README.md")
        files += [str(out_dir / rel), str(out_dir / "README.md")]
    else:
        path = out_dir / "train.csv"
        write_csv(flat_frame(df), path)
        files.append(str(path))
    return {"format": fmt, "rows": df.height, "files": files}

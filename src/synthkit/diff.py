"""Row-level diff of one artifact between two git revisions (or a revision and the workspace).

The logic is pure (`diff_frames`, `diff_params`, `flatten`) and takes polars frames and dicts, so it is testable
without DVC; `read_artifact` / `read_params` / `diff_revs` are the thin layer that reads each side through git and
DVC (`dvc.api.open`, which reads the local cache or the default remote) or straight from the workspace.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from synthkit.textnorm import normalize_text
from synthkit.errors import InputError
from synthkit.query import ARTIFACTS

WORKSPACE = "workspace"
REJECT_STAGES = ("validate", "filter", "dedupe", "mix")
# columns counted per side when both frames have them; rejects add gate and reason
COUNT_COLUMNS = ("label", "family", "source", "gate", "reason")
SAMPLE = 20


class DiffError(Exception):
    """A diff that cannot be made: unknown artifact, unknown revision, artifact absent at a revision."""


# ---------------------------------------------------------------------------------------------------- pure logic


def _counts(a: pl.DataFrame, b: pl.DataFrame, col: str) -> list[dict[str, Any]]:
    """Per-value row counts on each side and the delta, sorted by value (nulls as None first)."""
    ca = a.group_by(col).agg(pl.len().alias("a")).with_columns(pl.col(col).cast(pl.String))
    cb = b.group_by(col).agg(pl.len().alias("b")).with_columns(pl.col(col).cast(pl.String))
    out = (
        ca.join(cb, on=col, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("a").fill_null(0).cast(pl.Int64), pl.col("b").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("b") - pl.col("a")).alias("delta"))
        .sort(col, nulls_last=False)
    )
    return [{"value": r[col], "a": r["a"], "b": r["b"], "delta": r["delta"]} for r in out.iter_rows(named=True)]


def _sample(df: pl.DataFrame, n: int) -> list[dict[str, Any]]:
    cols = [c for c in ("id", "label", "source", "family", "gate", "reason", "text") if c in df.columns]
    return df.sort("id").head(n).select(cols).to_dicts()


def _with_norm(df: pl.DataFrame) -> pl.DataFrame:
    """Add `norm` (dedupe.normalize_text of text), computing each distinct text once."""
    texts = df["text"].unique()
    mapping = pl.DataFrame({"text": texts, "norm": [normalize_text(t or "") for t in texts.to_list()]}, schema={"text": df.schema["text"], "norm": pl.String})
    return df.join(mapping, on="text", how="left", nulls_equal=True)


def diff_frames(a: pl.DataFrame, b: pl.DataFrame, sample: int = SAMPLE) -> dict[str, Any]:
    """Row-level diff of two versions of an artifact (A = old, B = new).

    Rows are matched by `id`. Ids are content hashes that include the label, so a relabelled row shows up as one
    removed and one added id; those pairs are reported as label flips: a normalized text (dedupe.normalize_text)
    found among the removed rows with one label and among the added rows with another. `added` and `removed`
    count every id (flips included); `added_only` / `removed_only` leave out the rows that are part of a flip.

    Returns a JSON-ready dict: `summary` (row counts), `counts` (per label/family/source and, for rejects,
    gate/reason: each side and the delta), `label_flips` (transition counts and a sample), `added` / `removed`
    (samples of at most `sample` rows, sorted by id).
    """
    for name, df in (("A", a), ("B", b)):
        missing = {"id", "text"} - set(df.columns)
        if missing:
            raise ValueError(f"side {name} lacks column(s) {sorted(missing)}")
    has_label = "label" in a.columns and "label" in b.columns
    ids_a, ids_b = a.select("id").unique(), b.select("id").unique()
    added = b.join(ids_a, on="id", how="anti")
    removed = a.join(ids_b, on="id", how="anti")

    flips = pl.DataFrame(schema={"norm": pl.String, "label_a": pl.String, "label_b": pl.String, "id_a": pl.String, "id_b": pl.String, "text": pl.String})
    if has_label and added.height and removed.height:
        ra = _with_norm(removed.select("id", "text", "label")).rename({"id": "id_a", "label": "label_a"})
        rb = _with_norm(added.select("id", "text", "label")).rename({"id": "id_b", "label": "label_b", "text": "text_b"})
        flips = (
            ra.join(rb, on="norm", how="inner")
            .filter(pl.col("label_a").cast(pl.String).fill_null("") != pl.col("label_b").cast(pl.String).fill_null(""))
            .select("norm", pl.col("label_a").cast(pl.String), pl.col("label_b").cast(pl.String), "id_a", "id_b", "text")
            .sort("id_a", "id_b")
        )
    flip_a, flip_b = set(flips["id_a"].to_list()), set(flips["id_b"].to_list())
    transitions = (
        flips.group_by("label_a", "label_b").agg(pl.len().alias("n")).sort("n", "label_a", "label_b", descending=[True, False, False])
        if flips.height
        else pl.DataFrame(schema={"label_a": pl.String, "label_b": pl.String, "n": pl.UInt32})
    )
    count_cols = [c for c in COUNT_COLUMNS if c in a.columns and c in b.columns]
    return {
        "summary": {
            "rows_a": a.height,
            "rows_b": b.height,
            "rows_delta": b.height - a.height,
            "unchanged": a.height - removed.height,
            "added": added.height,
            "removed": removed.height,
            "label_flips": flips["norm"].n_unique() if flips.height else 0,
            "added_only": added.height - len(flip_b),
            "removed_only": removed.height - len(flip_a),
        },
        "counts": {c: _counts(a.select(c), b.select(c), c) for c in count_cols},
        "label_flips": {
            "transitions": [{"from": r["label_a"], "to": r["label_b"], "n": r["n"]} for r in transitions.iter_rows(named=True)],
            "sample": [{"id_a": r["id_a"], "id_b": r["id_b"], "from": r["label_a"], "to": r["label_b"], "text": r["text"]} for r in flips.head(sample).iter_rows(named=True)],
        },
        "added": _sample(added, sample),
        "removed": _sample(removed, sample),
    }


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts to dotted keys; lists and scalars are leaves; an empty dict is a leaf too."""
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj} if prefix else {}


def diff_params(a: dict | None, b: dict | None) -> dict[str, dict[str, Any]]:
    """Changed, added and removed params as {dotted.key: {"a": old, "b": new}}; absent values are None."""
    fa, fb = flatten(a or {}), flatten(b or {})
    _missing = object()
    out = {}
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, _missing), fb.get(key, _missing)
        if va != vb or type(va) is not type(vb):
            out[key] = {"a": None if va is _missing else va, "b": None if vb is _missing else vb}
    return out


# ---------------------------------------------------------------------------------------------------- reading


def artifact_path(name: str) -> str:
    """Path (relative to the project root) of a view name from query.ARTIFACTS or `rejects/<stage>`."""
    if name in ARTIFACTS:
        return ARTIFACTS[name]
    m = re.fullmatch(r"rejects[/_]([a-z_]+)", name)
    if m and m.group(1) in REJECT_STAGES:
        return f"data/rejects/{m.group(1)}.parquet"
    choices = ", ".join([*ARTIFACTS, *(f"rejects/{s}" for s in REJECT_STAGES)])
    raise DiffError(f"unknown artifact {name!r} (choose from: {choices})")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def resolve_rev(root: Path, rev: str | None) -> str | None:
    """The commit sha of a revision, or None for the workspace."""
    if rev is None or rev == WORKSPACE:
        return None
    res = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if res.returncode != 0 or not res.stdout.strip():
        raise DiffError(f"revision {rev!r} not found in {root}")
    return res.stdout.strip()


def read_artifact(root: Path, rel: str, sha: str | None, label: str) -> pl.DataFrame:
    """Read a Parquet artifact at a commit through DVC (cache or remote), or from the workspace when sha is None."""
    if sha is None:
        path = root / rel
        if not path.exists():
            raise DiffError(f"{rel} is absent from the workspace (run dvc repro or dvc checkout)")
        try:
            return pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DiffError(f"{rel}: cannot read the workspace file ({exc.__class__.__name__})") from None
    import dvc.api

    try:
        with dvc.api.open(rel, repo=str(root), rev=sha, mode="rb") as fh:
            data = fh.read()
    except Exception as exc:  # dvc raises many types: PathMissingError, FileMissingError, NoRemoteError, ...
        detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DiffError(f"{rel} is not available at {label} ({exc.__class__.__name__}: {detail})") from None
    try:
        return pl.read_parquet(io.BytesIO(data))
    except pl.exceptions.PolarsError as exc:
        raise DiffError(f"{rel} at {label}: not a readable Parquet file ({exc.__class__.__name__})") from None


def read_params(root: Path, sha: str | None, file: str = "params.yaml") -> dict:
    """params.yaml at a commit (git show) or in the workspace; {} when the file is absent."""
    if sha is None:
        path = root / file
        try:
            text = path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"cannot read the params file ({exc.__class__.__name__})") from None
    else:
        res = _git(root, "show", f"{sha}:{file}")
        text = res.stdout if res.returncode == 0 else ""
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(file, f"invalid YAML at {sha or WORKSPACE}: {getattr(exc, 'problem', None) or exc}", row=mark.line + 1 if mark else None) from None


def diff_revs(root: str | Path, rev_a: str, rev_b: str | None = None, artifact: str = "train", sample: int = SAMPLE) -> dict[str, Any]:
    """Diff an artifact and params.yaml between rev_a and rev_b (None: the workspace)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise DiffError(f"{root}: no such project folder")
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise DiffError(f"{root}: not a git repository (synthkit diff compares git revisions of a project)")
    rel = artifact_path(artifact)
    sha_a, sha_b = resolve_rev(root, rev_a), resolve_rev(root, rev_b)
    label_a, label_b = rev_a if sha_a else WORKSPACE, (rev_b or WORKSPACE) if sha_b else WORKSPACE
    a = read_artifact(root, rel, sha_a, label_a)
    b = read_artifact(root, rel, sha_b, label_b)
    out = diff_frames(a, b, sample=sample)
    out["artifact"] = {"name": artifact, "path": rel}
    out["revs"] = {"a": {"rev": label_a, "commit": sha_a}, "b": {"rev": label_b, "commit": sha_b}}
    out["params"] = diff_params(read_params(root, sha_a), read_params(root, sha_b))
    return out


# ---------------------------------------------------------------------------------------------------- text output


def _short(text: str | None, width: int = 70) -> str:
    t = " ".join((text or "").split())
    return t if len(t) <= width else t[: width - 1] + "…"


def format_text(d: dict[str, Any], top: int = 5) -> str:
    """A compact human-readable report of diff_revs' result."""
    s, revs = d["summary"], d.get("revs", {})
    ra, rb = revs.get("a", {}).get("rev", "A"), revs.get("b", {}).get("rev", "B")
    lines = [
        f"{d.get('artifact', {}).get('path', 'artifact')}: {ra} -> {rb}",
        f"  rows {s['rows_a']} -> {s['rows_b']} ({s['rows_delta']:+d}); unchanged {s['unchanged']}, "
        f"added {s['added']}, removed {s['removed']}, label flips {s['label_flips']}",
    ]
    params = d.get("params")
    if params is not None:
        lines.append("params" + ("" if params else ": unchanged"))
        for k, v in params.items():
            lines.append(f"  {k}: {v['a']!r} -> {v['b']!r}")
    for col, rows in d["counts"].items():
        changed = [r for r in rows if r["delta"]]
        lines.append(f"per {col}" + ("" if changed else f": unchanged ({len(rows)} values)"))
        width = max((len(str(r["value"])) for r in changed), default=0)
        for r in changed:
            lines.append(f"  {str(r['value']):<{width}}  {r['a']:>6} -> {r['b']:>6}  {r['delta']:+d}")
    flips = d["label_flips"]
    if flips["transitions"]:
        lines.append("label flips")
        for t in flips["transitions"][:top]:
            lines.append(f"  {t['from']} -> {t['to']}: {t['n']}")
        for f in flips["sample"][:top]:
            lines.append(f"    e.g. {_short(f['text'])!r}")
    for kind in ("added", "removed"):
        if d[kind]:
            lines.append(f"{kind} (first {min(top, len(d[kind]))} of {s[kind]} by id)")
            for r in d[kind][:top]:
                lines.append(f"  {r['id']}  {r.get('label')}  {_short(r.get('text'))!r}")
    return "\n".join(lines)

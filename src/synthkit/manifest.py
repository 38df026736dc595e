"""Governance: the funnel (counts at every gate add up) and the manifest (what built this dataset)."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

FUNNEL_STAGES = ("generate", "validate", "filter", "dedupe", "mix")


def funnel(counts: dict[str, dict]) -> dict:
    """Chain the per-stage counts; raise if any stage's in != kept + rejected or stages do not connect."""
    stages, problems = [], []
    previous = None
    for name in FUNNEL_STAGES:
        c = counts[name]
        if c["in"] != c["kept"] + c["rejected"]:
            problems.append(f"{name}: in {c['in']} != kept {c['kept']} + rejected {c['rejected']}")
        if previous is not None and c["in"] != previous["kept"]:
            problems.append(f"{name}: in {c['in']} != {previous['stage']} kept {previous['kept']}")
        stages.append({k: c[k] for k in ("stage", "in", "kept", "rejected", "rejected_by_gate", "rejected_by_reason")})
        previous = c
    if problems:
        raise AssertionError("funnel does not add up: " + "; ".join(problems))
    candidates = counts["generate"]["kept"]
    rejected = sum(counts[n]["rejected"] for n in FUNNEL_STAGES[1:])
    by_reason: dict[str, int] = {}
    for n in FUNNEL_STAGES[1:]:
        for reason, k in counts[n]["rejected_by_reason"].items():
            by_reason[reason] = by_reason.get(reason, 0) + k
    gen = counts["generate"]
    return {
        # generate: every answered request ends as a candidate or a generate reject (data/rejects/generate.parquet)
        "generated": gen["in"],
        "generate_rejected": gen["rejected"],
        "generate_rejected_by_reason": dict(sorted(gen["rejected_by_reason"].items())),
        "generate_not_run": gen.get("not_run", 0),
        "candidates": candidates,
        "synthetic_in_train": counts["mix"]["kept"],
        "rejected": rejected,
        "adds_up": candidates == counts["mix"]["kept"] + rejected,
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "review": counts["filter"].get("review", {}),
        "stages": stages,
    }


def file_md5(path: str | Path) -> str:
    """md5 of a file's bytes, the hash DVC records for it."""
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_id(path: str | Path) -> str:
    """The id git gives this file's content (`git hash-object`), so a manifest names code without a commit."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def code_versions(roots: list[str | Path], base: str | Path | None = None) -> dict[str, str]:
    """git blob ids of every Python file under the given folders, sorted by path.

    With base, the folders are relative to base and so are the keys (a pipeline in a subfolder names
    the repository's code as the root pipeline does).
    """
    if base is None:
        files = sorted(p for r in roots for p in Path(r).rglob("*.py") if "__pycache__" not in p.parts)
        return {p.as_posix(): git_blob_id(p) for p in files}
    base = Path(base)
    files = sorted(p.relative_to(base) for r in roots for p in (base / r).rglob("*.py") if "__pycache__" not in p.parts)
    return {p.as_posix(): git_blob_id(base / p) for p in files}


def package_versions(names: list[str]) -> dict[str, str]:
    """Installed versions of the named distributions."""
    out = {}
    for n in sorted(names):
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out

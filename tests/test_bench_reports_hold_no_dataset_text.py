"""The committed benchmark results name dataset rows by file and line; they never copy a dataset's text into the
repository (the datasets' licences and the protected test splits stay in ../shared/datasets)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
MIN_WORDS = 4  # shorter texts ("what is my balance") occur in any intent set and in templates alike


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _dataset_texts() -> set[str]:
    texts: set[str] = set()
    for path in sorted(DATASETS.rglob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") if line.strip() else None
                if isinstance(text, str) and len(text.split()) >= MIN_WORDS:
                    texts.add(_norm(text))
    return texts


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _committed_json() -> list[Path]:
    return sorted([*(ROOT / "reports" / "bench").glob("*.json"), *(ROOT / "benchmarks").glob("*.json")])


def test_the_scan_finds_a_dataset_text_where_one_is_copied(tmp_path):
    if not DATASETS.is_dir():
        pytest.skip("../shared/datasets is absent")
    texts = _dataset_texts()
    copied = next(iter(sorted(texts)))
    assert {s for s in _strings({"runs": [{"example": copied.upper()}]}) if _norm(s) in texts} == {copied.upper()}


def test_committed_benchmark_results_hold_no_dataset_text():
    if not DATASETS.is_dir():
        pytest.skip("../shared/datasets is absent")
    texts = _dataset_texts()
    assert len(texts) > 1000  # the scan read the datasets
    found = {}
    for path in _committed_json():
        hits = sorted({s for s in _strings(json.loads(path.read_text(encoding="utf-8"))) if _norm(s) in texts})
        if hits:
            found[path.relative_to(ROOT).as_posix()] = hits[:3]
    assert not found, f"dataset texts copied into committed results: {found}"

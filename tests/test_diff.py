"""synthkit diff: the pure frame/params diff, and `synthkit diff` over two real DVC builds in a temp repo copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from synthkit.diff import DiffError, artifact_path, diff_frames, diff_params, flatten, format_text
from synthkit.schemas import Reject, conform
from tests.conftest import make_rows
from tests.repo_copy import built_copy, run

BASE = [("I was charged twice, refund please", "refund_request"), ("cancel my plan", "cancel_subscription"),
        ("the reset email never arrives", "login_problem"), ("stop renewing my Pro plan", "cancel_subscription")]


def _counts(d: dict, col: str) -> dict:
    return {r["value"]: (r["a"], r["b"], r["delta"]) for r in d["counts"][col]}


def test_identical_frames_have_no_changes():
    a = make_rows(BASE)
    d = diff_frames(a, a.sample(fraction=1.0, shuffle=True, seed=1))
    assert d["summary"] == {"rows_a": 4, "rows_b": 4, "rows_delta": 0, "unchanged": 4, "added": 0, "removed": 0,
                            "label_flips": 0, "added_only": 0, "removed_only": 0}
    assert all(r["delta"] == 0 for rows in d["counts"].values() for r in rows)
    assert d["added"] == d["removed"] == [] and d["label_flips"]["transitions"] == []


def test_added_and_removed_by_id():
    a = make_rows(BASE)
    b = make_rows(BASE[1:] + [("where is my order", "order_status")])
    d = diff_frames(a, b)
    assert (d["summary"]["added"], d["summary"]["removed"], d["summary"]["unchanged"]) == (1, 1, 3)
    assert [r["text"] for r in d["added"]] == ["where is my order"]
    assert [r["id"] for r in d["removed"]] == [a["id"][0]]
    assert d["summary"]["label_flips"] == 0
    labels = _counts(d, "label")
    assert labels["order_status"] == (0, 1, 1) and labels["refund_request"] == (1, 0, -1) and labels["cancel_subscription"] == (2, 2, 0)


def test_label_flip_matches_normalized_text():
    a = make_rows(BASE)
    # same text up to case, punctuation and whitespace, other label: a new content-hash id
    b = make_rows(BASE[:3] + [("Stop renewing   my Pro plan!", "refund_request")])
    d = diff_frames(a, b)
    s = d["summary"]
    assert (s["added"], s["removed"], s["label_flips"], s["added_only"], s["removed_only"]) == (1, 1, 1, 0, 0)
    assert d["label_flips"]["transitions"] == [{"from": "cancel_subscription", "to": "refund_request", "n": 1}]
    flip = d["label_flips"]["sample"][0]
    assert flip["id_a"] == a["id"][3] and flip["id_b"] == b["id"][3]
    assert _counts(d, "label")["refund_request"] == (1, 2, 1)


def test_reworded_text_is_not_a_flip():
    a = make_rows(BASE)
    b = make_rows(BASE[:3] + [("please stop renewing my Pro plan", "refund_request")])
    assert diff_frames(a, b)["summary"]["label_flips"] == 0


@pytest.mark.parametrize("side", ["a", "b", "both"])
def test_empty_sides(side):
    full, empty = make_rows(BASE), make_rows(BASE).head(0)
    a = empty if side in ("a", "both") else full
    b = empty if side in ("b", "both") else full
    d = diff_frames(a, b)
    assert d["summary"]["added"] == (b.height if side == "a" else 0)
    assert d["summary"]["removed"] == (a.height if side == "b" else 0)
    assert d["summary"]["label_flips"] == 0
    if side == "both":
        assert d["counts"]["label"] == []
    else:
        assert sum(r["delta"] for r in d["counts"]["label"]) == b.height - a.height


def test_family_and_reject_gate_counts():
    a = conform(make_rows(BASE[:2], family="short").with_columns(gate=pl.lit("dedupe"), reason=pl.lit("dedupe_near"), detail=pl.lit("")), Reject)
    b = conform(make_rows(BASE[:1], family="short").with_columns(gate=pl.lit("dedupe"), reason=pl.lit("dedupe_near"), detail=pl.lit("")), Reject)
    b = pl.concat([b, conform(make_rows(BASE[2:3], family="long").with_columns(gate=pl.lit("mix"), reason=pl.lit("mix_ratio"), detail=pl.lit("")), Reject)])
    d = diff_frames(a, b)
    assert _counts(d, "family") == {"long": (0, 1, 1), "short": (2, 1, -1)}
    assert _counts(d, "gate") == {"dedupe": (2, 1, -1), "mix": (0, 1, 1)}
    assert _counts(d, "reason") == {"dedupe_near": (2, 1, -1), "mix_ratio": (0, 1, 1)}
    assert "per gate" in format_text(d)


def test_frame_without_id_is_refused():
    with pytest.raises(ValueError, match="id"):
        diff_frames(pl.DataFrame({"text": ["x"]}), make_rows(BASE))


def test_flatten_to_dotted_keys():
    nested = {"seed": 13, "mix": {"synthetic_ratio": 0.6, "family_caps": {}}, "filter": {"pii": {"entities": {"US_SSN": {"threshold": 0.5}}}},
              "generate": {"channels": ["chat", "email"]}}
    assert flatten(nested) == {"seed": 13, "mix.synthetic_ratio": 0.6, "mix.family_caps": {}, "filter.pii.entities.US_SSN.threshold": 0.5,
                               "generate.channels": ["chat", "email"]}


def test_params_diff_changed_added_removed():
    a = {"seed": 13, "mix": {"synthetic_ratio": 0.6, "label_cap": None}, "generate": {"channels": ["chat"]}, "old": {"k": 1}}
    b = {"seed": 13, "mix": {"synthetic_ratio": 0.4, "label_cap": None}, "generate": {"channels": ["chat", "email"]}, "new": 2}
    assert diff_params(a, b) == {
        "generate.channels": {"a": ["chat"], "b": ["chat", "email"]},
        "mix.synthetic_ratio": {"a": 0.6, "b": 0.4},
        "new": {"a": None, "b": 2},
        "old.k": {"a": 1, "b": None},
    }
    assert diff_params(a, a) == {} and diff_params(None, {}) == {}
    assert diff_params({"x": 1}, {"x": 1.0}) == {"x": {"a": 1, "b": 1.0}}  # a type change is a change


def test_params_read_as_params_yaml_spells_them():
    d = diff_frames(make_rows(BASE), make_rows(BASE))
    d["params"] = diff_params({"mix": {"synthetic_ratio": "auto"}, "a": "0.4", "c": [1]}, {"mix": {"synthetic_ratio": 0.4}, "a": 0.4, "b": None})
    lines = format_text(d).splitlines()
    assert "  mix.synthetic_ratio: auto -> 0.4" in lines and "  a: '0.4' -> 0.4" in lines and "  c: [1] -> null" in lines


def test_artifact_names():
    assert artifact_path("train") == "data/train.parquet"
    assert artifact_path("rejects/dedupe") == artifact_path("rejects_dedupe") == "data/rejects/dedupe.parquet"
    for bad in ("trian", "rejects/nope", "rejects"):
        with pytest.raises(DiffError, match="unknown artifact"):
            artifact_path(bad)


# ------------------------------------------------------------------------------------------ over a real DVC build

GIT = ["git", "-c", "user.email=test@synthkit.invalid", "-c", "user.name=synthkit test"]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Path, Path]:
    """A repo copy built and committed at mix.synthetic_ratio auto, then rebuilt (uncommitted) at 0.4; returns (root, old train)."""
    root = built_copy(tmp_path_factory.mktemp("diffrepo"))
    run([*GIT, "add", "-A"], root)
    run([*GIT, "commit", "-q", "--allow-empty", "-m", "build at auto"], root)
    old = tmp_path_factory.mktemp("old") / "train.parquet"
    shutil.copy2(root / "data/train.parquet", old)
    params = (root / "params.yaml").read_text()
    assert "  synthetic_ratio: auto" in params
    (root / "params.yaml").write_text(params.replace("  synthetic_ratio: auto", "  synthetic_ratio: 0.4", 1))
    run(["dvc", "repro", "dvc.yaml"], root)
    return root, old


@pytest.mark.e2e
def test_diff_head_against_workspace(two_builds):
    root, old = two_builds
    res = run(["synthkit", "diff", "HEAD", "--json"], root)
    d = json.loads(res.stdout)
    a, b = pl.read_parquet(old), pl.read_parquet(root / "data/train.parquet")
    ids_a, ids_b = set(a["id"]), set(b["id"])
    assert a.height != b.height  # a smaller synthetic share changes the training set
    assert d["summary"]["added"] == len(ids_b - ids_a) and d["summary"]["removed"] == len(ids_a - ids_b)
    assert d["summary"]["rows_a"] == a.height and d["summary"]["rows_b"] == b.height
    assert {r["id"] for r in d["removed"]} <= ids_a - ids_b and {r["id"] for r in d["added"]} <= ids_b - ids_a
    assert d["params"] == {"mix.synthetic_ratio": {"a": "auto", "b": 0.4}}
    assert d["revs"]["b"]["rev"] == "workspace" and len(d["revs"]["a"]["commit"]) == 40
    source = {r["value"]: r for r in d["counts"]["source"]}
    assert source["real"]["delta"] == 0 and source["synthetic"]["delta"] == b.height - a.height
    text = run(["synthkit", "diff", "HEAD"], root).stdout
    assert "mix.synthetic_ratio: auto -> 0.4" in text and "per label" in text


@pytest.mark.e2e
def test_diff_between_commits_and_rejects(two_builds):
    root, _ = two_builds
    run([*GIT, "commit", "-q", "-am", "ratio 0.4"], root)
    d = json.loads(run(["synthkit", "diff", "HEAD~1", "HEAD", "--artifact", "rejects/mix", "--json"], root).stdout)
    a = pl.read_parquet(root / "data/rejects/mix.parquet")  # the workspace is HEAD now
    assert d["summary"]["rows_b"] == a.height and d["summary"]["added"] + d["summary"]["removed"] > 0
    assert {r["value"] for r in d["counts"]["reason"]} >= {"mix_ratio"}
    assert d["params"] == {"mix.synthetic_ratio": {"a": "auto", "b": 0.4}}


@pytest.mark.e2e
@pytest.mark.parametrize(("args", "message"), [
    (["no-such-rev"], "revision 'no-such-rev' not found"),
    (["HEAD", "--artifact", "trian"], "unknown artifact 'trian'"),
    (["HEAD~9"], "revision 'HEAD~9' not found"),
])
def test_diff_errors_are_one_line_exit_2(two_builds, args, message):
    root, _ = two_builds
    res = run(["synthkit", "diff", *args], root, check=False)
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.e2e
def test_diff_artifact_absent_at_rev(two_builds):
    """A commit whose dvc.lock names train data that is neither in the cache nor on a remote (never pushed)."""
    root, _ = two_builds
    lock = run(["git", "show", "HEAD:dvc.lock"], root).stdout
    md5 = _lock_md5(lock, "data/train.parquet")
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=root, input=lock.replace(md5, "0" * 32), capture_output=True, text=True, check=True).stdout.strip()
    env = {**os.environ, "GIT_INDEX_FILE": str(root / ".git" / "index.absent")}
    for cmd in (["git", "read-tree", "HEAD"], ["git", "update-index", "--cacheinfo", f"100644,{blob},dvc.lock"]):
        subprocess.run(cmd, cwd=root, env=env, check=True)
    tree = subprocess.run(["git", "write-tree"], cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()
    commit = subprocess.run([*GIT, "commit-tree", tree, "-p", "HEAD", "-m", "unpushed data"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    res = run(["synthkit", "diff", commit, "--artifact", "train"], root, check=False)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith("error: data/train.parquet is not available at ")


def _lock_md5(lock: str, path: str) -> str:
    """The md5 dvc.lock records for an output path."""
    import yaml

    for stage in yaml.safe_load(lock)["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == path:
                return out["md5"]
    raise AssertionError(f"{path} not in dvc.lock")

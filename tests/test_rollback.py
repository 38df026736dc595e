"""Roll back a dataset: `git checkout v1 && dvc checkout` gives back v1's bytes; from a DVC remote after losing the cache too."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.repo_copy import built_copy, run

pytestmark = pytest.mark.e2e

GIT = ["git", "-c", "user.email=test@synthkit.invalid", "-c", "user.name=synthkit test"]
TRAIN = "data/train.parquet"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> dict:
    """v1 built, tagged and pushed to a local remote; v2 with another mix ratio built, committed, pushed."""
    root = built_copy(tmp_path_factory.mktemp("rollback"))
    remote = tmp_path_factory.mktemp("remote")
    run([*GIT, "add", "-A"], root)
    run([*GIT, "commit", "-q", "--allow-empty", "-m", "v1"], root)
    run(["git", "tag", "v1"], root)
    v1 = (root / TRAIN).read_bytes()
    # --local: the remote lives in .dvc/config.local (git-ignored), so checking out v1 keeps it
    run(["dvc", "remote", "add", "--local", "-d", "local", str(remote)], root)
    run(["dvc", "push", "dvc.yaml"], root)
    params = (root / "params.yaml").read_text()
    assert "  synthetic_ratio: auto" in params
    (root / "params.yaml").write_text(params.replace("  synthetic_ratio: auto", "  synthetic_ratio: 0.4", 1))
    run(["dvc", "repro", "dvc.yaml"], root)
    run([*GIT, "commit", "-q", "-am", "v2: a fixed synthetic share"], root)
    run(["git", "tag", "v2"], root)
    v2 = (root / TRAIN).read_bytes()
    run(["dvc", "push", "dvc.yaml"], root)
    return {"root": root, "remote": remote, "v1": v1, "v2": v2}


def _lose_the_cache(root: Path) -> None:
    """The copy's DVC cache is gone: it gets an empty cache of its own (the session's shared one stays whole)."""
    empty = root.parent / f"{root.name}-empty-cache"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    run(["dvc", "cache", "dir", "--local", str(empty)], root)


def test_the_params_change_changed_the_training_set(history):
    assert history["v1"] != history["v2"]
    assert json.loads(run(["dvc", "status", "--json", "dvc.yaml"], history["root"]).stdout) == {}


def test_git_checkout_and_dvc_checkout_restore_v1(history):
    root = history["root"]
    run(["git", "checkout", "-q", "v1"], root)
    run(["dvc", "checkout", "dvc.yaml"], root)
    assert (root / TRAIN).read_bytes() == history["v1"]
    assert json.loads(run(["dvc", "status", "--json", "dvc.yaml"], root).stdout) == {}


def test_dvc_pull_restores_v1_without_a_cache(history):
    """After the cache and the workspace copy are gone, the remote alone gives back v1's bytes."""
    root = history["root"]
    run(["git", "checkout", "-q", "v1"], root)
    _lose_the_cache(root)
    (root / TRAIN).unlink()
    run(["dvc", "pull", "dvc.yaml"], root)
    assert (root / TRAIN).read_bytes() == history["v1"]
    assert _md5(root / TRAIN) == hashlib.md5(history["v1"]).hexdigest()


def test_diff_reads_both_revisions_from_the_remote(history):
    """`synthkit diff v1 v2` after losing the cache: v2's data comes from the remote through dvc.api."""
    root = history["root"]
    _lose_the_cache(root)
    d = json.loads(run(["synthkit", "diff", "v1", "v2", "--json"], root).stdout)
    assert d["params"] == {"mix.synthetic_ratio": {"a": "auto", "b": 0.4}}
    assert d["summary"]["added"] + d["summary"]["removed"] > 0

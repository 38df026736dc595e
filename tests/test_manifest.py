import pytest

from synthkit.manifest import funnel, git_blob_id


def _c(stage, n_in, kept, reasons):
    return {"stage": stage, "in": n_in, "kept": kept, "rejected": sum(reasons.values()), "rejected_by_gate": {}, "rejected_by_reason": reasons}


def test_funnel_adds_up():
    counts = {
        "generate": _c("generate", 100, 100, {}),
        "validate": _c("validate", 100, 90, {"rule_too_short": 10}),
        "filter": _c("filter", 90, 80, {"pii_email_address": 4, "consistency_disagree": 6}),
        "dedupe": _c("dedupe", 80, 70, {"dedupe_exact": 10}),
        "mix": _c("mix", 70, 50, {"mix_ratio": 20}),
    }
    f = funnel(counts)
    assert f["adds_up"] and f["candidates"] == 100 and f["synthetic_in_train"] == 50 and f["rejected"] == 50
    assert f["rejected_by_reason"]["mix_ratio"] == 20


def test_funnel_that_does_not_add_up_fails():
    counts = {
        "generate": _c("generate", 100, 100, {}),
        "validate": _c("validate", 100, 90, {"rule_too_short": 10}),
        "filter": _c("filter", 89, 80, {"pii_email_address": 9}),
        "dedupe": _c("dedupe", 80, 70, {"dedupe_exact": 10}),
        "mix": _c("mix", 70, 50, {"mix_ratio": 20}),
    }
    with pytest.raises(AssertionError, match="filter: in 89 != validate kept 90"):
        funnel(counts)


def test_git_blob_id_matches_git(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    assert git_blob_id(path) == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_code_versions_name_files_relative_to_the_repository(tmp_path):
    from synthkit.manifest import code_versions

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    versions = code_versions([tmp_path / "pkg" / "b.py", tmp_path / "pkg" / "a.py"], tmp_path)
    assert list(versions) == ["pkg/a.py", "pkg/b.py"]
    assert versions["pkg/a.py"] == git_blob_id(tmp_path / "pkg" / "a.py")

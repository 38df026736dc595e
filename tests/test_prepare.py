import polars as pl
import pytest

from synthkit.config import Columns, PrepareParams
from synthkit.errors import InputError
from synthkit.prepare import check_disjoint_groups, load_labeled, load_unlabeled, split_by_group


def _csv(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_labeled_ids_groups_slices(tmp_path):
    p = _csv(tmp_path, "s.csv", "text,label,group,slices,channel\nrefund pls,a,g1,short;typos,chat\nrefund pls,a,g1,,chat\nlogin broken,b,,,fax\n")
    df, dups, _ = load_labeled(p, "seed", Columns(), ["a", "b"])
    assert dups == 1 and df.height == 2
    row = df.filter(pl.col("text") == "refund pls").row(0, named=True)
    assert row["scenario_id"] == "g1" and row["slices"] == ["short", "typos"] and row["source"] == "real"
    other = df.filter(pl.col("text") == "login broken").row(0, named=True)
    assert other["scenario_id"].startswith("row_") and other["channel"] == "unknown"
    again, *_ = load_labeled(p, "seed", Columns(), ["a", "b"])
    assert again.equals(df)


def test_label_not_in_spec_names_row_and_field(tmp_path):
    p = _csv(tmp_path, "s.csv", "text,label\nok,a\nhmm,zzz\n")
    with pytest.raises(InputError) as info:
        load_labeled(p, "seed", Columns(), ["a", "b"])
    assert (info.value.row, info.value.field) == (3, "label") and "'zzz' is not in the spec" in str(info.value)


def test_unlabeled(tmp_path):
    p = _csv(tmp_path, "p.csv", "text,channel\nwhere is my order,email\nhi,\n")
    df = load_unlabeled(p, Columns())
    assert df.height == 2 and df["label"].is_null().all() and set(df["split"]) == {"production"}


def test_split_by_group_never_straddles(tmp_path):
    lines = "".join(f"text {i},{'a' if i % 2 else 'b'},g{i // 3}\n" for i in range(60))
    df, *_ = load_labeled(_csv(tmp_path, "s.csv", "text,label,group\n" + lines), "seed", Columns(), ["a", "b"])
    out = split_by_group(df, 0.3, seed=1, name="dev")
    per_group = out.group_by("scenario_id").agg(pl.col("split").n_unique().alias("n"))
    assert (per_group["n"] == 1).all()
    assert 0 < out.filter(pl.col("split") == "dev").height <= 18
    assert split_by_group(df, 0.3, seed=1, name="dev").equals(out)
    assert split_by_group(df, 0.0, seed=1, name="dev").equals(df)


def test_groups_shared_between_seeds_and_eval_stop(tmp_path):
    seeds, *_ = load_labeled(_csv(tmp_path, "s.csv", "text,label,group\nrefund now,a,g1\n"), "seed", Columns(), ["a"])
    eval_, *_ = load_labeled(_csv(tmp_path, "e.csv", "text,label,group\nrefund me now,a,g1\n"), "eval", Columns(), ["a"])
    with pytest.raises(InputError, match="group 'g1' also appears in the seeds"):
        check_disjoint_groups(seeds, eval_, "e.csv")
    # rows without a group never count as shared, even with the same text (the leakage report finds those)
    s2, *_ = load_labeled(_csv(tmp_path, "s2.csv", "text,label\nsame text,a\n"), "seed", Columns(), ["a"])
    e2, *_ = load_labeled(_csv(tmp_path, "e2.csv", "text,label\nsame text,a\n"), "eval", Columns(), ["a"])
    check_disjoint_groups(s2, e2, "e2.csv")


CONFLICTING = "text,label\nRefund please!,a\nlogin broken,b\nrefund   PLEASE,b\nrefund please,a\nother,b\n"


def test_conflicting_labels_stop_naming_both_rows(tmp_path):
    with pytest.raises(InputError) as info:
        load_labeled(_csv(tmp_path, "s.csv", CONFLICTING), "seed", Columns(), ["a", "b"])
    assert (info.value.row, info.value.field) == (4, "label") and "same text as row 2" in str(info.value)


@pytest.mark.parametrize("policy,texts,removed", [("drop", ["login broken", "other"], 3), ("first", ["Refund please!", "login broken", "other", "refund please"], 1)])
def test_conflict_policies(tmp_path, policy, texts, removed):
    settings = PrepareParams(conflicts=policy)
    df, dups, conflicts = load_labeled(_csv(tmp_path, "s.csv", CONFLICTING), "seed", settings, ["a", "b"])
    assert sorted(df["text"]) == sorted(texts) and conflicts == removed and dups == 0


def test_other_encoding_is_read_when_configured(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes("text,label\ncafé crème refund,a\n".encode("cp1252"))
    with pytest.raises(InputError) as info:
        load_labeled(p, "seed", Columns(), ["a"])
    assert info.value.row == 2 and "byte offset 14" in str(info.value)
    df, *_ = load_labeled(p, "seed", PrepareParams(encoding="cp1252"), ["a"])
    assert df["text"].to_list() == ["café crème refund"]

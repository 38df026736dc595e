import polars as pl
import pytest

from synthkit.config import ReviewParams
from synthkit.errors import InputError
from synthkit.review import apply_decisions, gate_review, load_decisions, review_sample
from tests.conftest import make_rows


def test_decisions_relabel_reject_accept(tmp_path):
    df = make_rows([("one", "a"), ("two", "a"), ("three", "b")])
    ids = df["id"].to_list()
    path = tmp_path / "decisions.csv"
    path.write_text(f"id,decision,new_label,note\n{ids[0]},relabel,b,wrong label\n{ids[1]},reject,,template residue\n{ids[2]},accept,,\n")
    decisions = load_decisions(path, ["a", "b"])
    out = apply_decisions(df, decisions)
    verdicts = gate_review(ids, decisions)
    assert out["label"].to_list() == ["b", "a", "b"]
    assert out["review"].to_list()[0] == "relabel a->b: wrong label"
    assert [v.reason for v in verdicts] == [None, "review_rejected", None]


def test_missing_or_header_only_decisions(tmp_path):
    assert load_decisions(tmp_path / "none.csv", ["a"]) == {}
    (tmp_path / "d.csv").write_text("id,decision,new_label,note\n")
    assert load_decisions(tmp_path / "d.csv", ["a"]) == {}


@pytest.mark.parametrize(
    "line,field",
    [("x1,relabel,ghost,", "new_label"), ("x1,maybe,,", "decision")],
)
def test_bad_decisions_name_row_and_field(tmp_path, line, field):
    path = tmp_path / "d.csv"
    path.write_text(f"id,decision,new_label,note\n{line}\n")
    with pytest.raises(InputError) as info:
        load_decisions(path, ["a", "b"])
    assert info.value.row == 2 and info.value.field == field


def test_review_sample_is_stratified():
    kept = make_rows([(f"text {i}", "a" if i % 2 else "b") for i in range(100)])
    rejects = make_rows([("bad one", "a")]).with_columns(pl.lit("pii").alias("gate"), pl.lit("pii_email_address").alias("reason"))
    sample = review_sample(kept, rejects, ReviewParams(fraction=0.1), seed=1)
    outcomes = dict(sample.group_by("outcome").len().iter_rows())
    assert outcomes == {"kept": 10, "pii_email_address": 1}
    assert set(sample.filter(pl.col("outcome") == "kept")["label"]) == {"a", "b"}
    assert review_sample(kept, rejects, ReviewParams(fraction=0.0), seed=1).height == 0


def test_decision_counts_and_labelstudio_tasks():
    from synthkit.review import Decision, decision_counts, to_labelstudio

    decisions = {"a": Decision(id="a", decision="accept"), "b": Decision(id="b", decision="relabel", new_label="x"), "gone": Decision(id="gone", decision="reject")}
    assert decision_counts(decisions, {"a", "b"}) == {"accept": 1, "reject": 1, "relabel": 1, "stale": 1}
    sample = review_sample(make_rows([("one two", "a")]), make_rows([]).with_columns(pl.lit("").alias("gate"), pl.lit("").alias("reason")), ReviewParams(fraction=1.0), seed=1)
    [task] = to_labelstudio(sample)
    assert task["data"]["text"] == "one two" and task["data"]["outcome"] == "kept"


def test_the_sample_shows_an_llm_rows_scenario_and_label_rationale(tmp_path):
    import json

    from synthkit.review import write_review_sample

    kept = make_rows([("one two", "a"), ("three four", "b")]).with_columns(
        pl.Series("provenance", [{"scenario": "a customer double charged", "rationale": "rule 1: money back"}, None],
                  dtype=pl.Struct({"scenario": pl.String, "rationale": pl.String})))
    sample = review_sample(kept, make_rows([]).with_columns(pl.lit("").alias("gate"), pl.lit("").alias("reason")),
                           ReviewParams(fraction=1.0), seed=1)
    write_review_sample(sample, tmp_path)
    csv = pl.read_csv(tmp_path / "sample.csv").sort("text")
    assert csv["scenario"].to_list() == ["a customer double charged", None] and csv["rationale"][0] == "rule 1: money back"
    first = json.loads((tmp_path / "sample.jsonl").read_text().splitlines()[0])
    tasks = json.loads((tmp_path / "sample.labelstudio.json").read_text())
    assert {"scenario", "rationale"} <= set(first) and {"scenario", "rationale"} <= set(tasks[0]["data"])


def test_review_sample_takes_the_least_confident_pseudo_labels_of_a_stratum_first():
    confidences = [0.9, 0.31, 0.8, 0.45, 0.99, 0.6, 0.7, 0.95, 0.5, 0.85]
    kept = make_rows([(f"pool text {i}", "a") for i in range(10)]).with_columns(pl.Series("confidence", confidences))
    no_rejects = kept.head(0).with_columns(pl.lit("").alias("gate"), pl.lit("").alias("reason"))
    ids = kept["id"].to_list()
    least = review_sample(kept, no_rejects, ReviewParams(fraction=0.2), seed=1)
    assert set(least["id"]) == {ids[1], ids[3]}  # 0.31 and 0.45
    assert "_conf" not in least.columns and least.columns == review_sample(kept, no_rejects, ReviewParams(fraction=0.0), seed=1).columns
    # rows labelled by construction (no confidence) come after every pseudo-label, in the seeded order
    mixed = kept.with_columns(pl.when(pl.int_range(pl.len()) < 8).then(None).otherwise(pl.col("confidence")).alias("confidence"))
    assert set(review_sample(mixed, no_rejects, ReviewParams(fraction=0.2), seed=1)["id"]) == {ids[8], ids[9]}
    # order random: the seeded order, whatever the confidence
    draws = {frozenset(review_sample(kept, no_rejects, ReviewParams(fraction=0.2, order="random"), seed=s)["id"]) for s in range(8)}
    assert len(draws) > 1


def test_the_sample_shows_a_pseudo_labels_confidence_and_a_blank_for_rows_labelled_by_construction(tmp_path):
    import json

    from synthkit.review import write_review_sample

    kept = make_rows([("pool text one", "a"), ("template text two", "a")]).with_columns(pl.Series("confidence", [0.41237, None], dtype=pl.Float64))
    rejects = make_rows([("pool text three", "b")]).with_columns(
        pl.lit("toxicity").alias("gate"), pl.lit("toxicity 0.9").alias("reason"), pl.lit(0.77).alias("confidence"))
    sample = review_sample(kept, rejects, ReviewParams(fraction=1.0), seed=1)
    write_review_sample(sample, tmp_path)
    csv = pl.read_csv(tmp_path / "sample.csv")
    shown = dict(zip(csv["text"].to_list(), csv["confidence"].to_list(), strict=True))
    assert shown == {"pool text one": 0.412, "template text two": None, "pool text three": 0.77}
    assert csv.columns[-3:] == ["decision", "new_label", "note"]  # a reviewer still fills the last three columns
    records = [json.loads(line) for line in (tmp_path / "sample.jsonl").read_text().splitlines()]
    tasks = json.loads((tmp_path / "sample.labelstudio.json").read_text())
    assert {r["text"]: r["confidence"] for r in records} == shown
    assert {t["data"]["text"]: t["data"]["confidence"] for t in tasks} == shown

"""Eval leakage by meaning: nearest eval items by embedding cosine, verified by char n-gram Jaccard, stricter than dedupe."""

from __future__ import annotations

import polars as pl
import pytest

from synthkit.config import DedupeParams
from synthkit.dedupe import dedupe, jaccard, shingles
from synthkit.embeddings import Embedder
from synthkit.dedupe import eval_matches
from tests.conftest import make_rows

EVAL = ["I would like to know why my card payment was declined at the grocery store yesterday evening",
        "how do I change the email address on my account"]
EDITED = "I would like to know why my card payment was refused at the grocery shop yesterday evening"  # two words
REORDERED = "yesterday evening at the grocery store my card payment was declined, I would like to know why"
DISTINCT = "my card payment got declined in a shop, why"  # same meaning, written anew
UNRELATED = "where is my parcel"
PARAMS = DedupeParams()
# the edit rule out of reach: a rearranged copy is caught by the semantic rule (same words, cosine ~1)
SEMANTIC_ONLY = DedupeParams(eval_leakage={"jaccard": 0.79})


def test_edited_copy_is_an_edit_match_below_the_dedupe_threshold():
    j = jaccard(shingles(EDITED, "char", 5), shingles(EVAL[0], "char", 5))
    assert PARAMS.eval_leakage.jaccard <= j < PARAMS.threshold  # the MinHash near check alone misses it
    [[(kind, pos, jac, cos)]] = eval_matches([EDITED], EVAL, PARAMS)
    assert (kind, pos) == ("edit", 0) and jac == pytest.approx(j) and 0 < cos < 1


def test_rearranged_copy_is_a_semantic_match_when_the_edit_rule_does_not_reach_it():
    [[(kind, pos, jac, cos)]] = eval_matches([REORDERED], EVAL, SEMANTIC_ONLY)
    assert (kind, pos) == ("semantic", 0) and cos >= 0.97 and SEMANTIC_ONLY.eval_leakage.cosine_jaccard <= jac < 0.79


def test_distinct_and_unrelated_texts_are_not_flagged():
    assert eval_matches([DISTINCT, UNRELATED], EVAL, PARAMS) == [[], []]


@pytest.mark.parametrize("texts,eval_texts,params", [([], EVAL, PARAMS), ([EDITED], [], PARAMS),
                                                     ([EDITED], EVAL, DedupeParams(eval_leakage={"enabled": False}))])
def test_nothing_to_compare_or_disabled(texts, eval_texts, params):
    assert eval_matches(texts, eval_texts, params) == [[] for _ in texts]


def test_batches_give_the_same_matches():
    texts = [EDITED, DISTINCT, REORDERED, UNRELATED] * 3
    assert eval_matches(texts, EVAL, PARAMS, batch=5) == eval_matches(texts, EVAL, PARAMS)


def _frame(rows, source="synthetic"):
    frame = make_rows([(t, "lbl") for _, t in rows], source=source)
    return frame.with_columns(pl.Series("id", [i for i, _ in rows], dtype=pl.String)) if rows else frame


def test_dedupe_drops_synthetic_leaks_by_meaning_and_reports_real_ones(tmp_path):
    synth = _frame([("s1", EDITED), ("s2", DISTINCT), ("s3", UNRELATED)])
    seeds = _frame([("r1", EDITED.replace("evening", "night"))], "real")
    eval_ = _frame([("e1", EVAL[0]), ("e2", EVAL[1])], "real")
    kept, rejects, report = dedupe(synth, seeds, eval_, PARAMS, embedder=Embedder(tmp_path))
    assert sorted(kept["id"].to_list()) == ["s2", "s3"]
    row = rejects.row(0, named=True)
    assert row["id"] == "s1" and row["reason"] == "dedupe_eval_edit" and row["detail"].startswith("e1 jaccard=") and "cosine=" in row["detail"]
    [item] = report["leaked_eval_items"]
    assert item["eval_id"] == "e1" and report["by_kind"] == {"edit": 1}
    assert {(n["id"], n["source"], n["kind"], n["removed"]) for n in item["neighbours"]} == {
        ("s1", "synthetic", "edit", True), ("r1", "real", "edit", False)}
    assert all(0 < n["cosine"] <= 1 for n in item["neighbours"])
    assert list(tmp_path.glob("*.keys.npy"))  # the vectors went through the cache


def test_an_exact_or_near_match_is_reported_as_such_not_by_meaning():
    synth = _frame([("s1", EVAL[0].upper())])
    _, rejects, report = dedupe(synth, _frame([], "real"), _frame([("e1", EVAL[0])], "real"), PARAMS)
    assert rejects["reason"].to_list() == ["dedupe_eval_exact"] and report["by_kind"] == {"exact": 1}


def test_eval_threshold_above_the_dedupe_threshold_is_rejected():
    with pytest.raises(ValueError, match="stricter"):
        DedupeParams(threshold=0.7, eval_leakage={"jaccard": 0.75})


def test_rows_with_a_target_leak_as_their_input_output_pair():
    def qa(rows, source="synthetic"):
        return _frame([(i, q) for i, q, _ in rows], source).with_columns(pl.Series("target", [a for _, _, a in rows], dtype=pl.String))

    eval_ = qa([("e1", "Who leads the campus programme?", "Ines Duarte")], "real")
    other_answer = qa([("s1", "Who leads the beta programme?", "Marta Okonkwo")])
    same_answer = qa([("s2", "Who currently leads the campus programme?", "Ines Duarte")])
    _, rejects, _ = dedupe(other_answer, _frame([], "real"), eval_, PARAMS)
    assert rejects.height == 0  # a question reused about another programme, with another answer
    _, rejects, _ = dedupe(same_answer, _frame([], "real"), eval_, PARAMS)
    assert rejects["reason"].to_list() == ["dedupe_eval_edit"]
    # without targets the two questions alone are close enough to be an edit
    assert eval_matches(["Who leads the beta programme?"], [eval_["text"][0]], PARAMS)[0][0][0] == "edit"

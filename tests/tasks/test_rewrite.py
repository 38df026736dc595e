"""Rewrite: the rewrite gate (hard negatives rejected, near misses kept), generator variants, the learned rewriter, scores."""

from __future__ import annotations

import random

import pytest

from synthkit.config import GenerateParams
from synthkit.spec import Spec
from synthkit.tasks.rewrite.gate import check_target, gate_rewrite
from synthkit.tasks.rewrite.generate import apply_op, render_candidates
from synthkit.tasks.rewrite.section import RewriteParams, RewriteSpec
from synthkit.tasks.rewrite.student import Rewriter, rewrite_scores

SECTION = {
    "form": "canonical_uk_address",
    "target_pattern": r"(?:Flat \d+[A-Z]?, )?\d+[A-Z]? (?:[A-Z][a-z]+ )+(?:Street|Road|Lane), [A-Z][a-z]+(?: [A-Z][a-z]+)*, [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}",
    "expansions": {"st": "Street", "rd": "Road", "ln": "Lane"},
}
RW = RewriteSpec.model_validate(SECTION)
BOUNDS = RewriteParams().length_ratio
TARGET = "Flat 2, 12 Willow Road, Ashbury, KT4 7QX"


def reasons(texts, targets):
    return [v.reason for v in gate_rewrite(texts, targets, RW, BOUNDS)]


@pytest.mark.parametrize(
    "source",
    [
        "flat 2, 12 willow rd, ashbury, kt4 7qx",      # abbreviation expands to a known word
        "FLAT 2 12 WILLOW ROAD ASHBURY KT47QX",          # squashed postcode: its digits are still there
        "Flat 2, 12 Willow Rd., Ashbury, KT4 7QX.",
        TARGET,                                          # already canonical: the identity rewrite is fine
    ],
)
def test_near_misses_are_kept(source):
    assert reasons([source], [TARGET]) == [None]


@pytest.mark.parametrize(
    "source, target, reason",
    [
        ("flat 2, 12 willow rd, ashbury, kt4 7qx", "Flat 2, 12 Willow Road, Ashbury", "rewrite_target_form"),
        ("flat 2, 12 willow rd, ashbury, kt4 7qx", "flat 2, 12 willow road, ashbury, KT4 7QX", "rewrite_target_form"),
        ("flat 2, 12 willow rd, ashbury, kt4 7qx", "Flat 2, 13 Willow Road, Ashbury, KT4 7QX", "rewrite_new_number"),
        ("12 willow rd, ashbury, kt4 7qx", "Flat 3, 12 Willow Road, Ashbury, KT4 7QX", "rewrite_new_number"),
        ("flat 2, 12 willow rd, ashbury, kt4 7qx", "Flat 2, 12 Willow Road, Ashford, KT4 7QX", "rewrite_new_entity"),
        ("flat 2, 12 wilow rd, ashbury, kt4 7qx", TARGET, "rewrite_new_entity"),  # typo in the source: the target invents a word
        ("flat 2, 12 willow st, ashbury, kt4 7qx", TARGET, "rewrite_new_entity"),  # st expands to Street, not Road
        ("Deliver to flat 2, 12 willow rd, ashbury, kt4 7qx, ring the bell twice and leave it with the neighbours", TARGET, "rewrite_length_ratio"),
        ("flat 2, 12 willow rd, ashbury, kt4 7qx", None, "rewrite_missing_target"),
    ],
)
def test_hard_negatives_are_rejected(source, target, reason):
    assert reasons([source], [target]) == [reason]


def test_check_target_requires_the_form():
    assert check_target(RW)(TARGET) == TARGET
    with pytest.raises(ValueError, match="canonical_uk_address"):
        check_target(RW)("12 willow road")


def test_source_ops_are_deterministic_variants():
    rng = random.Random(0)
    assert apply_op("squash_postcode", TARGET.lower(), RW, rng).endswith("kt47qx")
    assert apply_op("drop_commas", TARGET, RW, rng) == "Flat 2 12 Willow Road Ashbury KT4 7QX"
    assert apply_op("abbreviate", TARGET, RW, random.Random(1)).split()[4].lower().strip(".,") == "rd"


def test_generated_pairs_pass_the_gate():
    spec = Spec.model_validate({
        "task": {"name": "x", "type": "rewrite"},
        "labels": [{"name": "house", "definition": "A house on a street."}, {"name": "flat", "definition": "A flat in a building."}],
        "rewrite": SECTION,
        "slots": {"n": ["4", "12", "150"], "street": ["Willow", "Old Forge"], "type": ["Street", "Road", "Lane"], "town": ["Ashbury", "Little Brayford"],
                  "pc": ["KT4 7QX", "LS12 3NP"]},
        "scenarios": [{"id": "h", "label": "house", "description": "d", "templates": {"typical": ["{n} {street} {type}, {town}, {pc}"]}}],
    })
    df = render_candidates(spec, GenerateParams(per_scenario=50), seed=2)
    assert df.height > 20 and (df["text"] != df["target"]).sum() > 0
    assert set(reasons(df["text"].to_list(), df["target"].to_list())) == {None}
    clean = df.filter(df["family"] == "hard_negative")
    assert clean.height > 0 and (clean["text"] == clean["target"]).all()  # hard negatives: already canonical, nothing to change


def test_rewriter_learns_map_casing_postcode_split_and_commas():
    pairs = [
        ("12 willow rd ashbury kt47qx", "12 Willow Road, Ashbury, KT4 7QX"),
        ("4 OLD FORGE LANE, ASHBURY, LS12 3NP", "4 Old Forge Lane, Ashbury, LS12 3NP"),
        ("flat 3 150 kiln st brayford kt4 7qx", "Flat 3, 150 Kiln Street, Brayford, KT4 7QX"),
        ("9 Heron Rd, Elderby, LS123NP", "9 Heron Road, Elderby, LS12 3NP"),
        ("flat 1, 7 heron ln, elderby, ls12 3np", "Flat 1, 7 Heron Lane, Elderby, LS12 3NP"),
        ("33 quarry street, fenwick, kt4 7qx", "33 Quarry Street, Fenwick, KT4 7QX"),
    ] * 2
    model = Rewriter().fit([s for s, _ in pairs], [t for _, t in pairs])
    assert model.predict_one("flat 2 58 larch rd westcombe bn29he") == "Flat 2, 58 Larch Road, Westcombe, BN2 9HE"
    assert model.predict_one("21 SAXON LANE, PENNINGTON, NR5 6GZ") == "21 Saxon Lane, Pennington, NR5 6GZ"


def test_rewrite_scores_on_known_inputs():
    s = rewrite_scores(["a b c", "d e f"], ["a b c", "d e g"])
    assert s["exact_match"] == 0.5 and 0 < s["chrf"] < 100
    assert rewrite_scores(["abc"], ["abc"])["chrf"] == 100.0
    assert rewrite_scores([], [])["n"] == 0

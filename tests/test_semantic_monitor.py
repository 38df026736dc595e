"""Drift and diversity by meaning: production clusters the training mix covers, spread, per-label distances."""

from __future__ import annotations

import json

import numpy as np

from synthkit.config import MonitorParams
from synthkit.semantic_monitor import diversity_by_meaning, drift_by_meaning, label_distances, spread
from tests.test_monitor import banking_texts, gaming_texts

PARAMS = MonitorParams(clusters=4, min_cluster_size=5)


def test_production_topic_missing_from_training_is_an_uncovered_cluster():
    train = banking_texts(80, seed=1)
    production = banking_texts(40, seed=2) + gaming_texts(40, seed=3)
    report = drift_by_meaning(train, production, PARAMS, seed=7)
    assert report["n_clusters"] == 4
    assert 0.0 < report["covered_production_share"] < 0.9
    assert report["uncovered"] and all(
        any(w in ex for w in ("dragon", "paladin", "rogue", "wizard", "ranger", "necromancer")) for c in report["uncovered"] for ex in c["examples"]
    )
    same = drift_by_meaning(train + gaming_texts(40, seed=4), production, PARAMS, seed=7)
    assert same["covered_production_share"] > report["covered_production_share"]
    assert same["centroid_cosine_distance"] < report["centroid_cosine_distance"]
    assert json.loads(json.dumps(report)) == report
    assert report == drift_by_meaning(train, production, PARAMS, seed=7)  # deterministic


def test_small_or_empty_sides_give_no_clusters():
    assert drift_by_meaning(banking_texts(5, 1), banking_texts(6, 2), PARAMS, seed=1)["n_clusters"] == 0
    empty = drift_by_meaning([], banking_texts(30, 2), PARAMS, seed=1)
    assert empty["production_nearest_train_cosine"] is None and empty["covered_cluster_share"] is None


def test_spread_is_zero_for_one_repeated_meaning_and_grows_with_variety():
    v = np.tile(np.array([[0.6, 0.8]], np.float32), (5, 1))
    assert abs(spread(v, 100, 1)) < 1e-6 and spread(v[:1], 100, 1) is None
    repeated = diversity_by_meaning(["reset my password"] * 20, PARAMS, seed=1)["spread"]
    varied = diversity_by_meaning(banking_texts(20, 3) + gaming_texts(20, 4), PARAMS, seed=1)["spread"]
    assert repeated < 1e-6 < varied


def test_label_distances_flag_synthetic_rows_that_sit_with_another_label():
    real = [(t, "bank", "real") for t in banking_texts(10, 1)] + [(t, "game", "real") for t in gaming_texts(10, 2)]
    good = [(t, "bank", "synthetic") for t in banking_texts(10, 3)]
    mislabeled = [(t, "game", "synthetic") for t in banking_texts(10, 4)]  # banking texts labeled game
    rows = real + good + mislabeled
    out = label_distances(*zip(*rows), PARAMS, seed=1)
    assert set(out) == {"bank", "game"}
    assert out["bank"]["synthetic_nearest_real_other_label_share"] == 0.0
    assert out["game"]["synthetic_nearest_real_other_label_share"] == 1.0
    assert out["game"]["centroid_cosine_distance"] > out["bank"]["centroid_cosine_distance"]
    only_real = label_distances(*zip(*real), PARAMS, seed=1)
    assert only_real["bank"]["n_synthetic"] == 0 and "centroid_cosine_distance" not in only_real["bank"]

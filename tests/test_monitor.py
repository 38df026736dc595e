"""Monitor: drift between production and training text, diversity and mode-collapse signals."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from synthkit.config import DedupeParams, MonitorParams
from synthkit.monitor import (
    archetypes,
    cluster_summary,
    distinct_n,
    diversity,
    drift,
    js_divergence,
    ks_statistic,
    oov_rate,
)

MONITOR = MonitorParams()
DEDUPE = DedupeParams()

ACCOUNTS = ["card", "account", "transfer", "payment", "pin", "refund", "statement", "loan", "deposit", "fee"]
ACTIONS = ["cancel", "check", "dispute", "change", "verify", "close", "track", "report", "update", "explain"]
WHEN = ["today", "yesterday", "last week", "this morning", "on monday", "twice now", "again", "since friday"]


def banking_texts(n: int, seed: int) -> list[str]:
    """Varied customer-support sentences built from several clause pools."""
    rng = random.Random(seed)
    openers = ["hi", "hello", "hey there", "good morning", "excuse me", "quick question", "please help", "urgent"]
    asks = ["can you", "how do i", "i need to", "why can't i", "is it possible to", "help me", "i want to"]
    out = []
    for _ in range(n):
        words = [rng.choice(openers), rng.choice(asks), rng.choice(ACTIONS), "my", rng.choice(ACCOUNTS)]
        if rng.random() < 0.6:
            words += ["it happened", rng.choice(WHEN)]
        if rng.random() < 0.4:
            words += ["and the", rng.choice(ACCOUNTS), "is", rng.choice(["blocked", "missing", "wrong", "late"])]
        out.append(" ".join(words))
    return out


def gaming_texts(n: int, seed: int) -> list[str]:
    """Sentences from a clearly different domain, vocabulary and length."""
    rng = random.Random(seed)
    heroes = ["the paladin", "our rogue", "a wizard", "the dragon", "my ranger", "the necromancer"]
    verbs = ["looted", "summoned", "respawned near", "crafted", "parried", "teleported to"]
    things = ["the dungeon", "an epic sword", "the raid boss", "ten potions", "the guild hall", "a mana crystal"]

    def clause() -> str:
        return f"{rng.choice(heroes)} {rng.choice(verbs)} {rng.choice(things)}"

    return [f"{clause()} while {clause()}" for _ in range(n)]


def patterned_texts(n: int, seed: int) -> list[str]:
    """Mode-collapsed texts: one template, one slot."""
    rng = random.Random(seed)
    return [f"i want to cancel my {rng.choice(ACCOUNTS)} please" for _ in range(n)]


# --- drift -------------------------------------------------------------------------------------------------


def test_drift_auc_near_half_for_two_halves_of_one_corpus() -> None:
    corpus = banking_texts(400, seed=1)
    random.Random(5).shuffle(corpus)
    report = drift(corpus[:200], corpus[200:], seed=13)
    assert report["domain_auc"] == pytest.approx(0.5, abs=0.12)
    assert report["length_ks"] < 0.2
    assert report["vocab_js_divergence"] < 0.05
    assert report["production_oov_rate"] < 0.02


def test_drift_auc_high_for_different_corpora() -> None:
    report = drift(banking_texts(200, seed=1), gaming_texts(150, seed=2), seed=13)
    assert report["domain_auc"] > 0.9
    assert report["vocab_js_divergence"] > 0.8
    assert report["production_oov_rate"] > 0.6  # only "the", "a", "my"-like words are shared
    assert report["length_ks"] > 0.3
    assert report["n_train"] == 200 and report["n_production"] == 150
    assert report["production_median_words"] == 13.0


def test_drift_is_deterministic_and_json_ready() -> None:
    train, prod = banking_texts(120, seed=3), banking_texts(60, seed=4) + gaming_texts(20, seed=5)
    first = drift(train, prod, seed=7)
    assert drift(train, prod, seed=7) == first
    assert json.loads(json.dumps(first)) == first
    assert all(v is None or isinstance(v, (int, float)) for v in first.values())


@pytest.mark.parametrize(
    ("train", "prod"),
    [
        ([], []),
        (["hello there"], []),
        ([], ["hello there"]),
        (["one text"], ["another text"]),
        (["a b c"] * 9, ["x y z"] * 30),  # 9 < 10 rows on one side: no AUC, the rest still computed
        (["!!!"] * 12, ["???"] * 12),  # texts with no words after normalization
    ],
)
def test_drift_tiny_inputs_do_not_crash(train: list[str], prod: list[str]) -> None:
    report = drift(train, prod, seed=1)
    assert report["n_train"] == len(train) and report["n_production"] == len(prod)
    if min(len(train), len(prod)) < 10:
        assert report["domain_auc"] is None
    if train and prod:
        assert report["length_ks"] is not None
    else:
        assert report["length_ks"] is None and report["vocab_js_divergence"] is None
    assert json.loads(json.dumps(report)) == report


def test_drift_statistics_match_their_definitions() -> None:
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([1, 1], [5, 6]) == 1.0
    assert ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5
    assert ks_statistic([], [1]) is None
    assert js_divergence(Counter("aab"), Counter("aab")) == 0.0
    assert js_divergence(Counter("ab"), Counter("cd")) == 1.0
    assert js_divergence(Counter(), Counter("a")) is None
    assert oov_rate(Counter(["a", "b"]), Counter(["a", "c", "c", "d"])) == 0.75
    assert oov_rate(Counter(["a"]), Counter()) is None


# --- diversity ---------------------------------------------------------------------------------------------


def test_patterned_corpus_is_less_diverse_than_a_varied_one() -> None:
    patterned = diversity(patterned_texts(200, seed=1), MONITOR, DEDUPE)
    varied = diversity(banking_texts(200, seed=1), MONITOR, DEDUPE)
    for n in (1, 2, 3):
        assert patterned[f"distinct_{n}"] < varied[f"distinct_{n}"]
    assert patterned["top_archetype_share"] == 1.0
    assert patterned["top_archetypes"] == [{"opening": "i want to", "count": 200}]
    assert varied["top_archetype_share"] < 0.5
    assert patterned["near_dup_cluster_sizes"]["max"] > varied["near_dup_cluster_sizes"]["max"]
    assert patterned["near_dup_cluster_sizes"]["share_in_clusters_gt1"] == 1.0


def test_diversity_report_shape_and_determinism() -> None:
    texts = banking_texts(80, seed=9)
    report = diversity(texts, MONITOR, DEDUPE)
    assert diversity(list(reversed(texts)), MONITOR, DEDUPE) == report
    assert json.loads(json.dumps(report)) == report
    assert len(report["top_archetypes"]) == MONITOR.top_archetypes
    counts = [(-a["count"], a["opening"]) for a in report["top_archetypes"]]
    assert counts == sorted(counts)
    assert all(len(a["opening"].split()) <= MONITOR.archetype_words for a in report["top_archetypes"])


@pytest.mark.parametrize(
    ("texts", "n_clusters_gt1", "max_size"),
    [
        ([], 0, 0),
        (["Only one text here"], 0, 1),
        (["Same text!", "same text", "SAME, TEXT"], 1, 3),  # casing and punctuation variants
        (["Café crème", "cafe creme", "CAFÉ CRÈME."], 1, 2),  # accents matter, casing does not
    ],
)
def test_diversity_edge_cases(texts: list[str], n_clusters_gt1: int, max_size: int) -> None:
    report = diversity(texts, MONITOR, DEDUPE)
    assert report["n_texts"] == len(texts)
    assert report["near_dup_cluster_sizes"]["n_clusters_gt1"] == n_clusters_gt1
    assert report["near_dup_cluster_sizes"]["max"] == max_size
    if not texts:
        assert report["distinct_1"] is None and report["top_archetype_share"] is None


def test_distinct_archetypes_and_cluster_summary_units() -> None:
    tokens = [["a", "b", "a"], ["a", "b"]]
    assert distinct_n(tokens, 1) == 2 / 5
    assert distinct_n(tokens, 2) == 2 / 3  # (a b), (b a), (a b)
    assert distinct_n(tokens, 3) == 1.0
    assert distinct_n([["a"]], 2) is None
    share, top = archetypes([["x", "y", "z"], ["x", "y", "w"], ["q"], ["p"]], opening_words=2, top=2)
    assert top == [{"opening": "x y", "count": 2}, {"opening": "p", "count": 1}]
    assert share == 0.75
    assert cluster_summary([3, 2, 1, 1]) == {"max": 3, "n_clusters_gt1": 2, "share_in_clusters_gt1": round(5 / 7, 6)}
    assert cluster_summary([]) == {"max": 0, "n_clusters_gt1": 0, "share_in_clusters_gt1": 0.0}

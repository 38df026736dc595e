import polars as pl
import pytest

from synthkit.config import MixParams
from synthkit.mix import mix
from tests.conftest import make_rows


def _synth(n_per_label=20):
    items = [(f"synthetic {lab} text number {i}", lab) for lab in ("a", "b") for i in range(n_per_label)]
    df = make_rows(items)
    return df.with_columns(pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("typical")).otherwise(pl.lit("messy")).alias("family"))


def _seeds():
    return pl.concat([
        make_rows([(f"real a {i}", "a") for i in range(5)] + [(f"real b {i}", "b") for i in range(5)], source="real", split="seed"),
        make_rows([("dev row", "a")], source="real", split="dev"),
    ])


def test_ratio_weights_and_nothing_lost():
    synth = _synth()
    train, left = mix(_seeds(), synth, MixParams(synthetic_ratio=0.5, real_weight=1.0, synthetic_weight=0.25), seed=1)
    real = train.filter(pl.col("source") == "real")
    syn = train.filter(pl.col("source") == "synthetic")
    assert real.height == 10 and "dev row" not in train["text"].to_list()
    assert syn.height == 10
    assert syn.height + left.height == synth.height
    assert set(left["reason"]) == {"mix_ratio"} and set(left["gate"]) == {"mix"}
    assert set(real["weight"]) == {1.0} and set(syn["weight"]) == {0.25}
    assert dict(syn.group_by("label").len().iter_rows()) == {"a": 5, "b": 5}  # balanced round-robin
    assert (train["split"] == "train").all()


def test_label_and_family_caps():
    train, left = mix(_seeds(), _synth(), MixParams(synthetic_ratio=0.9, label_cap=3, family_caps={"messy": 1}), seed=1)
    syn = train.filter(pl.col("source") == "synthetic")
    assert syn.group_by("label").len()["len"].max() <= 3
    assert syn.filter(pl.col("family") == "messy").height == 1
    assert {"mix_label_cap", "mix_family_cap"} <= set(left["reason"])


def test_deterministic_and_seed_dependent():
    a, _ = mix(_seeds(), _synth(), MixParams(synthetic_ratio=0.3), seed=1)
    b, _ = mix(_seeds(), _synth(), MixParams(synthetic_ratio=0.3), seed=1)
    c, _ = mix(_seeds(), _synth(), MixParams(synthetic_ratio=0.3), seed=2)
    assert a.equals(b) and not a.equals(c)


def test_ratio_zero_is_real_only():
    train, left = mix(_seeds(), _synth(), MixParams(synthetic_ratio=0.0), seed=1)
    assert (train["source"] == "real").all() and left.height == 40


# ------------------------------------------------------------------------------------------------ synthetic_ratio auto


def _pseudo(n_per_label=6):
    """Pseudo-labelled rows: confidence falls with i; the last two of each label come from round 2."""
    rows = _synth(n_per_label).with_columns(
        (1.0 - pl.int_range(pl.len()).over("label") / 10).alias("confidence"),
        pl.when(pl.int_range(pl.len()).over("label") >= n_per_label - 2).then(2).otherwise(1).alias("round"),
    )
    return rows


def test_a_smaller_amount_is_a_confidence_and_round_cut():
    from synthkit.config import MixParams
    from synthkit.mix import select_synthetic

    synth = _pseudo()
    verdicts = select_synthetic(synth, 4, MixParams(synthetic_ratio="auto"), seed=3)
    chosen = synth.filter(pl.Series([v.reason is None for v in verdicts]))
    assert dict(chosen.group_by("label").len().iter_rows()) == {"a": 2, "b": 2}
    assert (chosen["round"] == 1).all() and chosen["confidence"].min() >= 0.9  # the two most confident of round 1 per label


def test_auto_picks_the_amount_with_the_best_held_out_score_and_writes_the_curve():
    from synthkit.mix_auto import choose_amount

    seeds = pl.concat([make_rows([(f"real a {i}", "a") for i in range(6)] + [(f"real b {i}", "b") for i in range(6)], source="real", split="seed")])
    synth = _pseudo()
    seen = []

    def scorer(train, held):  # best with half of the synthetic rows; never sees the held-out seeds in training
        assert not set(train["id"]) & set(held["id"]) and set(held["source"]) == {"real"}
        n = int((train["source"] == "synthetic").sum())
        seen.append(n)
        return 1.0 - abs(n - synth.height / 2) / synth.height

    choice = choose_amount(seeds, synth, MixParams(), seed=1, scorer=scorer, student="fake")
    assert choice["method"] == "cross_validation" and choice["folds"] == 3
    assert [p["share"] for p in choice["curve"]] == [0.0, 0.5, 1.0]
    assert choice["chosen"]["share"] == 0.5 and choice["target"] == 6 and choice["chosen"]["max_round"] == 1
    assert len(seen) == 9  # 3 folds x 3 shares
    train, left = mix(seeds, synth, MixParams(), seed=1, target=choice["target"])
    assert int((train["source"] == "synthetic").sum()) == 6 and set(left["reason"]) == {"mix_ratio"}


def test_auto_falls_back_with_a_note_and_a_fixed_ratio_stays_fixed():
    from synthkit.mix_auto import choose_amount

    seeds, synth = _seeds(), _synth()
    fixed = choose_amount(seeds, synth, MixParams(synthetic_ratio=0.5), 1, scorer=None)
    assert fixed == {"method": "fixed", "ratio": 0.5, "target": 10}
    fallback = choose_amount(seeds, synth, MixParams(), 1, scorer=None)
    assert fallback["method"] == "fallback" and fallback["target"] == 15 and "mix_score" in fallback["note"]  # 0.6 -> 1.5 x 10
    with pytest.raises(ValueError, match="auto"):
        mix(seeds, synth, MixParams(), seed=1)


def test_rows_made_from_a_held_out_seed_stay_out_of_its_fold():
    from synthkit.mix_auto import choose_amount

    seeds = make_rows([(f"real a {i}", "a") for i in range(6)] + [(f"real b {i}", "b") for i in range(6)], source="real", split="seed")
    parents = seeds["id"].to_list()
    synth = _synth(6).with_columns(pl.Series("parent_ids", [[parents[i]] for i in range(12)]))

    def scorer(train, held):
        derived = {p for ps in train.filter(pl.col("source") == "synthetic")["parent_ids"].to_list() for p in ps}
        assert not derived & set(held["id"])
        return 0.5

    assert choose_amount(seeds, synth, MixParams(), seed=2, scorer=scorer)["chosen"]["share"] == 0.0  # ties go to fewer rows

import polars as pl

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

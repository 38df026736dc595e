import random

import polars as pl

from synthkit.config import GenerateParams
from synthkit.generators.noise import add_typos, make_messy
from synthkit.generators.template import apply_family_caps, generate_template
from synthkit.schemas import Example, polars_schema


def test_generation_is_deterministic_and_carries_provenance(spec):
    params = GenerateParams(per_scenario=30)
    a = generate_template(spec, params, seed=7)
    b = generate_template(spec, params, seed=7)
    assert a.equals(b)
    assert a.schema == polars_schema(Example)
    assert a["id"].is_unique().all()
    assert set(a["scenario_id"]) == {"refund_double", "cancel_plan", "login_reset"}
    assert a["generator"].struct.field("prompt_hash").is_not_null().all()
    assert (a["source"] == "synthetic").all()
    # the label comes from the scenario
    label_of = {sc.id: sc.label for sc in spec.scenarios}
    assert all(label_of[s] == lab for s, lab in a.select("scenario_id", "label").iter_rows())
    assert not a["text"].str.contains(r"\{[a-z_]+\}").any()


def test_seed_changes_output(spec):
    params = GenerateParams(per_scenario=30)
    assert not generate_template(spec, params, 1).equals(generate_template(spec, params, 2))


def test_families_and_channels_cover_the_spec(spec):
    df = generate_template(spec, GenerateParams(per_scenario=80), seed=3)
    fams = set(df["family"])
    assert {"typical", "short", "long", "messy", "multilingual", "hard_negative"} <= fams
    assert set(df["channel"]) == {"chat", "email", "ticket_subject"}
    hard = df.filter(pl.col("family") == "hard_negative")
    assert set(hard["label"]) == {"cancel_subscription"}


def test_family_caps(spec):
    df = generate_template(spec, GenerateParams(per_scenario=80, family_caps={"typical": 5, "messy": 0}), seed=3)
    counts = dict(df.group_by("family").len().iter_rows())
    assert counts.get("typical", 0) == 5 and "messy" not in counts


def test_apply_family_caps_noop_without_caps(spec):
    df = generate_template(spec, GenerateParams(per_scenario=10), seed=3)
    assert apply_family_caps(df, {}, 3).equals(df)


def test_typos_change_words_but_keep_length_roughly():
    text = "please cancel my subscription before the renewal happens tomorrow morning"
    noisy = add_typos(text, 0.25, random.Random(1))
    assert noisy != text
    assert abs(len(noisy) - len(text)) <= 10
    assert add_typos(text, 0.0, random.Random(1)) == text
    assert make_messy(text, 0.2, random.Random(5)) == make_messy(text, 0.2, random.Random(5))

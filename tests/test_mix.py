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


def test_auto_weighs_at_most_max_rows_synthetic_rows_the_first_in_priority_order():
    from synthkit.config import MixAutoParams
    from synthkit.mix import select_synthetic
    from synthkit.mix_auto import choose_amount

    seeds = make_rows([(f"real a {i}", "a") for i in range(6)] + [(f"real b {i}", "b") for i in range(6)], source="real", split="seed")
    synth = _pseudo(10)  # 20 rows
    params = MixParams(auto=MixAutoParams(max_rows=8))
    seen = []

    def scorer(train, held):  # more synthetic rows always score higher
        n = int((train["source"] == "synthetic").sum())
        seen.append(set(train.filter(pl.col("source") == "synthetic")["id"]))
        return n / synth.height

    choice = choose_amount(seeds, synth, params, seed=1, scorer=scorer, student="fake")
    prefix = synth.filter(pl.Series([v.reason is None for v in select_synthetic(synth, 8, params, seed=1)]))
    assert choice["capped"] == {"max_rows": 8, "available": 20} and choice["synthetic_available"] == 20
    assert choice["target"] == 8 and choice["chosen"]["synthetic_rows"] == 8
    assert set().union(*seen) <= set(prefix["id"])  # no fold trained on a row past the cap
    train, _ = mix(seeds, synth, params, seed=1, target=choice["target"])
    assert set(train.filter(pl.col("source") == "synthetic")["id"]) == set(prefix["id"])
    uncapped = choose_amount(seeds, synth, MixParams(auto=MixAutoParams(max_rows=None)), seed=1, scorer=scorer, student="fake")
    assert "capped" not in uncapped and uncapped["target"] == 20


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


def _pseudo_rows(items: list[tuple[str, str]]) -> pl.DataFrame:
    """Rows of the pseudo_label backend, each from its own pool text, labelled as given (confidence 0.95, round 1)."""
    rows = make_rows(items)
    return rows.with_columns(
        pl.struct(pl.lit("pseudo_label").alias("backend"), pl.lit("tfidf_logreg").alias("model"), pl.lit(None, pl.Float64).alias("temperature"),
                  pl.lit("").alias("prompt_hash")).alias("generator"),
        pl.format("pool_{}", pl.int_range(pl.len())).alias("scenario_id"),
        pl.concat_list(pl.format("pool_{}", pl.int_range(pl.len()))).alias("parent_ids"),
        pl.lit(0.95).alias("confidence"), pl.lit(1, pl.Int64).alias("round"),
    )


def test_each_fold_relabels_pseudo_labels_from_its_training_seeds_and_leaves_held_out_derived_rows_out():

    from synthkit.config import Params
    from synthkit.mix_auto import choose_amount
    from synthkit.tasks.base import TaskContext
    from synthkit.tasks.classification.mix import fold_teacher

    words = ["red", "blue", "green", "black", "white", "grey"]
    seeds = make_rows([(f"apple fruit juice {w}", "a") for w in words] + [(f"car engine motor {w}", "b") for w in words], source="real", split="seed")
    # labels a teacher that knew better would never give: every fold must relabel them from its own training seeds
    pseudo = _pseudo_rows([(f"fresh apple fruit {w} {i}", "b") for i, w in enumerate(words)] + [(f"fast car engine {w} {i}", "a") for i, w in enumerate(words)])
    # rows in a seed's group that name no seed parent (e.g. a variant of an approved round-1 row)
    derived = make_rows([(f"variant of {t}", lab) for t, lab in seeds.select("text", "label").iter_rows()]).with_columns(
        seeds["scenario_id"].alias("scenario_id"))
    synth = pl.concat([pseudo, derived], how="vertical_relaxed")
    ctx = TaskContext(spec=None, params=Params())
    teacher_seeds, trained = [], []

    def teacher(train_seeds, rows):
        teacher_seeds.append(set(train_seeds["id"]))
        return fold_teacher(ctx, train_seeds, rows)

    def scorer(train, held):
        trained.append((train, held))
        return 0.5

    choice = choose_amount(seeds, synth, MixParams(), seed=4, scorer=scorer, teacher=teacher)
    assert choice["teacher_refit_per_fold"] is True and len(teacher_seeds) == choice["folds"] == 3
    fold_of = {}
    for train, held in trained:
        held_ids, held_groups = set(held["id"]), set(held["scenario_id"])
        fitted_on = teacher_seeds[len(fold_of)] if frozenset(held_ids) not in fold_of else fold_of[frozenset(held_ids)]
        fold_of.setdefault(frozenset(held_ids), fitted_on)
        assert not fitted_on & held_ids and fitted_on | held_ids == set(seeds["id"])  # the fold teacher never saw a held-out seed
        syn = train.filter(pl.col("source") == "synthetic")
        assert not set(syn["scenario_id"]) & held_groups
        assert not {p for ps in syn["parent_ids"].to_list() for p in (ps or [])} & held_ids
        pl_rows = syn.filter(pl.col("generator").struct.field("backend") == "pseudo_label")
        assert all((lab == "a") == ("apple" in text) for text, lab in pl_rows.select("text", "label").iter_rows())
    assert len(fold_of) == 3
    for fold in choice["per_fold"]:
        assert fold["held_out_derived_dropped"] == fold["held_out_seeds"]  # one derived row per held-out seed
        assert fold["teacher"]["pseudo_labels"] == 12 and fold["teacher"]["relabelled"] == fold["teacher"]["taken"] > 0


def test_pseudo_labels_that_know_the_held_out_seeds_no_longer_win_the_cross_validation():
    import random
    from functools import partial

    from synthkit.config import Params
    from synthkit.generators.pseudo_label import generate_pseudo_labels
    from synthkit.mix_auto import choose_amount
    from synthkit.tasks.base import TaskContext
    from synthkit.tasks.classification.mix import fold_teacher, mix_score

    rng = random.Random(0)

    def word():
        return "".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") for _ in range(3))

    # labels nothing in the text predicts; each pool text restates one seed, so the generate teacher (fitted on every
    # seed) labels the pool right, held-out seeds' restatements included
    items = [(f"{word()} {word()}", lab) for lab in ("a", "b", "c") for _ in range(8)]
    seeds = make_rows(items, source="real", split="seed")
    pool = make_rows([(f"{text} please", "") for text, _ in items], source="real", split="unlabeled")
    ctx = TaskContext(spec=None, params=Params())
    synth = generate_pseudo_labels(seeds, pool, ctx.params.generate.pseudo_label)
    assert synth.height == 24 and all(lab == dict(items)[t.removesuffix(" please")] for t, lab in synth.select("text", "label").iter_rows())
    scorer = partial(mix_score, ctx)
    leaky = choose_amount(seeds, synth, MixParams(), 1, scorer)  # what the mix did before the fold teacher
    assert leaky["chosen"]["share"] == 1.0 and leaky["curve"][-1]["score"] == 1.0 and not leaky["teacher_refit_per_fold"]
    honest = choose_amount(seeds, synth, MixParams(), 1, scorer, teacher=partial(fold_teacher, ctx))
    # the labels are unlearnable, so honest held-out scores stay near chance (1/3) whatever the share
    assert honest["teacher_refit_per_fold"] and max(p["score"] for p in honest["curve"]) < 0.6
    assert honest["chosen"]["gain_over_real_only"] <= 0.1 < leaky["chosen"]["gain_over_real_only"]


def test_the_fold_teacher_never_overrides_a_label_a_person_gave_in_review():
    from synthkit.config import Params
    from synthkit.review import Decision, apply_decisions
    from synthkit.tasks.base import TaskContext
    from synthkit.tasks.classification.mix import fold_teacher

    words = ["red", "blue", "green", "black", "white", "grey"]
    seeds = make_rows([(f"apple fruit juice {w}", "a") for w in words] + [(f"car engine motor {w}", "b") for w in words], source="real", split="seed")
    pseudo = _pseudo_rows([(f"fresh apple fruit {w} {i}", "b") for i, w in enumerate(words)])
    ids = pseudo["id"].to_list()
    # a person relabelled one row to "a" and accepted another at "b" (say the text is about apple-flavoured car wax)
    reviewed = apply_decisions(pseudo, {ids[0]: Decision(id=ids[0], decision="relabel", new_label="a"),
                                        ids[1]: Decision(id=ids[1], decision="accept")})
    rows, counts = fold_teacher(TaskContext(spec=None, params=Params()), seeds, reviewed)
    label = dict(rows.select("id", "label").iter_rows())
    assert label[ids[0]] == "a" and label[ids[1]] == "b"  # the person's labels, though the teacher says "a" for both
    assert all(label[i] == "a" for i in ids[2:])  # every unreviewed pseudo-label is relabelled from the seeds
    assert counts["pseudo_labels"] == 4 and counts["reviewed"] == 2 and rows.height == 6

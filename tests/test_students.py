"""Students by name (TF-IDF, embeddings, both), the per-student evaluation, and the neighbour vote."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

from synthkit.config import EvaluateParams
from synthkit.embeddings import Embedder
from synthkit.student import train_student as legacy_train_student
from synthkit.tasks.classification.evaluate import students_metrics, uplift_signs_agree
from synthkit.students import STUDENTS, build_student, neighbour_vote, predict_with_confidence, train_student
from tests.conftest import make_rows

REFUND = ["i want my money back", "refund the double charge", "please refund my last payment", "give me a refund for the charge"]
LOGIN = ["i cannot sign in", "password reset email never arrives", "login fails with my password", "can't log into my account"]
LABELS = ["refund"] * 4 + ["login"] * 4


@pytest.mark.parametrize("kind", STUDENTS)
def test_every_student_learns_two_clear_labels(kind):
    model = train_student(REFUND + LOGIN, LABELS, C=10.0, kind=kind)
    assert list(model.predict(["refund my payment please", "my password does not work, cannot log in"])) == ["refund", "login"]
    labels, conf = predict_with_confidence(model, ["refund the charge"])
    assert labels == ["refund"] and 0.5 < conf[0] <= 1.0


def test_features_per_student():
    widths = {}
    for kind in STUDENTS:
        model = train_student(REFUND + LOGIN, LABELS, kind=kind)
        widths[kind] = model.named_steps["features"].transform(["refund"]).shape[1]
    assert widths["embed_logreg"] == 256
    assert widths["both"] == widths["tfidf_logreg"] + 256


def test_the_old_import_path_trains_the_tfidf_student():
    old = legacy_train_student(REFUND + LOGIN, LABELS, C=10.0)
    new = train_student(REFUND + LOGIN, LABELS, C=10.0, kind="tfidf_logreg")
    probe = ["refund please", "cannot sign in"]
    assert np.array_equal(old.predict_proba(probe), new.predict_proba(probe))


def test_unknown_student_and_single_label_are_errors():
    with pytest.raises(ValueError, match="unknown student"):
        build_student("bert")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least two labels"):
        train_student(REFUND, ["refund"] * 4, kind="embed_logreg")


def test_clones_share_the_embedder_and_its_cache(tmp_path):
    embedder = Embedder(tmp_path)
    model = build_student("both", embedder=embedder)
    copy = clone(model)
    assert copy.named_steps["features"].transformer_list[2][1].embedder is embedder
    copy.fit(REFUND + LOGIN, LABELS)
    assert embedder.misses == 8 and list(tmp_path.glob("*.keys.npy"))


def test_neighbour_vote_takes_the_majority_then_the_closer_label():
    seeds = REFUND + LOGIN
    labels, share = neighbour_vote(seeds, LABELS, ["refund the charge to my card", "i cannot log in with my password"], k=3)
    assert labels == ["refund", "login"] and np.all(share >= 2 / 3)
    # one neighbour each way: the more similar one wins the tie
    labels, share = neighbour_vote(["refund my money", "cannot log in"], ["refund", "login"], ["refund my money now"], k=2)
    assert labels == ["refund"] and share.tolist() == [0.5]
    assert neighbour_vote(seeds, LABELS, [], k=3)[0] == []


def _frames():
    real = make_rows([(t, "a") for t in REFUND[:2]] + [(t, "b") for t in LOGIN[:2]], source="real", split="seed")
    train = pl.concat([real, make_rows([(t, "a") for t in REFUND[2:]] + [(t, "b") for t in LOGIN[2:]])])
    eval_ = make_rows([("refund please", "a"), ("money back now", "a"), ("login broken", "b"), ("cannot sign in", "b")],
                      source="real", split="eval", slices=["short"])
    return real.with_columns(pl.lit(1.0).alias("weight")), train.with_columns(pl.lit(1.0).alias("weight")), eval_


def test_evaluate_students_reports_each_student_and_keeps_the_first_as_headline():
    real, train, eval_ = _frames()
    params = EvaluateParams(students=["embed_logreg", "tfidf_logreg"], min_slice_size=2)
    metrics, detail, preds = students_metrics(real, train, eval_, ["a", "b"], params)
    assert metrics["student"] == "embed_logreg" and list(metrics["students"]) == ["embed_logreg", "tfidf_logreg"]
    for name, section in metrics["students"].items():
        assert set(section) == {"real_only", "mix", "uplift", "slices"}
        assert section["uplift"]["macro_f1"] == round(section["mix"]["macro_f1"] - section["real_only"]["macro_f1"], 6)
        assert "short" in section["slices"] and set(detail["students"][name]) == {"per_label_f1", "slices"}
    assert metrics["mix"] == metrics["students"]["embed_logreg"]["mix"]
    assert len(preds["mix"]) == eval_.height


def test_uplift_signs_agree():
    def m(*ups):
        return {"students": {str(i): {"uplift": {"macro_f1": u}} for i, u in enumerate(ups)}}

    assert uplift_signs_agree(m(0.02, 0.01)) and uplift_signs_agree(m(-0.1, -0.2))
    assert not uplift_signs_agree(m(0.02, -0.01)) and not uplift_signs_agree(m(0.0, 0.01))

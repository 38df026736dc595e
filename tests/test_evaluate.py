import polars as pl

from synthkit.config import EvaluateParams
from synthkit.tasks.classification.evaluate import scores, student_metrics
from tests.conftest import make_rows

A = ["refund my money", "i want a refund", "refund the charge please", "money back now"]
B = ["cannot log in", "password reset broken", "login fails", "sign in error"]


def test_scores():
    s = scores(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    assert s["accuracy"] == round(2 / 3, 6) and s["n"] == 3 and 0 < s["macro_f1"] < 1


def test_evaluate_reports_overall_slices_and_uplift():
    real = make_rows([(t, "a") for t in A[:2]] + [(t, "b") for t in B[:2]], source="real", split="seed")
    train = pl.concat([real, make_rows([(t, "a") for t in A[2:]] + [(t, "b") for t in B[2:]])])
    eval_ = make_rows(
        [("refund please", "a"), ("money back", "a"), ("login broken", "b"), ("cannot sign in", "b"), ("reset password", "b")],
        source="real", split="eval", slices=["short"],
    )
    metrics, detail, preds = student_metrics(real, train, eval_, ["a", "b"], EvaluateParams(min_slice_size=2))
    assert set(metrics) >= {"real_only", "mix", "uplift", "slices"}
    assert metrics["uplift"]["macro_f1"] == round(metrics["mix"]["macro_f1"] - metrics["real_only"]["macro_f1"], 6)
    assert metrics["slices"]["short"]["n"] == 5
    assert set(detail["per_label_f1"]["mix"]) == {"a", "b"}
    assert len(preds["mix"]) == eval_.height
    # slices smaller than min_slice_size are left out
    m2, _, _ = student_metrics(real, train, eval_, ["a", "b"], EvaluateParams(min_slice_size=50))
    assert m2["slices"] == {}


def test_ratio_curve_uses_subsets_of_the_mix():
    from synthkit.tasks.classification.evaluate import ratio_curve

    real = make_rows([(t, "a") for t in A[:2]] + [(t, "b") for t in B[:2]], source="real", split="seed")
    train = pl.concat([real, make_rows([(t, "a") for t in A[2:]] + [(t, "b") for t in B[2:]])])
    eval_ = make_rows([("refund please", "a"), ("login broken", "b")], source="real", split="eval")
    points = ratio_curve(train, eval_, ["a", "b"], EvaluateParams(ratio_grid=[0.5, 0.0, 0.9]), seed=1)
    assert [p["ratio"] for p in points] == [0.0, 0.5, 0.9]
    assert [p["synthetic_rows"] for p in points] == [0, 4, 4]  # 0.9 is capped at the 4 synthetic rows the mix holds
    assert points[0]["uplift_macro_f1"] == 0.0 and points[1]["ratio_actual"] == 0.5

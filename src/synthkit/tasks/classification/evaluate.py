"""Classification's evaluation: the student trained on real-only and on the mix, scored on the protected real eval set
(accuracy and macro-F1, per slice and per label), the uplift of each generator backend alone, and the uplift by ratio."""

from __future__ import annotations

import polars as pl
from sklearn.metrics import accuracy_score, f1_score

from synthkit.config import EvaluateParams
from synthkit.progress import progress
from synthkit.student import train_student
from synthkit.tasks.base import Evaluation, TaskContext, slice_groups, slice_plot_rows


def _round(x: float) -> float:
    return round(float(x), 6)


def scores(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Accuracy and macro-F1 over the labels present in y_true."""
    present = sorted(set(y_true))
    return {
        "n": len(y_true),
        "accuracy": _round(accuracy_score(y_true, y_pred)),
        "macro_f1": _round(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
    }


def per_label_f1(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict[str, float]:
    values = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {lab: _round(v) for lab, v in zip(labels, values)}


def slice_scores(eval_: pl.DataFrame, y_pred: list[str], labels: list[str], min_size: int) -> dict[str, dict]:
    """Scores per slice tag (and 'all'), for slices with at least min_size rows."""
    y_true = eval_["label"].to_list()
    groups = slice_groups(eval_["slices"].to_list(), min_size)
    return {g: scores([y_true[i] for i in idx], [y_pred[i] for i in idx], labels) for g, idx in groups.items()}


def student_metrics(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams) -> tuple[dict, dict, dict]:
    """Metrics (overall, per slice, uplift), per-label detail, and the mix model's predictions for plots."""
    preds: dict[str, list[str]] = {}
    texts = eval_["text"].to_list()
    for name, frame in progress((("real_only", real), ("mix", train)), "students", unit="models"):
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C)
        preds[name] = [str(p) for p in model.predict(texts)]
    y_true = eval_["label"].to_list()
    result = {name: slice_scores(eval_, p, labels, params.min_slice_size) for name, p in preds.items()}
    metrics = {
        "eval_rows": eval_.height,
        "train_rows": {"real_only": real.height, "mix": train.height, "synthetic_in_mix": int((train["source"] == "synthetic").sum())},
        "real_only": result["real_only"]["all"],
        "mix": result["mix"]["all"],
        "uplift": {k: _round(result["mix"]["all"][k] - result["real_only"]["all"][k]) for k in ("accuracy", "macro_f1")},
        "slices": {
            tag: {
                "n": result["real_only"][tag]["n"],
                "real_only_macro_f1": result["real_only"][tag]["macro_f1"],
                "mix_macro_f1": result["mix"][tag]["macro_f1"],
                "uplift_macro_f1": _round(result["mix"][tag]["macro_f1"] - result["real_only"][tag]["macro_f1"]),
            }
            for tag in result["real_only"]
            if tag != "all"
        },
    }
    detail = {
        "per_label_f1": {name: per_label_f1(y_true, p, labels) for name, p in preds.items()},
        "slices": result,
    }
    return metrics, detail, preds


def ratio_curve(train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams, seed: int) -> list[dict]:
    """Macro-F1 on the eval set when the mix keeps only part of its synthetic rows, one point per ratio in params.ratio_grid.

    Ratios above the mix's own ratio are capped at what the mix holds (ratio_actual says which was reached).
    """
    real = train.filter(pl.col("source") == "real")
    synth = train.filter(pl.col("source") == "synthetic").with_columns(pl.col("id").hash(seed=seed).alias("_h")).sort("_h", "id").drop("_h")
    y_true, texts = eval_["label"].to_list(), eval_["text"].to_list()
    points, base = [], None
    for ratio in progress(sorted(set(params.ratio_grid)), "ratio curve", unit="models"):
        n = min(round(ratio / (1 - ratio) * real.height), synth.height)
        frame = pl.concat([real, synth.head(n)])
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C)
        f1 = scores(y_true, [str(p) for p in model.predict(texts)], labels)["macro_f1"]
        base = f1 if base is None else base
        points.append({"ratio": ratio, "ratio_actual": _round(n / (n + real.height)), "synthetic_rows": n, "macro_f1": f1, "uplift_macro_f1": _round(f1 - base)})
    return points


def backend_of() -> pl.Expr:
    """The generator backend of each row (an expression over the generator struct)."""
    return pl.col("generator").struct.field("backend")


def uplift_by_backend(train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams, real_only_f1: float) -> dict[str, dict]:
    """For each backend in the mix: its synthetic rows, macro-F1 of real + those rows only, and the uplift over real-only.

    The mix's own weights are kept, so each figure is the mix with the other backends' rows removed.
    """
    synth = train.filter(pl.col("source") == "synthetic").with_columns(backend_of().alias("_backend"))
    real_rows = train.filter(pl.col("source") == "real")
    texts, y_true = eval_["text"].to_list(), eval_["label"].to_list()
    out: dict[str, dict] = {}
    for backend in progress(sorted(synth["_backend"].unique().to_list()), "uplift by backend", unit="models"):
        part = synth.filter(pl.col("_backend") == backend).drop("_backend")
        frame = pl.concat([real_rows, part])
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C)
        f1 = scores(y_true, [str(p) for p in model.predict(texts)], labels)["macro_f1"]
        out[backend] = {"synthetic_rows": part.height, "macro_f1": f1, "uplift_macro_f1": round(f1 - real_only_f1, 6)}
    return out


def evaluate(ctx: TaskContext, real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame) -> Evaluation:
    """Metrics, per-slice and per-label detail, and the plots (slices, confusion, uplift by ratio) of the evaluate stage."""
    labels, params = ctx.spec.label_names, ctx.params.evaluate
    metrics, detail, preds = student_metrics(real, train, eval_, labels, params)
    metrics["by_backend"] = uplift_by_backend(train, eval_, labels, params, metrics["real_only"]["macro_f1"])
    plots = {
        "slices.csv": slice_plot_rows(metrics, [("macro_f1", "macro_f1")]),
        "confusion.csv": pl.DataFrame({"actual": eval_["label"], "predicted": preds["mix"]}),
        "uplift_by_ratio.csv": pl.DataFrame(ratio_curve(train, eval_, labels, params, ctx.params.seed)),
    }
    return Evaluation(metrics, detail, plots)

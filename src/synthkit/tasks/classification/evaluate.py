"""Classification's evaluation: every student of evaluate.students trained on real-only and on the mix, scored on the
protected real eval set (accuracy and macro-F1, per slice and per label); with the first student, the uplift of each
generator backend alone and the uplift by ratio."""

from __future__ import annotations

import polars as pl
from sklearn.metrics import accuracy_score, f1_score

from synthkit.config import EvaluateParams
from synthkit.embeddings import Embedder
from synthkit.progress import progress
from synthkit.students import train_student
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


def student_metrics(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams,
                    student: str | None = None, embedder: Embedder | None = None) -> tuple[dict, dict, dict]:
    """Metrics (overall, per slice, uplift), per-label detail, and the mix model's predictions for plots.

    student: which of synthkit.students (default: the first of params.students); embedder: its embedding cache.
    """
    kind = student or params.students[0]
    preds: dict[str, list[str]] = {}
    texts = eval_["text"].to_list()
    for name, frame in progress((("real_only", real), ("mix", train)), f"students ({kind})", unit="models"):
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C,
                              kind=kind, embedder=embedder)
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


SECTION_KEYS = ("real_only", "mix", "uplift", "slices")


def students_metrics(
    real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams,
    embedder: Embedder | None = None,
) -> tuple[dict, dict, dict]:
    """(metrics, detail, predictions) of the first student, plus `students`: each student's overall, slice and uplift figures.

    metrics["student"] names the headline student; metrics["students"][name] holds real_only, mix, uplift and slices
    and detail["students"][name] its per-label F1 and per-slice scores.
    """
    runs = {kind: student_metrics(real, train, eval_, labels, params, kind, embedder) for kind in params.students}
    first = params.students[0]
    metrics, detail, preds = runs[first]
    metrics = {
        **metrics,
        "student": first,
        "students": {kind: {key: m[key] for key in SECTION_KEYS} for kind, (m, _, _) in runs.items()},
    }
    detail = {**detail, "students": {kind: d for kind, (_, d, _) in runs.items()}}
    return metrics, detail, preds


def uplift_signs_agree(metrics: dict) -> bool:
    """Whether every student's macro-F1 uplift has the same sign (zero counts as its own sign)."""
    signs = {(u > 0) - (u < 0) for u in (s["uplift"]["macro_f1"] for s in metrics["students"].values())}
    return len(signs) == 1


def ratio_curve(train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams, seed: int,
                embedder: Embedder | None = None) -> list[dict]:
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
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C,
                              kind=params.students[0], embedder=embedder)
        f1 = scores(y_true, [str(p) for p in model.predict(texts)], labels)["macro_f1"]
        base = f1 if base is None else base
        points.append({"ratio": ratio, "ratio_actual": _round(n / (n + real.height)), "synthetic_rows": n, "macro_f1": f1, "uplift_macro_f1": _round(f1 - base)})
    return points


def train_eval_student(frame: pl.DataFrame, params: EvaluateParams, embedder: Embedder | None = None):
    """The headline evaluate student (the first of evaluate.students) fitted on a frame's text, label and weight columns."""
    return train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C,
                         kind=params.students[0], embedder=embedder)


def backend_of() -> pl.Expr:
    """The generator backend of each row (an expression over the generator struct)."""
    return pl.col("generator").struct.field("backend")


def uplift_by_backend(train: pl.DataFrame, eval_: pl.DataFrame, labels: list[str], params: EvaluateParams, real_only_f1: float,
                      embedder: Embedder | None = None) -> dict[str, dict]:
    """For each backend in the mix: its synthetic rows, macro-F1 of real + those rows only, and the uplift over real-only.

    The mix's own weights are kept, so each figure is the mix with the other backends' rows removed; the student is
    the first of params.students (the headline one).
    """
    synth = train.filter(pl.col("source") == "synthetic").with_columns(backend_of().alias("_backend"))
    real_rows = train.filter(pl.col("source") == "real")
    texts, y_true = eval_["text"].to_list(), eval_["label"].to_list()
    out: dict[str, dict] = {}
    for backend in progress(sorted(synth["_backend"].unique().to_list()), "uplift by backend", unit="models"):
        part = synth.filter(pl.col("_backend") == backend).drop("_backend")
        frame = pl.concat([real_rows, part])
        model = train_student(frame["text"].to_list(), frame["label"].to_list(), frame["weight"].to_list(), C=params.C,
                              kind=params.students[0], embedder=embedder)
        f1 = scores(y_true, [str(p) for p in model.predict(texts)], labels)["macro_f1"]
        out[backend] = {"synthetic_rows": part.height, "macro_f1": f1, "uplift_macro_f1": round(f1 - real_only_f1, 6)}
    return out


def evaluate(ctx: TaskContext, real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame) -> Evaluation:
    """Metrics, per-slice and per-label detail, and the plots (slices, confusion, uplift by ratio) of the evaluate stage."""
    labels, params, embedder = ctx.spec.label_names, ctx.params.evaluate, ctx.embedder
    metrics, detail, preds = students_metrics(real, train, eval_, labels, params, embedder)
    metrics["by_backend"] = uplift_by_backend(train, eval_, labels, params, metrics["real_only"]["macro_f1"], embedder)
    plots = {
        "slices.csv": slice_plot_rows(metrics, [("macro_f1", "macro_f1")]),
        "confusion.csv": pl.DataFrame({"actual": eval_["label"], "predicted": preds["mix"]}),
        "uplift_by_ratio.csv": pl.DataFrame(ratio_curve(train, eval_, labels, params, ctx.params.seed, embedder)),
    }
    return Evaluation(metrics, detail, plots)

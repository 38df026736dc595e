"""Which generator backend pays: the uplift of the real seeds plus each backend's synthetic rows alone, next to the mix."""

from __future__ import annotations

import polars as pl

from synthkit.config import EvaluateParams
from synthkit.evaluate import scores
from synthkit.progress import progress
from synthkit.student import train_student


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

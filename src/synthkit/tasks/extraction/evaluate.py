"""Extraction's evaluate step: the CRF student on real-only and on the mix, field F1 overall and per slice."""

from synthkit.tasks.base import Evaluation, TaskContext, slice_plot_rows
from synthkit.tasks.extraction.student import student_metrics


def evaluate(ctx: TaskContext, real, train, eval_) -> Evaluation:
    metrics, detail = student_metrics(real, train, eval_, ctx.spec, ctx.params, ctx.params.evaluate.min_slice_size)
    return Evaluation(metrics, detail, {"slices.csv": slice_plot_rows(metrics, [("f1", "f1")])})

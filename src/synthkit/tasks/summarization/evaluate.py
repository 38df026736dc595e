"""Summarization's evaluate step: the extractive student on real-only and on the mix.

The students learn from the documents in ctx.docs; eval rows are answered from ctx.eval_docs (documents only the
protected eval set uses, so the generator never saw them), else ctx.docs.
"""

from synthkit.tasks.base import Evaluation, TaskContext, slice_plot_rows
from synthkit.tasks.summarization.docs import load_docs
from synthkit.tasks.summarization.student import student_metrics


def evaluate(ctx: TaskContext, real, train, eval_) -> Evaluation:
    docs = load_docs(ctx.docs)
    eval_docs = load_docs(ctx.eval_docs) if ctx.eval_docs else docs
    metrics, detail = student_metrics(real, train, eval_, ctx.spec, ctx.params, ctx.params.evaluate.min_slice_size, docs, eval_docs)
    headline = [("summary_chrf", "summary.chrf"), ("qa_answer_recall", "qa.answer_recall")]
    return Evaluation(metrics, detail, {"slices.csv": slice_plot_rows(metrics, headline)})

"""The classification task type: scenario-first generation (template or openai) plus template-free backends, the
seed-trained consistency student (or the nearest seeds by sentence embedding) among the filter gates, and the students
of evaluate.students (TF-IDF, sentence embedding, both) scored by macro-F1."""

from __future__ import annotations

from synthkit.tasks.base import LLM_READS, TaskType


class Classification(TaskType):
    name = "classification"
    backends = ("template", "pseudo_label", "seed_variation")
    reads = {
        "generate": ("generate", *LLM_READS, "llm.label_temperature"),
        "filter": ("filter.critic.backend", "filter.critic.min_realism", "filter.critic.min_label_correctness",
                   "filter.critic.min_specificity", "filter.critic.model", "filter.consistency", *LLM_READS, "llm.label_temperature"),
        # synthetic_ratio auto: the headline evaluate student cross-validated on the seeds, the pseudo-label teacher refit per fold
        "mix": ("evaluate.students", "evaluate.C", "generate.pseudo_label"),
        "evaluate": ("seed", "evaluate.students", "evaluate.C", "evaluate.ratio_grid"),
    }
    plots = {
        "slices.csv": {"template": "grouped_bars", "x": "value", "y": "slice"},
        "uplift_by_ratio.csv": {"template": "linear", "x": "ratio_actual", "y": "macro_f1"},
        "confusion.csv": {"template": "confusion", "x": "actual", "y": "predicted"},
    }


TASK = Classification()

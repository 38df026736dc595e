"""The rewrite task type: canonical targets with derived messy sources (or the openai backend), the rewrite gate,
a token-rewriter student scored by exact match and chrF."""

from __future__ import annotations

from synthkit.tasks.base import LLM_READS, TARGET_SKIPPED_GATES, TaskType


class Rewrite(TaskType):
    name = "rewrite"
    reads = {
        "generate": ("generate.backend", "generate.backends", "generate.per_scenario", "generate.variation_per_seed", "generate.typo_rate",
                     "generate.channels", "generate.max_tokens", *LLM_READS),
        "validate": ("task.rewrite",),
    }
    plots = {"slices.csv": {"template": "grouped_bars", "x": "value", "y": "slice"}}
    skipped_gates = TARGET_SKIPPED_GATES


TASK = Rewrite()

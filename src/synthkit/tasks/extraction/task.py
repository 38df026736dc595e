"""The extraction task type: offline slot rendering or the openai backend, schema and evidence gates, a CRF student."""

from __future__ import annotations

from synthkit.tasks.base import LLM_READS, TARGET_SKIPPED_GATES, TaskType


class Extraction(TaskType):
    name = "extraction"
    reads = {
        "generate": ("generate.backend", "generate.backends", "generate.per_scenario", "generate.variation_per_seed", "generate.typo_rate",
                     "generate.channels", "generate.max_tokens", *LLM_READS),
        "evaluate": ("task.extraction",),
    }
    plots = {"slices.csv": {"template": "grouped_bars", "x": "value", "y": "slice"}}
    skipped_gates = TARGET_SKIPPED_GATES


TASK = Extraction()

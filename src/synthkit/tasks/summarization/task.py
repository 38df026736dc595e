"""The summarization task type: extractive summaries and grounded QA over source documents (or the openai backend),
the grounding gate, an extractive student scored by chrF, faithfulness and answer recall.

The documents are a folder (prepare.docs); the protected eval set's documents may be another (prepare.eval_docs),
which the generator never sees."""

from __future__ import annotations

from synthkit.tasks.base import LLM_READS, TARGET_SKIPPED_GATES, TaskType


class Summarization(TaskType):
    name = "summarization"
    reads = {
        "generate": ("generate.backend", "generate.backends", "generate.per_scenario", "generate.max_tokens", *LLM_READS),
        "evaluate": ("task.summarization",),
    }
    plots = {"slices.csv": {"template": "grouped_bars", "x": "value", "y": "slice"}}
    skipped_gates = TARGET_SKIPPED_GATES


TASK = Summarization()

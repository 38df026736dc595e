"""Extraction's filter step: PII and toxicity on text and target, the offline critic, human review."""

from synthkit.tasks.targets import no_pool_labels as pool_labels
from synthkit.tasks.targets import target_filter_gates as filter_gates
from synthkit.tasks.targets import target_real_text_gates as real_text_gates

__all__ = ["filter_gates", "pool_labels", "real_text_gates"]

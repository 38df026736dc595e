"""Summarization's filter step: PII and toxicity on text and target, the offline critic, human review."""

from synthkit.tasks.targets import target_filter_gates as filter_gates

__all__ = ["filter_gates"]

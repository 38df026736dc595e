"""Extraction to JSON: the target is the canonical JSON of the fields a text states."""

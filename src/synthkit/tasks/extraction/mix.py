"""Extraction's mix step: no cross-validation student yet, so mix.synthetic_ratio auto mixes at mix.auto.fallback_ratio."""

mix_score = None

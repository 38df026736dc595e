"""Toxicity gate: drop texts the alt-profanity-check model scores as offensive."""

from __future__ import annotations

from importlib.metadata import version

from synthkit.config import ToxicityParams
from synthkit.gates.base import KEEP, Verdict


def gate_toxicity(texts: list[str], params: ToxicityParams) -> list[Verdict]:
    """One verdict per text: drop when the offensive probability reaches params.threshold, else keep."""
    if not params.enabled:
        return [KEEP] * len(texts)
    if not texts:
        return []
    from profanity_check import predict_prob  # loads the model on first import

    probs = predict_prob(list(texts))
    return [
        Verdict(reason="toxicity_offensive", detail=f"p={p:.3f}") if p >= params.threshold else KEEP
        for p in (float(x) for x in probs)
    ]


def toxicity_versions() -> dict[str, str]:
    """Versions of the toxicity stack, for the manifest."""
    return {"alt-profanity-check": version("alt-profanity-check"), "scikit-learn": version("scikit-learn")}

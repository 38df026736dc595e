"""Toxicity gate: alt-profanity-check offline (default), or the OpenAI moderation endpoint when configured."""

from __future__ import annotations

from importlib.metadata import version

from synthkit.config import LlmParams, ToxicityParams
from synthkit.errors import ServiceError
from synthkit.gates.base import KEEP, Verdict

MODERATION_BATCH = 32


def gate_toxicity(texts: list[str], params: ToxicityParams, llm: LlmParams | None = None) -> list[Verdict]:
    """One verdict per text: drop when the offensive probability (or a moderation category score) reaches the threshold."""
    if not params.enabled:
        return [KEEP] * len(texts)
    if not texts:
        return []
    if params.backend == "openai_moderation":
        return _moderate(texts, params, llm or LlmParams())
    from profanity_check import predict_prob  # loads the model on first import

    probs = predict_prob(list(texts))
    return [
        Verdict(reason="toxicity_offensive", detail=f"p={p:.3f}") if p >= params.threshold else KEEP
        for p in (float(x) for x in probs)
    ]


def _moderate(texts: list[str], params: ToxicityParams, llm: LlmParams) -> list[Verdict]:
    """Moderation endpoint in batches: drop when the server flags a text or any category score reaches the threshold."""
    import openai

    from synthkit.llm import make_client
    from synthkit.llm.causes import failure_cause, server_name

    client = make_client(llm)
    verdicts: list[Verdict] = []
    batches = -(-len(texts) // MODERATION_BATCH)
    for start in range(0, len(texts), MODERATION_BATCH):
        batch = texts[start : start + MODERATION_BATCH]
        try:
            response = client.moderations.create(model=params.moderation_model, input=batch)
        except openai.APIError as exc:
            raise ServiceError(
                f"moderation requests to {server_name(llm.base_url)} (model {params.moderation_model}) failed: batch "
                f"{start // MODERATION_BATCH + 1} of {batches} after {llm.max_retries} retries; first cause: {failure_cause(exc, llm.timeout_s)}"
            ) from None
        if len(response.results) != len(batch):
            raise ServiceError(f"moderation returned {len(response.results)} results for {len(batch)} inputs")
        for result in response.results:
            scores = {k: float(v) for k, v in result.category_scores.model_dump().items() if v is not None}
            top = sorted((k for k, v in scores.items() if v >= params.threshold), key=lambda k: -scores[k])
            if result.flagged or top:
                best = max(scores.values(), default=0.0)
                verdicts.append(Verdict(reason="toxicity_flagged", detail=f"max={best:.3f} categories={','.join(top) or 'flagged'}"))
            else:
                verdicts.append(KEEP)
    return verdicts


def toxicity_versions() -> dict[str, str]:
    """Versions of the toxicity stack, for the manifest."""
    return {"alt-profanity-check": version("alt-profanity-check"), "scikit-learn": version("scikit-learn")}


def toxicity_batch(frame, params: ToxicityParams, llm: LlmParams | None = None) -> list[Verdict]:
    """The toxicity gate over one frame or engine batch."""
    return gate_toxicity(frame["text"].to_list(), params, llm)

"""Toxicity gate: alt-profanity-check offline (default), or the OpenAI moderation endpoint when configured."""

from __future__ import annotations

from functools import lru_cache
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
    probs, features = _scored(list(texts), params.min_words)
    flagged = [i for i, p in enumerate(probs) if p >= params.threshold]
    words = dict(zip(flagged, top_words(features, flagged), strict=True))
    return [
        Verdict(reason="toxicity_offensive", detail=f"word={words[i]} p={p:.3f}") if i in words else KEEP
        for i, p in enumerate(probs)
    ]


def offensive_prob(texts: list[str], min_words: float) -> list[float]:
    """alt-profanity-check's offensive probability, with a text of fewer than min_words content words scored as if
    padded with neutral words to that length.

    The model is a linear one over L2-normalised TF-IDF words, so in a short text one mildly weighted word takes the
    whole norm and decides alone ("please shut off" scores like "shut up"); the padding bounds the norm from below by
    that of min_words words of the vocabulary's median idf. Strongly offensive words still decide short texts.
    """
    return _scored(list(texts), min_words)[0]


def _scored(texts: list[str], min_words: float):
    """(offensive probabilities, the feature rows the model scored) for texts (offensive_prob)."""
    import numpy as np
    from profanity_check import profanity_check as pc  # loads the model on first import
    from scipy.sparse import diags

    if min_words <= 0:
        features = pc.vectorizer.transform(texts)
    else:
        raw = _raw_tfidf(pc.vectorizer, texts)
        norms = np.sqrt(np.asarray(raw.multiply(raw).sum(axis=1)).ravel())
        floor = np.sqrt(min_words) * float(np.median(pc.vectorizer.idf_))
        features = diags(1.0 / np.maximum(norms, floor)) @ raw
    features = features.tocsr()
    return [float(p) for p in pc.model.predict_proba(features)[:, 1]], features


def top_words(features, rows: list[int]) -> list[str]:
    """For each row, the word that adds most to its offensive score (feature weight x the model's mean coefficient):
    what the gate found, so calibration can tell one flagged word from another. "-" for a row with no positive word."""
    if not rows:
        return []
    coef, names = _word_weights()
    out = []
    for r in rows:
        lo, hi = features.indptr[r], features.indptr[r + 1]
        idx = features.indices[lo:hi]
        contrib = features.data[lo:hi] * coef[idx]
        out.append(str(names[idx[contrib.argmax()]]) if len(idx) and contrib.max() > 0 else "-")
    return out


@lru_cache(maxsize=1)
def _word_weights():
    """(the model's coefficient per vocabulary word, averaged over its calibrated folds; the vocabulary's words)."""
    import numpy as np
    from profanity_check import profanity_check as pc

    return np.mean([c.estimator.coef_[0] for c in pc.model.calibrated_classifiers_], axis=0), pc.vectorizer.get_feature_names_out()


def _raw_tfidf(vectorizer, texts: list[str]):
    """The vectorizer's TF-IDF rows without their L2 normalisation."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    counts = CountVectorizer.transform(vectorizer, texts)
    tfidf = TfidfTransformer(norm=None, use_idf=vectorizer.use_idf, smooth_idf=vectorizer.smooth_idf, sublinear_tf=vectorizer.sublinear_tf)
    tfidf.idf_ = vectorizer.idf_
    return tfidf.transform(counts)


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

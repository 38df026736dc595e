"""Drift between production and training text, and diversity / mode-collapse signals of a corpus."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from synthkit.config import DedupeParams, MonitorParams
from synthkit.dedupe import near_duplicate_clusters, normalize_text

MIN_ROWS_FOR_AUC = 10  # per side; below this the cross-validated AUC is noise and is reported as null
MAX_ROWS_PER_SIDE = 5000  # the domain classifier sees a seeded sample of at most this many texts per side
CV_FOLDS = 5
DIGITS = 6


def _round(x: float | None) -> float | None:
    """A plain float rounded to the report precision, or None."""
    return None if x is None else round(float(x), DIGITS)


def words(text: str) -> list[str]:
    """The normalized words of a text (same normalization as dedupe)."""
    return normalize_text(text).split()


def _sample(texts: Sequence[str], k: int, rng: np.random.Generator) -> list[str]:
    """At most k texts, a seeded sample kept in input order."""
    if len(texts) <= k:
        return list(texts)
    keep = np.sort(rng.choice(len(texts), size=k, replace=False))
    return [texts[i] for i in keep]


def domain_auc(train_texts: Sequence[str], production_texts: Sequence[str], seed: int) -> float | None:
    """Cross-validated ROC AUC of char 2-4 TF-IDF + logistic regression telling production from training."""
    if min(len(train_texts), len(production_texts)) < MIN_ROWS_FOR_AUC:
        return None
    rng = np.random.default_rng(seed)
    train = _sample(train_texts, MAX_ROWS_PER_SIDE, rng)
    prod = _sample(production_texts, MAX_ROWS_PER_SIDE, rng)
    x = train + prod
    y = np.array([0] * len(train) + [1] * len(prod))
    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True),
        LogisticRegression(max_iter=1000, class_weight="balanced"),
    )
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    try:
        scores = cross_val_score(model, x, y, cv=folds, scoring="roc_auc")
    except ValueError:  # e.g. an empty vocabulary
        return None
    return float(np.mean(scores))


def ks_statistic(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sample Kolmogorov-Smirnov statistic (max distance between the empirical CDFs), None if a side is empty."""
    if len(a) == 0 or len(b) == 0:
        return None
    sa, sb = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    grid = np.union1d(sa, sb)
    cdf_a = np.searchsorted(sa, grid, side="right") / len(sa)
    cdf_b = np.searchsorted(sb, grid, side="right") / len(sb)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def js_divergence(p_counts: Counter[str], q_counts: Counter[str]) -> float | None:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two count distributions, None if either is empty."""
    p_total, q_total = sum(p_counts.values()), sum(q_counts.values())
    if p_total == 0 or q_total == 0:
        return None
    vocab = sorted(set(p_counts) | set(q_counts))
    p = np.array([p_counts.get(w, 0) for w in vocab], dtype=float) / p_total
    q = np.array([q_counts.get(w, 0) for w in vocab], dtype=float) / q_total
    m = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    return min(1.0, max(0.0, 0.5 * kl(p) + 0.5 * kl(q)))


def oov_rate(train_counts: Counter[str], production_counts: Counter[str]) -> float | None:
    """Share of production token occurrences never seen in training, None without production tokens."""
    total = sum(production_counts.values())
    if total == 0:
        return None
    return sum(c for w, c in production_counts.items() if w not in train_counts) / total


def _word_count_stats(counts: list[int]) -> tuple[float | None, float | None]:
    """(mean, median) of word counts, None for an empty side."""
    if not counts:
        return None, None
    return float(np.mean(counts)), float(np.median(counts))


def drift(train_texts: list[str], production_texts: list[str], seed: int) -> dict:
    """How far production traffic is from the training text: domain AUC, length KS, vocab JS, OOV, word counts."""
    train_words, prod_words = [words(t) for t in train_texts], [words(t) for t in production_texts]
    train_counts = Counter(w for ws in train_words for w in ws)
    prod_counts = Counter(w for ws in prod_words for w in ws)
    train_lengths, prod_lengths = [len(ws) for ws in train_words], [len(ws) for ws in prod_words]
    train_mean, train_median = _word_count_stats(train_lengths)
    prod_mean, prod_median = _word_count_stats(prod_lengths)
    return {
        "n_train": len(train_texts),
        "n_production": len(production_texts),
        "domain_auc": _round(domain_auc(train_texts, production_texts, seed)),
        "length_ks": _round(ks_statistic(train_lengths, prod_lengths)),
        "vocab_js_divergence": _round(js_divergence(train_counts, prod_counts)),
        "production_oov_rate": _round(oov_rate(train_counts, prod_counts)),
        "train_mean_words": _round(train_mean),
        "train_median_words": _round(train_median),
        "production_mean_words": _round(prod_mean),
        "production_median_words": _round(prod_median),
    }


def distinct_n(token_lists: Sequence[Sequence[str]], n: int) -> float | None:
    """Unique n-grams / total n-grams over a corpus (n-grams never cross texts), None without any n-gram."""
    grams = [tuple(ws[i : i + n]) for ws in token_lists for i in range(len(ws) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def archetypes(token_lists: Sequence[Sequence[str]], opening_words: int, top: int) -> tuple[float | None, list[dict]]:
    """(share of texts opening with one of the `top` most common openings, those openings with counts)."""
    if not token_lists:
        return None, []
    openings = Counter(" ".join(ws[:opening_words]) for ws in token_lists)
    ranked = sorted(openings.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    share = sum(c for _, c in ranked) / len(token_lists)
    return share, [{"opening": o, "count": c} for o, c in ranked]


def cluster_summary(sizes: Sequence[int]) -> dict:
    """Max cluster size, number of clusters with more than one text, and the share of texts in them."""
    total = sum(sizes)
    in_dups = sum(s for s in sizes if s > 1)
    return {
        "max": max(sizes, default=0),
        "n_clusters_gt1": sum(1 for s in sizes if s > 1),
        "share_in_clusters_gt1": _round(in_dups / total if total else 0.0),
    }


def diversity(texts: list[str], params: MonitorParams, dedupe_params: DedupeParams) -> dict:
    """Diversity and mode-collapse signals: distinct-1/2/3, near-duplicate clusters, archetype (opening) share."""
    token_lists = [words(t) for t in texts]
    share, top = archetypes(token_lists, params.archetype_words, params.top_archetypes)
    return {
        "n_texts": len(texts),
        "distinct_1": _round(distinct_n(token_lists, 1)),
        "distinct_2": _round(distinct_n(token_lists, 2)),
        "distinct_3": _round(distinct_n(token_lists, 3)),
        "near_dup_cluster_sizes": cluster_summary(near_duplicate_clusters(texts, dedupe_params)),
        "top_archetype_share": _round(share),
        "top_archetypes": top,
    }


__all__ = [
    "archetypes",
    "cluster_summary",
    "distinct_n",
    "diversity",
    "domain_auc",
    "drift",
    "js_divergence",
    "ks_statistic",
    "oov_rate",
    "words",
]

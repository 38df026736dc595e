"""Drift and diversity by meaning (sentence embeddings), beside the n-gram signals of synthkit.monitor.

- coverage: production texts are clustered (k-means on unit embeddings); a cluster is covered when some training
  text is as close to its centre as the cluster's own members at the `coverage_quantile` of their cosines (0.5: closer
  than half of them). Uncovered clusters are production topics the training mix has no example of.
- nearest training text: per production text, the cosine of its most similar training text.
- spread: mean pairwise cosine distance within a corpus (0: one meaning repeated; higher: more varied).
- per label: synthetic vs real centroid distance, how far each synthetic text is from its nearest real text of the
  label, and the share of synthetic texts whose nearest real text carries another label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.cluster import KMeans

from synthkit.config import MonitorParams
from synthkit.embeddings import Embedder, cosine_top

DIGITS = 6
EXAMPLES_PER_CLUSTER = 3


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), DIGITS)


def _sample_rows(n: int, k: int, seed: int) -> np.ndarray:
    """At most k row positions out of n, a seeded sample in increasing order."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def spread(vectors: np.ndarray, sample: int, seed: int) -> float | None:
    """Mean pairwise cosine distance over a seeded sample of at most `sample` unit vectors (None below two)."""
    rows = vectors[_sample_rows(len(vectors), sample, seed)].astype(np.float64)
    n = len(rows)
    if n < 2:
        return None
    total = rows.sum(axis=0)
    pair_sum = (float(total @ total) - float(np.einsum("ij,ij->", rows, rows))) / (n * (n - 1))
    return 1.0 - pair_sum


def production_coverage(train: np.ndarray, production: np.ndarray, production_texts: Sequence[str], params: MonitorParams,
                        seed: int) -> dict:
    """Share of production clusters (and of production texts) that have training texts of their meaning."""
    k = min(params.clusters, len(production) // params.min_cluster_size)
    if k < 2 or len(train) == 0:
        return {"n_clusters": 0, "covered_cluster_share": None, "covered_production_share": None, "uncovered": []}
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(production.astype(np.float64))
    centres = np.stack([_unit(c) for c in km.cluster_centers_])
    member_cos = np.einsum("ij,ij->i", production, centres[km.labels_])
    sizes = np.bincount(km.labels_, minlength=k)
    radius = np.array([np.quantile(member_cos[km.labels_ == c], params.coverage_quantile) for c in range(k)])
    best = (train.astype(np.float64) @ centres.T).max(axis=0)  # per cluster, its closest training text
    covered = best >= radius
    uncovered = []
    for c in sorted(np.flatnonzero(~covered), key=lambda c: (-sizes[c], c)):
        members = np.flatnonzero(km.labels_ == c)
        closest = members[np.lexsort((members, -member_cos[members]))][:EXAMPLES_PER_CLUSTER]
        uncovered.append({
            "size": int(sizes[c]), "closest_training_cosine": _round(best[c]), "radius_cosine": _round(radius[c]),
            "examples": [production_texts[i] for i in closest],
        })
    return {
        "n_clusters": k,
        "covered_cluster_share": _round(covered.mean()),
        "covered_production_share": _round(sizes[covered].sum() / len(production)),
        "uncovered": uncovered,
    }


def drift_by_meaning(train_texts: Sequence[str], production_texts: Sequence[str], params: MonitorParams, seed: int,
                     embedder: Embedder | None = None) -> dict:
    """Production against the training mix by meaning: cluster coverage, nearest training text, centroid distance."""
    embedder = embedder or Embedder()
    train, prod = embedder.encode(train_texts), embedder.encode(production_texts)
    out: dict = {"n_train": len(train_texts), "n_production": len(production_texts)}
    if len(train) == 0 or len(prod) == 0:
        return {**out, "centroid_cosine_distance": None, "production_nearest_train_cosine": None,
                **production_coverage(train, prod, production_texts, params, seed)}
    nearest = cosine_top(prod, train, 1)[1][:, 0].astype(np.float64)
    return {
        **out,
        "centroid_cosine_distance": _round(1.0 - _unit(train.mean(0)) @ _unit(prod.mean(0))),
        "production_nearest_train_cosine": {
            "p10": _round(np.quantile(nearest, 0.1)), "median": _round(np.median(nearest)), "mean": _round(nearest.mean()),
        },
        **production_coverage(train, prod, production_texts, params, seed),
    }


def label_distances(texts: Sequence[str], labels: Sequence[str], sources: Sequence[str], params: MonitorParams, seed: int,
                    embedder: Embedder | None = None) -> dict[str, dict]:
    """Per label: synthetic vs real centroid distance, synthetic-to-nearest-real cosine, spread of each side, and the
    share of synthetic texts whose nearest real text (any label) carries another label."""
    embedder = embedder or Embedder()
    vectors = embedder.encode(texts)
    labels_arr, src = np.asarray(labels, dtype=object), np.asarray(sources, dtype=object)
    real_rows = np.flatnonzero(src == "real")
    out: dict[str, dict] = {}
    for label in sorted(set(labels)):
        synth = np.flatnonzero((labels_arr == label) & (src == "synthetic"))
        real = np.flatnonzero((labels_arr == label) & (src == "real"))
        row: dict = {"n_real": len(real), "n_synthetic": len(synth)}
        if len(synth) and len(real):
            s, r = vectors[synth], vectors[real]
            nearest_same = cosine_top(s, r, 1)[1][:, 0].astype(np.float64)
            nearest_any = real_rows[cosine_top(s, vectors[real_rows], 1)[0][:, 0]]
            row |= {
                "centroid_cosine_distance": _round(1.0 - _unit(s.mean(0)) @ _unit(r.mean(0))),
                "synthetic_nearest_real_cosine_mean": _round(nearest_same.mean()),
                "synthetic_nearest_real_other_label_share": _round(np.mean(labels_arr[nearest_any] != label)),
            }
        row |= {"spread_real": _round(spread(vectors[real], params.spread_sample, seed)),
                "spread_synthetic": _round(spread(vectors[synth], params.spread_sample, seed))}
        out[label] = row
    return out


def diversity_by_meaning(texts: Sequence[str], params: MonitorParams, seed: int, embedder: Embedder | None = None) -> dict:
    """Spread of a corpus by meaning (mean pairwise cosine distance of a seeded sample)."""
    vectors = (embedder or Embedder()).encode(texts)
    return {"n_texts": len(texts), "spread": _round(spread(vectors, params.spread_sample, seed))}


__all__ = ["diversity_by_meaning", "drift_by_meaning", "label_distances", "production_coverage", "spread"]

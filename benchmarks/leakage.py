"""How strict can the eval-leakage check by meaning be? Recall on edited copies of eval texts against the share of
distinct same-label texts it flags, for a grid of thresholds (synthkit.dedupe.eval_matches, dedupe.eval_leakage).

Sets (each: eval texts, edited copies of them, distinct texts of the same labels):
- bundled: the protected eval set of the bundled example (data/prepared/eval.parquet; run `dvc repro prepare`) and
  the corpus of benchmarks/scale.py (benchmarks/corpus.py): its planted edited eval copies that differ from their
  source after normalization (word edits; casing and punctuation copies are exact matches), and a sample of its
  distinct texts (kind unique). The bundled real seeds are reported as a second distinct set.
- banking77, clinc150 (read in place from ../shared/datasets, train split only; never the test split): 1,000
  train texts play the eval set; edited copies by the corpus's own edit (_near_edit) of those with more than 8 words
  (the edit changes only longer texts' words), shuffled copies (the same words in a random order); distinct
  texts are the other same-label train texts that are more than two word edits away from each of their nearest
  eval texts (crowd-sourced intent sets hold many one- and two-word rewrites of each other: those are copies).

A text is flagged when one of its `neighbours` nearest eval texts (sentence-embedding cosine) has char 5-gram
Jaccard >= jaccard (edit), or cosine >= cosine and Jaccard >= cosine_jaccard (semantic). Writes
reports/bench/leakage.json.

    python benchmarks/leakage.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import _near_edit, generate_candidates  # noqa: E402
from synthkit.config import DedupeParams  # noqa: E402
from synthkit.dedupe import normalize_text, pair_jaccard  # noqa: E402
from synthkit.embeddings import Embedder, cosine_top  # noqa: E402
from synthkit.io import write_json  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
PUBLIC = {"banking77": ("banking77/banking77.jsonl", []), "clinc150": ("clinc150/clinc150.jsonl", ["oos"])}
K = 10  # neighbours computed; the grid uses the first `neighbours` of them
GRID_JACCARD = [0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]
GRID_SEMANTIC = [(0.95, 0.2), (0.96, 0.2), (0.97, 0.3), (0.97, 0.2), (0.97, 0.1), (0.97, 0.0), (0.98, 0.2)]
GRID_NEIGHBOURS = [1, 5, 10]


def word_edits(a: str, b: str) -> int:
    """Word-level Levenshtein distance of two normalized texts."""
    x, y = a.split(), b.split()
    prev = list(range(len(y) + 1))
    for i, wx in enumerate(x, 1):
        cur = [i] + [0] * len(y)
        for j, wy in enumerate(y, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wx != wy))
        prev = cur
    return prev[-1]


def shuffle_words(text: str, rng: random.Random) -> str:
    """The same words in another order."""
    words = text.split()
    order = list(range(len(words)))
    while order == sorted(order):
        rng.shuffle(order)
    return " ".join(words[i] for i in order)


class Neighbours:
    """The K nearest eval texts of each query by cosine, with the char n-gram Jaccard of each pair."""

    def __init__(self, queries: list[str], eval_texts: list[str], embedder: Embedder, params: DedupeParams):
        self.pos, self.cos = cosine_top(embedder.encode(queries), embedder.encode(eval_texts), K)
        norms = [normalize_text(t) for t in eval_texts] + [normalize_text(t) for t in queries]
        rows = np.repeat(np.arange(len(queries)), self.pos.shape[1]) + len(eval_texts)
        self.jac = pair_jaccard(norms, self.pos.ravel(), rows, params).reshape(self.pos.shape)

    def flagged(self, k: int, jaccard: float, cosine: float, cosine_jaccard: float, mask: np.ndarray | None = None) -> np.ndarray:
        j, c = self.jac[:, :k], self.cos[:, :k]
        hit = (j >= jaccard) | ((c >= cosine) & (j >= cosine_jaccard))
        return (hit if mask is None else hit & mask[:, :k]).any(axis=1)


def bundled_set(n: int, embedder: Embedder, params: DedupeParams, sample: int, seed: int) -> dict:
    eval_ = pl.read_parquet(ROOT / "data/prepared/eval.parquet")
    seeds = pl.read_parquet(ROOT / "data/prepared/seeds.parquet")
    eval_texts = eval_["text"].to_list()
    copies: list[tuple[int, int, bool]] = []
    kinds: list[str] = []
    cands, _ = generate_candidates(n, seed, eval_texts, copies, kinds)
    texts = cands["text"].to_list()
    edited = [(i, src) for i, src, e in copies if e and normalize_text(texts[i]) != normalize_text(eval_texts[src])]
    unique = [i for i, k in enumerate(kinds) if k == "unique"]
    distinct = random.Random(seed).sample(unique, min(sample, len(unique)))
    return {
        "sizes": {"eval": len(eval_texts), "edited": len(edited), "distinct": len(distinct), "distinct_real_seeds": seeds.height},
        "edited": (Neighbours([texts[i] for i, _ in edited], eval_texts, embedder, params), np.array([s for _, s in edited])),
        "distinct": Neighbours([texts[i] for i in distinct], eval_texts, embedder, params),
        "distinct_real_seeds": Neighbours(seeds["text"].to_list(), eval_texts, embedder, params),
    }


def public_set(name: str, embedder: Embedder, params: DedupeParams, n_eval: int, seed: int) -> dict | None:
    path, drop = PUBLIC[name]
    if not (DATASETS / path).exists():
        return None
    rows = [json.loads(line) for line in (DATASETS / path).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = list({r["text"]: r for r in rows if r["split"] == "train" and r["label"] not in drop}.values())
    rng = random.Random(f"leakage:{name}:{seed}")
    order = list(range(len(rows)))
    rng.shuffle(order)
    ev, rest = [rows[i] for i in order[:n_eval]], [rows[i] for i in order[n_eval:]]
    eval_texts = [r["text"] for r in ev]
    long_ = [i for i, t in enumerate(eval_texts) if len(t.split()) > 8]
    from faker.providers.lorem.en_US import Provider as Lorem

    words = sorted(set(Lorem.word_list))
    edits = [(_near_edit(eval_texts[i], rng, words), i) for i in long_]
    edits = [(t, i) for t, i in edits if normalize_text(t) != normalize_text(eval_texts[i])]
    shuffled = [(shuffle_words(eval_texts[i], rng), i) for i in long_]
    dist = Neighbours([r["text"] for r in rest], eval_texts, embedder, params)
    norm_rest, norm_ev = [normalize_text(r["text"]) for r in rest], [normalize_text(t) for t in eval_texts]
    same = np.array([[ev[p]["label"] == rest[q]["label"] for p in dist.pos[q]] for q in range(len(rest))])
    far = np.array([min(word_edits(norm_rest[q], norm_ev[p]) for p in dist.pos[q, :5]) > 2 for q in range(len(rest))])
    return {
        "sizes": {"eval": len(eval_texts), "edited": len(edits), "shuffled": len(shuffled), "distinct": int(far.sum()),
                  "same_label_within_two_word_edits": int((~far).sum())},
        "edited": (Neighbours([t for t, _ in edits], eval_texts, embedder, params), np.array([i for _, i in edits])),
        "shuffled": (Neighbours([t for t, _ in shuffled], eval_texts, embedder, params), np.array([i for _, i in shuffled])),
        "distinct": (dist, same, far),
    }


def score(sets: dict, k: int, j: float, c: float, cj: float) -> dict:
    out = {}
    for name, s in sets.items():
        row = {}
        for key in ("edited", "shuffled"):
            if key in s:
                nb, _ = s[key]
                row[f"recall_{key}"] = round(float(nb.flagged(k, j, c, cj).mean()), 4)
        if isinstance(s["distinct"], tuple):  # public: same-label neighbours of texts more than two word edits away
            nb, same, far = s["distinct"]
            row["flagged_distinct"] = round(float(nb.flagged(k, j, c, cj, same)[far].mean()), 4)
        else:
            row["flagged_distinct"] = round(float(s["distinct"].flagged(k, j, c, cj).mean()), 6)
        if "distinct_real_seeds" in s:
            row["flagged_real_seeds"] = round(float(s["distinct_real_seeds"].flagged(k, j, c, cj).mean()), 4)
        out[name] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="corpus rows of the bundled set (benchmarks/scale.py's size)")
    ap.add_argument("--sample", type=int, default=20_000, help="distinct corpus texts checked")
    ap.add_argument("--public-eval", type=int, default=1000, help="train texts playing the eval set per public dataset")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench" / "leakage.json"))
    args = ap.parse_args()
    params = DedupeParams()
    embedder = Embedder()
    t0 = time.perf_counter()
    sets = {"bundled": bundled_set(args.n, embedder, params, args.sample, args.seed)}
    for name in PUBLIC:
        found = public_set(name, embedder, params, args.public_eval, args.seed)
        if found is None:
            print(f"skipped {name}: not under {DATASETS}")
        else:
            sets[name] = found
    lk = params.eval_leakage
    sizes = {name: s["sizes"] for name, s in sets.items()}
    # is an edited copy's source among its k nearest eval texts? (the check verifies only those)
    source_in_top = {name: {str(k): round(float((s["edited"][0].pos[:, :k] == s["edited"][1][:, None]).any(1).mean()), 4) for k in GRID_NEIGHBOURS}
                     for name, s in sets.items()}
    grid = []
    for j in GRID_JACCARD:
        grid.append({"rule": "edit", "jaccard": j, **score(sets, lk.neighbours, j, 2.0, 2.0)})
    for c, cj in GRID_SEMANTIC:
        grid.append({"rule": "semantic", "cosine": c, "cosine_jaccard": cj, **score(sets, lk.neighbours, 2.0, c, cj)})
    default = {"neighbours": lk.neighbours, "jaccard": lk.jaccard, "cosine": lk.cosine, "cosine_jaccard": lk.cosine_jaccard,
               **score(sets, lk.neighbours, lk.jaccard, lk.cosine, lk.cosine_jaccard)}
    result = {"sizes": sizes, "source_in_nearest": source_in_top, "grid": grid, "default": default,
              "wall_s": round(time.perf_counter() - t0, 1)}
    write_json(result, args.out)
    print(json.dumps({"default": default, "source_in_nearest": source_in_top}, indent=1))


if __name__ == "__main__":
    main()

"""The rewrite student: a token rewriter learned from the pairs (token map, casing by shape, postcode splits,
comma placement), scored by exact match and chrF.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import polars as pl

from synthkit.progress import progress
from synthkit.tasks.base import slice_groups


def _key(token: str) -> str:
    return token.lower().strip(".")


def _words(s: str) -> list[str]:
    return [t for t in re.findall(r"[^\s,]+", s)]


def _commas(s: str) -> list[bool]:
    """For each word of s: is it followed by a comma."""
    toks = re.findall(r"[^\s,]+|,", s)
    out = []
    for i, t in enumerate(toks):
        if t != ",":
            out.append(i + 1 < len(toks) and toks[i + 1] == ",")
    return out


def shape(w: str) -> str:
    """Character classes with runs collapsed: 'Willow' -> 'Xx', 'nw1' -> 'x9', '6XE' -> '9X'."""
    s = "".join("9" if c.isdigit() else "X" if c.isupper() else "x" if c.islower() else c for c in w.strip("."))
    return re.sub(r"(.)\1+", r"\1", s)


def _case(src: str, tgt: str) -> str:
    src = src.strip(".")
    for name, fn in (("same", lambda x: x), ("title", str.title), ("upper", str.upper), ("lower", str.lower)):
        if fn(src) == tgt:
            return name
    return "other"


def _contexts(a: str, b: str) -> list[tuple[str, ...]]:
    """Where a comma may follow word a (before word b): both words, then word/shape, shape/word, both shapes, a's shape; most specific first."""
    return [("ww", a, b), ("ws", a, shape(b)), ("sw", shape(a), b), ("ss", shape(a), shape(b)), ("s", shape(a))]


class Rewriter:
    """Learned from (source, target) pairs: a token map, casing per token shape, postcode splits and where commas go."""

    def __init__(self) -> None:
        self.map: dict[str, Counter] = defaultdict(Counter)
        self.case: dict[str, Counter] = defaultdict(Counter)
        self.split: dict[str, Counter] = defaultdict(Counter)
        self.comma: dict[tuple, Counter] = defaultdict(Counter)

    def fit(self, sources: list[str], targets: list[str]) -> "Rewriter":
        for src, tgt in zip(sources, targets):
            s, t = _words(src), _words(tgt)
            if len(s) + 1 == len(t):  # a squashed token: find the target pair it came from
                for i in range(len(s)):
                    if i + 1 < len(t) and _key(s[i]) == (t[i] + t[i + 1]).lower():
                        self.split[shape(s[i].lower())][len(t[i + 1])] += 1
                        s = s[:i] + [s[i].strip(".")[: -len(t[i + 1])], s[i].strip(".")[-len(t[i + 1]):]] + s[i + 1 :]
                        break
            if len(s) == len(t):
                for a, b in zip(s, t):
                    self.map[_key(a)][b] += 1
                    if (rule := _case(a, b)) != "other":  # abbreviations are the token map's job, not a casing rule
                        self.case[shape(a)][rule] += 1
            commas = _commas(tgt)
            for i in range(len(t) - 1):
                for ctx in _contexts(t[i], t[i + 1]):
                    self.comma[ctx][commas[i]] += 1
        return self

    def _word(self, w: str) -> str:
        if self.map.get(_key(w)):
            return self.map[_key(w)].most_common(1)[0][0]
        rule = self.case[shape(w)].most_common(1)[0][0] if self.case.get(shape(w)) else "same"
        return {"title": str.title, "upper": str.upper, "lower": str.lower}.get(rule, lambda x: x)(w.strip("."))

    def predict_one(self, source: str) -> str:
        out: list[str] = []
        for w in _words(source):
            sp = self.split.get(shape(w.lower()))
            core = w.strip(".")
            if sp and self.map.get(_key(w)) is None:
                k = sp.most_common(1)[0][0]
                out += [self._word(core[:-k]), self._word(core[-k:])] if len(core) > k else [self._word(core)]
            else:
                out.append(self._word(w))
        text = ""
        for i, w in enumerate(out):
            text += w
            if i + 1 < len(out):
                c = next((self.comma[ctx] for ctx in _contexts(w, out[i + 1]) if sum(self.comma.get(ctx, {}).values()) >= 2), None)
                text += ", " if c and c[True] > c[False] else " "
        return text

    def predict(self, sources: list[str]) -> list[str]:
        return [self.predict_one(s) for s in sources]


def rewrite_scores(refs: list[str], preds: list[str]) -> dict:
    """Exact match rate and corpus chrF (sacrebleu) of predictions against references."""
    from sacrebleu.metrics import CHRF

    if not refs:
        return {"n": 0, "exact_match": 0.0, "chrf": 0.0}
    em = sum(r == p for r, p in zip(refs, preds)) / len(refs)
    return {"n": len(refs), "exact_match": round(em, 6), "chrf": round(CHRF().corpus_score(preds, [refs]).score, 4)}


def student_metrics(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, spec, params, min_slice_size: int) -> tuple[dict, dict]:
    """Exact match and chrF on the eval set: copy-the-source baseline, the rewriter learned on real-only and on the mix."""
    texts, refs = eval_["text"].to_list(), eval_["target"].to_list()
    preds = {"copy_baseline": list(texts)}
    for name, frame in progress((("real_only", real), ("mix", train)), "students", unit="models"):
        preds[name] = Rewriter().fit(frame["text"].to_list(), frame["target"].to_list()).predict(texts)
    tags = eval_["slices"].to_list()
    groups = slice_groups(tags, min_slice_size)
    result = {name: {g: rewrite_scores([refs[i] for i in idx], [p[i] for i in idx]) for g, idx in groups.items()} for name, p in preds.items()}
    metrics = {
        "task": "rewrite", "student": "token_rewriter", "eval_rows": eval_.height,
        "train_rows": {"real_only": real.height, "mix": train.height, "synthetic_in_mix": int((train["source"] == "synthetic").sum())},
        "copy_baseline": result["copy_baseline"]["all"], "real_only": result["real_only"]["all"], "mix": result["mix"]["all"],
        "uplift": {k: round(result["mix"]["all"][k] - result["real_only"]["all"][k], 6) for k in ("exact_match", "chrf")},
        "slices": {g: {"n": len(groups[g]), "real_only_exact_match": result["real_only"][g]["exact_match"], "mix_exact_match": result["mix"][g]["exact_match"],
                       "uplift_exact_match": round(result["mix"][g]["exact_match"] - result["real_only"][g]["exact_match"], 6)} for g in groups if g != "all"},
    }
    return metrics, {"slices": result, "examples": [{"text": t, "target": r, "mix": m} for t, r, m in list(zip(texts, refs, preds["mix"]))[:10]]}

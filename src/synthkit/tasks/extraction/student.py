"""The extraction student: a CRF over tokens (sklearn-crfsuite), scored with field-level precision, recall and F1."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import polars as pl

from synthkit.progress import progress
from synthkit.tasks.base import slice_groups
from synthkit.tasks.extraction.section import ExtractionSpec
from synthkit.tasks.extraction.target import MONTH_NAMES, find_value, parse_target
from synthkit.tasks.facts import dates, normalize_space, numbers

TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+(?:['\u2019][A-Za-z]+)?|[^\w\s]")


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _shape(w: str) -> str:
    s = "".join("9" if c.isdigit() else "X" if c.isupper() else "x" if c.islower() else c for c in w)
    return re.sub(r"(.)\1+", r"\1\1", s)


def token_features(toks: list[tuple[str, int, int]]) -> list[dict]:
    feats = []
    words = [t[0] for t in toks]
    for i, w in enumerate(words):
        f = {"bias": 1.0, "w": w.lower(), "shape": _shape(w), "pre3": w[:3].lower(), "suf3": w[-3:].lower(),
             "digit": w[:1].isdigit(), "title": w.istitle(), "upper": w.isupper(), "month": w[:3].lower() in
             {m[:3].lower() for m in MONTH_NAMES}, "len": min(len(w), 8)}
        for off in (-3, -2, -1, 1, 2, 3):
            j = i + off
            f[f"{off}:w"] = words[j].lower() if 0 <= j < len(words) else ("<s>" if j < 0 else "</s>")
            if 0 <= j < len(words):
                f[f"{off}:shape"] = _shape(words[j])
        feats.append(f)
    return feats


def bio_tags(text: str, values: dict, spec: ExtractionSpec) -> list[str]:
    toks = tokens(text)
    tags = ["O"] * len(toks)
    for field, value in sorted(values.items()):
        span = find_value(text, field, value, spec)
        if span is None:
            continue
        inside = [i for i, (_, s, e) in enumerate(toks) if s < span[1] and e > span[0] and tags[i] == "O"]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + field
    return tags


def decode(text: str, tags: list[str], spec: ExtractionSpec) -> dict:
    """Predicted tags -> field values, normalised like the targets (first span per field)."""
    toks = tokens(text)
    spans: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(tags):
        if tags[i] != "O":
            field = tags[i][2:]
            j = i + 1
            while j < len(tags) and tags[j] == f"I-{field}":
                j += 1
            spans.setdefault(field, (toks[i][1], toks[j - 1][2]))
            i = j
        else:
            i += 1
    out: dict[str, Any] = {}
    for field, (s, e) in spans.items():
        surface = text[s:e]
        f = spec.fields.get(field)
        if f is None:
            continue
        if field == spec.currency_field and spec.currencies:
            code = next((c for c, ss in spec.currencies.items() if any(x.lower() == surface.lower() for x in ss + [c])), None)
            if code:
                out[field] = code
        elif f.type == "number":
            vals = numbers(surface)
            if vals:
                out[field] = float(vals[0])
        elif f.type == "date":
            ds = dates(surface, spec.date_order)
            if ds:
                out[field] = ds[0][0].isoformat()
        else:
            out[field] = surface
    return out


def train_extractor(texts: list[str], targets: list[str], spec: ExtractionSpec, params):
    """A CRF tagger (sklearn-crfsuite, L-BFGS) trained on token features and BIO tags derived from the targets."""
    import sklearn_crfsuite

    X, y = [], []
    for text, t in zip(texts, targets):
        values, _, _ = parse_target(t, spec)
        X.append(token_features(tokens(text)))
        y.append(bio_tags(text, values or {}, spec))
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=params.c1, c2=params.c2, max_iterations=params.max_iterations, all_possible_transitions=True)
    crf.fit(X, y)
    return crf


def predict(crf, texts: list[str], spec: ExtractionSpec) -> list[dict]:
    tags = crf.predict([token_features(tokens(t)) for t in texts])
    return [decode(t, tg, spec) for t, tg in zip(texts, tags)]


def same_value(a: Any, b: Any, ftype: str) -> bool:
    if ftype == "number":
        return Decimal(str(a)) == Decimal(str(b))
    return normalize_space(str(a)) == normalize_space(str(b))


def field_scores(gold: list[dict], pred: list[dict], spec: ExtractionSpec) -> dict:
    """Field-level micro precision / recall / F1 (a value counts only when it equals the gold value), overall and per field."""
    counts = {f: [0, 0, 0] for f in spec.fields}  # tp, fp, fn
    for g, p in zip(gold, pred):
        for f, fs in spec.fields.items():
            gv, pv = g.get(f), p.get(f)
            ok = gv is not None and pv is not None and same_value(gv, pv, fs.type)
            counts[f][0] += ok
            counts[f][1] += pv is not None and not ok
            counts[f][2] += gv is not None and not ok

    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"precision": round(p, 6), "recall": round(r, 6), "f1": round(2 * p * r / (p + r), 6) if p + r else 0.0}

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"n": len(gold), **prf(*total), "per_field": {f: prf(*c) for f, c in sorted(counts.items())}}


def student_metrics(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, spec, params, min_slice_size: int) -> tuple[dict, dict]:
    """Field-level P/R/F1 of the CRF trained on real-only and on the mix, overall and per eval slice."""
    ex_spec: ExtractionSpec = spec.section
    gold = [parse_target(t, ex_spec)[0] or {} for t in eval_["target"].to_list()]
    texts = eval_["text"].to_list()
    preds = {}
    for name, frame in progress((("real_only", real), ("mix", train)), "students", unit="models"):
        crf = train_extractor(frame["text"].to_list(), frame["target"].to_list(), ex_spec, params.task.section)
        preds[name] = predict(crf, texts, ex_spec)
    tags = eval_["slices"].to_list()
    groups = slice_groups(tags, min_slice_size)
    result = {name: {g: field_scores([gold[i] for i in idx], [p[i] for i in idx], ex_spec) for g, idx in groups.items()} for name, p in preds.items()}
    metrics = {
        "task": "extraction", "student": "crf", "eval_rows": eval_.height,
        "train_rows": {"real_only": real.height, "mix": train.height, "synthetic_in_mix": int((train["source"] == "synthetic").sum())},
        "real_only": {k: v for k, v in result["real_only"]["all"].items() if k != "per_field"},
        "mix": {k: v for k, v in result["mix"]["all"].items() if k != "per_field"},
        "uplift": {k: round(result["mix"]["all"][k] - result["real_only"]["all"][k], 6) for k in ("precision", "recall", "f1")},
        "per_field": {name: result[name]["all"]["per_field"] for name in preds},
        "slices": {g: {"n": len(groups[g]), "real_only_f1": result["real_only"][g]["f1"], "mix_f1": result["mix"][g]["f1"],
                       "uplift_f1": round(result["mix"][g]["f1"] - result["real_only"][g]["f1"], 6)} for g in groups if g != "all"},
    }
    return metrics, {"slices": result}

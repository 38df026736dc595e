"""Rewrite and normalisation: the target is the rewritten text in the spec's target form.

The offline generator renders a canonical target from slot values and derives sources from it with
deterministic variants (lower-casing, abbreviations, dropped commas, squashed postcodes), so targets are
right by construction. The rewrite gate checks the target matches the form, adds no number or entity the
source lacks, and keeps a bounded length ratio. The student is a token rewriter learned from the pairs
(token map, casing by shape, postcode splits, comma placement), scored by exact match and chrF.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

import polars as pl

from synthkit.gates.base import KEEP, Verdict
from synthkit.progress import progress
from synthkit.schemas import Example, Generator, content_id, rows_to_frame
from synthkit.tasks import slice_groups
from synthkit.tasks.sections import RewriteSpec

POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) (\d[A-Z]{2})\b", re.I)
ALPHA = re.compile(r"[A-Za-z]{2,}")


def _key(token: str) -> str:
    return token.lower().strip(".")


# ---------------------------------------------------------------- gate

def gate_rewrite(texts: list[str], targets: list[str | None], spec: RewriteSpec, length_ratio: tuple[float, float]) -> list[Verdict]:
    """rewrite gate: target in the expected form, no new numbers or entities, length ratio within bounds."""
    pattern = re.compile(spec.target_pattern)
    expansions = {k.lower(): v.lower() for k, v in spec.expansions.items()}
    out = []
    for text, target in zip(texts, targets):
        if target is None or not target.strip():
            out.append(Verdict("rewrite_missing_target"))
            continue
        if not pattern.fullmatch(target):
            out.append(Verdict("rewrite_target_form", f"not a {spec.form}"))
            continue
        squashed = re.sub(r"\s+", "", text)
        new_number = next((d for d in re.findall(r"\d+", target) if d not in squashed), None)
        if new_number is not None:
            out.append(Verdict("rewrite_new_number", new_number))
            continue
        src_words = {w.lower() for w in ALPHA.findall(text)}
        allowed = src_words | {expansions[w] for w in src_words if w in expansions}
        new_word = next((w for w in ALPHA.findall(target) if w.lower() not in allowed and w.lower() not in squashed.lower()), None)
        if new_word is not None:
            out.append(Verdict("rewrite_new_entity", new_word))
            continue
        ratio = len(target) / max(1, len(text.strip()))
        if not length_ratio[0] <= ratio <= length_ratio[1]:
            out.append(Verdict("rewrite_length_ratio", f"{ratio:.2f}"))
            continue
        out.append(KEEP)
    return out


def check_target(spec: RewriteSpec):
    """For prepare: a real row's target must be present and in the target form."""
    pattern = re.compile(spec.target_pattern)

    def check(target: str | None) -> str:
        if target is None:
            raise ValueError("target: missing")
        if not pattern.fullmatch(target):
            raise ValueError(f"target: not in the {spec.form} form")
        return target
    return check


# ---------------------------------------------------------------- offline generator

def apply_op(op: str, s: str, spec: RewriteSpec, rng: random.Random) -> str:
    """One deterministic source variant of a canonical text."""
    if op == "lower":
        return s.lower()
    if op == "upper":
        return s.upper()
    if op == "abbreviate":
        for abbr, full in sorted(spec.expansions.items()):
            form = rng.choice([abbr, abbr.capitalize(), abbr + "."])
            s = re.sub(rf"\b{re.escape(full)}\b", form, s)
        return s
    if op == "drop_commas":
        return s.replace(",", "")
    if op == "squash_postcode":
        return POSTCODE.sub(r"\1\2", s)
    if op == "extra_spaces":
        return s.replace(" ", "  ", 1)
    if op == "trailing_period":
        return s + "."
    raise ValueError(op)


def generate(spec, params, seed: int) -> pl.DataFrame:
    """Canonical targets from the scenario templates; sources are variants (typical: 2 ops, messy: 3-4, hard_negative: none)."""
    from synthkit.generators.template import fill, template_hash

    rw: RewriteSpec = spec.rewrite
    rows: dict[str, Example] = {}
    for sc in sorted(spec.scenarios, key=lambda s: s.id):
        rng = random.Random(f"{seed}:{sc.id}")
        for _ in range(params.per_scenario):
            family = rng.choices(["typical", "messy", "hard_negative"], weights=[5, 3, 1])[0]
            template = rng.choice(sc.templates["typical"])
            target = re.sub(r"[ \t]+", " ", fill(template, sc, spec, rng)).strip()
            k = {"typical": 2, "messy": rng.choice([3, 4]), "hard_negative": 0}[family]
            ops = sorted(rng.sample(rw.source_ops, k=min(k, len(rw.source_ops))), key=rw.source_ops.index)
            text = target
            for op in ops:
                text = apply_op(op, text, rw, rng)
            ex_id = content_id("synthetic", sc.label, sc.id, family, text, target)
            rows.setdefault(ex_id, Example(
                id=ex_id, text=text, label=sc.label, target=target, source="synthetic", scenario_id=sc.id, family=family,
                channel="pasted_notes", split="candidate",
                generator=Generator(backend="template", model="rewrite_variants", prompt_hash=template_hash(template, *ops)),
            ))
    return rows_to_frame(rows.values(), Example)


# ---------------------------------------------------------------- student: a learned token rewriter

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


def evaluate(real: pl.DataFrame, train: pl.DataFrame, eval_: pl.DataFrame, spec, params, min_slice_size: int) -> tuple[dict, dict]:
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

"""Offline critic gate: generator artifacts a rule can see (template residue, repeated openings, assistant
boilerplate, length outliers against the seeds, label names leaking into the text)."""

from __future__ import annotations

import math
import re

import polars as pl

from synthkit.config import CriticParams
from synthkit.gates.base import KEEP, Verdict
from synthkit.progress import progress

_RESIDUE = [
    ("unfilled_slot", re.compile(r"\{\{?\s*[A-Za-z_][\w .-]{0,40}\}\}?|\$\{\w+\}|%\(\w+\)[sd]|(?<!\w)%s(?!\w)")),
    # <placeholder>, <customer name>, <insert date>; all-caps <PHONE_NUMBER> is the PII gate's redaction: kept
    ("angle_placeholder", re.compile(r"<(?![A-Z0-9_]+>)[A-Za-z][A-Za-z0-9_ ]{0,30}>")),
    ("bracket_placeholder", re.compile(r"\[(?:your|insert|customer|name|date|product|order|placeholder|company|x+)\b[^\]]{0,30}\]", re.I)),
    ("lorem_ipsum", re.compile(r"\blorem ipsum\b", re.I)),
    ("todo_marker", re.compile(r"\b(?:TODO|FIXME|TBD|XXX)\b")),  # upper case only: "my todo list" is a real request
    ("placeholder_word", re.compile(r"\b(?:PLACEHOLDER|INSERT_\w+|\w+_HERE)\b|\bplaceholder text\b", re.I)),
]
# Per residue pattern, the same regex without its lookarounds for polars' (Rust) regex engine: dropping a
# zero-width assertion only widens a pattern, so on plain texts (printable ASCII, see _NOT_PLAIN, where Python's re and Rust's regex
# agree on \w, \d, \s, \b and case folding) a text the screen misses cannot match. tests/gates/test_critic_screen.py
# checks both the superset property and that screened and unscreened verdicts agree.
_RESIDUE_SCREEN = [
    r"\{\{?\s*[A-Za-z_][\w .-]{0,40}\}\}?|\$\{\w+\}|%\(\w+\)[sd]|%s",
    r"<[A-Za-z][A-Za-z0-9_ ]{0,30}>",
    r"(?i)\[(?:your|insert|customer|name|date|product|order|placeholder|company|x+)\b[^\]]{0,30}\]",
    r"(?i)\blorem ipsum\b",
    r"\b(?:TODO|FIXME|TBD|XXX)\b",
    r"(?i)\b(?:PLACEHOLDER|INSERT_\w+|\w+_HERE)\b|\bplaceholder text\b",
]
# exactly two in a row: "order order"; "cancel cancel cancel" is emphasis a writer chose
_DOUBLED = re.compile(r"(?<![^\W\d_])([^\W\d_]+)\s+\1(?![^\W\d_])(?!\s+\1(?![^\W\d_]))", re.IGNORECASE)

_BOILERPLATE = [
    r"\bas an? (?:ai|a\.i\.|artificial intelligence|large language model|language model|ai language model|ai assistant)\b",
    r"\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|virtual assistant|ai assistant)\b",
    r"\bi hope (?:this|my) (?:message|email|e-mail|note) finds you well\b",
    r"\b(?:certainly|sure|absolutely|of course)\s*[!,.]\s*here(?:'s| is| are)\b",
    r"\bhere(?:'s| is| are) (?:a |an |some |the |\d+ )?(?:\w+ ){0,2}(?:examples?|variations?|paraphrases?|utterances?|"
    r"rewrites?|versions?|samples?|customer messages?)\b",
    r"\bi(?:'d| would)? be (?:happy|glad|delighted) to (?:help|assist)\b",
    r"\bi(?:'m| am) (?:happy|glad|here) to (?:help|assist)\b",
    r"\bi (?:can't|cannot|can not) (?:assist|help) with (?:that|this request)\b",
    r"\bi(?:'m| am) sorry,? but (?:as an|i can't|i cannot)\b",
    r"\bi hope this helps\b",
    r"\bfeel free to (?:reach out|ask|let me know)\b",
    r"\blet me know if you have any (?:other |further |more |additional )?questions\b",
    r"\bgreat question\b",
    r"\b(?:note|disclaimer): this (?:is a|message is) (?:synthetic|fictional|generated)\b",
]
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_LETTERS = r"[^\W\d_]+"
# Texts of printable ASCII, tab and newlines only: there Python's re and Rust's regex classes agree.
_NOT_PLAIN = r"[^\t\n\r\x20-\x7e]"


def _residue(text: str, params: CriticParams) -> str | None:
    for name, pattern in _RESIDUE:
        m = pattern.search(text)
        if m:
            return f"{name}:{m.group()[:40]}"
    if params.doubled_words:
        allow = {w.lower() for w in params.doubled_word_allow}
        for m in _DOUBLED.finditer(text):
            before = re.search(r"([^\W\d_]+)\s+$", text[: m.start()])
            if before and before.group(1).lower() == m.group(1).lower():
                continue  # the tail of a triple
            if m.group(1).lower() not in allow:
                return f"doubled_word:{m.group()[:40]}"
    return None


def _label_patterns(labels: list[str], min_words: int, spaced: bool) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for label in sorted(set(labels)):
        words = [w for w in re.split(r"[\s_\-./]+", label.strip()) if w]
        if len(words) < min_words:
            continue
        joined = (r"[\s_\-]+" if spaced else r"[_\-]").join(re.escape(w) for w in words)
        out.append((label, re.compile(rf"(?<![^\W_]){joined}(?![^\W_])", re.IGNORECASE)))
    return out


def _rust_literal(word: str) -> str:
    """A word as a literal for Rust's regex syntax (which rejects some of re.escape's escapes)."""
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):X}}}" for c in word)


def _label_screen(labels: list[str], min_words: int, spaced: bool) -> list[str]:
    """The label-leak patterns without their lookarounds, for polars."""
    out = []
    for label in sorted(set(labels)):
        words = [w for w in re.split(r"[\s_\-./]+", label.strip()) if w]
        if len(words) >= min_words:
            out.append("(?i)" + (r"[\s_\-]+" if spaced else r"[_\-]").join(_rust_literal(w) for w in words))
    return out


SCREEN_BATCH = 65_536  # rows per vectorized screen: bounds the word lists polars builds


def _slices(texts: pl.Series) -> list[pl.Series]:
    return [texts.slice(start, SCREEN_BATCH) for start in range(0, texts.len(), SCREEN_BATCH)]


def _suspects(texts: pl.Series, params: CriticParams, leak_screen: list[str]) -> list[bool]:
    """Per text: could any residue, doubled-word, boilerplate or label-leak check fire? False only when provably not.

    Screens run vectorized in polars on the plain texts (_NOT_PLAIN); every other text is a suspect, and so is
    every text when extra_boilerplate (user regexes, Python syntax) is set.
    """
    if params.boilerplate and params.extra_boilerplate:
        return [True] * texts.len()
    return [x for part in _slices(texts.fill_null("")) for x in _suspects_part(part, params, leak_screen)]


def _suspects_part(texts: pl.Series, params: CriticParams, leak_screen: list[str]) -> list[bool]:
    frame = pl.DataFrame({"t": texts})
    t = pl.col("t")
    checks = [t.str.contains(_NOT_PLAIN)]
    if params.template_residue:
        checks.append(t.str.contains("|".join(f"(?:{p})" for p in _RESIDUE_SCREEN)))
        if params.doubled_words:
            # a doubled word is two adjacent letter runs equal up to case
            words = t.str.to_lowercase().str.extract_all(_LETTERS)
            checks.append(words.list.eval(pl.element() == pl.element().shift(1)).list.any().fill_null(False))
    if params.boilerplate:
        checks.append(t.str.contains("(?i)" + "|".join(f"(?:{p})" for p in _BOILERPLATE)))
    if leak_screen:
        checks.append(t.str.contains("|".join(f"(?:{p})" for p in leak_screen)))
    return frame.select(pl.any_horizontal(checks))[:, 0].to_list()


def _openings(texts: pl.Series, n: int) -> list[str | None]:
    """opening(text, n) for every text: vectorized for plain texts, per text otherwise."""
    return [o for part in _slices(texts.fill_null("")) for o in _openings_part(part, n)]


def _openings_part(texts: pl.Series, n: int) -> list[str | None]:
    frame = pl.DataFrame({"t": texts}).select(
        plain=~pl.col("t").str.contains(_NOT_PLAIN),
        words=pl.col("t").str.to_lowercase().str.extract_all(_WORD.pattern),
    )
    fast = frame.select(
        pl.when(pl.col("words").list.len() >= n).then(pl.col("words").list.head(n).list.join(" ")).alias("o")
    )["o"].to_list()
    plain = frame["plain"].to_list()
    return [o if ok else opening(t or "", n) for o, ok, t in zip(fast, plain, texts.to_list())]


def length_bounds(seed_texts: list[str], params: CriticParams) -> tuple[int, int] | None:
    """Allowed word counts [low, high] from the seed distribution, or None with too few seeds."""
    counts = sorted(len(t.split()) for t in seed_texts if t and t.strip())
    if len(counts) < params.min_seeds:
        return None

    def quantile(q: float) -> float:
        pos = q * (len(counts) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return counts[lo] + (counts[hi] - counts[lo]) * (pos - lo)

    q_lo, q_hi = params.length_quantiles
    return math.floor(quantile(q_lo) / params.length_widen), math.ceil(quantile(q_hi) * params.length_widen)


def opening(text: str, n: int) -> str | None:
    """The first n normalized words (lower-cased, punctuation dropped), or None for a shorter text."""
    words = _WORD.findall(text.lower())
    return " ".join(words[:n]) if len(words) >= n else None


def gate_critic(df: pl.DataFrame, seed_texts: list[str], params: CriticParams, *, screen: bool = True) -> list[Verdict]:
    """One verdict per row of df (columns id, text, label): the first artifact found names the reason.

    With `screen` (the default), the per-text regex checks run only on the texts a vectorized screen cannot
    clear (_suspects); the verdicts are the same as with screen=False, only faster on large frames.
    """
    if not params.enabled or df.height == 0:
        return [KEEP] * df.height
    texts = df["text"].to_list()
    ids = df["id"].cast(pl.String).to_list() if "id" in df.columns else [f"{i:012d}" for i in range(df.height)]
    labels = [x for x in df["label"].to_list() if x] if "label" in df.columns else []
    boiler = [re.compile(p, re.IGNORECASE) for p in (*_BOILERPLATE, *params.extra_boilerplate)] if params.boilerplate else []
    leaks = _label_patterns(labels, params.min_label_words, params.label_leak_spaced) if params.label_leak else []
    bounds = length_bounds(seed_texts, params) if params.length_outlier else None
    if screen:
        leak_screen = _label_screen(labels, params.min_label_words, params.label_leak_spaced) if params.label_leak else []
        suspects = _suspects(df["text"], params, leak_screen)
    else:
        suspects = [True] * len(texts)

    verdicts: list[Verdict] = []
    for text, suspect in progress(zip(texts, suspects), "critic", total=len(texts)):
        text = text or ""
        verdict = KEEP
        if not suspect:
            pass
        elif params.template_residue and (hit := _residue(text, params)):
            verdict = Verdict(reason="critic_template_residue", detail=hit)
        elif boiler and (m := next((m for p in boiler if (m := p.search(text))), None)):
            verdict = Verdict(reason="critic_boilerplate", detail=m.group()[:60])
        elif leaks and (leak := next((label for label, p in leaks if p.search(text)), None)):
            verdict = Verdict(reason="critic_label_leak", detail=f"label={leak}")
        if verdict is not KEEP:
            pass
        elif bounds is not None and not bounds[0] <= (n := len(text.split())) <= bounds[1]:
            verdict = Verdict(reason="critic_length_outlier", detail=f"words={n} allowed={bounds[0]}-{bounds[1]}")
        verdicts.append(verdict)

    if params.repeated_opening:
        cap = max(1, math.floor(params.max_opening_share * df.height))
        groups: dict[str, list[int]] = {}
        keys = _openings(df["text"], params.opening_words) if screen else [opening(t or "", params.opening_words) for t in texts]
        for i, (key, v) in enumerate(zip(keys, verdicts)):
            if key is not None and v.reason is None:
                groups.setdefault(key, []).append(i)
        for key, rows in groups.items():
            if len(rows) > cap:
                for i in sorted(rows, key=lambda i: (ids[i], i))[cap:]:
                    verdicts[i] = Verdict(reason="critic_repeated_opening", detail=f"opening={key!r} share>{cap}/{df.height}")
    return verdicts

"""Realistic keyboard noise: typos, dropped punctuation and apostrophes, lower-casing; deterministic given an RNG."""

from __future__ import annotations

import random
import re

_NEIGHBOURS = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}


def add_typos(text: str, rate: float, rng: random.Random) -> str:
    """Swap, drop, double or mistype letters in about `rate` of the words longer than three letters."""
    words = text.split(" ")
    out = []
    for w in words:
        if len(w) > 3 and w.isalpha() and rng.random() < rate * 4:
            i = rng.randrange(1, len(w) - 1)
            op = rng.randrange(4)
            if op == 0:
                w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            elif op == 1:
                w = w[:i] + w[i + 1 :]
            elif op == 2:
                w = w[:i] + w[i] + w[i:]
            else:
                c = w[i].lower()
                w = w[:i] + rng.choice(_NEIGHBOURS.get(c, c)) + w[i + 1 :]
        out.append(w)
    return " ".join(out)


def make_messy(text: str, rate: float, rng: random.Random) -> str:
    """Typos plus, at random, lower-casing, dropped apostrophes and dropped final punctuation."""
    text = add_typos(text, rate, rng)
    if rng.random() < 0.6:
        text = text.lower()
    if rng.random() < 0.5:
        text = text.replace("'", "").replace("\u2019", "")
    if rng.random() < 0.5:
        text = re.sub(r"[.!]+(\s|$)", r"\1", text).strip()
    return text

"""Template-free variation of the real seeds: channel wrappers, realistic noise, recombination of in-label
phrasing, and hard negatives for the label pairs the seed-trained student confuses.

Needs no scenarios or templates, so it works with a spec derived from the seeds alone.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

import polars as pl
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from synthkit.config import SeedVariationParams
from synthkit.generators.noise import make_messy
from synthkit.generators.template import template_hash
from synthkit.progress import progress
from synthkit.schemas import CHANNELS, Example, Generator, content_id, rows_to_frame
from synthkit.spec import Spec
from synthkit.student import train_student

BACKEND = "seed_variation"
OPERATIONS = ("channel", "noise", "recombine")
# where a sentence can be cut into a head and a tail that another seed of the same label can finish
_CUT = re.compile(r"(?<=[,;.?!])\s+|\s+(?=(?:and|but|so|because|since|as|or|then|while|if|when)\s)", re.IGNORECASE)
# generic wrappers when the spec has none (a derived spec)
DEFAULT_WRAPPERS = {
    "chat": ["{body}", "hi, {body}", "hello {body}", "{body} thanks", "hey - {body}"],
    "email": ["Hello,\n\n{body}\n\nThanks", "Hi,\n{body}\nBest regards", "{body}\n\nSent from my phone"],
    "call_transcript": ["caller: {body}", "customer says: {body}", "agent: how can I help? customer: {body}"],
    "pasted_notes": ["note from customer: {body}", "re: {body}", "> {body}"],
}


def _halves(text: str) -> tuple[str, str] | None:
    """Split a text at its middle-most clause boundary into (head, tail), or None when it has none."""
    cuts = [m for m in _CUT.finditer(text) if 0 < m.start() < len(text) - 1]
    if not cuts:
        return None
    m = min(cuts, key=lambda c: abs(c.start() - len(text) / 2))
    head, tail = text[: m.start()].strip(), text[m.end() :].strip()
    return (head, tail) if head and tail else None


def recombine(text: str, others: list[str], rng: random.Random) -> str | None:
    """The head of `text` finished with the tail of another seed of the same label (in-label phrasing only)."""
    mine = _halves(text)
    tails = [h[1] for h in (_halves(o) for o in others if o != text) if h]
    if not mine or not tails:
        return None
    return f"{mine[0]} {rng.choice(tails)}"


def _wrap(text: str, spec: Spec, channels: list[str], rng: random.Random) -> tuple[str, str, str]:
    wrappers = {c: [w for w in spec.channels.get(c, []) if "{body}" in w] or DEFAULT_WRAPPERS.get(c, []) for c in channels}
    options = sorted(c for c, ws in wrappers.items() if ws and c in CHANNELS)
    if not options:
        return text, "chat", "{body}"
    channel = rng.choice(options)
    wrapper = rng.choice(wrappers[channel])
    return wrapper.replace("{short}", "").replace("{body}", text).strip(), channel, wrapper


def confused_pairs(texts: list[str], labels: list[str], n_pairs: int, C: float, seed: int) -> list[tuple[str, str, int]]:
    """The (true, predicted, count) label pairs the seed student confuses most, from cross-validated predictions."""
    counts = Counter(labels)
    folds = min(3, min(counts.values())) if counts else 0
    if n_pairs == 0 or folds < 2 or len(counts) < 2:
        return []
    model = train_student(texts, labels, C=C)  # cross_val_predict refits clones of this pipeline per fold
    pred = cross_val_predict(model, texts, labels, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    pairs = Counter((t, str(p)) for t, p in zip(labels, pred) if t != p)
    return [(a, b, n) for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:n_pairs]]


def _row(seed_row: dict, text: str, family: str, channel: str, op: str, recipe: str, parents: list[str]) -> Example:
    ex_id = content_id("synthetic", BACKEND, seed_row["label"], family, channel, text)
    return Example(
        id=ex_id, text=text, label=seed_row["label"], source="synthetic", scenario_id=seed_row["scenario_id"],
        family=family, channel=channel if channel in CHANNELS else "chat", split="candidate", parent_ids=parents,
        generator=Generator(backend=BACKEND, model=f"seed_{op}", prompt_hash=template_hash(op, recipe)),
    )


def generate_seed_variations(seeds: pl.DataFrame, spec: Spec, params: SeedVariationParams, channels: list[str], seed: int) -> pl.DataFrame:
    """Variants of every training seed plus hard negatives for confused label pairs; sorted by id, duplicates collapse."""
    train = seeds.filter(pl.col("split") == "seed").sort("id")
    records = train.select("id", "text", "label", "scenario_id").to_dicts()
    by_label: dict[str, list[str]] = defaultdict(list)
    for r in records:
        by_label[r["label"]].append(r["text"])
    rows: dict[str, Example] = {}
    seen = {r["text"] for r in records}

    def add(ex: Example | None) -> None:
        if ex is not None and ex.text not in seen:
            rows.setdefault(ex.id, ex)

    def variant(r: dict, op: str, rng: random.Random, family: str | None = None) -> Example | None:
        if op == "recombine":
            text = recombine(r["text"], by_label[r["label"]], rng)
            return None if text is None else _row(r, text, family or "typical", "chat", op, "recombine", [r["id"]])
        if op == "noise":
            return _row(r, make_messy(r["text"], params.typo_rate, rng), family or "messy", "chat", op, "noise", [r["id"]])
        text, channel, wrapper = _wrap(r["text"], spec, channels, rng)
        return _row(r, text, family or "typical", channel, op, wrapper, [r["id"]])

    for r in progress(records, "seed variation", unit="seeds"):
        rng = random.Random(f"{seed}:{BACKEND}:{r['id']}")
        for k in range(params.per_seed):
            add(variant(r, OPERATIONS[k % len(OPERATIONS)], rng))

    pairs = confused_pairs([r["text"] for r in records], [r["label"] for r in records], params.confused_pairs, params.C, seed)
    for true_label, other, _ in pairs:
        rng = random.Random(f"{seed}:{BACKEND}:hard:{true_label}:{other}")
        members = [r for r in records if r["label"] == true_label]
        for k in range(params.hard_negatives_per_pair):
            r = members[k % len(members)]
            add(variant(r, ("recombine", "noise", "channel")[k % 3], rng, family="hard_negative"))
    return rows_to_frame(rows.values(), Example).sort("id")

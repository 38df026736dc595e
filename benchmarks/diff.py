"""diff_frames on two revisions of a 100,000-row artifact against a naive Python baseline in the same run.

Revision B drops ~5% of A's rows, adds ~5% new ones and relabels ~1% (same text, other label, new content id).
Both revisions are written to Parquet and read back (the timed work starts from the frames, like `synthkit diff`
after reading). Usage: python benchmarks/diff.py [--rows 100000] [--repeats 3]; writes reports/bench/diff.json.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import polars as pl

from timing import timed  # benchmarks/timing.py (benchmarks run as scripts)

from synthkit.dedupe import normalize_text
from synthkit.diff import diff_frames
from synthkit.io import write_json, write_parquet
from synthkit.schemas import CHANNELS, FAMILIES, content_id

LABELS = ("refund_request", "cancel_subscription", "billing_question", "login_problem", "account_locked",
          "order_status", "damaged_or_wrong_item", "technical_bug", "update_account_details", "feature_request")
WORDS = ("please", "refund", "charged", "twice", "cancel", "plan", "order", "late", "password", "reset", "email", "broken",
         "app", "crashes", "update", "address", "invoice", "locked", "account", "wrong", "item", "arrived", "damaged", "help")


def _row(rng: random.Random, i: int, label: str | None = None, text: str | None = None) -> dict:
    text = text or " ".join(rng.choices(WORDS, k=rng.randint(5, 25))) + f" #{i}"
    label = label or rng.choice(LABELS)
    source = "synthetic" if rng.random() < 0.6 else "real"
    return {"id": content_id(source, text, label), "text": text, "label": label, "source": source,
            "family": rng.choice(FAMILIES), "channel": rng.choice(CHANNELS), "weight": 0.5 if source == "synthetic" else 1.0}


def make_revisions(rows: int, seed: int = 13) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(seed)
    a = [_row(rng, i) for i in range(rows)]
    order = list(range(rows))
    rng.shuffle(order)
    n5, n1 = rows // 20, rows // 100
    removed, flipped = set(order[:n5]), order[n5 : n5 + n1]
    b = [r for i, r in enumerate(a) if i not in removed and i not in set(flipped)]
    for i in flipped:
        r = a[i]
        label = rng.choice([lab for lab in LABELS if lab != r["label"]])
        b.append({**r, "label": label, "id": content_id(r["source"], r["text"], label)})
    b += [_row(rng, rows + j) for j in range(n5)]
    return pl.DataFrame(a).sort("id"), pl.DataFrame(b).sort("id")


def naive_diff(a: pl.DataFrame, b: pl.DataFrame) -> dict:
    """The baseline: Python dicts and sets over to_dicts() rows."""
    ra, rb = a.to_dicts(), b.to_dicts()
    by_a, by_b = {r["id"]: r for r in ra}, {r["id"]: r for r in rb}
    added = [by_b[i] for i in sorted(set(by_b) - set(by_a))]
    removed = [by_a[i] for i in sorted(set(by_a) - set(by_b))]
    norm_removed: dict[str, set] = {}
    for r in removed:
        norm_removed.setdefault(normalize_text(r["text"]), set()).add(r["label"])
    flips = {normalize_text(r["text"]) for r in added if (labs := norm_removed.get(normalize_text(r["text"]))) and r["label"] not in labs}
    counts = {}
    for col in ("label", "family", "source"):
        ca, cb = {}, {}
        for r in ra:
            ca[r[col]] = ca.get(r[col], 0) + 1
        for r in rb:
            cb[r[col]] = cb.get(r[col], 0) + 1
        counts[col] = {k: (ca.get(k, 0), cb.get(k, 0), cb.get(k, 0) - ca.get(k, 0)) for k in set(ca) | set(cb)}
    return {"added": len(added), "removed": len(removed), "label_flips": len(flips), "counts": counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="reports/bench/diff.json")
    args = ap.parse_args()
    a, b = make_revisions(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        write_parquet(a, Path(tmp) / "a.parquet")
        write_parquet(b, Path(tmp) / "b.parquet")
        a, b = pl.read_parquet(Path(tmp) / "a.parquet"), pl.read_parquet(Path(tmp) / "b.parquet")
    normalize_text("warm up the punctuation table")
    wall, fast = timed(lambda: diff_frames(a, b), args.repeats)
    naive_wall, slow = timed(lambda: naive_diff(a, b), args.repeats)
    s = fast["summary"]
    assert (s["added"], s["removed"], s["label_flips"]) == (slow["added"], slow["removed"], slow["label_flips"]), (s, slow)
    for col, rows in fast["counts"].items():
        assert {r["value"]: (r["a"], r["b"], r["delta"]) for r in rows} == slow["counts"][col], col
    result = {
        "rows": args.rows,
        "rows_b": b.height,
        "added": s["added"],
        "removed": s["removed"],
        "label_flips": s["label_flips"],
        "repeats": args.repeats,
        "wall_s": round(wall, 4),
        "naive_wall_s": round(naive_wall, 4),
        "speedup_vs_naive": round(naive_wall / wall, 2),
    }
    write_json(result, args.out)
    print(result)


if __name__ == "__main__":
    main()

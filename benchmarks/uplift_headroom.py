"""What limits the pseudo-label uplift of the `both` student: the amount of pool text, or the labels it carries.

Per dataset (Banking77, CLINC150) and draw, on a dev split carved from the train split (benchmarks/real_data.draw_split
with dev; the test split is never read): 10 seeds per label, the rest of train minus the dev texts as the unlabeled
pool. Pool texts that leak a dev text (identical after case and whitespace, or an eval-leakage match of
synthkit.dedupe.eval_matches at the init params) are dropped, as the dedupe stage drops candidates that leak the
protected eval set. The pseudo-label teacher is the generate stage's, at the params `synthkit init` writes
(select_pseudo_labels). The `both` student (evaluate.C) is trained on:

| key | training rows |
|---|---|
| real_only | the seeds |
| pseudo | the seeds + the pseudo-labels taken (weight mix.synthetic_weight) |
| pseudo_true_labels | the same texts at their true labels |
| pool_true_labels | the seeds + every pool text at its true label |
| confident_<q> | the seeds + the q most confident pseudo-labels of each label |
| reviewed_least_confident_<q> / reviewed_random_<q> | pseudo, with the filter stage's review sample (filter.review, fraction q, order least_confident / random) at its true labels |

Gates and seed_variation are skipped (benchmarks/real_data.py runs the whole pipeline). Rows are never copied: the
JSON holds counts, accuracies and macro-F1 only.

    python benchmarks/uplift_headroom.py [--draws 2] [--datasets banking77 clinc150] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_data import DATASETS, SOURCES, draw_split, init_params, read_rows  # noqa: E402

from synthkit.config import ReviewParams  # noqa: E402
from synthkit.dedupe import eval_matches  # noqa: E402
from synthkit.generators.pseudo_label import select_pseudo_labels  # noqa: E402
from synthkit.io import write_json  # noqa: E402
from synthkit.review import review_sample  # noqa: E402
from synthkit.students import shared_embedder, train_student  # noqa: E402
from synthkit.tasks.classification.evaluate import scores  # noqa: E402

SHARES = (0.05, 0.1, 0.2)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def run(task: tuple[str, int]) -> dict:
    """One (dataset, draw): every training set of the table above, scored on dev."""
    name, draw = task
    params = init_params()
    teacher, C, w = params.generate.pseudo_label, params.evaluate.C, params.mix.synthetic_weight
    train = [r for r in read_rows(name) if r["split"] == "train"]
    seeds, pool_raw, dev = draw_split(train, draw, True)
    banned, seen, pool = {_norm(r["text"]) for r in dev + seeds}, set(), []
    for r in pool_raw:
        if _norm(r["text"]) not in banned and _norm(r["text"]) not in seen:
            seen.add(_norm(r["text"]))
            pool.append(r)
    emb = shared_embedder()
    leaks = eval_matches([r["text"] for r in pool], [r["text"] for r in dev], params.dedupe, emb)
    dropped = {"identical": len(pool_raw) - len(pool), "eval_leakage": sum(bool(m) for m in leaks)}
    pool = [r for r, m in zip(pool, leaks, strict=True) if not m]
    texts, truth = [r["text"] for r in pool], np.asarray([r["label"] for r in pool])
    s_texts, s_labels = [r["text"] for r in seeds], [r["label"] for r in seeds]
    d_texts, d_labels = [r["text"] for r in dev], [r["label"] for r in dev]
    t0 = time.perf_counter()

    def f1(positions: list[int], labels: list[str]) -> dict:
        model = train_student(s_texts + [texts[p] for p in positions], s_labels + list(labels),
                              [1.0] * len(s_texts) + [w] * len(positions), C=C, kind="both", embedder=emb)
        acc = float(np.mean(truth[positions] == np.asarray(labels))) if positions else None
        macro = scores(d_labels, [str(p) for p in model.predict(d_texts)], sorted(set(d_labels)))["macro_f1"]
        return {"rows": len(positions), "label_accuracy": None if acc is None else round(acc, 4), "macro_f1": round(macro, 4)}

    picked = select_pseudo_labels(s_texts, s_labels, texts, teacher, emb)
    pos = [p for p, _, _, _ in picked]
    label = {p: lab for p, lab, _, _ in picked}
    conf = {p: c for p, _, c, _ in picked}
    out = {"dataset": name, "draw": draw, "seeds": len(seeds), "dev": len(dev), "pool": len(texts), "pool_dropped": dropped,
           "real_only": f1([], [])}
    out["pseudo"] = f1(pos, [label[p] for p in pos])
    out["pseudo_true_labels"] = f1(pos, [str(truth[p]) for p in pos])
    out["pool_true_labels"] = f1(list(range(len(texts))), [str(t) for t in truth])
    by_label: dict[str, list[int]] = {}
    for p in pos:
        by_label.setdefault(label[p], []).append(p)
    # the filter stage's review sample over the pseudo-labels (one stratum per label), a reviewer who relabels each
    # sampled row to its true label
    kept = pl.DataFrame({"id": [str(p) for p in pos], "label": [label[p] for p in pos], "family": ["typical"] * len(pos),
                         "channel": ["chat"] * len(pos), "text": [texts[p] for p in pos], "confidence": [conf[p] for p in pos]})
    no_rejects = kept.head(0).with_columns(pl.lit("").alias("gate"), pl.lit("").alias("reason"))
    for q in SHARES:
        keep = sorted(p for ps in by_label.values() for p in sorted(ps, key=lambda p: (-conf[p], p))[: max(1, round((1 - q) * len(ps)))])
        out[f"confident_{1 - q:g}"] = f1(keep, [label[p] for p in keep])
        for order in ("least_confident", "random"):
            sample = review_sample(kept, no_rejects, ReviewParams(fraction=q, order=order), params.seed + draw)
            fixed = {int(i) for i in sample["id"].to_list()}
            out[f"reviewed_{order}_{q:g}"] = {"reviewed": len(fixed), "reviewed_wrong": int(sum(truth[p] != label[p] for p in fixed)),
                                              **f1(pos, [str(truth[p]) if p in fixed else label[p] for p in pos])}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps({k: out[k] for k in ("dataset", "draw", "real_only", "pseudo", "pseudo_true_labels")}), flush=True)
    return out


def summary(runs: list[dict]) -> dict:
    """Per dataset: each key's mean macro-F1 and its gain over real_only in points (mean over draws)."""
    out: dict = {}
    for name in sorted({r["dataset"] for r in runs}):
        rs = [r for r in runs if r["dataset"] == name]
        keys = [k for k, v in rs[0].items() if isinstance(v, dict) and "macro_f1" in v]
        out[name] = {
            k: {"macro_f1": round(float(np.mean([r[k]["macro_f1"] for r in rs])), 4),
                "gain_points": round(100 * float(np.mean([r[k]["macro_f1"] - r["real_only"]["macro_f1"] for r in rs])), 2),
                **({"label_accuracy": round(float(np.mean([r[k]["label_accuracy"] for r in rs])), 4)} if rs[0][k]["label_accuracy"] is not None else {})}
            for k in keys
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--datasets", nargs="*", default=list(SOURCES))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "reports" / "bench" / "uplift_headroom.json"))
    args = ap.parse_args()
    missing = [SOURCES[n]["file"] for n in args.datasets if not (DATASETS / SOURCES[n]["file"]).is_file()]
    if missing:
        write_json({"skipped": f"datasets not found in {DATASETS}: {', '.join(missing)}"}, args.out)
        return 0
    tasks = [(name, d) for name in args.datasets for d in range(args.draws)]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            runs = list(ex.map(run, tasks))
    else:
        runs = [run(t) for t in tasks]
    write_json({"split": "dev carved from train (the test split is never read)", "params": "as `synthkit init` writes them",
                "summary": summary(runs), "runs": runs, "wall_s": round(time.perf_counter() - t0, 1)}, args.out)
    print(json.dumps(summary(runs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

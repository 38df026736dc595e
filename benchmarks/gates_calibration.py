"""Per-gate, per-label reject rates of the text-judging filter gates on real intent texts (Banking77, CLINC150).

Every text of each dataset's train split is real and correctly labelled, so every rejection is a false positive. As
in benchmarks/real_data.py (draw 0): 10 seeds per label from the train split; the gates are built the way the filter
stage builds them for gate calibration (tasks/classification/filter.real_text_gates) with the params `synthkit init`
writes, and judge every train text (the critic's seed-relative checks against the 10 seeds per label). Consistency is
judged against the true label: the seed student (filter.consistency.student over filter.consistency.encoder, trained
on the seeds) on every other train text, each seed by a student trained on the other folds; `consistency.exempt` is the pool's rate once the (label, predicted label) pairs the
seeds show out of fold are exempt, as filter.calibration.action exempt does; `consistency.flipped_recall` is the
share of pool texts given a random other label (known mislabels) that the gate rejects. Baselines in the same run:
the bare toxicity model (min_words 0), the critic's previous length quantiles (0.05, 0.95), the previous
consistency rule (any confident disagreement rejects: plausible_share 0) and the previous consistency student
(`consistency.tfidf_student`: TF-IDF features, plausible_share 0.04). `consistency.threshold_sweep`: the
consistency gate's per-label rates on the pool texts and its flipped recall at higher plausible_share / min_confidence
(what meeting a 1% per-label bar would cost the gate). The test splits are never read.

    python benchmarks/gates_calibration.py   # -> reports/bench/gates_calibration.json
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from real_data import DATASETS, SOURCES, draw_split, init_params, read_rows  # noqa: E402

from synthkit.byod import derive_spec  # noqa: E402
from synthkit.calibration import finding_kind  # noqa: E402
from synthkit.config import Params  # noqa: E402
from synthkit.engine import LocalEngine  # noqa: E402
from synthkit.gates.base import Verdict  # noqa: E402
from synthkit.gates.consistency import consistency_encoder, gate_consistency  # noqa: E402
from synthkit.gates.pii import build_analyzer  # noqa: E402
from synthkit.io import write_json  # noqa: E402
from synthkit.schemas import content_id  # noqa: E402
from synthkit.spec import Spec  # noqa: E402
from synthkit.tasks.base import TaskContext  # noqa: E402
from synthkit.tasks.classification.filter import real_text_gates, seed_student  # noqa: E402

MAX_RATE = 0.01


def frame(rows: list[dict], split: str) -> pl.DataFrame:
    ids = [
        content_id("real", r["label"], r["text"], str(i)) for i, r in enumerate(rows)
    ]
    return pl.DataFrame(
        {
            "id": ids,
            "text": [r["text"] for r in rows],
            "line": [r["line"] for r in rows],
            "label": [r["label"] for r in rows],
            "split": [split] * len(rows),
            "scenario_id": ids,
        }
    )


def per_label(
    labels: list[str], lines: list[int], verdicts: list[Verdict | None]
) -> dict:
    """Rates per label, the labels over MAX_RATE with the dataset lines of their rejected texts, and the finding kinds."""
    n, bad, ex, kinds = Counter(), Counter(), {}, Counter()
    for lab, line, v in zip(labels, lines, verdicts):
        if v is None:
            continue
        n[lab] += 1
        if v.reason:
            bad[lab] += 1
            kinds[finding_kind(v)] += 1
            ex.setdefault(lab, []).append(line)
    rates = {lab: round(bad[lab] / n[lab], 4) for lab in sorted(n)}
    over = {
        lab: {
            "rate": rates[lab],
            "rejected": bad[lab],
            "texts": n[lab],
            "example_lines": ex[lab][:5],
        }
        for lab in sorted(n)
        if rates[lab] > MAX_RATE
    }
    return {
        "texts": sum(n.values()),
        "rejected": sum(bad.values()),
        "rate": round(sum(bad.values()) / max(sum(n.values()), 1), 5),
        "max_label_rate": max(rates.values(), default=0.0),
        "labels_over_1pct": len(over),
        "over": over,
        "kinds": dict(kinds),
        "per_label": rates,
    }


def run(name: str, params: Params, analyzer) -> dict:
    rows = read_rows(name)
    train = [r for r in rows if r["split"] == "train"]
    seeds_raw, pool_raw, _ = draw_split(train, 0, False)
    labels = sorted({r["label"] for r in train})
    spec = Spec.model_validate(derive_spec(labels, name=name, source=name))
    seeds, pool = frame(seeds_raw, "seed"), frame(pool_raw, "unlabeled")
    real = pl.concat([seeds, pool])
    out: dict = {"file": SOURCES[name]["file"], "texts": real.height, "labels": len(labels), "seeds": seeds.height}
    variants = {
        "": params,
        "toxicity_bare_model": Params.model_validate(
            {
                **params.model_dump(by_alias=True),
                "filter": {
                    **params.filter.model_dump(),
                    "toxicity": {**params.filter.toxicity.model_dump(), "min_words": 0},
                },
            }
        ),
        "critic_quantiles_0.05_0.95": Params.model_validate(
            {
                **params.model_dump(by_alias=True),
                "filter": {
                    **params.filter.model_dump(),
                    "critic": {
                        **params.filter.critic.model_dump(),
                        "length_quantiles": [0.05, 0.95],
                    },
                },
            }
        ),
    }
    lines, labs = real["line"].to_list(), real["label"].to_list()
    for variant, p in variants.items():
        gates = dict(
            real_text_gates(
                TaskContext(spec, p, progress=False), seeds, analyzer, LocalEngine()
            )
        )
        names = (
            ["pii", "toxicity", "critic"] if not variant else [variant.split("_")[0]]
        )
        for gate in names:
            t0 = time.perf_counter()
            out[f"{gate}{'.' + variant if variant else ''}"] = {
                **per_label(labs, lines, gates[gate](real)),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        if not variant:  # consistency against the true label: seeds out of fold, every other train text by the seed student
            oof = gates["consistency"](real)
            cons = p.filter.consistency
            student = seed_student(seeds, cons.C, cons.student, consistency_encoder(cons))
            pool_texts, pool_labs, pool_lines = pool["text"].to_list(), pool["label"].to_list(), pool["line"].to_list()
            # the gate's power: every pool text given a random other label (a known mislabel) should be rejected
            rng = random.Random(0)
            flipped = [rng.choice([x for x in labels if x != lab]) for lab in pool_labs]

            def recall(model, q) -> float:
                return round(sum(v.reason is not None for v in gate_consistency(pool_texts, flipped, model, q)) / pool.height, 4)

            def judged(q, model, seed_verdicts=None) -> tuple[dict, list[Verdict]]:
                """Rates over the seeds (out of fold, with q) and the pool texts (model with q), and the pool verdicts."""
                if seed_verdicts is None:
                    ctx = TaskContext(spec, p.model_copy(update={"filter": p.filter.model_copy(update={"consistency": q})}), progress=False)
                    seed_verdicts = dict(real_text_gates(ctx, seeds, analyzer, LocalEngine()))["consistency"](real)
                on_pool = gate_consistency(pool_texts, pool_labs, model, q)
                return per_label(labs, lines, seed_verdicts[: seeds.height] + on_pool), on_pool

            out["consistency"], on_pool = judged(cons, student, oof)
            out["consistency.flipped_recall"] = recall(student, cons)
            # baseline in the same run: the previous rule (any confident disagreement rejects: plausible_share 0)
            previous = cons.model_copy(update={"plausible_share": 0.0})
            out["consistency.plausible_share_0"] = judged(previous, student)[0]
            out["consistency.plausible_share_0.flipped_recall"] = recall(student, previous)
            # baseline in the same run: the previous default student (TF-IDF features, plausible_share 0.04)
            tfidf = cons.model_copy(update={"student": "tfidf_logreg", "plausible_share": 0.04})
            tfidf_student = seed_student(seeds, tfidf.C, tfidf.student)
            out["consistency.tfidf_student"] = judged(tfidf, tfidf_student)[0]
            out["consistency.tfidf_student.flipped_recall"] = recall(tfidf_student, tfidf)
            # what the 1% bar would cost: the gate's two thresholds raised, on the pool texts (train minus the seeds),
            # beside its power on the same texts given a random other label
            out["consistency.threshold_sweep"] = []
            for share in (0.04, 0.08, 0.12):
                for conf in (0.5, 0.6, 0.7):
                    q = p.filter.consistency.model_copy(update={"plausible_share": share, "min_confidence": conf})
                    g = per_label(pool_labs, pool_lines, gate_consistency(pool_texts, pool_labs, student, q))
                    out["consistency.threshold_sweep"].append({
                        "plausible_share": share, "min_confidence": conf, "rejected": g["rejected"], "texts": g["texts"],
                        "labels_over_1pct": g["labels_over_1pct"], "max_label_rate": g["max_label_rate"],
                        "flipped_recall": recall(student, q),
                    })
            # calibrated as the filter stage does with action exempt: the (label, predicted label) disagreements seen out
            # of fold in a label's seeds no longer reject that label's texts
            seen = {
                (lab, finding_kind(v))
                for lab, v in zip(seeds["label"].to_list(), oof[: seeds.height])
                if v is not None and v.reason
            }
            exempt = [
                v
                if v.reason is None or (lab, finding_kind(v)) not in seen
                else Verdict()
                for lab, v in zip(pool_labs, on_pool)
            ]
            out["consistency.exempt"] = per_label(
                labs, lines, [None] * seeds.height + exempt
            )
    for gate in (
        "pii",
        "toxicity",
        "critic",
        "consistency",
        "consistency.exempt",
        "consistency.plausible_share_0",
        "consistency.tfidf_student",
        "toxicity.toxicity_bare_model",
    ):
        g = out[gate]
        print(
            f"{name} {gate}: {g['rejected']}/{g['texts']} rejected, max label rate {g['max_label_rate']:.3f}, labels over 1%: {g['labels_over_1pct']}",
            flush=True,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="*", default=list(SOURCES))
    ap.add_argument(
        "--out", default=str(ROOT / "reports" / "bench" / "gates_calibration.json")
    )
    args = ap.parse_args()
    names = [n for n in args.datasets if (DATASETS / SOURCES[n]["file"]).exists()]
    if not names:
        print(f"skipped: no dataset under {DATASETS}")
        return
    params = init_params()
    analyzer = build_analyzer(params.filter.pii.spacy_model)
    result = {
        "max_label_rate": MAX_RATE,
        "split": "train (every text real and labelled: each rejection is a false positive)",
        "params": "synthkit init",
    }
    for name in names:
        result[name] = run(name, params, analyzer)
        for key in ("consistency.flipped_recall", "consistency.plausible_share_0.flipped_recall", "consistency.tfidf_student.flipped_recall"):
            print(f"{name} {key}: {result[name][key]}", flush=True)
    write_json(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

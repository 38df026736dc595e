"""Quality of the PII and toxicity gates on public human-written test sets (read in place, never copied).

PII: span precision/recall per entity type on the TAB court-judgment test split (a prediction matches a gold
span of the same type when they overlap). Toxicity: precision/recall/F1 on Davidson et al. 2017 (positive =
hate_speech or offensive_language) at the default threshold. False-positive rate of both: share of CLINC150 and
Banking77 test texts flagged. Sources and licenses: ../shared/datasets/README.md (TAB: MIT, Norsk Regnesentral;
Davidson: MIT; CLINC150: CC BY 3.0; Banking77: CC BY 4.0). Defaults are never tuned on these sets.

Usage: python benchmarks/gates.py [--datasets ../shared/datasets] [--max-texts 25000]; writes reports/bench/gates.json.
Exits 0 with {"skipped": ...} when the datasets folder is absent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from synthkit.config import PiiParams, ToxicityParams
from synthkit.gates.pii import build_analyzer, scan_pii
from synthkit.gates.toxicity import gate_toxicity
from synthkit.io import write_json

# The gate's entities for this benchmark: thresholds as in params.yaml (phone 0.4), 0.5 elsewhere.
CODE_ENTITIES = (
    "CREDIT_CARD", "IBAN_CODE", "US_SSN", "US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "UK_NHS",
    "PHONE_NUMBER", "EMAIL_ADDRESS", "IP_ADDRESS", "URL",
)  # fmt: skip
BENCH_PII = PiiParams(
    prescreen=True,
    entities={
        "PERSON": {"threshold": 0.5},
        "LOCATION": {"threshold": 0.5},
        "DATE_TIME": {"threshold": 0.5},
        **{e: {"threshold": 0.4 if e == "PHONE_NUMBER" else 0.5} for e in CODE_ENTITIES},
    },
)
# Presidio entity -> TAB type; TAB types without a Presidio counterpart are reported as not covered.
TO_TAB = {"PERSON": "PERSON", "LOCATION": "LOC", "DATE_TIME": "DATETIME", **{e: "CODE" for e in CODE_ENTITIES}}
REPORT_NAME = {"PERSON": "PERSON", "LOC": "LOCATION", "DATETIME": "DATE_TIME", "CODE": "CODE"}
NOT_COVERED = ("ORG", "DEM", "MISC", "QUANTITY")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def sample(rows: list, n: int, seed: int = 13) -> list:
    """All rows when there are at most n, else a deterministic random sample of n (original order kept)."""
    if len(rows) <= n:
        return rows
    keep = sorted(random.Random(seed).sample(range(len(rows)), n))
    return [rows[i] for i in keep]


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def pii_tab(docs: list[dict], analyzer) -> dict:
    """Span precision/recall per TAB type, overlap match, over all documents."""
    counts = {t: {"pred": 0, "pred_matched": 0, "gold": 0, "gold_matched": 0, "other": 0} for t in REPORT_NAME}
    findings = scan_pii([d["text"] for d in docs], BENCH_PII, analyzer)
    for doc, found in zip(docs, findings):
        gold: dict[str, list[tuple[int, int]]] = {}
        for s in doc["spans"]:
            gold.setdefault(s["label"], []).append((s["start"], s["end"]))
        pred: dict[str, list[tuple[int, int]]] = {}
        for f in found:
            pred.setdefault(TO_TAB[f.entity], []).append((f.start, f.end))
        for t, c in counts.items():
            g, p = gold.get(t, []), pred.get(t, [])
            c["gold"] += len(g)
            c["pred"] += len(p)
            c["gold_matched"] += sum(any(overlaps(x, y) for y in p) for x in g)
            c["pred_matched"] += sum(any(overlaps(x, y) for y in g) for x in p)
            others = [y for k, v in gold.items() if k != t for y in v]
            c["other"] += sum(not any(overlaps(x, y) for y in g) and any(overlaps(x, y) for y in others) for x in p)
    out = {}
    for t, c in counts.items():
        out[REPORT_NAME[t]] = {
            "precision": round(c["pred_matched"] / c["pred"], 4) if c["pred"] else None,
            "recall": round(c["gold_matched"] / c["gold"], 4) if c["gold"] else None,
            "predicted_spans": c["pred"],
            "gold_spans": c["gold"],
            # unmatched predictions that sit inside a gold span of another type ("Ankara" in "Ankara State Security Court", ORG)
            "unmatched_inside_other_type": c["other"],
        }
    out["CODE"]["presidio_entities"] = list(CODE_ENTITIES)
    for t in NOT_COVERED:
        n = sum(1 for d in docs for s in d["spans"] if s["label"] == t)
        out[t] = {"precision": None, "recall": None, "covered": False, "gold_spans": n}
    return out


def toxicity_davidson(rows: list[dict], params: ToxicityParams) -> dict:
    verdicts = gate_toxicity([r["text"] for r in rows], params)
    tp = fp = fn = tn = 0
    for r, v in zip(rows, verdicts):
        positive = r["label"] in ("hate_speech", "offensive_language")
        flagged = v.reason is not None
        tp += positive and flagged
        fp += (not positive) and flagged
        fn += positive and not flagged
        tn += not positive and not flagged
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "davidson_neither_flagged_rate": round(fp / (fp + tn), 4) if fp + tn else None,
        "n": len(rows),
        "threshold": params.threshold,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parent.parent
    ap.add_argument("--datasets", default=str(here.parent / "shared" / "datasets"))
    ap.add_argument("--max-texts", type=int, default=25000, help="deterministic sample cap per dataset")
    ap.add_argument("--out", default=str(here / "reports" / "bench" / "gates.json"))
    args = ap.parse_args()
    root = Path(args.datasets)
    needed = {
        "tab": root / "pii" / "tab_echr_test.jsonl",
        "davidson": root / "davidson_hate_offensive" / "davidson_hate_offensive.jsonl",
        "clinc150": root / "clinc150" / "clinc150.jsonl",
        "banking77": root / "banking77" / "banking77.jsonl",
    }
    missing = [str(p) for p in needed.values() if not p.is_file()]
    if missing:
        result = {"skipped": f"datasets not found: {', '.join(missing)}"}
        print(json.dumps(result))
        write_json(result, args.out)
        return 0

    t0 = time.perf_counter()
    analyzer = build_analyzer(None)
    tox = ToxicityParams()  # the default threshold, 0.8

    docs = sample([r for r in read_jsonl(needed["tab"]) if r["split"] == "test"], args.max_texts)
    t = time.perf_counter()
    pii = pii_tab(docs, analyzer)
    pii_seconds = time.perf_counter() - t

    davidson = sample(read_jsonl(needed["davidson"]), args.max_texts)
    toxicity = toxicity_davidson(davidson, tox)

    clean = []
    sizes = {}
    for name in ("clinc150", "banking77"):
        texts = sample([r["text"] for r in read_jsonl(needed[name]) if r["split"] == "test"], args.max_texts)
        sizes[name] = len(texts)
        clean += [(name, x) for x in texts]
    texts = [x for _, x in clean]
    found = scan_pii(texts, BENCH_PII, analyzer)
    flagged_tox = [v.reason is not None for v in gate_toxicity(texts, tox)]
    by_entity: dict[str, int] = {}
    for fs in found:
        for e in sorted({f.entity for f in fs}):
            by_entity[e] = by_entity.get(e, 0) + 1
    per_set = {}
    for name in sizes:
        rows = [i for i, (n, _) in enumerate(clean) if n == name]
        per_set[name] = {
            "pii": round(sum(bool(found[i]) for i in rows) / len(rows), 4),
            "toxicity": round(sum(flagged_tox[i] for i in rows) / len(rows), 4),
        }
    pii["false_positive_rate"] = round(sum(bool(f) for f in found) / len(texts), 4)
    pii["false_positive_texts_by_entity"] = dict(sorted(by_entity.items()))
    toxicity["false_positive_rate"] = round(sum(flagged_tox) / len(texts), 4)

    result = {
        "pii": pii,
        "toxicity": toxicity,
        "false_positive_rate_by_dataset": per_set,
        "pii_entities": {k: v.threshold for k, v in sorted(BENCH_PII.entities.items())},
        "pii_spacy_model": None,
        "sizes": {"tab_documents": len(docs), "davidson_texts": len(davidson), **{f"{k}_test_texts": v for k, v in sizes.items()}},
        "pii_tab_seconds": round(pii_seconds, 2),
        "wall_seconds": round(time.perf_counter() - t0, 2),
        "sources": "TAB (MIT), Davidson et al. 2017 (MIT), CLINC150 (CC BY 3.0), Banking77 (CC BY 4.0); see datasets README",
    }
    write_json(result, args.out)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

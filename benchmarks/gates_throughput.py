"""Throughput of the filter and dedupe gates on bundled-example candidates, each against a naive baseline in the same run.

Usage: python benchmarks/gates_throughput.py [--n 5000] [--repeats 3]; writes reports/bench/gates_throughput.json.
"""

from __future__ import annotations

import argparse


from baselines import naive_near_pairs  # benchmarks/baselines.py
from timing import timed  # benchmarks/timing.py (benchmarks run as scripts)

from synthkit.config import GenerateParams, load_params
from synthkit.dedupe import near_pairs, normalize_text
from synthkit.gates.pii import build_analyzer, scan_pii
from synthkit.generators.template import generate_template
from synthkit.io import write_json
from synthkit.spec import load_spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="reports/bench/gates_throughput.json")
    args = ap.parse_args()
    params = load_params("params.yaml")
    spec = load_spec("spec/spec.yaml")
    per = max(1, args.n // len(spec.scenarios) + 1)
    texts = generate_template(spec, GenerateParams(per_scenario=per), params.seed)["text"].to_list()[: args.n]
    n = len(texts)
    analyzer = build_analyzer(None)
    pii_on = params.filter.pii.model_copy(update={"prescreen": True})
    pii_off = params.filter.pii.model_copy(update={"prescreen": False})
    t_on, f_on = timed(lambda: scan_pii(texts, pii_on, analyzer), args.repeats)
    t_off, f_off = timed(lambda: scan_pii(texts, pii_off, analyzer), args.repeats)
    t_exact, _ = timed(lambda: len({normalize_text(t) for t in texts}), args.repeats)
    t_near, pairs = timed(lambda: {(i, j) for i, j, _ in near_pairs(texts, params.dedupe)}, args.repeats)
    t_naive, naive = timed(lambda: naive_near_pairs(texts, params.dedupe), args.repeats)
    covered = len(pairs & naive) / max(1, len(naive))
    result = {
        "n": n,
        "repeats": args.repeats,
        "pii_prescreen_texts_per_s": round(n / t_on, 1),
        "pii_full_texts_per_s": round(n / t_off, 1),
        "pii_speedup_vs_full": round(t_off / t_on, 3),
        "pii_identical_findings": f_on == f_off,
        "exact_normalize_texts_per_s": round(n / t_exact, 1),
        "near_dup_texts_per_s": round(n / t_near, 1),
        "near_dup_naive_texts_per_s": round(n / t_naive, 1),
        "near_dup_speedup_vs_naive": round(t_naive / t_near, 3),
        "near_dup_pairs": len(pairs),
        "near_dup_pairs_naive": len(naive),
        "naive_pairs_also_found": round(covered, 4),  # both sides verify true Jaccard, so neither has false pairs
    }
    write_json(result, args.out)
    print(result)


if __name__ == "__main__":
    main()

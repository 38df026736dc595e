"""PII gate throughput of this checkout against a git ref's PII gate (default: main), same texts, same run.

The texts are the scale benchmark's candidates (benchmarks/corpus.py, seed 13). Each side runs scan_pii with its
own params.yaml's filter.pii (what a user of that version gets), and, for like-for-like checks, each side also
runs with the other's entities. Runs alternate between the sides; medians of the repeats, as texts per
wall second and per CPU second (this process and its finished worker processes: steadier on a shared machine), and
per CPU second of each side's fastest run.

Usage: python benchmarks/pii_throughput.py [--n 100000] [--repeats 3] [--workers 1] [--ref main];
writes reports/bench/pii_throughput.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate_candidates  # noqa: E402  (benchmarks run as scripts)

from synthkit.config import PiiParams, load_params  # noqa: E402
from synthkit.gates import pii  # noqa: E402
from synthkit.io import write_json  # noqa: E402


def git_show(ref: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{ref}:{path}"], check=True, capture_output=True, text=True).stdout


def load_baseline(ref: str, folder: Path):
    """The ref's src/synthkit/gates/pii.py as an importable module (spawned workers import it by name)."""
    (folder / "pii_baseline.py").write_text(git_show(ref, "src/synthkit/gates/pii.py"), encoding="utf-8")
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location("pii_baseline", folder / "pii_baseline.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pii_baseline"] = module
    spec.loader.exec_module(module)
    return module


def cpu_seconds() -> float:
    """CPU seconds of this process and of its worker processes that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1, help="filter.pii.workers for both sides (1: in-process)")
    ap.add_argument("--ref", default="main", help="git ref whose PII gate and params.yaml are the baseline")
    ap.add_argument("--out", default="reports/bench/pii_throughput.json")
    args = ap.parse_args()

    ours = load_params("params.yaml").filter.pii.model_copy(update={"workers": args.workers})
    ref_pii = yaml.safe_load(git_show(args.ref, "params.yaml"))["filter"]["pii"]
    theirs = PiiParams(**{**ref_pii, "workers": args.workers})
    theirs_our_entities = ours.model_copy()
    ours_their_entities = ours.model_copy(update={"entities": theirs.entities})
    texts = generate_candidates(args.n, 13)[0]["text"].to_list()

    with tempfile.TemporaryDirectory() as tmp:
        base = load_baseline(args.ref, Path(tmp))
        sides = {
            "after": (pii.scan_pii, ours, pii.build_analyzer(ours.spacy_model)),
            "before": (base.scan_pii, theirs, base.build_analyzer(theirs.spacy_model)),
            "before_with_after_entities": (base.scan_pii, theirs_our_entities, base.build_analyzer(ours.spacy_model)),
            "after_with_before_entities": (pii.scan_pii, ours_their_entities, pii.build_analyzer(ours.spacy_model)),
        }
        for scan, params, analyzer in sides.values():  # warm-up: name lists, recognizers, worker imports
            scan(texts[:3000], params, analyzer)
        times: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        found: dict[str, list] = {}
        for _ in range(args.repeats):
            for name, (scan, params, analyzer) in sides.items():
                gc.collect()
                c0, t0 = cpu_seconds(), time.perf_counter()
                found[name] = scan(texts, params, analyzer)  # a worker pool ends within the call
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(cpu_seconds() - c0)
                print(f"{name}: {len(texts) / times[name][-1]:,.0f} texts/s, {len(texts) / cpu[name][-1]:,.0f} per CPU s", file=sys.stderr)

    rate = {name: round(len(texts) / statistics.median(t), 1) for name, t in times.items()}
    cpu_rate = {name: round(len(texts) / statistics.median(t), 1) for name, t in cpu.items()}
    best_rate = {name: round(len(texts) / min(t), 1) for name, t in cpu.items()}
    result = {
        "what": "scan_pii on the scale benchmark's candidates: this checkout vs the ref's PII gate, alternating runs",
        "ref": args.ref,
        "texts": len(texts),
        "workers": args.workers,
        "repeats": args.repeats,
        "entities_after": sorted(ours.entities),
        "entities_before": sorted(theirs.entities),
        "texts_per_s": rate,
        "ratio_after_over_before": round(rate["after"] / rate["before"], 3),
        "ratio_same_entities": round(rate["after"] / rate["before_with_after_entities"], 3),
        "texts_per_cpu_s": cpu_rate,
        "cpu_ratio_after_over_before": round(cpu_rate["after"] / cpu_rate["before"], 3),
        "cpu_ratio_same_entities": round(cpu_rate["after"] / cpu_rate["before_with_after_entities"], 3),
        "cpu_ratio_before_entities": round(cpu_rate["after_with_before_entities"] / cpu_rate["before"], 3),
        # the least CPU time of each side's runs: the run least slowed by other work on a shared machine
        "texts_per_cpu_s_best_run": best_rate,
        "cpu_ratio_after_over_before_best_runs": round(best_rate["after"] / best_rate["before"], 3),
        "cpu_ratio_before_entities_best_runs": round(best_rate["after_with_before_entities"] / best_rate["before"], 3),
        "texts_with_findings": {name: sum(bool(f) for f in fs) for name, fs in found.items()},
        "seconds_each_run": {name: [round(s, 2) for s in t] for name, t in times.items()},
        "cpu_seconds_each_run": {name: [round(s, 2) for s in t] for name, t in cpu.items()},
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
    }
    write_json(result, args.out)
    print(result)


if __name__ == "__main__":
    main()

"""N synthetic candidates (default 1,000,000) through validate -> filter -> dedupe -> mix, in this process, with
the same library functions the stages use; naive baselines measured in the same run on subsamples.

Usage: python benchmarks/scale.py [--n 1000000] [--repeats 3]; needs data/prepared (dvc repro prepare);
writes reports/bench/scale.json.

Figures: the main run (validate -> filter -> dedupe -> mix over all N candidates; generation not counted) is
repeated `repeats` times: wall_s is the median, `stages` the per-stage seconds and texts/s of the median run,
wall_s_runs every run; peak_rss_mb is the peak of the summed RSS of this process and its worker processes during
the main runs (TreeRss, sampled every 0.1 s), before the Ray check (Ray's processes are not the pipeline's). Before the main runs,
medians of `repeats`: the near-duplicate stage vs datasketch MinHash updated shingle by shingle + MinHashLSH on a
subsample (pair agreement: the share of the baseline's verified pairs also found; both sides verify true
Jaccard, so extra pairs are true pairs the baseline's LSH missed) and the PII gate (prescreen + worker processes)
vs per-row Presidio on one core without prescreen (findings compared text by text); after them, engine ray vs
local on a small subsample.

Eval leakage: the corpus plants copies of the protected eval texts, half verbatim and half edited (one or two words,
casing or punctuation); `eval_leakage` gives the share of the edited copies that reach the dedupe stage and are
rejected as eval leaks (any dedupe_eval_* reason), and the share of the corpus's distinct texts (kind unique, all
labels of the bundled spec) flagged as eval leaks. The dedupe stage embeds every candidate into a fresh embedding
cache each main run (a first run). `embeddings` measures the encoder alone on all N texts through a cache, as the
dedupe stage does: cold (encode and write), warm (read back), and the peak RSS of that loop.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import polars as pl
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate_candidates  # noqa: E402  (benchmarks run as scripts)
from baselines import naive_near_pairs  # noqa: E402
from timing import timed  # noqa: E402

from synthkit.config import load_params  # noqa: E402
from synthkit.dedupe import dedupe, near_pairs, normalize_text  # noqa: E402
from synthkit.cost import CostLedger  # noqa: E402
from synthkit.dedupe import engine_keys  # noqa: E402
from synthkit.embeddings import Embedder  # noqa: E402
from synthkit.dedupe import EVAL_BATCH as BATCH  # noqa: E402
from synthkit.engine import LocalEngine  # noqa: E402
from synthkit.gates.pii import build_analyzer, resolve_workers, scan_pii  # noqa: E402
from synthkit.gates.rules import gate_format, gate_rules  # noqa: E402
from synthkit.io import read_parquet, write_json, write_parquet  # noqa: E402
from synthkit.mix import mix  # noqa: E402
from synthkit.pipeline import run_gates  # noqa: E402
from synthkit.spec import load_spec  # noqa: E402
from synthkit.tasks.base import TaskContext  # noqa: E402
from synthkit.tasks.registry import load_step  # noqa: E402


class GateTimes:
    """Seconds per filter gate (in gate order), each gate function timed as run_gates calls it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def wrap(self, gates: list) -> list:
        def timed(fn):
            def run(frame):
                t0 = time.perf_counter()
                out = fn(frame)
                self.seconds.append(time.perf_counter() - t0)
                return out

            return run

        return [(name, timed(fn)) for name, fn in gates]


def filter_step(spec, params, frame, seeds, analyzer, engine, times: GateTimes | None = None):
    """The filter stage's gates over a frame (no review decisions), optionally timed gate by gate."""
    gates = load_step(spec, params, "filter").filter_gates(TaskContext(spec, params, progress=False), seeds, {}, analyzer, engine, CostLedger())
    return run_gates(frame, times.wrap(gates) if times else gates)


def log(*parts) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


class TreeRss:
    """Samples the resident set of this process and of all its descendants (the PII workers) every `interval`
    seconds in a thread; keeps the peak of their sum and of this process alone.

    getrusage's ru_maxrss is no use here: a worker started while this process is large is counted with the
    pages it shared with it before exec. Pages shared between processes count once per process (an overestimate).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.tree, self.own = interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                own = me.memory_info().rss
                kids = sum(child.memory_info().rss for child in me.children(recursive=True))
            except psutil.Error:  # a worker ended between listing and reading
                continue
            self.own, self.tree = max(self.own, own), max(self.tree, own + kids)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def mb(self) -> tuple[float, float]:
        """(peak of this process + its descendants, peak of this process), in MB."""
        return round(self.tree / 2**20, 1), round(self.own / 2**20, 1)


def ray_identical(cands: pl.DataFrame, seeds: pl.DataFrame, eval_: pl.DataFrame, spec, params, analyzer, tmp: Path) -> bool | None:
    """Filter + dedupe with engine local and engine ray (local Ray, 2 CPUs): byte-identical Parquet outputs?"""
    try:
        import ray
    except ImportError:
        return None
    from synthkit.engine import RayEngine

    outputs = {}
    for engine in (LocalEngine(), RayEngine(params.ray.model_copy(update={"num_cpus": 2, "address": None}))):
        kept, rejects = filter_step(spec, params, cands, seeds, analyzer, engine)
        deduped, d_rejects, _ = dedupe(kept, seeds, eval_, params.dedupe, engine_keys(engine))
        for name, frame in (("filtered", kept), ("filter_rejects", rejects), ("deduped", deduped), ("dedupe_rejects", d_rejects)):
            write_parquet(frame, tmp / engine.name / f"{name}.parquet")
        outputs[engine.name] = {p.name: p.read_bytes() for p in sorted((tmp / engine.name).iterdir())}
    ray.shutdown()
    return outputs["ray"] == outputs["local"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--near-sample", type=int, default=20_000, help="texts for the near-duplicate comparison")
    ap.add_argument("--pii-sample", type=int, default=4_000, help="texts for the per-row Presidio baseline")
    ap.add_argument("--ray-sample", type=int, default=3_000, help="rows for the engine ray vs local check (0: skip it)")
    ap.add_argument("--prepared", default="data/prepared", help="the prepare stage's outputs (seeds, eval)")
    ap.add_argument("--out", default="reports/bench/scale.json")
    args = ap.parse_args()
    params = load_params("params.yaml")
    # the filter gates the scale target names: PII, toxicity, offline critic; the consistency gate (a TF-IDF
    # char n-gram student, about 1 ms per text on one core) is left out here and reported separately
    params.filter.consistency.enabled = False
    # mix.synthetic_ratio auto cross-validates a student over the seeds and a share of the synthetic rows: that
    # training is not the data path the scale target names, so the mix here takes the fallback ratio's amount
    if params.mix.synthetic_ratio == "auto":
        params.mix.synthetic_ratio = params.mix.auto.fallback_ratio
    spec = load_spec("spec/spec.yaml")
    seeds = read_parquet(f"{args.prepared}/seeds.parquet")
    eval_ = read_parquet(f"{args.prepared}/eval.parquet")

    t0 = time.perf_counter()
    eval_copies: list[tuple[int, int, bool]] = []
    kinds: list[str] = []
    cands, planted = generate_candidates(args.n, params.seed, eval_["text"].to_list(), eval_copies, kinds)
    t_gen = time.perf_counter() - t0
    tmp = Path("/tmp") / f"synthkit-scale-{os.getpid()}"
    analyzer = build_analyzer(params.filter.pii.spacy_model)

    # near-duplicate stage vs the shingle-by-shingle datasketch loop, same subsample, medians of repeats
    log("baselines")
    sample = cands["text"].head(args.near_sample).to_list()
    t_near, pairs = timed(lambda: {(i, j) for i, j, _ in near_pairs(sample, params.dedupe)}, args.repeats)
    t_naive, naive = timed(lambda: naive_near_pairs(sample, params.dedupe), args.repeats)
    agreement = len(pairs & naive) / max(1, len(naive))  # share of the baseline's pairs also found

    # PII gate (prescreen + worker processes) vs per-row Presidio on one core without prescreen
    pii_texts = cands["text"].to_list()
    ours = params.filter.pii
    naive_pii = ours.model_copy(update={"prescreen": False, "workers": 1})
    small = pii_texts[: args.pii_sample]
    t_pii_naive, f_naive = timed(lambda: scan_pii(small, naive_pii, analyzer), args.repeats)
    chunked = ours.model_copy(update={"chunk_size": max(1, min(ours.chunk_size, len(small) // 8))})
    f_ours = scan_pii(small, chunked, analyzer)  # the parallel path on the same texts
    pii_big = pii_texts[: max(args.pii_sample, min(len(pii_texts), 5 * args.pii_sample))]
    pii_identical = f_ours == f_naive
    t_pii_ours, _ = timed(lambda: scan_pii(pii_big, ours, analyzer), args.repeats)
    per_text_naive, per_text_ours = t_pii_naive / len(small), t_pii_ours / len(pii_big)

    baselines = {
        "near_dup_sample": len(sample),
        "near_dup_texts_per_s": round(len(sample) / t_near, 1),
        "near_dup_naive_texts_per_s": round(len(sample) / t_naive, 1),
        "near_dup_speedup_vs_naive": round(t_naive / t_near, 2),
        "near_dup_pairs": len(pairs),
        "near_dup_pairs_naive": len(naive),
        "near_dup_pair_agreement": round(agreement, 4),
        "near_dup_pairs_only_ours": len(pairs - naive),
        "near_dup_pairs_only_naive": len(naive - pairs),
        "pii_workers": resolve_workers(ours.workers),
        "pii_sample": len(small),
        "pii_texts_per_s": round(1 / per_text_ours, 1),
        "pii_naive_texts_per_s": round(1 / per_text_naive, 1),
        "pii_sample_speedup_vs_naive": round(per_text_naive / per_text_ours, 2),  # includes worker start-up
        "pii_identical_findings": pii_identical,
        "pii_texts_with_findings": sum(bool(f) for f in f_naive),
    }
    write_json({"n": args.n, "wall_s": None, "partial": "baselines only; the main run did not finish", **baselines}, args.out)
    # (pii_speedup_vs_naive is set after the main run: the PII gate's texts/s there against the baseline)
    log("baselines done", baselines)

    runs = []
    with TreeRss() as rss:
        for repeat in range(args.repeats):
            runs.append(main_run(cands, seeds, eval_, spec, params, analyzer, tmp / f"embeddings-{repeat}"))
            shutil.rmtree(tmp / f"embeddings-{repeat}", ignore_errors=True)
            log(f"main run {repeat + 1}/{args.repeats}", runs[-1]["wall"])
    tree_mb, own_mb = rss.mb()
    embedding = measure_embeddings(cands["text"].to_list(), tmp / "embeddings-throughput")
    log("embeddings", embedding)
    # engine ray vs local after the peak RSS is read: Ray's own processes are not part of the pipeline's memory
    tmp = Path("/tmp") / f"synthkit-scale-{os.getpid()}"
    baselines["ray_identical"] = ray_identical(cands.head(args.ray_sample), seeds, eval_, spec, params, analyzer, tmp) if args.ray_sample else None
    log("ray identical", baselines["ray_identical"])
    walls = sorted(run["wall"] for run in runs)
    run = next(r for r in runs if r["wall"] == walls[len(walls) // 2])
    stages, times, leakage, d_rej = run["stages"], run["times"], run["leakage"], run["d_rej"]
    leak_check = eval_leak_check(cands, eval_, eval_copies, kinds, run["reached_dedupe"], d_rej, leakage, seeds.height)
    pii_s, tox_s = times.seconds[:2]
    result = {
        "n": args.n,
        "mix_synthetic_ratio": params.mix.synthetic_ratio,
        "repeats": args.repeats,
        "cpus": len(os.sched_getaffinity(0)),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "planted": planted,
        "generate_s": round(t_gen, 2),
        "wall_s": round(walls[len(walls) // 2], 2),
        "wall_s_runs": [round(r["wall"], 2) for r in runs],
        "peak_rss_mb": tree_mb,
        "peak_rss_mb_main_process": own_mb,
        "stages": {
            name: {"wall_s": round(s, 2), "in": n_in, "kept": kept, "texts_per_s": round(n_in / s, 1)}
            for name, (s, n_in, kept) in stages.items()
        },
        "filter_gates_s": {"pii": round(pii_s, 2), "toxicity": round(tox_s, 2)},
        "leaked_eval_items": leakage["n_leaked_eval_items"],
        "dedupe_rejected_by_reason": {r: c for r, c in d_rej.group_by("reason").len().sort("reason").iter_rows()},
        "near_dup_full_run_texts_per_s": round(stages["dedupe"][1] / stages["dedupe"][0], 1),
        "eval_leakage": leak_check,
        "embeddings": embedding,
        "pii_full_run_texts_per_s": round(stages["filter"][1] / pii_s, 1),
        **baselines,
    }
    # per text: the PII gate of the main run (prescreen + workers, start-up amortized over n texts) against
    # the per-row baseline's median
    result["pii_speedup_vs_naive"] = round(result["pii_full_run_texts_per_s"] / baselines["pii_naive_texts_per_s"], 2)
    write_json(result, args.out)
    print(result)


def measure_embeddings(texts: list[str], cache_dir: Path) -> dict:
    """Encode all texts in the dedupe stage's batches through a fresh cache (cold), then read them back (warm)."""
    out = {"n": len(texts), "batch": BATCH}
    with TreeRss() as rss:
        for name in ("cold", "warm"):
            embedder = Embedder(cache_dir, memory=False)
            t0 = time.perf_counter()
            for lo in range(0, len(texts), BATCH):
                embedder.encode(texts[lo : lo + BATCH])
            seconds = time.perf_counter() - t0
            out[f"{name}_s"] = round(seconds, 2)
            out[f"{name}_texts_per_s"] = round(len(texts) / seconds, 1)
            out[f"{name}_encoded"] = embedder.misses
    out["peak_rss_mb"], out["peak_rss_mb_main_process"] = rss.mb()
    out["cache_mb"] = round(sum(p.stat().st_size for p in cache_dir.iterdir()) / 2**20, 1)
    shutil.rmtree(cache_dir, ignore_errors=True)
    return out


def eval_leak_check(cands, eval_, eval_copies, kinds, reached: set[str], d_rej, leakage: dict, n_seeds: int) -> dict:
    """Recall of the planted eval copies that reach dedupe and the share of distinct corpus texts flagged as eval leaks."""
    eval_texts = eval_["text"].to_list()
    texts = cands["text"].to_list()
    caught = dict(d_rej.filter(pl.col("reason").str.starts_with("dedupe_eval_")).select("id", "reason").iter_rows())
    groups = {
        "verbatim": [i for i, _, edited in eval_copies if not edited],
        "edited": [i for i, _, edited in eval_copies if edited],
        # the word edits: not the same text as their eval source after dedupe's normalization (casing, punctuation)
        "edited_words": [i for i, src, edited in eval_copies if edited and normalize_text(texts[i]) != normalize_text(eval_texts[src])],
    }
    out: dict = {}
    for name, rows in groups.items():
        ids = [f"c{i:08d}" for i in rows if f"c{i:08d}" in reached]
        hits = [caught[i] for i in ids if i in caught]
        out[name] = {"planted": len(rows), "reached_dedupe": len(ids), "caught": len(hits),
                     "recall": round(len(hits) / max(len(ids), 1), 4),
                     "by_reason": {r: hits.count(r) for r in sorted(set(hits))}}
    distinct = [f"c{i:08d}" for i, k in enumerate(kinds) if k == "unique" and f"c{i:08d}" in reached]
    flagged = [caught[i] for i in distinct if i in caught]
    out["distinct_texts"] = {"reached_dedupe": len(distinct), "flagged": len(flagged),
                             "flagged_share": round(len(flagged) / max(len(distinct), 1), 6),
                             "by_reason": {r: flagged.count(r) for r in sorted(set(flagged))}}
    real = {n["id"] for item in leakage["leaked_eval_items"] for n in item["neighbours"] if n["source"] == "real"}
    out["real_seeds"] = {"n": n_seeds, "with_an_eval_neighbour": len(real), "share": round(len(real) / max(n_seeds, 1), 4)}
    return out


def main_run(cands, seeds, eval_, spec, params, analyzer, embeddings_cache: Path) -> dict:
    """validate -> filter -> dedupe -> mix over all candidates, timed per stage; the funnel must add up."""
    stages, times = {}, GateTimes()
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    validated, v_rej = run_gates(
        cands,
        [
            ("format", gate_format),
            ("rule", lambda f: gate_rules(f, spec, params.validate_.min_chars, params.validate_.max_chars)),
        ],
    )
    stages["validate"] = (time.perf_counter() - t0, cands.height, validated.height)
    log("validate", stages["validate"])
    assert cands.height == validated.height + v_rej.height
    del v_rej  # each DVC stage is its own process: a stage's inputs and rejects are not held by the next
    t0 = time.perf_counter()
    filtered, f_rej = filter_step(spec, params, validated, seeds, analyzer, LocalEngine(), times)
    stages["filter"] = (time.perf_counter() - t0, validated.height, filtered.height)
    log("filter", stages["filter"], times.seconds)
    assert validated.height == filtered.height + f_rej.height
    del validated, f_rej
    t0 = time.perf_counter()
    deduped, d_rej, leakage = dedupe(filtered, seeds, eval_, params.dedupe, embedder=Embedder(embeddings_cache, memory=False))
    stages["dedupe"] = (time.perf_counter() - t0, filtered.height, deduped.height)
    log("dedupe", stages["dedupe"])
    assert filtered.height == deduped.height + d_rej.height
    reached = set(filtered["id"].to_list())
    del filtered
    t0 = time.perf_counter()
    train, m_rej = mix(seeds, deduped, params.mix, params.seed)
    stages["mix"] = (time.perf_counter() - t0, deduped.height, train.height)
    wall = time.perf_counter() - t_start
    return {"wall": wall, "stages": stages, "times": times, "leakage": leakage, "d_rej": d_rej, "reached_dedupe": reached}


if __name__ == "__main__":
    main()

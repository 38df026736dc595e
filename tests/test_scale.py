"""Scale paths against their references: vectorized near-duplicate pairs vs datasketch MinHashLSH, the PII
prescreen and worker processes vs the full analyzer, both on the benchmark corpus."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from benchmarks.corpus import generate_candidates
from synthkit.config import DedupeParams, load_params
from synthkit.dedupe import candidate_pairs, lsh_sketch, near_pairs, normalize_text, pair_jaccard, shingles, jaccard
from synthkit.gates.pii import build_analyzer, scan_pii


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    df, planted = generate_candidates(3000, seed=11)
    assert planted["near"] > 200 and planted["exact"] > 100
    return df["text"].to_list()


@pytest.fixture(scope="module")
def analyzer():
    return build_analyzer(None)


def datasketch_pairs(texts: list[str], params: DedupeParams) -> set[tuple[int, int]]:
    """Reference: datasketch MinHash per text, MinHashLSH at the threshold, candidates verified by true Jaccard."""
    sets = [shingles(t, params.shingle, params.ngram) for t in texts]
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    pairs = set()
    for i, s in enumerate(sets):
        m = MinHash(num_perm=params.num_perm, seed=1)
        m.update_batch([x.encode("utf-8") for x in s])
        pairs.update((j, i) for j in lsh.query(m) if jaccard(s, sets[j]) >= params.threshold)
        lsh.insert(i, m)
    return pairs


@pytest.mark.parametrize(("kind", "n"), [("char", 5), ("word", 3)])
def test_vectorized_pairs_agree_with_datasketch(corpus: list[str], kind: str, n: int) -> None:
    params = DedupeParams(shingle=kind, ngram=n)
    ours = near_pairs(corpus, params)
    found = {(i, j) for i, j, _ in ours}
    reference = datasketch_pairs(corpus, params)
    assert len(reference) > 300  # the corpus really holds near duplicates
    # both sides verify true Jaccard, so they differ only in what their LSH misses: ours must find at least
    # 95% of the reference's pairs, and every pair it finds beyond them is a true pair (checked below)
    assert len(found & reference) / len(reference) >= 0.95
    assert len(found) >= len(reference) * 0.98
    sets = {i: shingles(corpus[i], kind, n) for pair in found for i in pair}
    assert all(j == jaccard(sets[a], sets[b]) >= params.threshold for a, b, j in ours)  # verified, exact values
    assert ours == near_pairs(list(corpus), params)  # deterministic


def test_signatures_do_not_depend_on_batching(corpus: list[str]) -> None:
    params = DedupeParams()
    norms = [normalize_text(t) for t in corpus[:500]]
    whole = lsh_sketch(norms, params)
    batched = lsh_sketch(norms, params, batch_size=37)
    assert all(np.array_equal(a, b) for a, b in zip(whole, batched))
    i, j = candidate_pairs(whole[0], whole[1], 0.55)
    assert np.all(i < j) and np.all(np.diff(i * len(norms) + j) > 0)  # unique, sorted
    assert np.array_equal(pair_jaccard(norms, i, j, params), [jaccard(shingles(norms[a], "char", 5), shingles(norms[b], "char", 5)) for a, b in zip(i, j)])


def test_pii_prescreen_loses_no_finding_on_benchmark_corpus(corpus: list[str], analyzer) -> None:
    pii = load_params("params.yaml").filter.pii
    full = scan_pii(corpus, pii.model_copy(update={"prescreen": False, "workers": 1}), analyzer)
    screened = scan_pii(corpus, pii.model_copy(update={"prescreen": True, "workers": 1}), analyzer)
    assert sum(bool(f) for f in full) > 50  # the corpus holds findings of several entities
    assert len({f.entity for fs in full for f in fs}) >= 4
    assert screened == full


def test_pii_worker_processes_match_in_process(corpus: list[str], analyzer) -> None:
    pii = load_params("params.yaml").filter.pii.model_copy(update={"workers": 1})
    texts = corpus[:1200]
    serial = scan_pii(texts, pii, analyzer)
    parallel = scan_pii(texts, pii.model_copy(update={"workers": 2, "chunk_size": 100}), analyzer)
    assert sum(bool(f) for f in serial) > 20
    assert parallel == serial


def test_benchmark_script_writes_every_figure(tmp_path) -> None:
    """benchmarks/scale.py end to end on a small N: the figures the README quotes are all there and add up."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    prep = load_params(root / "params.yaml").prepare
    prepare = [sys.executable, "stages/prepare.py", "--spec", "spec/spec.yaml", "--seeds", prep.seeds, "--eval", prep.eval, "--production", prep.production, "--unlabeled", prep.unlabeled,
               "--out-dir", str(tmp_path / "prepared"), "--counts", str(tmp_path / "counts.json")]  # fmt: skip
    done = subprocess.run(prepare, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "scale.json"
    args = ["--n", "3000", "--repeats", "2", "--near-sample", "400", "--pii-sample", "300", "--ray-sample", "0",
            "--prepared", str(tmp_path / "prepared"), "--out", str(out)]  # fmt: skip
    done = subprocess.run([sys.executable, "benchmarks/scale.py", *args], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    for key in ("n", "wall_s", "peak_rss_mb", "near_dup_speedup_vs_naive", "near_dup_pair_agreement", "pii_speedup_vs_naive",
                "pii_identical_findings", "ray_identical"):  # fmt: skip
        assert key in result, key
    assert result["n"] == 3000 and len(result["wall_s_runs"]) == 2 and result["wall_s"] in result["wall_s_runs"]
    assert result["near_dup_pair_agreement"] >= 0.95 and result["pii_identical_findings"] is True
    assert result["peak_rss_mb"] >= result["peak_rss_mb_main_process"] > 0
    stages = result["stages"]
    assert stages["validate"]["in"] == 3000 and stages["filter"]["in"] == stages["validate"]["kept"]
    assert stages["dedupe"]["in"] == stages["filter"]["kept"] and stages["mix"]["in"] == stages["dedupe"]["kept"]
    assert result["ray_identical"] is None  # skipped here: tests/test_engine_ray.py checks engine ray, one Ray start per suite

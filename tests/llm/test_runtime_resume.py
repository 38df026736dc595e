"""kill -9 of a run in its own process, then a rerun: no request whose answer was cached is paid again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from synthkit.config import LlmParams
from synthkit.llm import cache_key, request_body, run_requests
from tests.llm.test_runtime import KEY_ENV, key, reqs  # noqa: F401  (key: the autouse API-key fixture)
from tests.openai_server import FakeOpenAI, body_key

ROOT = Path(__file__).resolve().parents[2]
N = 400
CHILD = """
import sys
from synthkit.llm import run_requests
from tests.llm.test_runtime_resume import child_params, reqs
run_requests(reqs(int(sys.argv[3])), child_params(sys.argv[1]), sys.argv[2], progress=False)
"""


def child_params(url: str) -> LlmParams:
    return LlmParams(base_url=url, api_key_env=KEY_ENV, max_concurrency=8, timeout_s=5.0, retry_base_s=0.01)


def test_kill9_then_rerun_repays_nothing_cached(tmp_path):
    cache = tmp_path / "cache"
    with FakeOpenAI(latency_s=0.05, record=False) as srv:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
        proc = subprocess.Popen([sys.executable, "-c", CHILD, srv.base_url, str(cache), str(N)], cwd=ROOT, env=env)
        deadline = time.monotonic() + 120
        while srv.stats()["completed_total"] < N // 4:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.3)  # what was in flight at the kill reaches the server
        at_kill = dict(srv.stats()["completed"])
        assert len(at_kill) < N  # killed mid-run
        p = child_params(srv.base_url)
        stored = {f.stem for f in cache.glob("??/*.json")}
        cached = {body_key(request_body(q, p)) for q in reqs(N) if cache_key(q, p) in stored}
        results, stats = run_requests(reqs(N), p, cache, progress=False)
        after = srv.stats()["completed"]
    again = {k: after.get(k, 0) - at_kill.get(k, 0) for k in after}
    repaid = [k for k in cached if again[k] > 0]
    in_flight = [k for k in at_kill if k not in cached and again[k] > 0]  # answered as the process died, never cached
    assert len(cached) >= N // 4 - 3 * p.max_concurrency  # answers in flight or still being written at the kill
    assert repaid == []
    assert len(in_flight) <= 2 * p.max_concurrency  # on the wire, or answered and still queued for the cache write
    assert sum(1 for c in after.values() if c > 1) == len(in_flight)
    assert all(r.ok for r in results) and stats.cache_hits == len(cached) and stats.requests_sent == N - len(cached)
    assert not list(cache.glob("??/.*.tmp"))


def test_server_in_its_own_process_counts_and_reports(tmp_path):
    import json
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "tests.openai_server", "--port", "0", "--latency-ms", "10",
                             "--fault-malformed", "1.0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        results, stats = run_requests(reqs(3), child_params(url), tmp_path, progress=False)
        with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as r:
            served = json.loads(r.read())
    finally:
        proc.terminate()
        proc.wait(10)
    assert all(r.error == "malformed_json" for r in results) and stats.malformed == 3
    assert served["completed_total"] == 3 and served["fault_counts"] == {"malformed": 3}
    assert served["keys_completed_twice"] == 0 and served["chat_requests"] == 3

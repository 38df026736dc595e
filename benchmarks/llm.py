"""LLM runtime against a local OpenAI-compatible server in its own process: throughput, faults, kill -9 and resume.

- throughput: 2,000 structured-output requests at 100 ms server latency with max_concurrency 32, median of 3,
  as a share of the bound 32 / 0.1 s = 320 requests/s;
- faults: 10% 429 (short Retry-After), 5% 500, 2% timeouts, 5% malformed JSON: every request must end ok or with an
  error reason (lost_rows = 0) and the server must never complete the same request twice;
- kill -9 of a run in its own process, then a resume: completed requests whose answer was already cached and that
  the server answered again (repaid_requests_after_kill; requests in flight at the kill are counted apart);
- warm rerun: requests the server sees (warm_rerun_requests).
The throughput run alternates with two baselines against the same server: the same requests through bare aiohttp
(what the machine and the server allow at that moment) and through the openai client alone (no cache, no limits);
the cost of one cache write (write, fsync, rename) is measured apart.

Run: .venv/bin/python benchmarks/llm.py [--n 2000] -> reports/bench/llm.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import openai  # noqa: E402,F401  (imported before timing: its import takes seconds)
from synthkit.config import LlmParams  # noqa: E402
from synthkit.io import write_json  # noqa: E402
from synthkit.llm import LLMRequest, cache_key, request_body, run_requests  # noqa: E402
from tests.openai_server import body_key  # noqa: E402

KEY_ENV = "SYNTHKIT_BENCH_KEY"
LATENCY_S = 0.1
CONCURRENCY = 32
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": ["billing", "refund", "other"]}},
    "required": ["text", "label"],
}


def make_requests(n: int, tag: str) -> list[LLMRequest]:
    return [LLMRequest(custom_id=f"{tag}-{i}", schema=SCHEMA, seed=i, messages=[
        {"role": "system", "content": "Write one realistic customer message and its label."},
        {"role": "user", "content": f"Scenario {tag}/{i}: a customer writes about an order."}]) for i in range(n)]


def params(url: str, **kw) -> LlmParams:
    return LlmParams(base_url=url, api_key_env=KEY_ENV, max_concurrency=CONCURRENCY, timeout_s=10, **kw)


class Server:
    """tests/openai_server.py in its own process."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.openai_server", "--port", "0", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the fake server did not start")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/stats", timeout=30) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def child(url: str, cache: str, n: int, tag: str) -> None:
    """The run that gets killed: the same requests and params as the resume."""
    run_requests(make_requests(n, tag), params(url), cache, progress=False)


async def _bare_client(url: str, bodies: list[dict], concurrency: int = CONCURRENCY) -> None:
    """Baseline: the same requests through bare aiohttp with the same concurrency; no openai client, no cache."""
    import asyncio

    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {os.environ[KEY_ENV]}"}
    async with aiohttp.ClientSession() as session:
        async def one(body):
            async with sem, session.post(f"{url}/chat/completions", json=body, headers=headers) as r:
                r.raise_for_status()
                return await r.json()

        await asyncio.gather(*(one(b) for b in bodies))


async def _bare_openai(url: str, bodies: list[dict]) -> None:
    """Baseline: the same requests through the openai client alone (same transport as the runtime), no cache."""
    import asyncio

    from synthkit.llm import make_async_client

    client = make_async_client(LlmParams(base_url=url, api_key_env=KEY_ENV, timeout_s=10))
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(body):
        async with sem:
            return await client.post("/chat/completions", body=body, cast_to=object)

    try:
        await asyncio.gather(*(one(b) for b in bodies))
    finally:
        await client.close()


def cache_write_cost(n: int = 300) -> dict:
    """CPU and wall time of one cache write (write, fsync, rename) on this disk."""
    from synthkit.llm.cache import write_entry

    entry = {"content": json.dumps({"text": "x" * 120, "label": "billing"}), "refusal": None, "finish_reason": "stop",
             "model": "m", "input_tokens": 40, "output_tokens": 30, "batch": False}
    with tempfile.TemporaryDirectory() as cache:
        c0, t0 = time.process_time(), time.perf_counter()
        for i in range(n):
            write_entry(cache, f"{i:064x}", entry)
        return {"cpu_ms": round((time.process_time() - c0) / n * 1000, 3),
                "wall_ms": round((time.perf_counter() - t0) / n * 1000, 3)}


def throughput(n: int, repeats: int) -> dict:
    """Runtime vs a bare-aiohttp baseline against the same server, alternating, median of `repeats` each."""
    import asyncio

    srv = Server("--latency-ms", str(LATENCY_S * 1000))
    try:
        walls, bare, bare_oa = [], [], []
        for rep in range(repeats):
            p = params(srv.url)
            bodies = [request_body(q, p) for q in make_requests(n, f"bare{rep}")]
            t0 = time.perf_counter()
            asyncio.run(_bare_client(srv.url, bodies))
            bare.append(time.perf_counter() - t0)
            bodies = [request_body(q, p) for q in make_requests(n, f"oa{rep}")]
            t0 = time.perf_counter()
            asyncio.run(_bare_openai(srv.url, bodies))
            bare_oa.append(time.perf_counter() - t0)
            with tempfile.TemporaryDirectory() as cache:
                reqs = make_requests(n, f"tp{rep}")
                t0 = time.perf_counter()
                results, stats = run_requests(reqs, p, cache, progress=False)
                walls.append(time.perf_counter() - t0)
                assert all(r.ok for r in results) and stats.requests_sent == n, stats
        wall, bare_wall = statistics.median(walls), statistics.median(bare)
        bound = CONCURRENCY / LATENCY_S
        return {"n": n, "walls_s": [round(w, 3) for w in walls], "median_wall_s": round(wall, 3),
                "requests_per_s": round(n / wall, 1), "bound_requests_per_s": bound,
                "throughput_ratio_to_bound": round(n / wall / bound, 3),
                "baseline_bare_aiohttp_walls_s": [round(w, 3) for w in bare],
                "baseline_bare_aiohttp_ratio_to_bound": round(n / bare_wall / bound, 3),
                "baseline_openai_client_walls_s": [round(w, 3) for w in bare_oa],
                "baseline_openai_client_ratio_to_bound": round(n / statistics.median(bare_oa) / bound, 3),
                "cache_write": cache_write_cost()}
    finally:
        srv.close()


def server_capacity(n: int = 3000, concurrency: int = 64) -> dict:
    """The test server's own ceiling at 100 ms latency: bare aiohttp with twice the runtime's concurrency."""
    import asyncio

    srv = Server("--latency-ms", str(LATENCY_S * 1000))
    try:
        bodies = [request_body(q, params(srv.url)) for q in make_requests(n, "capacity")]
        t0 = time.perf_counter()
        asyncio.run(_bare_client(srv.url, bodies, concurrency))
        wall = time.perf_counter() - t0
    finally:
        srv.close()
    return {"n": n, "concurrency": concurrency, "requests_per_s": round(n / wall, 1)}


def faults(n: int) -> dict:
    srv = Server("--latency-ms", "20", "--seed", "7", "--fault-429", "0.10", "--fault-500", "0.05",
                 "--fault-timeout", "0.02", "--fault-malformed", "0.05", "--retry-after", "0.2", "--timeout-sleep-s", "1.5")
    try:
        with tempfile.TemporaryDirectory() as cache:
            reqs = make_requests(n, "faults")
            p = LlmParams(base_url=srv.url, api_key_env=KEY_ENV, max_concurrency=CONCURRENCY, timeout_s=1.0,
                          max_retries=6, retry_base_s=0.1)
            t0 = time.perf_counter()
            results, stats = run_requests(reqs, p, cache, progress=False)
            wall = time.perf_counter() - t0
        s = srv.stats()
    finally:
        srv.close()
    by_id = {r.custom_id: r for r in results}
    lost = sum(1 for q in reqs if q.custom_id not in by_id or (not by_id[q.custom_id].ok and not by_id[q.custom_id].error))
    errors: dict[str, int] = {}
    for r in results:
        errors[r.error or "ok"] = errors.get(r.error or "ok", 0) + 1
    return {"n": n, "wall_s": round(wall, 2), "lost_rows": lost, "outcomes": errors, "retries": stats.retries,
            "server_fault_counts": s["fault_counts"], "server_keys_completed_twice": s["keys_completed_twice"]}


def kill_resume(n: int) -> dict:
    srv = Server("--latency-ms", str(LATENCY_S * 1000))
    try:
        with tempfile.TemporaryDirectory() as cache:
            proc = subprocess.Popen([sys.executable, __file__, "--child", srv.url, cache, str(n), "kill"], cwd=ROOT)
            while srv.stats()["completed_total"] < n // 3:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            time.sleep(LATENCY_S * 5)  # requests in flight at the kill finish on the server
            at_kill = srv.stats()["completed"]
            reqs = make_requests(n, "kill")
            p = params(srv.url)
            cache_files = {f.stem for f in Path(cache).glob("??/*.json")}
            cached = {body_key(request_body(q, p)) for q in reqs if cache_key(q, p) in cache_files}
            results, stats = run_requests(reqs, p, cache, progress=False)
            after = srv.stats()["completed"]
            served_again = {k: after.get(k, 0) - at_kill.get(k, 0) for k in after}
            repaid = sum(1 for k in cached if served_again.get(k, 0) > 0)
            in_flight = sum(1 for k, c in at_kill.items() if c and k not in cached and served_again.get(k, 0) > 0)
            before_warm = srv.stats()["chat_requests"]
            warm_results, warm_stats = run_requests(reqs, p, cache, progress=False)
            warm_requests = srv.stats()["chat_requests"] - before_warm
    finally:
        srv.close()
    return {"n": n, "completed_before_kill": sum(1 for c in at_kill.values() if c), "cached_at_kill": len(cached),
            "in_flight_at_kill_resent": in_flight, "repaid_requests_after_kill": repaid,
            "resume_requests_sent": stats.requests_sent, "all_ok_after_resume": all(r.ok for r in results),
            "keys_completed_twice": sum(1 for c in after.values() if c > 1),
            "warm_rerun_requests": warm_requests, "warm_rerun_cache_hits": warm_stats.cache_hits,
            "warm_identical": [r.data for r in warm_results] == [r.data for r in results]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=4, metavar=("URL", "CACHE", "N", "TAG"))
    args = ap.parse_args()
    os.environ.setdefault(KEY_ENV, "sk-bench-not-a-real-key")
    if args.child:
        url, cache, n, tag = args.child
        child(url, cache, int(n), tag)
        return
    tp = throughput(args.n, args.repeats)
    print("throughput", tp, flush=True)
    cap = server_capacity()
    print("server capacity", cap, flush=True)
    ft = faults(args.n)
    print("faults", ft, flush=True)
    kr = kill_resume(args.n)
    print("kill/resume", kr, flush=True)
    out = {
        "throughput_ratio_to_bound": tp["throughput_ratio_to_bound"],
        "lost_rows": ft["lost_rows"],
        "repaid_requests_after_kill": kr["repaid_requests_after_kill"],
        "warm_rerun_requests": kr["warm_rerun_requests"],
        "throughput": tp,
        "server_capacity": cap,
        "faults": ft,
        "kill_resume": kr,
        "machine_note": "2 cores shared with other jobs (load average at start: %s); client and server compete for them"
                        % os.getloadavg()[0],
    }
    write_json(out, ROOT / "reports" / "bench" / "llm.json")
    print(json.dumps({k: out[k] for k in list(out)[:4]}))


if __name__ == "__main__":
    main()

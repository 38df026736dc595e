"""The LLM runtime against a local OpenAI-compatible server: real sockets, the real openai client."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from pathlib import Path

import pytest

from synthkit.config import LlmParams
from synthkit.errors import InputError
from synthkit.llm import ERRORS, LLMRequest, run_requests, strict_schema
from synthkit.llm.limits import RateLimiter, backoff_s, retry_after_s
from tests.openai_server import FakeOpenAI

KEY_ENV = "SYNTHKIT_TEST_LLM_KEY"
KEY = "sk-test-DISTINCTIVE-4f9c2e71b3"
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": ["billing", "refund"]},
                   "score": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3}},
    "required": ["text", "label"],
}
PRICE = {"input": 2.0, "output": 8.0}


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def params(server, **kw) -> LlmParams:
    base = dict(base_url=server.base_url, api_key_env=KEY_ENV, max_concurrency=8, timeout_s=2.0, retry_base_s=0.01,
                prices={"gpt-4o-mini": PRICE})
    base.update(kw)
    return LlmParams(**base)


def reqs(n: int, schema: dict | None = SCHEMA, tag: str = "r") -> list[LLMRequest]:
    return [LLMRequest(custom_id=f"{tag}{i}", schema=schema, seed=i,
                       messages=[{"role": "user", "content": f"write message {tag}{i:04d}"}]) for i in range(n)]


def chat_bodies(server) -> list[dict]:
    return [r["body"] for r in server.requests if r["path"] == "/v1/chat/completions"]


# ------------------------------------------------------------------------------------------------ structured outputs


def test_json_schema_results_in_order_with_usage_and_cost(tmp_path):
    with FakeOpenAI() as srv:
        requests = reqs(12)
        results, stats = run_requests(requests, params(srv), tmp_path, progress=False)
        bodies = chat_bodies(srv)
    assert [r.custom_id for r in results] == [q.custom_id for q in requests]
    assert all(r.ok and r.error is None and not r.cached for r in results)
    assert all(set(r.data) == {"text", "label", "score"} and r.data["label"] in ("billing", "refund") for r in results)
    fmt = bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"] == "output"
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert fmt["json_schema"]["schema"]["required"] == ["text", "label", "score"]
    assert {b["seed"] for b in bodies} == set(range(12)) and all(b["temperature"] == 0.9 for b in bodies)
    for r in results:
        assert r.input_tokens > 0 and r.output_tokens > 0
        assert r.cost_usd == pytest.approx((r.input_tokens * 2.0 + r.output_tokens * 8.0) / 1e6)
    assert stats.requests_sent == stats.completed == 12 and stats.retries == 0 and stats.cache_hits == 0
    assert stats.cost_usd == pytest.approx(sum(r.cost_usd for r in results))
    assert stats.input_tokens == sum(r.input_tokens for r in results)


def test_cache_files_hold_the_answer_only_and_warm_rerun_sends_nothing(tmp_path):
    with FakeOpenAI() as srv:
        first, _ = run_requests(reqs(10), params(srv), tmp_path, progress=False)
        sent = len(srv.requests)
        again, stats = run_requests(reqs(10), params(srv), tmp_path, progress=False)
        assert len(srv.requests) == sent
    assert stats.requests_sent == 0 and stats.cache_hits == 10 and stats.cost_usd == 0
    assert [r.data for r in again] == [r.data for r in first] and all(r.cached for r in again)
    assert [r.cost_usd for r in again] == [r.cost_usd for r in first]  # what the cached answers cost when paid
    files = sorted(tmp_path.glob("??/*.json"))
    assert len(files) == 10 and all(f.parent.name == f.stem[:2] for f in files)
    entry = json.loads(files[0].read_text())
    assert set(entry) == {"content", "refusal", "finish_reason", "model", "input_tokens", "output_tokens", "batch", "mode"}
    assert entry["mode"] == "json_schema"
    assert not list(tmp_path.rglob("*.tmp"))


def test_identical_requests_are_sent_once(tmp_path):
    same = [{"role": "user", "content": "the same prompt"}]
    requests = [LLMRequest("a", same, schema=SCHEMA), LLMRequest("b", same, schema=SCHEMA)]
    with FakeOpenAI() as srv:
        results, stats = run_requests(requests, params(srv), tmp_path, progress=False)
        assert len(chat_bodies(srv)) == 1
    assert results[0].data == results[1].data and [r.cached for r in results] == [False, True]
    assert results[0].cache_key == results[1].cache_key and stats.completed == 1


def test_free_text_requests_have_no_response_format(tmp_path):
    with FakeOpenAI() as srv:
        results, _ = run_requests(reqs(2, schema=None), params(srv, temperature=0.2), tmp_path, progress=False)
        bodies = chat_bodies(srv)
    assert all("response_format" not in b and b["temperature"] == 0.2 for b in bodies)
    assert all(r.ok and r.data is None and r.text.startswith("text ") for r in results)


def test_fallback_to_json_mode_when_json_schema_is_rejected(tmp_path):
    with FakeOpenAI(json_schema_supported=False) as srv:
        results, stats = run_requests(reqs(20), params(srv, max_concurrency=4), tmp_path, progress=False)
        bodies = chat_bodies(srv)
    assert all(r.ok and r.mode == "json_object" and r.data["label"] in ("billing", "refund") for r in results)
    assert stats.json_mode_fallback and stats.completed == 20 and stats.failed == 0
    rejected = [b for b in bodies if b["response_format"]["type"] == "json_schema"]
    assert 1 <= len(rejected) <= 4  # only what was in flight when the first 400 came back
    json_mode = [b for b in bodies if b["response_format"]["type"] == "json_object"]
    assert len(json_mode) == 20
    assert all(b["messages"][0]["role"] == "system" and '"label"' in b["messages"][0]["content"] for b in json_mode)
    assert all(b["response_format"]["schema"] == SCHEMA for b in json_mode)  # the schema travels beside json_object


def test_other_bad_requests_fail_without_retry(tmp_path):
    with FakeOpenAI() as srv:
        srv.faults = [(400, {})]
        results, stats = run_requests(reqs(1), params(srv, max_concurrency=1), tmp_path, progress=False)
        assert len(chat_bodies(srv)) == 1
    assert results[0].error == "request_failed" and "400" in results[0].detail and stats.failed == 1


def test_malformed_json_is_cached_and_never_requested_again(tmp_path):
    with FakeOpenAI() as srv:
        srv.faults = ["malformed"]
        results, stats = run_requests(reqs(3), params(srv, max_concurrency=1), tmp_path, progress=False)
        bad = results[0]
        assert bad.error == "malformed_json" and not bad.ok and bad.data is None and "not json" in bad.text
        assert bad.cost_usd > 0 and stats.malformed == 1 and stats.retries == 0
        assert all(r.ok for r in results[1:])
        n = len(srv.requests)
        again, stats2 = run_requests(reqs(3), params(srv), tmp_path, progress=False)
        assert len(srv.requests) == n and stats2.requests_sent == 0
    assert again[0].error == "malformed_json" and again[0].cached and again[0].text == bad.text


def test_fenced_json_content_parses(tmp_path):
    with FakeOpenAI(content=lambda body: '```json\n{"text": "hi", "label": "refund"}\n```') as srv:
        results, _ = run_requests(reqs(1), params(srv), tmp_path, progress=False)
    assert results[0].ok and results[0].data == {"text": "hi", "label": "refund"}


def test_refusal_is_a_reason_not_a_crash(tmp_path):
    def refuse(body):
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": None, "refusal": "I can't help with that."}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}

    with FakeOpenAI({"/v1/chat/completions": refuse}) as srv:
        results, stats = run_requests(reqs(1), params(srv), tmp_path, progress=False)
    assert results[0].error == "refused" and "can't help" in results[0].detail and stats.refused == 1


# ------------------------------------------------------------------------------------------------ retries


def test_429_retry_after_is_honoured(tmp_path):
    with FakeOpenAI(retry_after="0.6") as srv:
        srv.faults = ["429"]
        results, stats = run_requests(reqs(1), params(srv, retry_base_s=0.0), tmp_path, progress=False)
        times = srv.chat_times
    assert results[0].ok and stats.retries == 1 and stats.requests_sent == 2
    assert 0.6 <= times[1] - times[0] < 1.5


def test_5xx_are_retried_with_backoff(tmp_path):
    with FakeOpenAI() as srv:
        srv.faults = ["500", "502", "503"]
        results, stats = run_requests(reqs(1), params(srv, retry_base_s=0.1), tmp_path, progress=False)
        times = srv.chat_times
    assert results[0].ok and stats.retries == 3
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # base * 2**attempt, jitter in its upper half


def test_timeouts_are_retried_then_request_failed(tmp_path):
    with FakeOpenAI(timeout_sleep_s=2.0) as srv:
        srv.faults = ["timeout"] * 3
        p = params(srv, timeout_s=0.3, max_retries=2, max_concurrency=1)
        results, stats = run_requests(reqs(2), p, tmp_path, progress=False)
        assert len(chat_bodies(srv)) == 4
        times = srv.chat_times
    assert results[0].error == "request_failed" and "3 attempts" in results[0].detail
    assert results[1].ok and stats.failed == 1 and stats.retries == 2
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.2 <= g < 1.5 for g in gaps)  # each attempt gave up after timeout_s (0.3 s), not after the server's 2 s
    assert not list(Path(tmp_path).glob(f"??/{results[0].cache_key}.json"))  # a failure is not cached: a rerun retries


def test_mixed_faults_lose_nothing_and_never_pay_twice(tmp_path):
    rates = {"429": 0.10, "500": 0.05, "timeout": 0.02, "malformed": 0.05}
    n = 300
    # timeouts: the server sleeps 2.5 s, the client gives up after 2 s (long enough that a loaded machine does not
    # time out answers that were on their way, which would make a retry complete a key twice)
    with FakeOpenAI(fault_rates=rates, seed=3, retry_after="0.05", timeout_sleep_s=2.5, latency_s=0.005) as srv:
        p = params(srv, timeout_s=2.0, max_retries=8, max_concurrency=16)
        results, stats = run_requests(reqs(n), p, tmp_path, progress=False)
        s = srv.stats()
        again, stats2 = run_requests(reqs(n), p, tmp_path, progress=False)
        assert srv.stats()["chat_requests"] == s["chat_requests"]  # warm rerun: nothing sent
    assert s["keys_completed_twice"] == 0
    assert [r.custom_id for r in results] == [f"r{i}" for i in range(n)]
    assert all(r.ok or r.error in ERRORS for r in results) and all(r.ok == (r.error is None) for r in results)
    assert all(s["fault_counts"].get(k, 0) > 0 for k in rates)
    malformed = sum(r.error == "malformed_json" for r in results)
    assert malformed == s["fault_counts"]["malformed"] == stats.malformed
    assert sum(r.ok for r in results) + malformed == n and stats.failed == 0
    faults = s["fault_counts"]["429"] + s["fault_counts"]["500"] + s["fault_counts"]["timeout"]
    assert stats.retries == faults and stats.requests_sent == s["chat_requests"] == n + faults
    assert stats2.requests_sent == 0 and [(r.data, r.error) for r in again] == [(r.data, r.error) for r in results]


# ------------------------------------------------------------------------------------------------ limits and budget


def test_rpm_limit_paces_requests(tmp_path):
    with FakeOpenAI() as srv:
        run_requests(reqs(25), params(srv, rpm=600), tmp_path, progress=False)  # 10 per second
        times = srv.chat_times
    assert len(times) == 25 and times[-1] - times[0] >= 2.3
    for t in times:  # any 1 s window: at most 10 (+1 at the window's edge)
        assert sum(1 for u in times if t <= u < t + 1.0) <= 11


def test_tpm_limit_counts_tokens(tmp_path):
    requests = [LLMRequest(f"t{i}", [{"role": "user", "content": "x" * 200}], max_tokens=50, seed=i) for i in range(12)]
    with FakeOpenAI(content=lambda body: "y" * 200) as srv:  # about 100 tokens per request, estimated and used
        results, _ = run_requests(requests, params(srv, tpm=36_000), tmp_path, progress=False)  # 600 tokens/s
        times = srv.chat_times
    used = [r.input_tokens + r.output_tokens for r in results]
    assert min(used) >= 90
    assert times[-1] - times[0] >= (sum(used[:-1]) - 700) / 600  # paced at 600 tokens/s after a first request
    for t in times:
        in_window = [u for u, when in zip(used, times) if t <= when < t + 1.0]
        assert sum(in_window) <= 600 + 2 * max(used)


def test_rate_limiter_settles_estimates():
    import asyncio

    async def go():
        lim = RateLimiter(600)
        g = await lim.acquire(100)
        lim.settle(g, 40)
        return lim.total, lim.next_t - g.t

    total, ahead = asyncio.run(go())
    assert total == 40 and ahead == pytest.approx(40 * 0.1)


def test_budget_stops_sending_and_keeps_finished_results(tmp_path):
    with FakeOpenAI(content=lambda body: '{"text": "same length", "label": "billing"}') as srv:
        probe, _ = run_requests(reqs(1, tag="p"), params(srv), tmp_path / "probe", progress=False)
        cost = probe[0].cost_usd
        p = params(srv, budget_usd=cost * 3.5, max_concurrency=1)
        results, stats = run_requests(reqs(10), p, tmp_path, progress=False)
        done = [r for r in results if r.ok]
        assert len(done) == 4 and all(r.ok for r in results[:4])  # sent while spent < budget
        assert all(r.error == "budget_exhausted" and r.cost_usd == 0 for r in results[4:])
        assert stats.budget_exhausted and stats.not_run == 6 and stats.cost_usd == pytest.approx(4 * cost)
        before = len(chat_bodies(srv))
        rest, stats2 = run_requests(reqs(10), params(srv), tmp_path, progress=False)
        assert len(chat_bodies(srv)) - before == 6  # the four finished ones came from the cache
    assert all(r.ok for r in rest) and stats2.cache_hits == 4


def test_unpriced_model_costs_zero_and_is_listed(tmp_path):
    with FakeOpenAI() as srv:
        results, stats = run_requests(reqs(2), params(srv, prices={}), tmp_path, progress=False)
    assert all(r.ok and r.cost_usd == 0 for r in results)
    assert stats.unpriced_models == ["gpt-4o-mini"] and stats.cost_usd == 0


# ------------------------------------------------------------------------------------------------ keys and secrets


def test_missing_key_names_the_param_unless_everything_is_cached(tmp_path, monkeypatch):
    with FakeOpenAI() as srv:
        run_requests(reqs(2), params(srv), tmp_path, progress=False)
        monkeypatch.delenv(KEY_ENV)
        results, stats = run_requests(reqs(2), params(srv), tmp_path, progress=False)  # all cached: no key needed
        assert all(r.ok for r in results) and stats.requests_sent == 0
        with pytest.raises(InputError) as err:
            run_requests(reqs(3), params(srv), tmp_path, progress=False)
    assert err.value.field == "llm.api_key_env" and KEY_ENV in str(err.value)


def test_api_key_never_reaches_cache_results_or_logs(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    rates = {"429": 0.2, "500": 0.1, "malformed": 0.1}
    with FakeOpenAI(fault_rates=rates, seed=1, retry_after="0") as srv:
        srv.faults = [(401, {})]
        results, stats = run_requests(reqs(30), params(srv, max_concurrency=4), tmp_path, progress=True)
        assert srv.auth_headers and all(h == f"Bearer {KEY}" for h in srv.auth_headers)  # the key was really used
    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, repr(results), json.dumps(stats.to_dict())]
    texts += [f.read_text(errors="replace") for f in tmp_path.rglob("*") if f.is_file()]
    assert len(texts) > 30 and not any(KEY in t for t in texts)
    assert any(r.error == "request_failed" and "401" in r.detail for r in results)


# ------------------------------------------------------------------------------------------------ helpers


def test_retry_after_forms():
    import httpx2

    assert retry_after_s(httpx2.Headers({"retry-after": "2.5"})) == 2.5
    assert retry_after_s(httpx2.Headers({"retry-after-ms": "150"})) == 0.15
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= retry_after_s(httpx2.Headers({"retry-after": date})) <= 31
    assert retry_after_s(httpx2.Headers({"retry-after": "soon"})) is None
    assert retry_after_s(httpx2.Headers({})) is None


def test_backoff_grows_with_jitter():
    import random

    rng = random.Random(0)
    for attempt in range(5):
        d = [backoff_s(attempt, 1.0, rng) for _ in range(50)]
        assert min(d) >= 2**attempt / 2 and max(d) <= 2**attempt and len(set(d)) > 1


def test_strict_schema_closes_objects():
    out = strict_schema({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string", "default": "x"}}}}})
    assert out["additionalProperties"] is False and out["required"] == ["a"]
    assert out["properties"]["a"]["required"] == ["b"] and "default" not in out["properties"]["a"]["properties"]["b"]


def test_progress_bar_shows_requests_tokens_and_cost_on_a_terminal(tmp_path, monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    term = Tty()
    monkeypatch.setattr("sys.stderr", term)
    with FakeOpenAI() as srv:
        _, stats = run_requests(reqs(5), params(srv, max_concurrency=1), tmp_path, label="generate")
    shown = term.getvalue()
    assert "generate" in shown and "5/5" in shown and f"sent={stats.requests_sent}" in shown
    assert f"tok={stats.input_tokens + stats.output_tokens}" in shown and "$0.000" in shown


def test_budget_counts_what_earlier_calls_of_the_run_spent(tmp_path):
    with FakeOpenAI() as srv:
        p = params(srv, budget_usd=0.01)
        results, stats = run_requests(reqs(3), p, tmp_path, progress=False, spent_usd=0.01)
        assert not chat_bodies(srv)
        batch, bstats = run_requests(reqs(3), params(srv, budget_usd=0.01, batch=True), tmp_path, progress=False,
                                     spent_usd=0.02)
        assert not srv.files and not srv.batches
    assert all(r.error == "budget_exhausted" for r in results + batch)
    assert stats.not_run == bstats.not_run == 3 and stats.budget_exhausted and bstats.budget_exhausted


def test_out_of_quota_429_is_not_retried(tmp_path):
    quota = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}
    with FakeOpenAI() as srv:
        srv.faults = [(429, {"Retry-After": "0"}, quota)]
        results, stats = run_requests(reqs(1), params(srv), tmp_path, progress=False)
        assert len(chat_bodies(srv)) == 1
    assert results[0].error == "request_failed" and "quota" in results[0].detail and stats.retries == 0


def test_a_200_that_is_not_a_completion_is_retried_not_cached(tmp_path):
    from tests.openai_server import default_content

    calls = []

    def flaky(body):
        calls.append(1)
        if len(calls) == 1:
            return {"oops": "a proxy page"}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": default_content(body)}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}

    with FakeOpenAI({"/v1/chat/completions": flaky}) as srv:
        results, stats = run_requests(reqs(1), params(srv), tmp_path, progress=False)
    assert results[0].ok and stats.retries == 1 and len(calls) == 2


def test_runs_from_inside_an_event_loop(tmp_path):
    import asyncio

    async def notebook_cell(url):
        return run_requests(reqs(3), LlmParams(base_url=url, api_key_env=KEY_ENV), tmp_path, progress=False)

    with FakeOpenAI() as srv:
        results, stats = asyncio.run(notebook_cell(srv.base_url))
    assert all(r.ok for r in results) and stats.completed == 3


def test_an_unreadable_cache_entry_is_requested_again(tmp_path):
    with FakeOpenAI() as srv:
        first, _ = run_requests(reqs(2), params(srv), tmp_path, progress=False)
        (tmp_path / first[0].cache_key[:2] / f"{first[0].cache_key}.json").write_text('{"content": "trunc')
        again, stats = run_requests(reqs(2), params(srv), tmp_path, progress=False)
    assert stats.requests_sent == 1 and stats.cache_hits == 1 and again[0].ok and again[0].data == first[0].data


def test_slow_answers_within_the_timeout_are_not_retried(tmp_path):
    with FakeOpenAI(slow_s=0.4) as srv:
        srv.faults = ["slow"]
        t0 = time.monotonic()
        results, stats = run_requests(reqs(1), params(srv, timeout_s=2.0), tmp_path, progress=False)
        assert time.monotonic() - t0 >= 0.4
    assert results[0].ok and stats.retries == 0 and stats.requests_sent == 1


def test_temporary_files_of_dead_writers_are_swept(tmp_path):
    import os
    import subprocess

    from synthkit.llm.cache import sweep_stale_tmp

    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "ab").mkdir()
    stale, live = tmp_path / "ab" / f".ab12.{dead.pid}.tmp", tmp_path / "ab" / f".ab34.{os.getpid()}.tmp"
    stale.write_text("{")
    live.write_text("{")
    assert sweep_stale_tmp(tmp_path) == 1 and not stale.exists() and live.exists()

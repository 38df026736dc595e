"""Structured-output negotiation and failure causes against the local OpenAI-compatible server in the shapes real
servers take: llama.cpp's 500 to json_schema, a server without JSON modes, an unreachable port, a slow server."""

from __future__ import annotations

import json
import socket

import pytest

from synthkit.config import LlmParams
from synthkit.errors import ServiceError
from synthkit.llm import LLMRequest, run_requests
from synthkit.llm.request import JSON_MODE_INSTRUCTION
from tests.openai_server import FakeOpenAI, fill_schema

KEY_ENV = "SYNTHKIT_NEGOTIATION_TEST_KEY"
SCHEMA = {"type": "object", "properties": {"label": {"type": "string", "enum": ["billing", "refund"]}, "rule": {"type": "string"}},
          "required": ["label", "rule"], "additionalProperties": False}


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-negotiation")


def params(base_url: str, **kw) -> LlmParams:
    return LlmParams(**{"base_url": base_url, "api_key_env": KEY_ENV, "max_concurrency": 4, "timeout_s": 2.0, "retry_base_s": 0.0,
                        "max_retries": 2, **kw})


def reqs(n: int, tag: str = "r") -> list[LLMRequest]:
    return [LLMRequest(custom_id=f"{tag}{i}", messages=[{"role": "user", "content": f"label message {tag}{i}"}], schema=SCHEMA, seed=i)
            for i in range(n)]


def bodies(server) -> list[dict]:
    return [r["body"] for r in server.requests if r["path"] == "/v1/chat/completions"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def from_prompt(body: dict) -> str:
    """A model that reads the schema from the system message (prompt mode) and answers it."""
    note = body["messages"][0]["content"]
    assert note.startswith(JSON_MODE_INSTRUCTION)
    return json.dumps(fill_schema(json.loads(note[len(JSON_MODE_INSTRUCTION):]), "0" * 16))


def test_llama_cpp_500_to_json_schema_moves_to_json_object_with_the_schema_and_is_remembered(tmp_path):
    modes: dict[str, str] = {}
    with FakeOpenAI(json_schema_supported=False, format_status=500) as srv:
        results, stats = run_requests(reqs(12), params(srv.base_url), tmp_path, progress=False, modes=modes)
        first = bodies(srv)
        more, _ = run_requests(reqs(5, "s"), params(srv.base_url), tmp_path, progress=False, modes=modes)
        later = bodies(srv)[len(first):]
    assert all(r.ok and r.data["label"] in ("billing", "refund") and r.mode == "json_object" for r in results + more)
    assert stats.failed == 0 and stats.retries == 0 and stats.json_mode_fallback  # a 500 naming response_format is no retry
    rejected = [b for b in first if b["response_format"]["type"] == "json_schema"]
    assert 1 <= len(rejected) <= 4  # only what was in flight when the first 500 came back
    taken = [b for b in first if b["response_format"]["type"] == "json_object"]
    assert len(taken) == 12 and all(b["response_format"]["schema"] == SCHEMA for b in taken)
    assert modes == {f"{srv.base_url} gpt-4o-mini": "json_object"}
    assert [b["response_format"]["type"] for b in later] == ["json_object"] * 5  # remembered: no json_schema round trip
    cached = json.loads(next(tmp_path.glob("??/*.json")).read_text())
    assert cached["mode"] == "json_object"


def test_a_server_without_json_modes_gets_the_schema_in_the_prompt_and_answers_are_validated_locally(tmp_path):
    with FakeOpenAI(json_schema_supported=False, json_object_supported=False, content=from_prompt) as srv:
        results, stats = run_requests(reqs(6), params(srv.base_url, max_concurrency=1), tmp_path, progress=False)
        sent = bodies(srv)
    assert [b.get("response_format", {}).get("type") for b in sent] == ["json_schema", "json_object"] + [None] * 6
    assert all(r.ok and r.mode == "prompt" and set(r.data) == {"label", "rule"} for r in results) and stats.failed == 0


def test_a_500_that_does_not_name_response_format_is_retried_not_negotiated(tmp_path):
    modes: dict[str, str] = {}
    with FakeOpenAI() as srv:
        srv.faults = ["500"]
        results, stats = run_requests(reqs(1), params(srv.base_url), tmp_path, progress=False, modes=modes)
    assert results[0].ok and results[0].mode == "json_schema" and stats.retries == 1 and modes == {}


def test_connection_refused_is_named_as_such(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    results, stats = run_requests(reqs(2), params(url, max_retries=1), tmp_path, progress=False)
    assert all(r.error == "request_failed" and r.detail.startswith("connection refused") for r in results)
    assert stats.first_failure == "connection refused" and stats.failed == 2 and stats.retries == 2


def test_a_timeout_and_an_http_error_carry_their_own_cause(tmp_path):
    with FakeOpenAI(timeout_sleep_s=1.0) as srv:
        srv.faults = ["timeout", "timeout", (401, {}, {"error": {"message": "bad key", "type": "auth"}})]
        results, stats = run_requests(reqs(2), params(srv.base_url, timeout_s=0.3, max_retries=1, max_concurrency=1), tmp_path,
                                      progress=False)
    assert results[0].detail == "timeout (no response within 0.3 s) after 2 attempts"
    assert results[1].detail == "HTTP 401: bad key"


def test_failures_past_the_callers_limit_stop_the_rest_of_the_call(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    results, stats = run_requests(reqs(40), params(url, max_retries=0, max_concurrency=2), tmp_path, progress=False,
                                  max_failures=lambda n: n // 5)
    assert 9 <= stats.failed <= 10 and stats.requests_sent == stats.failed  # 8 allowed: the 9th stops the call (one more was in flight)
    assert stats.aborted == 40 - stats.failed
    assert {r.error for r in results} == {"request_failed", "aborted"}


def test_batch_mode_without_a_files_api_is_one_service_error(tmp_path):
    with FakeOpenAI(files_api=False) as srv:
        with pytest.raises(ServiceError) as err:
            run_requests(reqs(3), params(srv.base_url, batch=True), tmp_path, progress=False)
    message = str(err.value)
    assert srv.base_url in message and "HTTP 404" in message and "llm.batch: false" in message and "\n" not in message


def test_batch_mode_submits_only_what_the_budget_left_can_pay(tmp_path):
    p = params("http://unused.invalid/v1", batch=True, batch_poll_s=0.01, prices={"gpt-4o-mini": {"input": 1000.0, "output": 1000.0}})
    requests = [LLMRequest(custom_id=f"b{i}", messages=[{"role": "user", "content": f"{i:04d}" + "x" * 392}], schema=None, max_tokens=100)
                for i in range(10)]  # estimated 100 + 100 tokens: 0.2 USD each, 0.1 at the batch price
    with FakeOpenAI(batch_polls=1) as srv:
        p.base_url = srv.base_url
        p.budget_usd = 0.35
        results, stats = run_requests(requests, p, tmp_path, progress=False)
        submitted = srv.files[next(iter(srv.batches.values()))["input_file_id"]].decode().splitlines()
    assert len(submitted) == 3 and stats.not_run == 7 and stats.budget_exhausted
    assert [r.ok for r in results] == [True] * 3 + [False] * 7 and {r.error for r in results[3:]} == {"budget_exhausted"}

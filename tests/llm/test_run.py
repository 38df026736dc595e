"""One pipeline run's LLM calls: the run ledger shared by stages, one budget across them, loud failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from synthkit.config import LlmParams
from synthkit.errors import ServiceError
from synthkit.llm import LLMRequest
from synthkit.llm.run import RUN_ENV, ask, open_run, run_file, run_id
from tests.openai_server import FakeOpenAI

KEY_ENV = "SYNTHKIT_RUN_TEST_KEY"
SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
PRICE = {"input": 1.0, "output": 2.0}  # USD per 1M tokens; with usage (1000, 500): 0.002 USD per answer
PER_ANSWER = 0.002


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-run")
    monkeypatch.setenv(RUN_ENV, "run-a")


def params(base_url: str, **kw) -> LlmParams:
    return LlmParams(**{"base_url": base_url, "api_key_env": KEY_ENV, "max_concurrency": 1, "retry_base_s": 0.0, "max_retries": 0,
                        "prices": {"gpt-4o-mini": PRICE}, **kw})


def reqs(n: int, tag: str) -> list[LLMRequest]:
    return [LLMRequest(custom_id=f"{tag}{i}", messages=[{"role": "user", "content": f"{tag} {i}"}], schema=SCHEMA) for i in range(n)]


def test_stages_of_one_run_share_the_budget_and_a_new_run_starts_from_zero(tmp_path, monkeypatch):
    with FakeOpenAI(usage=(1000, 500)) as srv:
        p = params(srv.base_url, budget_usd=0.01)
        gen = open_run(tmp_path / "generate")
        done = ask(reqs(3, "g"), p, tmp_path / "generate", gen, label="generate", progress=False)
        filt = open_run(tmp_path / "filter")
        judged = ask(reqs(5, "f"), p, tmp_path / "filter", filt, label="critic", progress=False)
        paid = srv.stats()["completed_total"]
        monkeypatch.setenv(RUN_ENV, "run-b")  # the next `dvc repro`: what the last one spent no longer counts
        again = open_run(tmp_path / "filter")
        more = ask(reqs(2, "h"), p, tmp_path / "filter", again, label="critic", progress=False)
    assert all(r.ok for r in done) and gen.run_cost_usd == pytest.approx(3 * PER_ANSWER)
    assert filt.spent_before == pytest.approx(3 * PER_ANSWER)
    assert [r.ok for r in judged] == [True, True, False, False, False] and filt.not_run == 3 and filt.budget_exhausted
    assert paid == 5 and paid * PER_ANSWER <= p.budget_usd  # the whole run's spend within the budget (one request in flight)
    assert again.spent_before == 0 and all(r.ok for r in more)
    assert run_file(tmp_path / "filter").exists()


def test_a_warm_rerun_spends_nothing_and_leaves_the_whole_budget(tmp_path, monkeypatch):
    with FakeOpenAI(usage=(1000, 500)) as srv:
        p = params(srv.base_url, budget_usd=0.004)
        ask(reqs(2, "g"), p, tmp_path / "generate", open_run(tmp_path / "generate"), label="g", progress=False)
        monkeypatch.setenv(RUN_ENV, "run-b")
        warm = open_run(tmp_path / "generate")
        results = ask(reqs(2, "g"), p, tmp_path / "generate", warm, label="g", progress=False)
        filt = open_run(tmp_path / "filter")
    assert all(r.ok and r.cached for r in results) and warm.run_cost_usd == 0 and warm.sent == 0
    assert filt.spent_before == 0


def test_negotiated_modes_travel_to_the_next_stage_of_the_run(tmp_path):
    with FakeOpenAI(json_schema_supported=False, format_status=500) as srv:
        p = params(srv.base_url)
        ask(reqs(2, "g"), p, tmp_path / "generate", open_run(tmp_path / "generate"), label="g", progress=False)
        n = len(srv.requests)
        filt = open_run(tmp_path / "filter")
        ask(reqs(2, "f"), p, tmp_path / "filter", filt, label="f", progress=False)
        later = [r["body"]["response_format"]["type"] for r in srv.requests[n:]]
    assert later == ["json_object", "json_object"]
    assert filt.to_dict()["structured_output"] == {f"{srv.base_url} gpt-4o-mini": "json_object"}


def test_failures_beyond_the_rate_are_one_line_naming_server_model_count_and_cause(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    ledger = open_run(tmp_path / "generate")
    with pytest.raises(ServiceError) as err:
        ask(reqs(10, "g"), params(url, max_concurrency=2), tmp_path / "generate", ledger, label="g", progress=False)
    message = str(err.value)
    assert url in message and "gpt-4o-mini" in message and "connection refused" in message and "\n" not in message
    assert f"failed: {ledger.failed} of {ledger.failed}" in message and ledger.failed + ledger.aborted == 10 and ledger.aborted > 0


def test_failures_within_the_rate_are_rejects_not_errors(tmp_path):
    with FakeOpenAI() as srv:
        srv.faults = [(500, {})]
        results = ask(reqs(10, "g"), params(srv.base_url), tmp_path / "generate", open_run(tmp_path / "generate"), label="g",
                      progress=False)
    assert [r.error for r in results].count("request_failed") == 1 and sum(r.ok for r in results) == 9


def _run_id_via(shell: bool, extra: dict[str, str]) -> str:
    code = "from synthkit.llm.run import run_id; print(run_id())"
    cmd = ["bash", "-c", f"{sys.executable} -c '{code}'; true"] if shell else [sys.executable, "-c", code]
    env = {k: v for k, v in os.environ.items() if k not in (RUN_ENV, "DVC_STAGE")}
    return subprocess.run(cmd, env={**env, **extra}, capture_output=True, text=True, check=True).stdout.strip()


def test_the_run_is_the_process_that_runs_the_stages_through_a_shell():
    import psutil

    me = psutil.Process()
    parent = f"{me.pid}:{me.create_time():.3f}"
    under_dvc = {"DVC_STAGE": "generate"}
    assert _run_id_via(True, under_dvc) == _run_id_via(True, under_dvc) == parent  # two stages, one run
    alone = _run_id_via(False, {})
    assert alone != parent and alone != _run_id_via(False, {})  # by hand: each stage its own run
    assert _run_id_via(False, {RUN_ENV: "nightly-42"}) == "nightly-42"
    os.environ.pop("DVC_STAGE", None)
    assert run_id() == "run-a"

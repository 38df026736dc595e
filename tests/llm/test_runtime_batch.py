"""Batch mode against the local server: upload, create, poll, download, map back; resume and cancel."""

from __future__ import annotations

import json

import pytest

import synthkit.llm.batch as batch_mod
from synthkit.llm import cancel_batches, run_requests
from tests.llm.test_runtime import KEY, key, params, reqs  # noqa: F401  (key: the autouse API-key fixture)
from tests.openai_server import FakeOpenAI


class Interrupted(Exception):
    """Stands in for a process that dies while waiting for its batch."""


def bparams(server, **kw):
    return params(server, batch=True, batch_poll_s=0.01, **kw)


def _interrupt(exc):
    def wait(seconds):
        raise exc

    return wait


def test_batch_end_to_end(tmp_path):
    with FakeOpenAI(batch_polls=3) as srv:
        results, stats = run_requests(reqs(15), bparams(srv), tmp_path, progress=False)
        paths = [r["path"] for r in srv.requests]
        upload = next(iter(srv.files.values()))
        s = srv.stats()
        n = len(srv.auth_headers)
        again, stats2 = run_requests(reqs(15), bparams(srv), tmp_path, progress=False)
        assert len(srv.auth_headers) == n and stats2.requests_sent == 0 and stats2.cache_hits == 15
    assert "/v1/chat/completions" not in paths and paths.count("/v1/files") == 1 and paths.count("/v1/batches") == 1
    lines = [json.loads(x) for x in upload.decode().splitlines()]
    assert [x["custom_id"] for x in lines] == [f"r{i}" for i in range(15)]
    assert all(x["method"] == "POST" and x["url"] == "/v1/chat/completions" for x in lines)
    assert lines[0]["body"]["response_format"]["type"] == "json_schema"
    assert all(r.ok and set(r.data) == {"text", "label", "score"} for r in results)
    assert [r.data for r in again] == [r.data for r in results]
    assert s["batch_status"] == {stats.batch_ids[0]: "completed"} and stats.requests_sent == 15
    for r in results:  # batch price: half the listed price by default
        assert r.cost_usd == pytest.approx(0.5 * (r.input_tokens * 2.0 + r.output_tokens * 8.0) / 1e6)
    assert not list((tmp_path / "batches").glob("*.json"))  # collected: nothing left to re-attach to
    assert not any(KEY in f.read_text() for f in tmp_path.rglob("*.json"))


def test_batch_malformed_lines_are_reasons(tmp_path):
    with FakeOpenAI(fault_rates={"malformed": 0.3}, seed=2) as srv:
        results, stats = run_requests(reqs(20), bparams(srv), tmp_path, progress=False)
    assert any(r.error == "malformed_json" for r in results) and all(r.ok or r.error == "malformed_json" for r in results)


def test_batch_resumes_the_same_batch_after_an_interruption(tmp_path, monkeypatch):
    with FakeOpenAI(batch_polls=4) as srv:
        with monkeypatch.context() as m, pytest.raises(Interrupted):
            m.setattr(batch_mod, "_wait", _interrupt(Interrupted()))
            run_requests(reqs(10), bparams(srv), tmp_path, progress=False)
        (state,) = (tmp_path / "batches").glob("*.json")
        batch_id = json.loads(state.read_text())["batch_id"]
        assert srv.stats()["batch_status"] == {batch_id: "in_progress"}
        results, stats = run_requests(reqs(10), bparams(srv), tmp_path, progress=False)
        s = srv.stats()
    assert s["batches_created"] == 1 and stats.batch_ids == [batch_id] and stats.requests_sent == 0
    assert all(r.ok for r in results) and not state.exists()


def test_ctrl_c_cancels_the_batch_and_the_next_run_starts_over(tmp_path, monkeypatch):
    with FakeOpenAI(batch_polls=4) as srv:
        with monkeypatch.context() as m, pytest.raises(KeyboardInterrupt):
            m.setattr(batch_mod, "_wait", _interrupt(KeyboardInterrupt()))
            run_requests(reqs(6), bparams(srv), tmp_path, progress=False)
        (batch_id,) = srv.batches
        assert srv.batches[batch_id]["status"] == "cancelling"
        cancelled, stats = run_requests(reqs(6), bparams(srv), tmp_path, progress=False)  # collects the cancelled batch
        assert all(r.error == "batch_failed" and "cancelled" in r.detail for r in cancelled) and stats.failed == 6
        results, stats = run_requests(reqs(6), bparams(srv), tmp_path, progress=False)
        assert len(srv.batches) == 2 and all(r.ok for r in results)


def test_cancel_batches_cancels_what_the_cache_waits_for(tmp_path, monkeypatch):
    with FakeOpenAI(batch_polls=4) as srv:
        with monkeypatch.context() as m, pytest.raises(Interrupted):
            m.setattr(batch_mod, "_wait", _interrupt(Interrupted()))
            run_requests(reqs(4), bparams(srv), tmp_path, progress=False)
        ids = cancel_batches(tmp_path, bparams(srv))
        assert ids == list(srv.batches) and srv.batches[ids[0]]["status"] == "cancelling"
        assert cancel_batches(tmp_path / "nothing", bparams(srv)) == []


def test_large_request_sets_split_into_several_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_mod, "MAX_BATCH_REQUESTS", 4)
    with FakeOpenAI(batch_polls=2) as srv:
        results, stats = run_requests(reqs(10), bparams(srv), tmp_path, progress=False)
        sizes = sorted(len(f.decode().splitlines()) for f in list(srv.files.values()) if b'"method"' in f)
    assert len(stats.batch_ids) == 3 and sizes == [2, 4, 4] and all(r.ok for r in results)

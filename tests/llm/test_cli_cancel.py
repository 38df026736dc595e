"""`synthkit cancel-batches`: cancels the batches an interrupted run waits for, through the params' llm section."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import synthkit.llm.batch as batch_mod
from synthkit.cli import app
from synthkit.llm import run_requests
from tests.llm.test_runtime import KEY, key, params, reqs  # noqa: F401  (key: the autouse API-key fixture)
from tests.llm.test_runtime_batch import Interrupted, _interrupt, bparams
from tests.openai_server import FakeOpenAI


def test_cancel_batches_command(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    with FakeOpenAI(batch_polls=4) as srv:
        p = bparams(srv)
        with monkeypatch.context() as m, pytest.raises(Interrupted):
            m.setattr(batch_mod, "_wait", _interrupt(Interrupted()))
            run_requests(reqs(4), p, cache, progress=False)
        (batch_id,) = srv.batches
        params_file = tmp_path / "params.yaml"
        params_file.write_text(yaml.safe_dump({"llm": {"base_url": p.base_url, "api_key_env": p.api_key_env, "batch": True}}))
        res = CliRunner().invoke(app, ["cancel-batches", "--params", str(params_file), "--cache-dir", str(cache)])
        assert res.exit_code == 0, res.output
        assert f"cancelled {batch_id}" in res.output and srv.batches[batch_id]["status"] == "cancelling"
        again = CliRunner().invoke(app, ["cancel-batches", "--params", str(params_file), "--cache-dir", str(tmp_path / "none")])
        assert again.exit_code == 0 and "no pending batch" in again.output
    assert KEY not in res.output


def test_cancel_batches_command_bad_params(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("llm: {bogus: 1}\n")
    res = CliRunner().invoke(app, ["cancel-batches", "--params", str(bad)])
    assert res.exit_code == 2 and "llm.bogus" in res.output

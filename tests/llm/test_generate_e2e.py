"""`dvc repro` with generate.backend openai against the local OpenAI-compatible server, in a copy of the repo:
kill -9 mid-generation then rerun (no completed request paid twice), a warm rerun (0 requests), the funnel with
generate rejects, reports/cost.json, and no trace of the API key in data/, reports/, .dvc/ or the logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.llm.fake_llm import FakeModel, chat_routes
from tests.openai_server import FakeOpenAI
from tests.repo_copy import copy_repo, env, run

pytestmark = pytest.mark.e2e

KEY_ENV = "SYNTHKIT_E2E_LLM_KEY"
KEY = "sk-synthkit-e2e-7f3c9a1d5e2b8c4f6a0d9e1b3c5a7f92"


def _descendants(pid: int) -> list[int]:
    """Process ids below pid (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _cached_contents(cache_dir: Path) -> set[str]:
    return {json.loads(p.read_text())["content"] for p in cache_dir.rglob("*.json")}


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory):
    """The repo copy, driven through a killed run, a resumed run and a warm run; returns what each saw."""
    root = copy_repo(tmp_path_factory.mktemp("llmrepo"))
    model = FakeModel(faults={"malformed_json": 0.04, "schema_invalid": 0.02, "empty": 0.02, "unknown_label": 0.05})
    logs: list[str] = []
    with FakeOpenAI(chat_routes(model)) as server:
        params = yaml.safe_load((root / "params.yaml").read_text())
        params["llm"].update({"base_url": server.base_url, "api_key_env": KEY_ENV, "max_concurrency": 4, "max_retries": 1, "retry_base_s": 0.0})
        params["generate"].update({"backend": "openai", "per_scenario": 4, "utterances_per_request": 2, "scenarios_per_label": 1,
                                   "hard_negatives_per_label": 1, "variation_per_seed": 1})
        params["filter"]["pii"]["enabled"] = False  # keeps the run short; the PII gate has its own tests
        params["evaluate"].update({"students": ["embed_logreg"], "ratio_grid": [0.0]})  # so does one light student
        params["filter"]["critic"]["backend"] = "openai"
        params["filter"]["consistency"]["backend"] = "openai"
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        environ = {**env(), KEY_ENV: KEY}

        # 1. kill -9 the generate stage once some responses are cached
        model.latency_s = 0.15
        proc = subprocess.Popen(["dvc", "repro", "dvc.yaml"], cwd=root, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline, killed = time.time() + 300, None
        while time.time() < deadline and proc.poll() is None and killed is None:
            gen = [p for p in _descendants(proc.pid) if "stages/generate.py" in _cmdline(p)]
            if gen and len(model.answered) >= 25:
                os.kill(gen[0], signal.SIGKILL)
                killed = gen[0]
            time.sleep(0.05)
        logs.append(proc.communicate(timeout=300)[0])
        assert killed is not None and proc.returncode != 0, logs[-1][-3000:]
        cache = root / "data/llm_cache/generate"
        cached_at_kill = _cached_contents(cache)
        answered_at_kill = len(model.answered)

        # 2. rerun: resumes from the cache
        model.latency_s = 0.0
        res = subprocess.run(["dvc", "repro", "dvc.yaml"], cwd=root, env=environ, capture_output=True, text=True)
        logs.append(res.stdout + res.stderr)
        assert res.returncode == 0, logs[-1][-4000:]
        after_resume = list(model.answered)
        requests_after_resume = len(server.requests)

        # 3. warm rerun with unchanged params, after deleting nothing: DVC skips every stage
        res = subprocess.run(["dvc", "repro", "dvc.yaml"], cwd=root, env=environ, capture_output=True, text=True)
        logs.append(res.stdout + res.stderr)
        assert res.returncode == 0, logs[-1][-4000:]
        warm_requests = len(server.requests) - requests_after_resume
        status = json.loads(run(["dvc", "status", "--json", "dvc.yaml"], root).stdout)

        # 4. force the LLM stages to run again with the same params: everything comes from the cache
        res = subprocess.run(["dvc", "repro", "--force", "--single-item", "generate"], cwd=root, env=environ, capture_output=True, text=True)
        logs.append(res.stdout + res.stderr)
        assert res.returncode == 0, logs[-1][-4000:]
        forced_requests = len(server.requests) - requests_after_resume - warm_requests
        auth = set(server.auth_headers)
    return {
        "root": root, "model": model, "logs": logs, "cached_at_kill": cached_at_kill, "answered_at_kill": answered_at_kill,
        "after_resume": after_resume, "warm_requests": warm_requests, "forced_requests": forced_requests, "auth": auth,
        "status": status,
    }


def test_killed_generation_resumes_without_repaying_completed_requests(llm_run):
    at_kill = llm_run["answered_at_kill"]
    keys_of: dict[str, set[str]] = {}
    for key, content in llm_run["after_resume"][:at_kill]:
        keys_of.setdefault(content, set()).add(key)
    assert all(len(k) == 1 for k in keys_of.values())  # every answer names its request
    content_key = {content: next(iter(keys)) for content, keys in keys_of.items()}
    paid_before_kill = {content_key[c] for c in llm_run["cached_at_kill"]}
    assert len(paid_before_kill) >= 10  # the kill really came mid-run, after responses were cached
    again = [key for key, _ in llm_run["after_resume"][at_kill:] if key in paid_before_kill]
    assert again == []
    assert len(llm_run["after_resume"]) > at_kill  # the rerun finished the rest
    counts = json.loads((llm_run["root"] / "reports/counts/generate.json").read_text())
    assert counts["llm"]["cached"] >= len(paid_before_kill)


def test_second_repro_with_unchanged_params_makes_zero_requests(llm_run):
    assert llm_run["warm_requests"] == 0
    assert llm_run["forced_requests"] == 0
    counts = json.loads((llm_run["root"] / "reports/counts/generate.json").read_text())
    assert counts["llm"]["sent"] == 0 and counts["llm"]["cached"] == counts["llm"]["requests"] > 0
    assert llm_run["status"] == {}


def test_funnel_adds_up_with_generate_rejects_and_cost_is_reported(llm_run):
    root = llm_run["root"]
    funnel = json.loads((root / "reports/funnel.json").read_text())
    rejects = pl.read_parquet(root / "data/rejects/generate.parquet")
    candidates = pl.read_parquet(root / "data/candidates.parquet")
    assert funnel["adds_up"] and rejects.height > 0
    assert funnel["generate_rejected"] == rejects.height and funnel["generated"] == candidates.height + rejects.height
    assert set(rejects["gate"]) == {"generate"} and all(r.startswith("generate_") for r in rejects["reason"])
    assert "generate_malformed_json" in set(rejects["reason"])
    llm_rows = candidates.filter(pl.col("generator").struct.field("backend") == "openai")
    assert llm_rows.height > 0 and llm_rows["generator"].struct.field("prompt_hash").is_not_null().all()
    filter_reasons = json.loads((root / "reports/counts/filter.json").read_text())["rejected_by_reason"]
    assert "consistency_llm_disagree" in filter_reasons  # seed variations the relabel model routes elsewhere
    cost = json.loads((root / "reports/cost.json").read_text())
    assert set(cost["stages"]) == {"generate", "filter"}
    assert cost["stages"]["filter"]["requests"] > 0 and cost["total"]["requests"] == sum(s["requests"] for s in cost["stages"].values())
    train = pl.read_parquet(root / "data/train.parquet")
    assert cost["kept_llm_rows"] == (train["generator"].struct.field("backend") == "openai").sum() <= funnel["synthetic_in_train"]
    assert cost["budget"] == {"budget_usd": None, "spent_usd": cost["total"]["run_cost_usd"], "not_run": 0, "exhausted": False}
    assert set(cost["structured_output"].values()) == {"json_schema"}
    llm_train = train.filter(pl.col("generator").struct.field("backend") == "openai")
    assert llm_train["provenance"].struct.field("scenario").null_count() == 0  # the paid scenario text stays on the row
    manifest = json.loads((root / "reports/manifest.json").read_text())
    assert set(manifest["generator"]["prompts"]) >= {"classification/scenarios.md", "classification/utterances.md"}
    assert manifest["cost"]["requests"] == cost["total"]["requests"] and manifest["structured_output"] == cost["structured_output"]
    assert (root / "data/llm_cache/filter").is_dir() and any((root / "data/llm_cache/filter").rglob("*.json"))


def test_api_key_value_never_lands_in_artifacts_or_logs(llm_run):
    root = llm_run["root"]
    assert f"Bearer {KEY}" in llm_run["auth"]  # the key was really used
    hits = [p for d in ("data", "reports", ".dvc") for p in (root / d).rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    hits += [p for p in root.glob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert hits == []
    assert not any(KEY in log for log in llm_run["logs"])

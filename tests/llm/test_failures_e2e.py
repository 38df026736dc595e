"""The LLM path's promises end to end: an unreachable server stops `dvc repro` with its cause, batch mode on a server
without the Files API is one line, and one budget holds across generate, the LLM critic and the LLM consistency gate."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import yaml

from synthkit.config import load_params
from synthkit.cost import cost_report
from synthkit.prepare import load_labeled
from synthkit.spec import load_spec
from synthkit.tasks.base import EXECUTION_ONLY
from tests.llm.fake_llm import FakeModel
from tests.openai_server import FakeOpenAI
from tests.repo_copy import REPO, copy_repo, env
from tests.test_dag import assert_trace_declared

pytestmark = pytest.mark.e2e

KEY_ENV = "SYNTHKIT_E2E_FAILURE_KEY"
USAGE = (1000, 500)  # tokens of every answer: each request's cost is exact
PRICES = {"gen-model": {"input": 0.05, "output": 0.1}, "critic-model": {"input": 0.1, "output": 0.2},
          "judge-model": {"input": 0.15, "output": 0.3}}  # USD per 1M tokens: 0.0001, 0.0002, 0.0003 USD per answer


def usd(model: str) -> float:
    price = PRICES[model]
    return (USAGE[0] * price["input"] + USAGE[1] * price["output"]) / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(root, **llm) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["llm"].update({"api_key_env": KEY_ENV, "max_retries": 1, "retry_base_s": 0.0, **llm})
    params["generate"].update({"backend": "openai", "per_scenario": 2, "utterances_per_request": 2, "scenarios_per_label": 1,
                               "hard_negatives_per_label": 0, "variation_per_seed": 0})
    params["filter"]["pii"]["enabled"] = False
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_an_unreachable_server_stops_dvc_repro_naming_it_and_connection_refused(tmp_path):
    root = copy_repo(tmp_path / "repo")
    url = f"http://127.0.0.1:{free_port()}/v1"
    configure(root, base_url=url)
    res = subprocess.run(["dvc", "repro"], cwd=root, env={**env(), KEY_ENV: "sk-e2e-unreachable"}, capture_output=True, text=True)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    [line] = [x for x in out.splitlines() if x.startswith("error:")]
    assert url in line and "connection refused" in line and "gpt-4o-mini" in line
    assert "Traceback" not in out and not (root / "data/candidates.parquet").exists()


def test_batch_mode_without_the_files_api_exits_3_with_one_line(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    with FakeOpenAI(files_api=False) as server:
        params["llm"].update({"base_url": server.base_url, "api_key_env": KEY_ENV, "batch": True})
        params["generate"].update({"backend": "openai", "scenarios_per_label": 1, "hard_negatives_per_label": 0})
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        seeds = tmp_path / "seeds.parquet"
        spec, p = load_spec(REPO / "spec/spec.yaml"), load_params(REPO / "params.yaml")
        load_labeled(REPO / p.prepare.seeds, "seed", p.prepare.columns, spec.label_names)[0].write_parquet(seeds)
        args = [sys.executable, str(REPO / "stages" / "generate.py"), "--params", str(tmp_path / "params.yaml"),
                "--spec", str(REPO / "spec/spec.yaml"), "--seeds", str(seeds), "--unlabeled", str(seeds),
                "--decisions", str(REPO / "data/review/decisions.csv"), "--prompts", str(REPO / "prompts"),
                "--llm-cache", str(tmp_path / "cache"), "--out", str(tmp_path / "c.parquet"), "--rejects", str(tmp_path / "r.parquet"),
                "--counts", str(tmp_path / "c.json")]
        res = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env={**env(), KEY_ENV: "sk-e2e-batch"})
    assert res.returncode == 3 and "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: batch mode:") and server.base_url in line and "HTTP 404" in line and "llm.batch: false" in line
    assert not (tmp_path / "c.parquet").exists()


class Priced:
    """FakeModel's answers with fixed token counts, and the answers counted per model."""

    def __init__(self, model: FakeModel):
        self.model, self.paid = model, {}

    def __call__(self, body: dict) -> dict:
        out = self.model(body)
        out["usage"] = {"prompt_tokens": USAGE[0], "completion_tokens": USAGE[1], "total_tokens": sum(USAGE)}
        self.paid[body["model"]] = self.paid.get(body["model"], 0) + 1
        return out


def test_one_budget_holds_across_generate_the_llm_critic_and_the_llm_consistency_gate(tmp_path):
    root = copy_repo(tmp_path / "repo")
    priced = Priced(FakeModel())
    budget, concurrency = 0.01, 2
    with FakeOpenAI({"/v1/chat/completions": priced}) as server:
        configure(root, base_url=server.base_url, model="gen-model", prices=PRICES, budget_usd=budget, max_concurrency=concurrency)
        params = yaml.safe_load((root / "params.yaml").read_text())
        params["filter"]["critic"].update({"backend": "openai", "model": "critic-model"})
        params["filter"]["consistency"].update({"backend": "openai", "model": "judge-model"})
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        # the stages that call an LLM, in one `dvc repro` (the rest of the pipeline calls none)
        res = subprocess.run(["dvc", "repro", "filter"], cwd=root, capture_output=True, text=True,
                             env={**env(), KEY_ENV: "sk-e2e-budget", "SYNTHKIT_TRACE": str(tmp_path / "trace")})
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    for stage in ("generate", "filter"):  # on the LLM path too, every params key the stage read is one dvc.yaml declares
        assert_trace_declared(tmp_path / "trace" / f"{stage}.json", root / "dvc.yaml", stage, EXECUTION_ONLY)
    spent = sum(n * usd(m) for m, n in priced.paid.items())
    in_flight = concurrency * max(usd(m) for m in PRICES)
    assert budget <= spent <= budget + in_flight  # the whole run stopped at the budget, give or take what was in flight
    assert priced.paid["gen-model"] > 0 and priced.paid["critic-model"] > 0 and priced.paid["judge-model"] > 0
    gen = json.loads((root / "reports/counts/generate.json").read_text())
    filt = json.loads((root / "reports/counts/filter.json").read_text())
    assert gen["llm"]["run_cost_usd"] == pytest.approx(priced.paid["gen-model"] * usd("gen-model")) and gen["not_run"] == 0
    assert "consistency_llm_budget_exhausted" in filt["rejected_by_reason"]  # rows left unjudged when the money ran out
    cost = cost_report({"generate": gen["llm"], "filter": filt["llm"]}, 0, budget)  # what the manifest stage writes to reports/cost.json
    assert cost["budget"]["budget_usd"] == budget and cost["budget"]["exhausted"] and cost["budget"]["not_run"] > 0
    assert cost["budget"]["spent_usd"] == pytest.approx(spent)
    assert cost["structured_output"] == {f"{server.base_url} {m}": "json_schema" for m in PRICES}

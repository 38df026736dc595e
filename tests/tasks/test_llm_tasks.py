"""The openai generate backend for extraction, rewrite and summarization against the local OpenAI-compatible server:
targets fixed before the request stay checkable by the type's gates, bad answers become generate rejects, reruns are free."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import threading

import polars as pl
import pytest
import yaml

from synthkit.config import Params
from synthkit.errors import InputError, ServiceError
from synthkit.prompts import chain_hash
from synthkit.spec import load_spec
from synthkit.tasks.extraction.target import gate_evidence, gate_schema
from synthkit.tasks.rewrite.gate import gate_rewrite
from synthkit.tasks.summarization.docs import load_docs, sentences
from synthkit.tasks.summarization.gate import gate_grounding
from tests.examples import docs_of, generate, prepared_seeds, write_seeds
from tests.openai_server import FakeOpenAI
from tests.repo_copy import REPO

KEY_ENV = "SYNTHKIT_TASK_LLM_TEST_KEY"
TYPES = ("extraction", "rewrite", "summarization")


def task_prompts(prompts_dir, kind: str):
    return importlib.import_module(f"synthkit.tasks.{kind}.llm").load_prompts(prompts_dir)


def quoted(user: str) -> str:
    """The last block between triple quotes of a prompt."""
    return re.findall(r'"""\n(.*?)\n"""', user, re.S)[-1]


class TaskModel:
    """Answers each task prompt with realistic JSON built from the prompt; `mode` forces a malformed or invalid answer
    to every `every`-th request (1: all of them); `bad` counts the answers it spoiled."""

    def __init__(self, mode: str = "ok", every: int = 1):
        self.mode, self.every = mode, every
        self.seen = self.bad = 0
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> dict:
        name = body["response_format"]["json_schema"]["name"]
        user = body["messages"][-1]["content"]
        with self.lock:
            self.seen += 1
            mode = self.mode if self.seen % self.every == 0 else "ok"
            self.bad += mode != "ok"
        if mode == "malformed":
            content = '{"message": "unterminated'
        elif mode == "schema_invalid":
            content = json.dumps({"unexpected": 1})
        elif name == "MessageAnswer":
            content = json.dumps({"message": f"hi, quick question. {quoted(user)} thanks"})
        elif name == "SourceAnswer":
            content = json.dumps({"source": quoted(user).lower().replace(",", "")})
        elif name == "SummaryAnswer":
            content = json.dumps({"summary": sentences(quoted(user))[0]})
        else:
            first = sentences(quoted(user))[0]
            content = json.dumps({"pairs": [{"question": "What does the document say first?", "answer": " ".join(first.split()[:6])}]})
        return {
            "id": "chatcmpl-task", "object": "chat.completion", "created": 0, "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }


def setup(kind: str, base_url: str | None, per_scenario: int = 3):
    ex = REPO / "examples" / kind
    raw = yaml.safe_load((ex / "params.yaml").read_text())
    raw["llm"] = {"base_url": base_url, "api_key_env": KEY_ENV, "max_retries": 0, "retry_base_s": 0.0, "max_concurrency": 4}
    raw["generate"] = {**raw["generate"], "backend": "openai", "per_scenario": per_scenario}
    params = Params.model_validate(raw)
    spec = load_spec(ex / "spec.yaml")
    return spec, params, prepared_seeds(kind), docs_of(kind)


def gate_reasons(kind: str, spec, params, frame: pl.DataFrame, docs) -> list[str | None]:
    texts, targets = frame["text"].to_list(), frame["target"].to_list()
    if kind == "extraction":
        verdicts = [a if a.reason else b for a, b in zip(gate_schema(targets, spec.section), gate_evidence(texts, targets, spec.section))]
    elif kind == "rewrite":
        verdicts = gate_rewrite(texts, targets, spec.section, params.task.section.length_ratio)
    else:
        verdicts = gate_grounding(frame, spec.section, load_docs(docs))
    return [v.reason for v in verdicts]


@pytest.mark.parametrize("kind", TYPES)
def test_openai_rows_carry_provenance_pass_the_gates_and_a_rerun_is_free(kind, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-tasks")
    with FakeOpenAI({"/v1/chat/completions": TaskModel()}) as server:
        spec, params, seeds, docs = setup(kind, server.base_url)
        first = generate(spec, params, seeds, docs, tmp_path)
        sent = len(server.requests)
        second = generate(spec, params, seeds, docs, tmp_path)
        assert len(server.requests) == sent > 0  # warm rerun: 0 requests
    assert first.candidates.equals(second.candidates) and second.ledger.sent == 0
    assert first.rejects.height == 0 and first.not_run == 0
    llm_rows = first.candidates.filter(pl.col("generator").struct.field("backend") == "openai")
    assert llm_rows.height > 0
    gen = llm_rows["generator"].struct.unnest()
    prompts = task_prompts(REPO / "prompts", kind)
    assert set(gen["model"]) == {params.llm.model} and set(gen["temperature"]) == {params.llm.temperature}
    assert set(gen["prompt_hash"]) <= {chain_hash(p) for p in prompts.values()}
    assert first.prompts == {f"{kind}/{n}.md": p.sha256 for n, p in prompts.items()}
    assert all(t for t in llm_rows["target"].to_list())
    reasons = gate_reasons(kind, spec, params, llm_rows, docs)
    assert reasons == [None] * llm_rows.height, [r for r in reasons if r]
    if kind == "extraction":
        assert "hard_negative" in set(llm_rows["family"]) or params.generate.per_scenario < 3
    if kind == "summarization":
        assert {spec.section.summary_label, spec.section.qa_label} == set(llm_rows["label"])


@pytest.mark.parametrize("kind", TYPES)
def test_a_wrong_target_from_the_model_is_caught_by_the_gate(kind, tmp_path, monkeypatch):
    """The gates are not a formality here: an answer that drops the fixed values fails them."""
    monkeypatch.setenv(KEY_ENV, "sk-test-tasks")

    class Wrong(TaskModel):
        def __call__(self, body):
            out = super().__call__(body)
            msg = out["choices"][0]["message"]
            obj = json.loads(msg["content"])
            key = next(iter(obj))
            if key == "pairs":
                obj["pairs"] = [{"question": "Who approved it?", "answer": "Approved by 987654 auditors"}]
            else:
                obj[key] = "something else entirely with 987654 in it"
            msg["content"] = json.dumps(obj)
            return out

    with FakeOpenAI({"/v1/chat/completions": Wrong()}) as server:
        spec, params, seeds, docs = setup(kind, server.base_url, per_scenario=2)
        out = generate(spec, params, seeds, docs, tmp_path)
    llm_rows = out.candidates.filter(pl.col("generator").struct.field("backend") == "openai")
    assert llm_rows.height > 0 and all(gate_reasons(kind, spec, params, llm_rows, docs))


@pytest.mark.parametrize(("mode", "reason"), [("malformed", "generate_malformed_json"), ("schema_invalid", "generate_schema_invalid")])
@pytest.mark.parametrize("kind", TYPES)
def test_bad_answers_become_generate_rejects(kind, mode, reason, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-tasks")
    model = TaskModel(mode, every=2)
    with FakeOpenAI({"/v1/chat/completions": model}) as server:
        spec, params, seeds, docs = setup(kind, server.base_url, per_scenario=2)
        out = generate(spec, params, seeds, docs, tmp_path)
        n = len(server.requests)
    llm_rows = out.candidates.filter(pl.col("generator").struct.field("backend") == "openai").height
    assert out.rejects.height == model.bad > 0 and llm_rows > 0
    assert llm_rows + out.rejects.height >= n  # every paid answer is a row (or several) or a reject: nothing lost
    assert set(out.rejects["reason"]) == {reason} and set(out.rejects["gate"]) == {"generate"}
    assert all(":" in d for d in out.rejects["detail"].to_list())


@pytest.mark.parametrize("kind", TYPES)
def test_no_llm_row_at_all_is_a_service_error_naming_server_model_and_cause(kind, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-tasks")
    with FakeOpenAI({"/v1/chat/completions": TaskModel("schema_invalid")}) as server:
        spec, params, seeds, docs = setup(kind, server.base_url, per_scenario=1)
        with pytest.raises(ServiceError) as err:
            generate(spec, params, seeds, docs, tmp_path)
    message = str(err.value)
    assert server.base_url in message and params.llm.model in message and "generate_schema_invalid" in message
    assert "\n" not in message


def test_failed_requests_become_request_failed_rejects(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-tasks")
    with FakeOpenAI({"/v1/chat/completions": TaskModel()}) as server:
        server.faults = [(500, {})] * 2
        spec, params, seeds, docs = setup("rewrite", server.base_url, per_scenario=2)
        params.llm.max_failure_rate = 1.0  # tolerated: each failure is a reject
        out = generate(spec, params, seeds, docs, tmp_path)
        with pytest.raises(ServiceError, match="HTTP 500: injected"):  # the default 0.2 stops the stage
            server.faults = [(500, {})] * 2
            generate(spec, setup("rewrite", server.base_url, per_scenario=2)[1], seeds, docs, tmp_path / "default")
    assert list(out.rejects["reason"]) == ["generate_request_failed"] * 2
    assert out.rejects["target"].null_count() == 0  # the fixed target stays with the reject


@pytest.mark.parametrize("kind", TYPES)
def test_prompt_variable_errors_name_the_file(kind, tmp_path):
    for src in (REPO / "prompts" / kind).glob("*.md"):
        (tmp_path / kind).mkdir(exist_ok=True)
        (tmp_path / kind / src.name).write_text(src.read_text())
    victim = sorted((tmp_path / kind).glob("*.md"))[0]
    victim.write_text(victim.read_text().replace("{{task_description}}", "{{task_descripton}}"))
    with pytest.raises(InputError) as err:
        task_prompts(tmp_path, kind)
    assert err.value.file.endswith(f"{kind}/{victim.name}") and err.value.field == "task_descripton"


@pytest.mark.parametrize("kind", TYPES)
def test_bundled_task_prompts_forbid_personal_data(kind):
    for prompt in task_prompts(REPO / "prompts", kind).values():
        assert "personal data" in prompt.text.lower() and "<!-- user -->" in prompt.text


def test_generate_stage_writes_rejects_and_a_funnel_that_adds_up(tmp_path, monkeypatch):
    ex = REPO / "examples" / "extraction"
    raw = yaml.safe_load((ex / "params.yaml").read_text())
    with FakeOpenAI({"/v1/chat/completions": TaskModel()}) as server:
        server.faults = [(500, {})]
        raw["llm"] = {**raw.get("llm", {}), "base_url": server.base_url, "api_key_env": KEY_ENV, "max_retries": 0}
        raw["generate"] = {**raw["generate"], "backend": "openai", "per_scenario": 2}
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
        args = [sys.executable, str(REPO / "stages" / "generate.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(ex / "spec.yaml"),
                "--seeds", str(write_seeds("extraction", tmp_path)), "--unlabeled", str(write_seeds("extraction", tmp_path)),
                "--decisions", str(ex / "data" / "review" / "decisions.csv"), "--out", str(tmp_path / "c.parquet"),
                "--counts", str(tmp_path / "c.json"), "--rejects", str(tmp_path / "r.parquet"),
                "--prompts", str(REPO / "prompts"), "--llm-cache", str(tmp_path / "cache")]
        res = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env={**os.environ, KEY_ENV: "sk-test-stage"})
    assert res.returncode == 0, res.stderr
    counts = json.loads((tmp_path / "c.json").read_text())
    cands, rejects = pl.read_parquet(tmp_path / "c.parquet"), pl.read_parquet(tmp_path / "r.parquet")
    assert counts["in"] == counts["kept"] + counts["rejected"] == cands.height + rejects.height
    assert counts["rejected_by_reason"] == {"generate_request_failed": 1} and counts["llm"]["sent"] > 0
    assert counts["by_backend"]["openai"] > 0 and set(counts["prompts"]) == {"extraction/message.md"}
    assert "sk-test-stage" not in (tmp_path / "c.json").read_text()

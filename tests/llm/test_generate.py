"""The openai generate backend, prompts and rounds against the local OpenAI-compatible server (in process)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

import synthkit.llm as llm_pkg
from synthkit.config import Params
from synthkit.errors import InputError, ServiceError
from synthkit.pipeline import generate_counts
from synthkit.tasks.classification.llm import Prompts
from synthkit.prompts import load_prompt, prompt_hashes
from synthkit.review import Decision
from synthkit.spec import load_spec
from tests.conftest import make_rows
from tests.examples import generate
from tests.llm.fake_llm import FakeModel, chat_routes
from tests.llm.outcomes import request_outcomes
from tests.openai_server import FakeOpenAI
from tests.repo_copy import REPO

KEY_ENV = "SYNTHKIT_GEN_TEST_KEY"


@pytest.fixture
def spec():
    return load_spec(REPO / "spec/spec.yaml")


@pytest.fixture
def seeds(spec):
    texts = [(f"real message {i} about {lab}", lab) for i, lab in enumerate(spec.label_names * 3)]
    return make_rows(texts, source="real", split="seed")


def params_for(base_url: str | None, **generate) -> Params:
    return Params.model_validate(
        {
            "llm": {"base_url": base_url, "api_key_env": KEY_ENV, "max_retries": 0, "retry_base_s": 0.0, "max_concurrency": 4,
                    "prices": {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}},
            "generate": {"backend": "openai", "per_scenario": 4, "utterances_per_request": 2, "scenarios_per_label": 2,
                         "hard_negatives_per_label": 1, "variation_per_seed": 0, "family_caps": {}, **generate},
        }
    )


@pytest.fixture
def recorded(monkeypatch):
    """Every (request, result) pair that went through synthkit.llm.run_requests."""
    calls: list[tuple] = []
    real = llm_pkg.run_requests

    def spy(requests, params, cache_dir, **kw):
        results, stats = real(requests, params, cache_dir, **kw)
        calls.extend(zip(requests, results))
        return results, stats

    monkeypatch.setattr(llm_pkg, "run_requests", spy)
    return calls


# ------------------------------------------------------------------------------------------------ prompts


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "classification").mkdir(exist_ok=True)
    path = tmp_path / "classification" / f"{name}.md"
    path.write_text(text)
    return path


def test_prompt_missing_variable_names_file_and_variable(tmp_path):
    _write(tmp_path, "p", "system {{task}}\n<!-- user -->\nWrite {{count}} about {{label}}")
    with pytest.raises(InputError) as err:
        load_prompt(tmp_path, "classification", "p", {"task", "count"})
    assert err.value.field == "label" and err.value.file.endswith("classification/p.md")


def test_prompt_unused_variable_names_file_and_variable(tmp_path):
    _write(tmp_path, "p", "Write {{count}}")
    with pytest.raises(InputError) as err:
        load_prompt(tmp_path, "classification", "p", {"count", "examples"})
    assert err.value.field == "examples" and "p.md" in str(err.value)


def test_prompt_renders_system_and_user_and_hashes_its_text(tmp_path):
    path = _write(tmp_path, "p", "You label {{ task }}.\n<!-- user -->\nWrite {{count}} for `{{label}}`")
    p = load_prompt(tmp_path, "classification", "p", {"task", "count", "label"})
    assert p.messages({"task": "tickets", "count": 3, "label": "x"}) == [
        {"role": "system", "content": "You label tickets."}, {"role": "user", "content": "Write 3 for `x`"}]
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputError):
        p.messages({"task": "tickets", "count": 3})  # a render must supply every variable too
    assert prompt_hashes(tmp_path, "classification") == {"classification/p.md": p.sha256}


def test_missing_template_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_prompt(tmp_path, "classification", "scenarios", set())


def test_bundled_prompts_state_rules_vary_channel_and_forbid_personal_data(spec):
    prompts = Prompts.load(REPO / "prompts", "classification")
    from synthkit.prompts import labels_text

    block = labels_text(spec, prompts.labels)
    for lab in spec.labels:
        assert lab.definition in block and all(rule in block for rule in lab.rules)
    text = prompts.scenarios.text.lower()
    for word in ("typical", "messy", "rare", "ambiguous", "channel", "personal data"):
        assert word in text, word
    assert "personal data" in prompts.utterances.text.lower() and "hard-negative" in prompts.hard_negatives.text.lower()


# ------------------------------------------------------------------------------------------------ generation


def test_openai_backend_rows_carry_provenance_and_a_rerun_is_free(spec, seeds, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-provenance")
    model = FakeModel()
    with FakeOpenAI(chat_routes(model)) as server:
        params = params_for(server.base_url)
        first = generate(spec, params, seeds, None, tmp_path, decisions={})
        sent = len(server.requests)
        second = generate(spec, params, seeds, None, tmp_path, decisions={})
        assert len(server.requests) == sent  # warm rerun: 0 requests
    assert first.candidates.height > 0 and first.rejects.height == 0
    assert first.candidates.equals(second.candidates)
    assert second.ledger.sent == 0 and second.ledger.cached == first.ledger.sent
    assert second.ledger.cost_usd == pytest.approx(first.ledger.cost_usd) and first.ledger.cost_usd > 0
    gen = first.candidates["generator"].struct.unnest()
    assert set(gen["backend"]) == {"openai"} and set(gen["model"]) == {"gpt-4o-mini"} and set(gen["temperature"]) == {0.9}
    hashes = Prompts.load(REPO / "prompts", "classification").hashes()
    assert first.prompts == {f"classification/{n}.md": h for n, h in hashes.items()} and all(len(h) == 16 for h in gen["prompt_hash"])
    assert set(first.candidates["label"]) == set(spec.label_names)
    assert {"hard_negative", "typical"} <= set(first.candidates["family"]) and set(first.candidates["round"]) == {1}
    typical = first.candidates.filter(pl.col("family") != "hard_negative")
    seed_ids = set(seeds["id"])
    assert all(p and set(p) <= seed_ids for p in typical["parent_ids"].to_list())  # the seeds shown in the prompt


def test_every_request_ends_as_candidates_or_a_reject_under_faults(spec, seeds, tmp_path, monkeypatch, recorded):
    monkeypatch.setenv(KEY_ENV, "sk-test-faults")
    model = FakeModel(faults={"malformed_json": 0.1, "schema_invalid": 0.05, "empty": 0.05, "unknown_label": 0.15})
    with FakeOpenAI(chat_routes(model)) as server:
        server.faults = [(500, {}), (429, {"Retry-After": "0"}), (503, {})] * 3  # max_retries 0: these end request_failed
        params = params_for(server.base_url)
        params.llm.max_failure_rate = 1.0  # tolerate them: each ends as a reject
        out = generate(spec, params, seeds, None, tmp_path, decisions={})
    reasons = set(out.rejects["reason"])
    assert {"generate_malformed_json", "generate_schema_invalid", "generate_request_failed", "generate_empty_text"} <= reasons
    assert all(r.startswith("generate_") for r in reasons) and set(out.rejects["gate"]) == {"generate"}
    details = out.rejects["detail"].to_list()
    for cid, made, rejected, res in request_outcomes(recorded, out.candidates, details):  # rows or a reject, never both
        assert made != rejected, (cid, res.error, made, rejected)
        if not res.ok:
            assert rejected
    assert len(out.rejects) >= 10 and out.candidates.height > 0


def test_budget_stops_cleanly_and_counts_what_did_not_run(spec, seeds, tmp_path, monkeypatch, recorded):
    monkeypatch.setenv(KEY_ENV, "sk-test-budget")
    with FakeOpenAI(chat_routes(FakeModel())) as server:
        params = params_for(server.base_url)
        params.llm.max_concurrency = 1
        full = generate(spec, params, seeds, None, tmp_path / "full", decisions={})
        most = max(res.cost_usd for _, res in recorded)  # the dearest request: what one request in flight may add
        params.llm.budget_usd = budget = round(full.ledger.run_cost_usd * 0.9, 6)
        before = len(server.requests)
        out = generate(spec, params, seeds, None, tmp_path / "capped", decisions={})
        sent = len(server.requests) - before
        params.llm.budget_usd = 0.0001
        with pytest.raises(ServiceError, match="budget_usd 0.0001 was spent before any row was made"):
            generate(spec, params, seeds, None, tmp_path / "tiny", decisions={})
    assert out.ledger.budget_exhausted and out.not_run > 0 and out.ledger.not_run >= out.not_run
    assert out.ledger.sent == sent < full.ledger.sent
    assert out.ledger.sent + out.ledger.not_run == full.ledger.sent  # requests never built count as not_run too
    assert 0 < out.candidates.height < full.candidates.height
    assert budget <= out.ledger.run_cost_usd <= budget + most
    assert "generate_budget_exhausted" not in set(out.rejects["reason"])  # not a reject: counted as not_run


def test_rounds_add_approved_candidates_to_the_seeds(spec, seeds, tmp_path):
    base = {"generate": {"per_scenario": 6, "variation_per_seed": 1}}
    one = generate(spec, Params.model_validate(base), seeds, None, tmp_path, decisions={})
    round1 = one.candidates.filter(pl.col("generator").struct.field("backend") == "template").sort("id")
    rejected_id = round1["id"][0]
    decisions = {rejected_id: Decision(id=rejected_id, decision="reject")}
    two = generate(spec, Params.model_validate({"generate": {**base["generate"], "rounds": 2}}), seeds, None, tmp_path, decisions=decisions)
    assert two.candidates.filter(pl.col("round") == 1)["id"].sort().equals(one.candidates["id"].sort())
    r2 = two.candidates.filter(pl.col("round") == 2)
    assert r2.height > 0 and 0 < two.approved_by_round["1"] < one.candidates.height
    parents = {p for ps in r2["parent_ids"].to_list() for p in ps}
    assert parents <= set(one.candidates["id"]) and rejected_id not in parents


def test_openai_rounds_feed_critic_approved_rows_back_as_examples(spec, seeds, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-rounds")
    model = FakeModel()
    with FakeOpenAI(chat_routes(model)) as server:
        params = params_for(server.base_url, rounds=2, scenarios_per_label=1, hard_negatives_per_label=0)
        params.generate.approve.critic = "openai"
        out = generate(spec, params, seeds, None, tmp_path / "a", decisions={})
        r1, r2 = (out.candidates.filter(pl.col("round") == r) for r in (1, 2))
        assert r1.height > 0 and r2.height > 0 and out.approved_by_round["1"] > 0
        critic_calls = [r for r in server.requests if r["body"]["response_format"]["json_schema"]["name"] == "CriticScores"]
        assert len(critic_calls) == r1.height  # only round 1 is screened: round 2 is the last
        parents = {p for ps in r2["parent_ids"].to_list() for p in ps}
        assert parents & set(r1["id"])  # approved round-1 rows are shown as examples in round 2

        model.critic_scores = {"": {"realism": 1, "label_correctness": 5, "specificity": 5, "reason": "robotic"}}
        strict = generate(spec, params, seeds, None, tmp_path / "b", decisions={})
    assert strict.approved_by_round == {"1": 0}
    parents = {p for ps in strict.candidates.filter(pl.col("round") == 2)["parent_ids"].to_list() for p in ps}
    assert parents <= set(seeds["id"])  # nothing approved: round 2 sees only the real seeds


# ------------------------------------------------------------------------------------------------ nothing paid is lost


def _units(name: str, content: str) -> int:
    """How many rows-or-rejects one paid answer must end as: one per item of a valid list, else one."""
    import json

    try:
        data = json.loads(content)
    except ValueError:
        return 1
    key = {"UtteranceList": "utterances", "ScenarioList": "scenarios"}.get(name)
    if key and isinstance(data, dict) and set(data) == {key} and isinstance(data[key], list):
        return max(len(data[key]), 1)
    return 1


def _requested(requests, prefix: str) -> list:
    return [req for req, _ in requests if req.custom_id.startswith(prefix)]


def test_a_faulty_runs_paid_answers_equal_llm_rows_plus_generate_rejects(spec, seeds, tmp_path, monkeypatch, recorded):
    monkeypatch.setenv(KEY_ENV, "sk-test-funnel")
    model = FakeModel(faults={"malformed_json": 0.08, "schema_invalid": 0.05, "empty": 0.05, "unknown_label": 0.1}, extra_items=1)
    caps = {"typical": 6, "short": 4, "messy": 4, "hard_negative": 5}
    with FakeOpenAI(chat_routes(model)) as server:
        params = params_for(server.base_url, family_caps=caps, per_scenario=6, utterances_per_request=2)
        params.llm.max_failure_rate = 1.0
        out = generate(spec, params, seeds, None, tmp_path, decisions={})
        counts = generate_counts(out)
    llm_rows = out.candidates.filter(pl.col("generator").struct.field("backend") == "openai")
    rejects = out.rejects
    from_phase = lambda phase: rejects.filter(pl.col("detail").str.starts_with(f"r1:{phase}:"))  # noqa: E731
    paid = {n: sum(_units(name, c) for name, c in model.log if name == n) for n in ("UtteranceList", "ScenarioList")}
    # utterances: every paid message is an LLM row or a generate reject
    assert paid["UtteranceList"] == llm_rows.height + from_phase("utterances").height
    # scenarios: every paid scenario is asked for its label, or rejected
    scenario_rejects = pl.concat([from_phase("scenarios"), from_phase("hard_negatives")])
    assert paid["ScenarioList"] == len(_requested(recorded, "r1:label:")) + scenario_rejects.height
    # labels: every paid label answer leads to utterance requests, or is rejected
    asked = {req.custom_id.split(":")[2] for req in _requested(recorded, "r1:utterances:")}
    assert len(_requested(recorded, "r1:label:")) == len(asked) + from_phase("label").height
    reasons = set(rejects["reason"])
    assert {"generate_family_cap", "generate_malformed_json", "generate_unknown_label", "generate_empty_text"} <= reasons
    assert counts["in"] == counts["kept"] + counts["rejected"] == out.candidates.height + rejects.height


def test_utterance_requests_are_planned_within_the_family_caps(spec, seeds, tmp_path, monkeypatch, recorded):
    monkeypatch.setenv(KEY_ENV, "sk-test-caps")
    caps = {"typical": 5, "short": 3, "long": 3, "messy": 3, "multilingual": 3, "ambiguous": 2, "hard_negative": 4}
    model = FakeModel(extra_items=1)  # answers one message more than asked
    with FakeOpenAI(chat_routes(model)) as server:
        out = generate(spec, params_for(server.base_url, family_caps=caps, per_scenario=6), seeds, None, tmp_path, decisions={})
    asked: dict[str, int] = {}
    for req in _requested(recorded, "r1:utterances:"):
        family = req.custom_id.split(":")[3]
        asked[family] = asked.get(family, 0) + req.schema["properties"]["utterances"]["maxItems"]
    assert asked and all(n <= caps[f] for f, n in asked.items())  # nothing asked beyond a cap
    kept = out.candidates.group_by("family").len()
    assert all(n <= caps[f] for f, n in kept.iter_rows())
    over = out.rejects.filter(pl.col("reason") == "generate_family_cap")
    assert over.height > 0 and set(over["gate"]) == {"generate"}  # the extra messages past a cap: rejects, not dropped
    from_utterances = out.rejects.filter(pl.col("detail").str.starts_with("r1:utterances:")).height
    assert out.candidates.height + from_utterances == sum(_units(n, c) for n, c in model.log if n == "UtteranceList")


def test_rows_keep_the_scenario_and_the_label_rationale_and_labels_are_asked_at_temperature_zero(spec, seeds, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-provenance")
    with FakeOpenAI(chat_routes(FakeModel())) as server:
        out = generate(spec, params_for(server.base_url), seeds, None, tmp_path, decisions={})
        bodies = [r["body"] for r in server.requests]
    prov = out.candidates["provenance"].struct.unnest()
    assert prov["scenario"].null_count() == 0 and prov["rationale"].null_count() == 0
    assert all(s.startswith(f"[{lab}]") for s, lab in zip(prov["scenario"], out.candidates["label"]))  # the fake's scenario text
    assert all(r.startswith("the first rule") for r in prov["rationale"])
    label_bodies = [b for b in bodies if b["messages"][-1]["content"].startswith("Which label")]
    assert label_bodies and all(b["temperature"] == 0.0 for b in label_bodies)
    enum = label_bodies[0]["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"]
    assert enum == spec.label_names
    assert {b["temperature"] for b in bodies if b["response_format"]["json_schema"]["name"] == "UtteranceList"} == {0.9}


def test_a_server_that_follows_the_schema_exactly_gives_labels_in_the_spec(spec, seeds, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-schema")
    with FakeOpenAI() as server:  # fills each answer from the request's JSON schema, enum choices included
        out = generate(spec, params_for(server.base_url), seeds, None, tmp_path, decisions={})
    assert "generate_unknown_label" not in set(out.rejects["reason"])
    assert out.candidates.height > 0 and set(out.candidates["label"]) <= set(spec.label_names)

"""LLM critic and LLM consistency gates against the local OpenAI-compatible server: must-reject and must-keep cases."""

from __future__ import annotations

import pytest

from synthkit.config import ConsistencyParams, CriticParams, FilterParams, LlmParams, Params
from synthkit.cost import CostLedger
from synthkit.gates.llm_consistency import gate_llm_consistency
from synthkit.gates.llm_critic import gate_llm_critic
from synthkit.spec import load_spec
from tests.conftest import make_rows
from tests.examples import filter_frame
from tests.llm.fake_llm import TOPIC, FakeModel, chat_routes
from tests.openai_server import FakeOpenAI
from tests.repo_copy import REPO

KEY_ENV = "SYNTHKIT_GATE_TEST_KEY"
PROMPTS = REPO / "prompts"


@pytest.fixture
def spec():
    return load_spec(REPO / "spec/spec.yaml")


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-gates")
    model = FakeModel(faults={})
    with FakeOpenAI(chat_routes(model)) as srv:
        srv.model = model
        yield srv


def llm(server) -> LlmParams:
    return LlmParams(base_url=server.base_url, api_key_env=KEY_ENV, max_retries=0, retry_base_s=0.0)


ROWS = [
    ("I was charged twice for Pro this month, please refund one of them", "refund_request"),
    ("As an AI language model I would like to request a refund", "refund_request"),
    ("hi, cancel my plan from next month please, keep this month's payment", "refund_request"),
    ("help with something", "billing_question"),
]


def test_llm_critic_rejects_low_scores_and_keeps_good_rows(spec, server, tmp_path):
    server.model.critic_scores = {
        "As an AI": {"realism": 1, "label_correctness": 5, "specificity": 4, "reason": "assistant talk"},
        "cancel my plan": {"realism": 5, "label_correctness": 2, "specificity": 4, "reason": "rules give cancel_subscription"},
        "help with something": {"realism": 4, "label_correctness": 4, "specificity": 1, "reason": "vague"},
    }
    frame = make_rows(ROWS)
    ledger = CostLedger()
    params = CriticParams(backend="openai")
    verdicts = gate_llm_critic(frame, spec, params, llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path, seed=1, ledger=ledger, progress=False)
    by_text = {t: v for t, v in zip(frame["text"].to_list(), verdicts)}
    assert by_text[ROWS[0][0]].reason is None
    assert by_text[ROWS[1][0]].reason == "critic_llm_unrealistic" and "realism=1" in by_text[ROWS[1][0]].detail
    assert by_text[ROWS[2][0]].reason == "critic_llm_wrong_label"
    assert by_text[ROWS[3][0]].reason == "critic_llm_vague"
    assert ledger.sent == 4 and ledger.requests == 4
    # thresholds come from params: a lenient critic keeps the vague one
    lenient = gate_llm_critic(frame, spec, CriticParams(backend="openai", min_specificity=1), llm(server), prompts_dir=PROMPTS,
                              cache_dir=tmp_path, seed=1, progress=False)
    assert [v.reason for v in lenient][3] is None
    sent = len(server.requests)
    gate_llm_critic(frame, spec, params, llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path, seed=1, progress=False)
    assert len(server.requests) == sent  # cached
    # the offline backend never calls the server
    assert all(v.reason is None for v in gate_llm_critic(frame, spec, CriticParams(), llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path, seed=1))
    assert len(server.requests) == sent


def test_llm_critic_failures_are_rejects_with_a_reason(spec, server, tmp_path):
    server.model.faults = {"malformed_json": 0.5, "schema_invalid": 0.5}
    frame = make_rows(ROWS)
    verdicts = gate_llm_critic(frame, spec, CriticParams(backend="openai"), llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path, seed=1, progress=False)
    assert {v.reason for v in verdicts} <= {"critic_llm_malformed_json", "critic_llm_schema_invalid"} and all(v.reason for v in verdicts)
    server.model.faults = {}
    server.model.critic_scores = {"": {"realism": 9, "label_correctness": 5, "specificity": 5, "reason": "x"}}
    out = gate_llm_critic(frame, spec, CriticParams(backend="openai"), llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path / "b", seed=1, progress=False)
    assert {v.reason for v in out} == {"critic_llm_schema_invalid"}  # scores outside 1-5


def test_llm_consistency_rejects_disagreement_and_keeps_agreement(spec, server, tmp_path):
    frame = make_rows([(TOPIC["refund_request"], "refund_request"), (TOPIC["order_status"], "refund_request"), ("anything at all", "billing_question")])
    server.model.relabel = {"anything at all": "no_such_label"}
    params = ConsistencyParams(backend="openai", model="relabel-model")
    verdicts = gate_llm_consistency(frame, spec, params, llm(server), prompts_dir=PROMPTS, cache_dir=tmp_path, seed=1, progress=False)
    assert verdicts[0].reason is None
    assert verdicts[1].reason == "consistency_llm_disagree" and "predicted=order_status" in verdicts[1].detail
    assert verdicts[2].reason == "consistency_llm_unknown_label"
    assert {r["body"]["model"] for r in server.requests} == {"relabel-model"}  # the gate's own model
    system = server.requests[0]["body"]["messages"][0]["content"]
    assert "rules override" in system and spec.labels[0].definition in system  # the relabel prompt, not the generator's


def test_filter_runs_llm_gates_after_the_offline_checks_and_humans_override(spec, server, tmp_path):
    import polars as pl

    rows = make_rows([
        (TOPIC["refund_request"] + " today", "refund_request"),
        ("As an AI language model I cannot be charged twice", "refund_request"),  # offline critic: boilerplate
        (TOPIC["order_status"] + " again", "refund_request"),  # relabel disagrees
        (TOPIC["technical_bug"] + " since Monday", "refund_request"),  # relabel disagrees, but a human accepted it
    ])
    from synthkit.review import Decision

    accepted = rows["id"][3]
    params = FilterParams.model_validate({"pii": {"enabled": False}, "toxicity": {"enabled": False},
                                          "critic": {"backend": "openai", "length_outlier": False, "repeated_opening": False},
                                          "consistency": {"backend": "openai"}})
    ledger = CostLedger()
    seeds = make_rows([("x", "refund_request")], source="real", split="seed")
    kept, rejects = filter_frame(spec, Params(seed=1, filter=params, llm=llm(server)), rows, seeds,
                                 {accepted: Decision(id=accepted, decision="accept")}, cache_dir=tmp_path, ledger=ledger, prompts_dir=PROMPTS)
    reasons = dict(zip(rejects["text"].to_list(), rejects["reason"].to_list()))
    assert reasons[rows["text"][1]] == "critic_boilerplate"
    assert reasons[rows["text"][2]] == "consistency_llm_disagree"
    assert set(kept["id"]) == {rows["id"][0], accepted}
    critic_texts = [r["body"]["messages"][-1]["content"] for r in server.requests if r["body"]["response_format"]["json_schema"]["name"] == "CriticScores"]
    assert len(critic_texts) == 3 and not any("As an AI" in t for t in critic_texts)  # the LLM critic runs after the offline checks
    assert ledger.requests == 6 and kept.height + rejects.height == rows.height
    assert pl.Series(rejects["gate"]).is_in(["critic", "consistency"]).all()

"""The toxicity gate's openai_moderation backend against a local OpenAI-compatible server (real sockets, real client)."""

from __future__ import annotations

import pytest

from synthkit.config import LlmParams, ToxicityParams
from synthkit.errors import InputError, ServiceError
from synthkit.gates.toxicity import MODERATION_BATCH, gate_toxicity
from tests.openai_server import FakeOpenAI

CATEGORIES = ["harassment", "hate", "self-harm", "sexual", "violence"]


def moderations(body: dict) -> dict:
    """Flag texts containing 'hateful'; score 'rude' texts 0.85 on harassment without flagging them."""
    results = []
    for text in body["input"]:
        scores = {c: 0.01 for c in CATEGORIES}
        if "rude" in text:
            scores["harassment"] = 0.85
        flagged = "hateful" in text
        results.append({"flagged": flagged, "categories": {c: flagged and c == "hate" for c in CATEGORIES}, "category_scores": scores})
    return {"id": "modr-1", "model": body.get("model", ""), "results": results}


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_TEST_KEY", "sk-test-secret-123")
    with FakeOpenAI({"/v1/moderations": moderations}) as srv:
        yield srv


def _llm(server, **kw) -> LlmParams:
    return LlmParams(base_url=server.base_url, api_key_env="SYNTHKIT_TEST_KEY", timeout_s=5, **kw)


def test_flags_and_scores_decide(server):
    params = ToxicityParams(backend="openai_moderation", threshold=0.8)
    texts = ["where is my order", "a hateful message", "a rude message", "refund please"]
    verdicts = gate_toxicity(texts, params, _llm(server))
    assert [v.reason for v in verdicts] == [None, "toxicity_flagged", "toxicity_flagged", None]
    assert "harassment" in verdicts[2].detail
    assert server.auth_headers == ["Bearer sk-test-secret-123"]
    assert all("sk-test" not in v.detail for v in verdicts)
    # a higher threshold keeps the merely rude text; the server's own flag still drops the hateful one
    assert [v.reason for v in gate_toxicity(texts, params.model_copy(update={"threshold": 0.9}), _llm(server))] == [None, "toxicity_flagged", None, None]


def test_batches_requests(server):
    texts = [f"message {i}" for i in range(MODERATION_BATCH * 2 + 1)]
    assert all(v.reason is None for v in gate_toxicity(texts, ToxicityParams(backend="openai_moderation"), _llm(server)))
    assert [len(r["body"]["input"]) for r in server.requests] == [MODERATION_BATCH, MODERATION_BATCH, 1]


def test_retries_429_and_5xx_then_succeeds(server):
    server.faults = [(429, {"Retry-After": "0"}), (500, {})]
    verdicts = gate_toxicity(["a hateful message"], ToxicityParams(backend="openai_moderation"), _llm(server, max_retries=3))
    assert verdicts[0].reason == "toxicity_flagged" and len(server.requests) == 3


def test_persistent_failure_is_a_service_error(server):
    server.faults = [(500, {})] * 5
    with pytest.raises(ServiceError) as err:
        gate_toxicity(["x"], ToxicityParams(backend="openai_moderation"), _llm(server, max_retries=1))
    assert server.base_url in str(err.value) and "omni-moderation-latest" in str(err.value) and "HTTP 500" in str(err.value)


def test_missing_key_names_the_params_field(monkeypatch):
    monkeypatch.delenv("SYNTHKIT_ABSENT_KEY", raising=False)
    with pytest.raises(InputError) as info:
        gate_toxicity(["x"], ToxicityParams(backend="openai_moderation"), LlmParams(api_key_env="SYNTHKIT_ABSENT_KEY"))
    assert info.value.field == "llm.api_key_env" and "SYNTHKIT_ABSENT_KEY is not set" in str(info.value)

"""Offline critic gate: hard cases that must be rejected, near misses that must be kept, each check switchable."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from synthkit.gates.base import KEEP
from synthkit.gates.critic import CriticParams, gate_critic, length_bounds, opening

SEEDS = [
    "my refund hasn't arrived yet",
    "where is my order",
    "I was charged twice for the same order, please fix it",
    "cannot log in after resetting my password",
    "the app crashes when I open settings on my phone",
    "please cancel my subscription before the next billing date",
    "how do I change the email on my account",
    "package says delivered but nothing is here",
    "can you add dark mode to the desktop app",
    "my card was declined but the money left my account",
    "hi, I need a copy of last month's invoice for my records",
    "order arrived damaged, the box was crushed",
]  # word counts 4-12: q05 4.55, q95 11.45; widened by 2: allowed 2-23 with the defaults

ONLY = {k: False for k in ("template_residue", "repeated_opening", "boilerplate", "length_outlier", "label_leak")}


def _params(check: str | None = None, **kw) -> CriticParams:
    flags = dict(ONLY)
    if check:
        flags[check] = True
    return CriticParams(**{**flags, **kw})


def _frame(texts: list[str], labels: list[str] | None = None) -> pl.DataFrame:
    labels = labels or ["refund_request"] * len(texts)
    return pl.DataFrame({"id": [f"id{i:04d}" for i in range(len(texts))], "text": texts, "label": labels})


def _reasons(texts, params, labels=None, seeds=SEEDS):
    return [v.reason for v in gate_critic(_frame(texts, labels), seeds, params)]


@pytest.mark.parametrize(
    "text",
    [
        "hi {customer_name}, my order is late",
        "my order {{order_no}} never came",
        "refund ${amount} please",
        "I paid %s for it",
        "Hello <placeholder>, where is my parcel",
        "my name is <customer name> and I want a refund",
        "Regards, [Your Name]",
        "refund for [insert product] please",
        "Lorem ipsum dolor sit amet, refund me",
        "TODO: write a complaint about the delivery",
        "where is my order order from last week",
        "I want a refund refund",
        "Thanks Thanks for the help",
        "PLACEHOLDER",
    ],
)
def test_template_residue_is_rejected(text):
    (v,) = gate_critic(_frame([text]), SEEDS, _params("template_residue"))
    assert v.reason == "critic_template_residue", text
    assert v.detail


@pytest.mark.parametrize(
    "text",
    [
        "call me at <PHONE_NUMBER> about the refund",  # the PII gate's redaction token
        "what is on my todo list",  # lower-case "todo" is a real request
        "I had had enough of waiting",
        "bye bye, cancel it",
        "Cancel cancel cancel. I already cancelled",  # emphasis, not a doubled slot
        "that that is wrong is obvious",
        "the price went from {1} to... wait, no, it is $5",  # a brace around a digit is not a slot name
        "order 55120 55120 was charged twice",  # repeated numbers are an order number pasted twice
        "5 < 6 > 4 doesn't matter, refund please",
        "I'd like a refund [urgent]",
        "will you add what i'm listening to to my playlist",  # closed-class words double across a phrase boundary
        "what is going on on fb today",
        "book me one one way ticket",
        "go back the the settings you had",  # an ordinary typo, not a slot artifact
        'play the song with the lyrics "baby shark, doo doo"',  # quoted text is verbatim
    ],
)
def test_template_residue_near_misses_are_kept(text):
    assert gate_critic(_frame([text]), SEEDS, _params("template_residue")) == [KEEP], text


@pytest.mark.parametrize(
    "text",
    [
        "As an AI language model, I cannot feel, but my order is late",
        "I hope this message finds you well. My refund has not arrived.",
        "Certainly! Here is a customer message: my refund is late",
        "Sure, here are 5 variations of the request",
        "I'd be happy to help with your refund",
        "I would be glad to assist you with that",
        "Here's a paraphrase: where is my money",
        "I'm just an AI assistant, but here goes: refund me",
        "I hope this helps! Let me know if you have any other questions.",
        "Feel free to reach out if you need anything else",
    ],
)
def test_boilerplate_is_rejected(text):
    (v,) = gate_critic(_frame([text]), SEEDS, _params("boilerplate"))
    assert v.reason == "critic_boilerplate", text


@pytest.mark.parametrize(
    "text",
    [
        "the AI assistant in your app gave me a wrong answer",
        "Certainly not happy with this service",
        "I'd be happy to pay the difference",
        "Sure, go ahead and cancel it",
        "here is my order number: 55120",
        "let me know if you need my address",
        "I hope this gets fixed soon",
        "Is your chatbot an AI?",
    ],
)
def test_boilerplate_near_misses_are_kept(text):
    assert gate_critic(_frame([text]), SEEDS, _params("boilerplate")) == [KEEP], text


def test_extra_boilerplate_patterns():
    params = _params("boilerplate", extra_boilerplate=[r"\bnorthwind assistant\b"])
    assert _reasons(["hello from the Northwind Assistant"], params) == ["critic_boilerplate"]
    with pytest.raises(ValidationError):
        CriticParams(extra_boilerplate=["(unclosed"])


def test_a_word_the_seeds_double_is_no_artifact():
    params = _params("template_residue")
    text = "tell me a knock knock joke"
    assert _reasons([text, "where is my parcel parcel"], params) == ["critic_template_residue", "critic_template_residue"]
    assert _reasons([text, "where is my parcel parcel"], params, seeds=[*SEEDS, "any good knock knock jokes?"]) == [None, "critic_template_residue"]


def test_label_leak():
    labels = ["refund_request", "cancel_subscription", "billing"]
    texts = [
        "refund_request: my money is gone",
        "I need a refund request for order 5",
        "Refund-Request please",
        "how to cancel subscription",  # another label's words: also a leak
        "please request a refund",  # different order: kept
        "my refund was requested last week",  # "requested" is not "request"
        "question about billing",  # one-word labels are ordinary words: not checked by default
    ]
    params = _params("label_leak")
    assert _reasons(texts, params, labels=labels + ["billing"] * 4) == [
        "critic_label_leak", "critic_label_leak", "critic_label_leak", "critic_label_leak", None, None, None,
    ]  # fmt: skip
    (v,) = gate_critic(_frame(["how to cancel subscription"], ["billing"]).vstack(_frame(["x y"], ["cancel_subscription"]))[:1], SEEDS, params)
    assert v.reason is None  # labels come from the frame: here only "billing"
    spaced_off = _params("label_leak", label_leak_spaced=False)
    assert _reasons(["refund request", "refund_request", "refund-request"], spaced_off) == [None, "critic_label_leak", None]
    carry = ["what are the carry-on rules", "carry_on: what are the rules"]
    assert _reasons(carry, spaced_off, labels=["carry_on", "carry_on"]) == [None, "critic_label_leak"]  # "carry-on" is English
    one_word = _params("label_leak", min_label_words=1)
    assert _reasons(["question about billing"], one_word, labels=["billing"]) == ["critic_label_leak"]


def test_length_outlier_uses_widened_seed_quantiles():
    assert length_bounds(SEEDS, CriticParams()) == (2, 24)  # half the shortest seed, twice the longest
    assert length_bounds([*SEEDS, "refund"], CriticParams()) == (0, 24)  # a one-word seed: one-word texts are real
    params = _params("length_outlier", length_quantiles=(0.05, 0.95))
    long = " ".join(["word"] * 24)
    ok_long = " ".join(["word"] * 23)
    assert _reasons([long, ok_long, "refund it", "refund"], params) == ["critic_length_outlier", None, None, "critic_length_outlier"]
    narrow = _params("length_outlier", length_widen=1.0, length_quantiles=(0.0, 1.0))
    assert _reasons(["refund", "where is my order"], narrow) == ["critic_length_outlier", None]
    assert _reasons([long], params, seeds=SEEDS[:3]) == [None]  # too few seeds: no check
    with pytest.raises(ValidationError):
        CriticParams(length_quantiles=(0.9, 0.1))


def test_repeated_opening_drops_the_excess_by_id():
    same = [f"I want to cancel my plan {i}" for i in range(6)]
    other = [f"unrelated message number {i} about things" for i in range(14)]
    texts = same + other
    ids = [f"id{(7 * i) % 20:04d}" for i in range(20)]  # ids not in row order
    df = pl.DataFrame({"id": ids, "text": texts, "label": ["x"] * 20})
    params = _params("repeated_opening", opening_words=4, max_opening_share=0.15)  # cap: 3 of 20
    verdicts = gate_critic(df, SEEDS, params)
    dropped = [i for i, v in enumerate(verdicts) if v.reason == "critic_repeated_opening"]
    kept_same = sorted(ids[i] for i in range(6) if i not in dropped)
    assert len(dropped) == 3 and all(i < 6 for i in dropped)
    assert kept_same == sorted(ids[:6])[:3]  # the smallest ids survive
    # the same frame in another row order gives the same decision per id
    shuffled = df.reverse()
    again = gate_critic(shuffled, SEEDS, params)
    assert {i for i, v in zip(shuffled["id"], again) if v.reason} == {ids[i] for i in dropped}
    # under the share nothing is dropped; openings are normalized (case, punctuation)
    assert set(_reasons(["Hi, where is it?", "hi where is it now", "HI! Where is it", "x y z w v"], _params("repeated_opening", max_opening_share=0.75))) == {None}
    assert _reasons(["Hi, where is it?", "hi where is it now"], _params("repeated_opening", max_opening_share=0.5)) == [None, "critic_repeated_opening"]


def test_opening():
    assert opening("Hi!! I can't log-in", 4) == "hi i can't log"
    assert opening("too short", 4) is None


def test_first_reason_wins_and_rejected_rows_do_not_count_for_openings():
    texts = ["As an AI, {slot} here", "As an AI I refund", "As an AI I refund you"]
    params = CriticParams(max_opening_share=0.34, min_seeds=100)
    assert _reasons(texts, params) == ["critic_template_residue", "critic_boilerplate", "critic_boilerplate"]


def test_default_params_keep_ordinary_messages():
    texts = SEEDS + ["Subject: refund\n\nHello,\n\nmy refund is late\n\nThanks", "Agent: how can I help?\nCustomer: where is my order"]
    assert set(_reasons(texts, CriticParams(), labels=["refund_request"] * len(texts))) == {None}


def test_disabled_and_empty():
    assert gate_critic(_frame(["As an AI {x}"]), SEEDS, CriticParams(enabled=False)) == [KEEP]
    assert gate_critic(_frame([]), SEEDS, CriticParams()) == []


def test_unknown_param_is_rejected():
    with pytest.raises(ValidationError):
        CriticParams(max_openig_share=0.2)


def test_reasons_fit_split_verdicts():
    from synthkit.gates.base import split_verdicts

    df = _frame(["As an AI I can help", "where is my order"])
    verdicts = gate_critic(df, SEEDS, CriticParams())
    assert [v.reason for v in verdicts] == ["critic_boilerplate", None]
    assert all(v.reason is None or v.reason.startswith("critic_") for v in verdicts)
    assert split_verdicts  # the stage applies them with gate="critic"

"""The critic's vectorized screen: a superset of every regex it stands for, and the same verdicts as without it."""

from __future__ import annotations

import re

import polars as pl
import pytest

from benchmarks.corpus import generate_candidates
from synthkit.gates.critic import _BOILERPLATE, _RESIDUE, _RESIDUE_SCREEN, CriticParams, _label_patterns, _label_screen, gate_critic

SEEDS = ["where is my order", "please refund the charge from last week", "I cannot log in to my account"] * 5
LABELS = ["refund_request", "cancel-subscription", "login_problem", "order.status", "c++_bug"]

TRICKY = [
    "hi {customer_name}, my order is late", "my order {{ order_no }} never came", "refund ${amount} please",
    "I paid %s for it", "I paid 5%s for it", "a%sb", "%(name)s wrote", "Hello <placeholder>, where is it",
    "Hello <PHONE_NUMBER>, where is it", "Regards, [Your Name]", "[insert product] broke", "[xxx] here",
    "Lorem ipsum dolor", "LOREM IPSUM", "TODO: write", "my todo list", "PLACEHOLDER", "INSERT_DATE please",
    "NAME_HERE", "placeholder text", "order order", "Order order", "order  order", "order\norder", "order order order",
    "had had", "a a", "an ana", "As an AI language model, here", "as a.i.", "I'm just an AI", "I am a virtual assistant",
    "I hope this message finds you well", "Sure! Here's", "Here are 5 variations", "here is the customer message",
    "I'd be happy to help", "feel free to reach out", "Let me know if you have any other questions", "great question",
    "Note: this is a synthetic", "my refund_request is pending", "REFUND-REQUEST", "refund_requests", "xrefund_request",
    "refund request", "cancel_subscription now", "login-problem", "order_status", "c++-bug", "c_bug",
    # outside printable ASCII: the screen passes these to the per-text checks
    "ｒｅｆｕｎｄ＿ｒｅｑｕｅｓｔ", "ﬁle ﬁle", "straße straße", "Kelvin \u212a", "\u017fure! here's", "order\x1corder",
    "café café", "naïve {slot}", "tab\tTODO", "\u00a0As an AI",
]  # fmt: skip


def _frame(texts: list[str], labels: list[str] | None = None) -> pl.DataFrame:
    labels = labels or [LABELS[i % len(LABELS)] for i in range(len(texts))]
    return pl.DataFrame({"id": [f"r{i:06d}" for i in range(len(texts))], "text": texts, "label": labels})


def _plain(text: str) -> bool:
    return re.search(r"[^\t\n\r\x20-\x7e]", text) is None


def _rust(pattern: str, texts: list[str]) -> list[bool]:
    return pl.Series(texts).str.contains(pattern).to_list()


@pytest.mark.parametrize("i", range(len(_RESIDUE)))
def test_residue_screen_is_a_superset(i: int) -> None:
    texts = [t for t in TRICKY if _plain(t)]
    hits = [bool(_RESIDUE[i][1].search(t)) for t in texts]
    assert any(hits)
    assert all(s for h, s in zip(hits, _rust(_RESIDUE_SCREEN[i], texts)) if h)


def test_boilerplate_and_label_screens_are_supersets() -> None:
    texts = [t for t in TRICKY if _plain(t)]
    combined = "(?i)" + "|".join(f"(?:{p})" for p in _BOILERPLATE)
    python = [any(re.search(p, t, re.IGNORECASE) for p in _BOILERPLATE) for t in texts]
    assert sum(python) >= 8
    assert all(s for h, s in zip(python, _rust(combined, texts)) if h)
    for spaced in (False, True):
        leaks = _label_patterns(LABELS, 2, spaced)
        screens = _label_screen(LABELS, 2, spaced)
        assert len(leaks) == len(screens) == len(LABELS)
        for (_, p), s in zip(leaks, screens):
            assert all(r for t, r in zip(texts, _rust(s, texts)) if p.search(t))


@pytest.mark.parametrize(
    "params",
    [
        CriticParams(),
        CriticParams(label_leak_spaced=True, max_opening_share=0.01, opening_words=2),
        CriticParams(extra_boilerplate=[r"(?<=\s)please\b"], doubled_word_allow=[]),
        CriticParams(template_residue=False, length_outlier=False),
    ],
)
def test_screened_verdicts_equal_unscreened_on_tricky_texts(params: CriticParams) -> None:
    df = _frame(TRICKY * 3)
    screened = gate_critic(df, SEEDS, params)
    assert screened == gate_critic(df, SEEDS, params, screen=False)
    assert sum(v.reason is not None for v in screened) > 30


def test_screened_verdicts_equal_unscreened_on_the_benchmark_corpus() -> None:
    df, planted = generate_candidates(20_000, seed=5)
    params = CriticParams()
    screened = gate_critic(df, SEEDS * 4, params)
    assert screened == gate_critic(df, SEEDS * 4, params, screen=False)
    assert sum(v.reason == "critic_boilerplate" for v in screened) > planted["artifact"] // 4


def test_screen_batches_do_not_change_verdicts(monkeypatch) -> None:
    import synthkit.gates.critic as critic

    df = _frame(TRICKY * 2)
    params = CriticParams(max_opening_share=0.02, opening_words=2)
    whole = gate_critic(df, SEEDS, params)
    monkeypatch.setattr(critic, "SCREEN_BATCH", 7)
    assert gate_critic(df, SEEDS, params) == whole == gate_critic(df, SEEDS, params, screen=False)

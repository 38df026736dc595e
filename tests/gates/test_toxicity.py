"""Toxicity gate: offensive texts dropped with the reason, ordinary support messages kept."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from synthkit.config import ToxicityParams
from synthkit.gates.base import KEEP
from synthkit.gates.toxicity import gate_toxicity, toxicity_versions


def test_import_does_not_load_the_model():
    code = "import sys, synthkit.gates.toxicity; print('profanity_check' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    "text",
    ["you are a fucking idiot", "this shit app is garbage, fuck you", "you stupid moron"],
)
def test_offensive_texts_are_dropped(text):
    (v,) = gate_toxicity([text], ToxicityParams())
    assert v.reason == "toxicity_offensive"
    assert re.fullmatch(r"word=[a-z]+ p=\d\.\d{3}", v.detail)


def test_the_verdict_names_the_word_that_weighs_most():
    texts = ["you are a fucking idiot", "how do I get my card out of the stupid machine", "refund me now you morons"]
    words = [v.detail.split()[0] for v in gate_toxicity(texts, ToxicityParams(threshold=0.5))]
    assert words == ["word=fucking", "word=stupid", "word=morons"]


@pytest.mark.parametrize(
    "text",
    ["my refund hasn't arrived", "the app crashes when I open settings", "cancel my plan please", ""],
)
def test_support_messages_are_kept(text):
    assert gate_toxicity([text], ToxicityParams()) == [KEEP]


def test_one_mild_word_no_longer_decides_a_short_command():
    polite = ["please shut off.", "could you please shut down.", "shut the blinds"]
    assert [v.reason for v in gate_toxicity(polite, ToxicityParams(min_words=0))] == ["toxicity_offensive"] * 3  # the bare model
    assert gate_toxicity(polite, ToxicityParams()) == [KEEP] * 3
    assert [v.reason for v in gate_toxicity(["fuck you", "you idiot"], ToxicityParams())] == ["toxicity_offensive"] * 2  # short and offensive


@pytest.mark.parametrize(("threshold", "reason"), [(0.5, "toxicity_offensive"), (0.999, None)])
def test_threshold_changes_the_outcome(threshold, reason):
    (v,) = gate_toxicity(["damn it"], ToxicityParams(threshold=threshold))
    assert v.reason == reason


def test_one_verdict_per_text_in_order():
    texts = ["cancel my plan please", "you are a fucking idiot", "the app crashes when I open settings"]
    assert [v.reason for v in gate_toxicity(texts, ToxicityParams())] == [None, "toxicity_offensive", None]


def test_empty_list():
    assert gate_toxicity([], ToxicityParams()) == []


def test_disabled_keeps_everything():
    assert gate_toxicity(["you are a fucking idiot", "ok"], ToxicityParams(enabled=False)) == [KEEP, KEEP]


def test_versions():
    assert set(toxicity_versions()) == {"alt-profanity-check", "scikit-learn"}

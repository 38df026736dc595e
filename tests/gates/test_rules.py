import polars as pl
import pytest

from synthkit.gates.base import split_verdicts
from synthkit.gates.rules import gate_format, gate_rules
from tests.conftest import make_rows


def test_format_gate_reasons(rows):
    df = rows([("fine text", "refund_request"), ("tab\x07bell", "refund_request"), ("  ", "refund_request")])
    dicts = df.to_dicts()
    dicts.append({**dicts[0], "source": "made_up"})
    reasons = [v.reason for v in gate_format(dicts)]
    assert reasons == [None, "format_control_characters", "format_blank_text", "format_invalid_source"]


@pytest.mark.parametrize(
    "text,label,family,channel,reason",
    [
        ("refund me please", "refund_request", "typical", "chat", None),
        ("refund me please", "ghost_label", "typical", "chat", "rule_unknown_label"),
        ("refund me please", "refund_request", "poetry", "chat", "rule_unknown_family"),
        ("refund me please", "refund_request", "typical", "fax", "rule_unknown_channel"),
        ("r", "refund_request", "typical", "chat", "rule_too_short"),
        ("x" * 3000, "refund_request", "typical", "chat", "rule_too_long"),
        ("refund my {plan} please", "refund_request", "typical", "chat", "rule_forbidden_pattern"),
    ],
)
def test_rule_gate_reasons(spec, text, label, family, channel, reason):
    df = make_rows([(text, label)], family=family, channel=channel)
    [verdict] = gate_rules(df, spec)
    assert verdict.reason == reason


def test_rule_gate_length_override(spec):
    df = make_rows([("refund me please", "refund_request")])
    assert gate_rules(df, spec, max_chars=5)[0].reason == "rule_too_long"


def test_split_verdicts_keeps_everything(spec):
    df = make_rows([("ok text", "refund_request"), ("bad", "ghost")])
    kept, rejects = split_verdicts(df, gate_rules(df, spec), "rule")
    assert kept.height + rejects.height == df.height
    assert rejects.select("gate", "reason").row(0) == ("rule", "rule_unknown_label")


def test_split_verdicts_requires_prefixed_reasons():
    from synthkit.gates.base import Verdict

    df = make_rows([("x y", "a")])
    with pytest.raises(ValueError, match="must start with 'rule_'"):
        split_verdicts(df, [Verdict("bad_reason")], "rule")
    with pytest.raises(ValueError, match="verdicts"):
        split_verdicts(df, [], "rule")
    kept, _ = split_verdicts(df, [Verdict(text="replaced")], "rule")
    assert kept["text"].to_list() == ["replaced"]
    assert isinstance(kept, pl.DataFrame)


def test_format_gate_reads_a_frame_in_batches(rows, monkeypatch):
    import synthkit.gates.rules as rules

    texts = [("fine text", "refund_request"), ("tab\x07bell", "refund_request"), ("  ", "refund_request")] * 5
    df = rows(texts)
    expected = [v.reason for v in gate_format(df.to_dicts())]
    monkeypatch.setattr(rules, "FORMAT_BATCH", 4)
    assert [v.reason for v in gate_format(df)] == expected
    assert expected[:3] == [None, "format_control_characters", "format_blank_text"]

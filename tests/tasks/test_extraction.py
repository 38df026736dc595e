"""Extraction: schema and evidence gates (hard negatives rejected, near misses kept), generator, CRF student, field scores."""

from __future__ import annotations

import json
import random

import pytest

from synthkit.config import GenerateParams
from synthkit.spec import Spec
from synthkit.tasks.extraction.generate import render_candidates
from synthkit.tasks.extraction.render import render
from synthkit.tasks.extraction.section import ExtractionParams, ExtractionSpec
from synthkit.tasks.extraction.student import field_scores
from synthkit.tasks.extraction.target import canonical, check_target, gate_evidence, gate_schema, parse_target
from synthkit.tasks.facts import numbers

SECTION = {
    "fields": {"amount": {"type": "number"}, "currency": {"type": "string", "enum": ["EUR", "GBP", "USD"]},
               "date": {"type": "date"}, "merchant": {"type": "string"}},
    "required": ["amount", "currency", "date", "merchant"],
    "currency_field": "currency",
    "currencies": {"EUR": ["€", "EUR", "euros"], "GBP": ["£", "GBP", "pounds"], "USD": ["$", "USD", "dollars"]},
    "distractors": {"other_amount": "amount", "other_date": "date"},
}
EX = ExtractionSpec.model_validate(SECTION)


def t(amount=45.0, currency="EUR", date="2025-03-03", merchant="Harbor Coffee") -> str:
    return canonical({"amount": amount, "currency": currency, "date": date, "merchant": merchant})


def reasons(verdicts):
    return [v.reason for v in verdicts]


def test_schema_gate_rejects_broken_targets_and_keeps_canonical_json():
    targets = [
        t(),
        "not json",
        json.dumps(["a list"]),
        canonical({"amount": 45.0, "currency": "EUR", "date": "2025-03-03"}),
        canonical({"amount": "45", "currency": "EUR", "date": "2025-03-03", "merchant": "X"}),
        canonical({"amount": 45.0, "currency": "JPY", "date": "2025-03-03", "merchant": "X"}),
        canonical({"amount": 45.0, "currency": "EUR", "date": "03/03/2025", "merchant": "X"}),
        canonical({"amount": 45.0, "currency": "EUR", "date": "2025-03-03", "merchant": "X", "tip": 2}),
        json.dumps({"merchant": "Harbor Coffee", "amount": 45.0, "currency": "EUR", "date": "2025-03-03"}),
        None,
    ]
    assert reasons(gate_schema(targets, EX)) == [
        None, "schema_invalid_json", "schema_not_object", "schema_missing_field", "schema_wrong_type", "schema_not_in_enum",
        "schema_wrong_type", "schema_unknown_field", "schema_not_canonical", "schema_missing_target",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Paid €45.00 at Harbor Coffee on 3 March 2025.",
        "harbor coffee 45 EUR 2025-03-03",
        "Harbor Coffee receipt: 45.00 euros charged on March 3, 2025.",
        "Card payment, Harbor  Coffee, EUR 45, 3rd of March 2025",
        "Paid €45.00 at Harbor Coffee on 03/03/2025; my remaining budget is €120.00.",  # near miss: two amounts, right one extracted
        "Invoice from Harbor Coffee dated 3 Mar 2025 for €45.00, due 2 April 2025.",  # near miss: a due date besides the right one
    ],
)
def test_evidence_gate_keeps_values_written_in_other_surface_forms(text):
    assert reasons(gate_evidence([text], [t()], EX)) == [None]


@pytest.mark.parametrize(
    "text, target, field",
    [
        ("Paid €45.00 at Harbor Coffee on 3 March 2025; the quote was €54.00.", t(amount=54.5), "amount"),  # amount in neither spot
        ("Paid €45.00 at Harbor Coffee on 3 March 2025.", t(amount=4.5), "amount"),
        ("Paid €45.00 at Harbor Coffee on 3 March 2025.", t(currency="GBP"), "currency"),
        ("Paid €45.00 at Harbor Coffee on 3 March 2025.", t(date="2025-03-13"), "date"),
        ("Paid €45.00 at Harbor Coffee on 3 March 2025.", t(date="2025-05-03"), "date"),
        ("Paid €45.00 at Harbr Coffee on 3 March 2025.", t(), "merchant"),  # a typo in the text
        ("Paid €1,234.50 at Harbor Coffee on 3 March 2025.", t(amount=1243.5), "amount"),
    ],
)
def test_evidence_gate_rejects_values_the_text_does_not_state(text, target, field):
    [v] = gate_evidence([text], [target], EX)
    assert v.reason == "evidence_value_not_in_text" and v.detail == f"field={field}"


def test_dmy_and_mdy_slash_dates_normalise_per_spec():
    text = "Paid €45.00 at Harbor Coffee on 04/03/2025."
    assert reasons(gate_evidence([text], [t(date="2025-03-04")], EX)) == [None]
    assert reasons(gate_evidence([text], [t(date="2025-04-03")], EX)) == ["evidence_value_not_in_text"]
    mdy = EX.model_copy(update={"date_order": "mdy"})
    assert reasons(gate_evidence([text], [t(date="2025-04-03")], mdy)) == [None]


def test_check_target_canonicalises_and_reports_what_is_wrong():
    check = check_target(EX)
    assert check('{"merchant": "Harbor Coffee", "date": "2025-03-03", "currency": "EUR", "amount": 45.0}') == t()
    with pytest.raises(ValueError, match="missing field"):
        check('{"amount": 45.0}')
    with pytest.raises(ValueError, match="missing target"):
        check(None)


def _spec(**extra) -> Spec:
    return Spec.model_validate({
        "task": {"name": "x", "type": "extraction"},
        "labels": [{"name": "receipt", "definition": "A paid purchase receipt."}, {"name": "invoice", "definition": "A supplier invoice."}],
        "extraction": SECTION,
        "slots": {"amount": ["4.20", "1240.00", "58.00"], "other_amount": ["4.20", "1240.00", "58.00"], "currency": ["EUR", "GBP"],
                  "date": ["2025-01-07", "2025-06-30"], "other_date": ["2025-01-07", "2025-06-30"], "merchant": ["Harbor Coffee", "Atlas Courier"]},
        "scenarios": [{"id": "buy", "label": "receipt", "description": "d", "templates": {
            "typical": ["Paid {amount} at {merchant} on {date}."],
            "hard_negative": ["Paid {amount} at {merchant} on {date}; budget left {other_amount}.", "Invoice {merchant} {date} {amount}, due {other_date}"]}}],
        **extra,
    })


def test_template_targets_are_right_by_construction_and_distractors_differ():
    spec = _spec()
    df = render_candidates(spec, GenerateParams(per_scenario=60, channels=["chat"]), seed=3)
    assert df.height > 10 and set(df["family"]) == {"typical", "hard_negative"}
    assert reasons(gate_schema(df["target"].to_list(), EX)) == [None] * df.height
    assert reasons(gate_evidence(df["text"].to_list(), df["target"].to_list(), EX)) == [None] * df.height
    rng = random.Random(0)
    for _ in range(30):  # the distractor amount is never the extracted amount
        text, values = render("{merchant} took {amount}; budget left {other_amount}.", spec.slots, EX, rng)
        paid, budget = text.split("; budget left ")
        assert [float(v) for v in numbers(paid)] == [values["amount"]]
        assert [float(v) for v in numbers(budget)] != [values["amount"]]


def test_spec_needs_its_section():
    with pytest.raises(Exception, match="extraction"):
        Spec.model_validate({"task": {"name": "x", "type": "extraction"},
                             "labels": [{"name": "a", "definition": "aaaaaaaaaaaa"}, {"name": "b", "definition": "bbbbbbbbbbbb"}]})


def test_field_scores_on_known_inputs():
    gold = [{"amount": 45.0, "currency": "EUR", "date": "2025-03-03", "merchant": "Harbor Coffee"},
            {"amount": 10.0, "currency": "GBP", "date": "2025-01-01", "merchant": "Atlas"}]
    pred = [{"amount": 45, "currency": "EUR", "date": "2025-03-03", "merchant": "harbor  coffee"},  # 4 right (normalised)
            {"amount": 12.0, "currency": "GBP"}]  # 1 right, 1 wrong, 2 missed
    s = field_scores(gold, pred, EX)
    # tp 5, fp 1, fn 3
    assert s["precision"] == round(5 / 6, 6) and s["recall"] == round(5 / 8, 6)
    assert s["f1"] == round(2 * (5 / 6) * (5 / 8) / (5 / 6 + 5 / 8), 6)
    assert s["per_field"]["amount"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert s["per_field"]["date"]["recall"] == 0.5 and s["per_field"]["date"]["precision"] == 1.0


def test_crf_student_learns_fields_from_targets():
    pytest.importorskip("sklearn_crfsuite")
    from synthkit.tasks.extraction.student import predict, train_extractor

    spec = _spec()
    df = render_candidates(spec, GenerateParams(per_scenario=80, channels=["chat"]), seed=1)
    crf = train_extractor(df["text"].to_list(), df["target"].to_list(), EX, ExtractionParams())
    texts = ["Paid €77.10 at Quill Stationers on 9 July 2025.", "Paid 310.00 GBP at Atlas Courier on 2025-02-11; budget left 20.00 GBP."]
    pred = predict(crf, texts, EX)
    assert pred[0]["amount"] == 77.1 and pred[0]["date"] == "2025-07-09" and pred[0]["currency"] == "EUR"
    assert pred[1]["amount"] == 310.0 and pred[1]["merchant"] == "Atlas Courier"
    assert parse_target(canonical(pred[1]), EX)[1] is None

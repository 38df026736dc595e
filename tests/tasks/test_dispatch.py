"""Task types as plug-ins: loaded from the spec, targets checked at prepare, text+target gate verdicts, plot rows."""

from __future__ import annotations

import pytest

from synthkit.config import Columns
from synthkit.errors import InputError
from synthkit.gates.base import KEEP, Verdict
from synthkit.prepare import load_labeled
from synthkit.spec import Spec
from synthkit.tasks.base import slice_plot_rows
from synthkit.tasks.registry import load_step
from synthkit.tasks.targets import combine_text_target, pii_text_target
from tests.tasks.test_extraction import SECTION

def target_check(spec):
    return load_step(spec, None, "prepare").target_check(spec)


SPEC = Spec.model_validate({
    "task": {"name": "x", "type": "extraction"},
    "labels": [{"name": "receipt", "definition": "A paid purchase receipt."}, {"name": "invoice", "definition": "A supplier invoice."}],
    "extraction": SECTION,
})


def test_prepare_canonicalises_targets_and_names_row_and_field_of_a_bad_one(tmp_path):
    good = tmp_path / "seeds.csv"
    good.write_text('text,label,target\n"Paid €4.00 at Atlas on 2025-01-02",receipt,"{""merchant"": ""Atlas"", ""amount"": 4, ""currency"": ""EUR"", ""date"": ""2025-01-02""}"\n')
    df, *_ = load_labeled(good, "seed", Columns(), SPEC.label_names, target_check=target_check(SPEC))
    assert df["target"].to_list() == ['{"amount": 4, "currency": "EUR", "date": "2025-01-02", "merchant": "Atlas"}']
    bad = tmp_path / "eval.csv"
    bad.write_text('text,label,target\nfine,receipt,"{""amount"": 4, ""currency"": ""EUR"", ""date"": ""2025-01-02"", ""merchant"": ""A""}"\nbroken,invoice,{not json\n')
    with pytest.raises(InputError) as err:
        load_labeled(bad, "eval", Columns(), SPEC.label_names, target_check=target_check(SPEC))
    assert "row 3" in str(err.value) and "'target'" in str(err.value) and "invalid json" in str(err.value)


def test_classification_has_no_target_check():
    from tests.conftest import TINY_SPEC

    assert target_check(Spec.model_validate(TINY_SPEC)) is None


def test_a_finding_in_the_target_rejects_with_a_target_reason():
    text = [KEEP, Verdict("pii_email_address"), Verdict(detail="PHONE", text="call <PHONE_NUMBER>"), KEEP]
    target = [Verdict("pii_credit_card"), KEEP, KEEP, Verdict(detail="PHONE", text="<PHONE_NUMBER>")]
    out = combine_text_target(text, target, "pii")
    assert [v.reason for v in out] == ["pii_target_credit_card", "pii_email_address", None, None]
    assert out[2].text == "call <PHONE_NUMBER>"


def test_slice_plot_rows_follow_the_headline_metric():
    metrics = {"real_only": {"f1": 0.5}, "mix": {"f1": 0.75}, "slices": {"two_amounts": {"real_only_f1": 0.25, "mix_f1": 0.5}}}
    rows = slice_plot_rows(metrics, [("f1", "f1")]).to_dicts()
    assert {(r["slice"], r["model"], r["value"]) for r in rows} == {("all", "real_only", 0.5), ("all", "mix", 0.75),
                                                                   ("two_amounts", "real_only", 0.25), ("two_amounts", "mix", 0.5)}


def test_a_text_redaction_that_the_target_repeats_rejects_the_pair():
    texts = ["call 555 0100 about 12 Willow Road", "call 555 0100 about 12 Willow Road"]
    targets = ["12 Willow Road", "call 555 0100 about 12 Willow Road"]
    redacted = Verdict(detail="PHONE_NUMBER@5-13", text="call <PHONE_NUMBER> about 12 Willow Road")
    target_hit = Verdict(detail="PHONE_NUMBER@5-13", text="call <PHONE_NUMBER> about 12 Willow Road")
    out = pii_text_target(texts, targets, [redacted, redacted], [KEEP, target_hit])
    assert out[0].reason is None and out[0].text == "call <PHONE_NUMBER> about 12 Willow Road"
    assert out[1].reason == "pii_redaction_changes_target"

import copy

import pytest
import yaml

from synthkit.errors import InputError
from synthkit.spec import load_spec
from tests.conftest import TINY_SPEC


def _write(tmp_path, spec):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_tiny_spec_loads(tmp_path):
    spec = load_spec(_write(tmp_path, TINY_SPEC))
    assert spec.label_names == ["refund_request", "cancel_subscription", "login_problem"]


def test_bundled_spec_loads():
    spec = load_spec("spec/spec.yaml")
    assert len(spec.labels) >= 8
    assert any(lab.near_miss for lab in spec.labels)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda s: s["scenarios"][0].update(label="nope"), "label 'nope' is not in labels"),
        (lambda s: s["scenarios"][0]["templates"].update(typical=["charged for {product}"]), "slot {product} has no values"),
        (lambda s: s["scenarios"][0]["templates"].update(sarcastic=["x"]), "unknown template families"),
        (lambda s: s["labels"][0].update(near_miss=["ghost"]), "near_miss 'ghost' is not a label"),
        (lambda s: s["channels"].update(fax=["{body}"]), "unknown channels"),
        (lambda s: s["labels"][0].update(colour="red"), "unknown key"),
        (lambda s: s["labels"].append(dict(s["labels"][1])), "label 'cancel_subscription' is defined twice (labels.1 and labels.3)"),
        (lambda s: s["labels"][1].update(definition="short"), "(in label 'cancel_subscription')"),
    ],
)
def test_bad_spec_is_a_clear_error(tmp_path, mutate, message):
    spec = copy.deepcopy(TINY_SPEC)
    mutate(spec)
    with pytest.raises(InputError, match="spec.yaml") as info:
        load_spec(_write(tmp_path, spec))
    assert message in str(info.value)

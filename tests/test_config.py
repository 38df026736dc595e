import pytest

from synthkit.config import load_params
from synthkit.errors import InputError


def test_repo_params_load():
    params = load_params("params.yaml")
    assert params.generate.backend == "template"
    assert params.filter.pii.entities["PHONE_NUMBER"].threshold <= 0.4


@pytest.mark.parametrize(
    "text,field,message",
    [
        ("filter:\n  toxicity:\n    treshold: 0.5\n", "filter.toxicity.treshold", "unknown key"),
        ("mix:\n  synthetic_ratio: 1.5\n", "mix.synthetic_ratio", "less than 1"),
        ("generat:\n  per_scenario: 3\n", "generat", "unknown key"),
        ("generate:\n  backend: gpt\n", "generate.backend", "'template'"),
    ],
)
def test_bad_params_name_the_key(tmp_path, text, field, message):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_params(path)
    assert info.value.field == field
    assert message in str(info.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\nmix: [\n")
    with pytest.raises(InputError) as info:
        load_params(path)
    assert info.value.row is not None and "invalid YAML" in str(info.value)

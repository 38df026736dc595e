import polars as pl
import pytest

from synthkit.schemas import Example, Reject, conform, content_id, polars_schema
from tests.conftest import make_rows


def test_schema_is_derived_from_the_model():
    schema = polars_schema(Reject)
    assert list(schema) == list(Reject.model_fields)
    assert schema["slices"] == pl.List(pl.String)
    assert schema["generator"] == pl.Struct({"backend": pl.String, "model": pl.String, "temperature": pl.Float64, "prompt_hash": pl.String})


def test_conform_fills_optional_defaults_and_rejects_missing_required():
    df = make_rows([("hello there", "a")])
    assert conform(df.drop("weight"), Example)["weight"].to_list() == [1.0]
    with pytest.raises(KeyError, match="text"):
        conform(df.drop("text"), Example)


def test_content_id_is_stable_and_separates_parts():
    assert content_id("a", "b") == content_id("a", "b")
    assert content_id("ab", "") != content_id("a", "b")
    assert len(content_id("x")) == 16

import polars as pl
import pytest

from synthkit.errors import InputError
from synthkit.io import read_records, read_yaml, write_json, write_parquet
from synthkit.schemas import RawLabeled


def test_parquet_writes_are_byte_identical(tmp_path):
    df = pl.DataFrame({"a": [3, 1, 2], "b": ["x", "y", "z"]})
    write_parquet(df, tmp_path / "one.parquet")
    write_parquet(df, tmp_path / "two.parquet")
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_failed_write_leaves_no_half_artifact(tmp_path):
    target = tmp_path / "out.json"
    write_json({"ok": 1}, target)
    with pytest.raises(ValueError):
        write_json({"bad": float("nan")}, target)
    assert target.read_text() == '{\n  "ok": 1\n}\n'
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "name,content,row,field,message",
    [
        ("s.csv", "text,label\nhello,a\n\"unterminated,a\n", 3, None, "malformed CSV"),
        ("s.csv", "text,label\nhello,a\nextra,a,b\n", 3, None, "expected 2 fields"),
        ("s.csv", "body,label\nhello,a\n", 2, "text", "missing column"),
        ("s.csv", "text,label\nhello,a\n   ,a\n", 3, "text", "empty text"),
        ("s.jsonl", '{"text": "hi", "label": "a"}\n{"text": "oops"\n', 2, None, "malformed JSON"),
        ("s.jsonl", '{"text": "hi"}\n', 1, "label", "missing column"),
        ("s.csv", "text,label\n", None, None, "no rows"),
        ("s.txt", "whatever", None, None, "unsupported file type"),
    ],
)
def test_bad_input_names_file_row_and_field(tmp_path, name, content, row, field, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_records(path, RawLabeled)
    err = info.value
    assert err.file == str(path) and err.row == row and err.field == field
    assert message in str(err)


def test_column_mapping(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("utterance,intent\nhello there,a\n")
    [(rowno, rec)] = read_records(path, RawLabeled, {"text": "utterance", "label": "intent"})
    assert (rowno, rec.text, rec.label) == (2, "hello there", "a")


def test_bad_column_mapping_names_the_missing_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("text,intent\nhi,a\n")
    with pytest.raises(InputError, match="row 2: field 'utterance': missing column"):
        read_records(path, RawLabeled, {"text": "utterance", "label": "intent"})


def test_header_only_file_is_an_error_unless_allowed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\n")
    with pytest.raises(InputError, match="no rows"):
        read_records(path, RawLabeled)
    assert read_records(path, RawLabeled, allow_empty=True) == []


def test_count_rows_reads_metadata(tmp_path):
    from synthkit.io import count_rows

    write_parquet(pl.DataFrame({"a": list(range(7))}), tmp_path / "x.parquet")
    assert count_rows(tmp_path / "x.parquet") == 7


@pytest.mark.parametrize(
    "text,row,message",
    [("a: 1\nb:\n  c: 2\n  c: 3\n", 4, "key 'c' given twice (lines 3 and 4)"), ("a: {x: 1, x: 2}\n", 1, "key 'x' given twice")],
)
def test_yaml_key_given_twice_names_both_lines(tmp_path, text, row, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_yaml(path)
    assert info.value.row == row and message in str(info.value)


def test_yaml_merge_keys_may_be_overridden(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  x: 3\n")
    assert read_yaml(path)["child"] == {"x": 3, "y": 2}

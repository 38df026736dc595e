"""synthkit export: OpenAI chat JSONL (and its validator), Hugging Face Parquet + dataset card, CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from synthkit.cli import app
from synthkit.export import FLAT_COLUMNS, LICENSE_NOTE, check_openai_chat_jsonl, export
from synthkit.io import write_json, write_parquet
from tests.conftest import make_rows

TEXTS = [
    ("I was charged twice, refund please", "refund_request"),
    ('Subject: cancel\n\nHello,\nplease "cancel" my plan, thanks', "cancel_subscription"),
    ("the reset email never arrives; tried 3x, é ü 日本", "login_problem"),
]


@pytest.fixture
def project(tmp_path) -> Path:
    """A train.parquet of real + synthetic rows (12 rows, multi-line and quoted texts) and the two reports the card reads."""
    real = make_rows([(f"{t} #{i}", lab) for i in range(2) for t, lab in TEXTS], source="real", split="train", family="real")
    syn = make_rows([(f"{t} (v{i})", lab) for i in range(2) for t, lab in TEXTS], source="synthetic", split="train", family="messy")
    train = pl.concat([real, syn]).with_columns(weight=pl.when(pl.col("source") == "real").then(1.0).otherwise(0.5)).sort("id")
    write_parquet(train, tmp_path / "data/train.parquet")
    write_json({"dataset_id": "abc123", "task": {"name": "tiny_routing", "type": "classification", "spec_md5": "x"},
                "counts": {"candidates": 40, "rejected": 34, "synthetic_in_train": 6, "train_rows": 12},
                "generator": {"seed": 13, "settings": {"backend": "template"}}, "versions": {"polars": "2.1.0"},
                "mixing": {"synthetic_ratio": 0.5}}, tmp_path / "reports/manifest.json")
    write_json({"adds_up": True, "candidates": 40, "rejected": 34, "synthetic_in_train": 6,
                "stages": [{"stage": "dedupe", "rejected_by_reason": {"dedupe_near": 4, "dedupe_seed_exact": 2}},
                           {"stage": "mix", "rejected_by_reason": {"mix_ratio": 28}}]}, tmp_path / "reports/funnel.json")
    return tmp_path


def _export(project: Path, fmt: str, **kw) -> dict:
    return export(fmt, project / "out" / fmt, train=project / "data/train.parquet", reports=project / "reports", **kw)


# ---------------------------------------------------------------------------------------------------- openai


def test_openai_chat_jsonl_is_valid_and_complete(project):
    res = _export(project, "openai", system_prompt="Route the ticket.")
    path = Path(res["files"][0])
    assert check_openai_chat_jsonl(path) == []
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == res["rows"] == 12
    train = pl.read_parquet(project / "data/train.parquet")
    pairs = set()
    for line in lines:
        msgs = json.loads(line)["messages"]
        assert [m["role"] for m in msgs] == ["system", "user", "assistant"] and msgs[0]["content"] == "Route the ticket."
        pairs.add((msgs[1]["content"], msgs[2]["content"]))
    assert pairs == set(train.select("text", "label").iter_rows())


def test_openai_default_prompt_names_labels_and_empty_prompt_drops_system(project):
    path = Path(_export(project, "openai")["files"][0])
    first = json.loads(path.read_text().splitlines()[0])["messages"][0]
    assert first["role"] == "system" and "refund_request" in first["content"] and "login_problem" in first["content"]
    path = Path(_export(project, "openai", system_prompt="", force=True)["files"][0])
    assert [m["role"] for m in json.loads(path.read_text().splitlines()[0])["messages"]] == ["user", "assistant"]


GOOD = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
BAD_LINES = {
    "not_json": ("{not json", "invalid JSON"),
    "array": ("[1, 2]", "not a JSON object"),
    "no_messages": (json.dumps({"prompt": "x", "completion": "y"}), "'messages' must be a non-empty list"),
    "empty_messages": (json.dumps({"messages": []}), "'messages' must be a non-empty list"),
    "messages_not_list": (json.dumps({"messages": "hi"}), "'messages' must be a non-empty list"),
    "message_not_object": (json.dumps({"messages": ["hi", {"role": "assistant", "content": "a"}]}), "messages[0] is not an object"),
    "bad_role": (json.dumps({"messages": [{"role": "bot", "content": "u"}, {"role": "assistant", "content": "a"}]}), "role 'bot'"),
    "missing_role": (json.dumps({"messages": [{"content": "u"}, {"role": "assistant", "content": "a"}]}), "role None"),
    "content_not_string": (json.dumps({"messages": [{"role": "user", "content": 3}, {"role": "assistant", "content": "a"}]}), "content must be a string"),
    "content_missing": (json.dumps({"messages": [{"role": "user"}, {"role": "assistant", "content": "a"}]}), "content must be a string"),
    "empty_assistant": (json.dumps({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": " "}]}), "content is empty"),
    "no_assistant": (json.dumps({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}), "no assistant message"),
    "assistant_not_last": (json.dumps({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "u"}]}), "last message must be the assistant's"),
    "bad_weight": (json.dumps({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "weight": 2}]}), "weight must be 0 or 1"),
    "blank_line": ("   ", "blank line"),
}


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_validator_catches_garbage(tmp_path, name):
    bad, expected = BAD_LINES[name]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([json.dumps(GOOD)] * 5 + [bad] + [json.dumps(GOOD)] * 5) + "\n", encoding="utf-8")
    problems = check_openai_chat_jsonl(path)
    assert len(problems) >= 1 and all(p.startswith("line 6: ") for p in problems if "examples" not in p), problems
    assert any(expected in p for p in problems), problems


def test_validator_accepts_weights_and_counts_examples(tmp_path):
    path = tmp_path / "ok.jsonl"
    weighted = {"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "weight": 0}, {"role": "user", "content": "u2"}, {"role": "assistant", "content": "b", "weight": 1}]}
    path.write_text("\n".join(json.dumps(weighted) for _ in range(10)) + "\n")
    assert check_openai_chat_jsonl(path) == []
    path.write_text(json.dumps(GOOD) + "\n")
    assert check_openai_chat_jsonl(path) == [f"{path}: 1 examples, fewer than the required 10"]
    assert check_openai_chat_jsonl(path, min_examples=1) == []
    assert check_openai_chat_jsonl(tmp_path / "missing.jsonl")[0].endswith("cannot read (FileNotFoundError)")


# ---------------------------------------------------------------------------------------------------- hf


def test_hf_parquet_has_plain_columns_and_loads_with_duckdb(project):
    res = _export(project, "hf")
    parquet = next(Path(f) for f in res["files"] if f.endswith(".parquet"))
    df = pl.read_parquet(parquet)
    assert set(FLAT_COLUMNS) <= set(df.columns) and {"generator_backend", "generator_prompt_hash"} <= set(df.columns)
    assert not any(isinstance(t, (pl.Struct, pl.List)) for t in df.schema.values())
    n, labels = duckdb.sql(f"select count(*), count(distinct label) from read_parquet('{parquet.as_posix()}')").fetchall()[0]
    assert (n, labels) == (12, 3)
    assert duckdb.sql(f"select sum(weight) from read_parquet('{parquet.as_posix()}')").fetchall()[0][0] == pytest.approx(6 * 1.0 + 6 * 0.5)


def test_hf_dataset_card(project):
    _export(project, "hf")
    card = (project / "out/hf/README.md").read_text()
    assert card.startswith("---\n") and "text-classification" in card and "path: data/train-*.parquet" in card
    for needle in ("# tiny_routing", "abc123", "| real | human | 6 |", "| synthetic | template | 6 |", "| candidates | 40 |",
                   "| dedupe | dedupe | dedupe_near | 4 |", "| mix | mix | mix_ratio | 28 |", "| refund_request | 4 | 33.3% |", LICENSE_NOTE):
        assert needle in card, needle


def test_hf_card_without_reports_still_writes(project):
    for f in ("manifest.json", "funnel.json"):
        (project / "reports" / f).unlink()
    _export(project, "hf")
    card = (project / "out/hf/README.md").read_text()
    assert "reports/manifest.json not found" in card and "reports/funnel.json not found" in card and LICENSE_NOTE in card


def test_hf_loads_with_datasets(project):
    datasets = pytest.importorskip("datasets")
    _export(project, "hf")
    ds = datasets.load_dataset(str(project / "out/hf"), split="train")
    assert ds.num_rows == 12 and {"text", "label", "weight", "source", "family", "channel", "id"} <= set(ds.column_names)


# ---------------------------------------------------------------------------------------------------- csv and cli


def test_csv_round_trips(project):
    path = Path(_export(project, "csv")["files"][0])
    train = pl.read_parquet(project / "data/train.parquet")
    back = pl.read_csv(path)
    assert back.height == train.height and back["text"].sort().to_list() == train["text"].sort().to_list()
    with open(path, newline="", encoding="utf-8") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == train.height


def test_cli_export_and_errors(project, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--format", "openai", "--out", "out/cli"])
    assert res.exit_code == 0 and "wrote 12 rows as openai" in res.output
    assert check_openai_chat_jsonl(project / "out/cli/train.jsonl") == []
    res = runner.invoke(app, ["export", "--format", "xml", "--out", "out/x"])
    assert res.exit_code == 2 and "unknown format 'xml'" in res.output
    res = runner.invoke(app, ["export", "--format", "csv", "--out", "out/x", "--train", "missing.parquet"])
    assert res.exit_code == 2 and "missing.parquet" in res.output
    assert not (project / "out/x").exists() or not any((project / "out/x").iterdir())

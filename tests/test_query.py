import json

import polars as pl
from typer.testing import CliRunner

from synthkit.cli import app
from synthkit.io import write_parquet
from synthkit.query import connect
from tests.conftest import make_rows


def _project(tmp_path):
    write_parquet(make_rows([("a text", "a"), ("b text", "b"), ("c text", "b")]), tmp_path / "data/train.parquet")
    rej = make_rows([("bad", "a")]).with_columns(pl.lit("pii").alias("gate"), pl.lit("pii_email_address").alias("reason"))
    write_parquet(rej, tmp_path / "data/rejects/filter.parquet")
    write_parquet(rej.with_columns(pl.lit("mix").alias("gate"), pl.lit("mix_ratio").alias("reason")), tmp_path / "data/rejects/mix.parquet")
    return tmp_path


def test_views_by_artifact_name(tmp_path):
    con, views = connect(_project(tmp_path))
    assert views == ["train", "rejects_filter", "rejects_mix", "rejects"]
    assert con.sql("select label, count(*) from train group by 1 order by 1").fetchall() == [("a", 1), ("b", 2)]
    assert con.sql("select reason from rejects order by 1").fetchall() == [("mix_ratio",), ("pii_email_address",)]


def test_query_command_json_and_error(tmp_path):
    root = str(_project(tmp_path))
    runner = CliRunner()
    res = runner.invoke(app, ["query", "select count(*) as n from train", "--format", "json", "--root", root])
    assert res.exit_code == 0 and json.loads(res.stdout) == [{"n": 3}]
    bad = runner.invoke(app, ["query", "select * from nowhere", "--root", root])
    assert bad.exit_code == 2 and "views: train" in bad.output

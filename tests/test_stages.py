"""Bad input through the real stage scripts: one clear line naming file, row and field; exit 2; nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.repo_copy import REPO, run

SEEDS_OK = "text,label,group,channel\nI was charged twice please refund,refund_request,g1,chat\ncant log in,login_problem,g2,chat\n"
EVAL_OK = "text,label,group,slices\nrefund the double charge,refund_request,e1,\nlogin broken,login_problem,e2,short\n"
PROD_OK = "text,channel\nwhere is my order,email\n"


def _prepare(tmp_path: Path, seeds=SEEDS_OK, eval_=EVAL_OK, params: str | None = None):
    for name, text in (("seeds.csv", seeds), ("eval.csv", eval_), ("production.csv", PROD_OK)):
        (tmp_path / name).write_text(text)
    params_path = tmp_path / "params.yaml"
    if params is None:
        shutil.copy(REPO / "params.yaml", params_path)
    else:
        params_path.write_text(params)
    return run(
        ["python", str(REPO / "stages/prepare.py"), "--params", str(params_path), "--spec", str(REPO / "spec/spec.yaml"),
         "--seeds", str(tmp_path / "seeds.csv"), "--eval", str(tmp_path / "eval.csv"), "--production", str(tmp_path / "production.csv"),
         "--unlabeled", str(tmp_path / "production.csv"), "--out-dir", str(tmp_path / "out"), "--counts", str(tmp_path / "out/counts.json")],
        cwd=REPO, check=False,
    )


def test_good_input_writes_artifacts(tmp_path):
    res = _prepare(tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["counts.json", "eval.parquet", "production.parquet", "seeds.parquet", "unlabeled.parquet"]


@pytest.mark.parametrize(
    "seeds,expected",
    [
        (SEEDS_OK + '"unterminated,refund_request,g3,chat\n', "seeds.csv: row 4: malformed CSV"),
        (SEEDS_OK + "too,many,fields,here,now\n", "seeds.csv: row 4: malformed CSV"),
        ("body,label\nhello,refund_request\n", "seeds.csv: row 2: field 'text': missing column"),
        (SEEDS_OK + '"   ",refund_request,g3,chat\n', "seeds.csv: row 4: field 'text': empty text"),
        (SEEDS_OK + "please help,make_coffee,g3,chat\n", "seeds.csv: row 4: field 'label': label 'make_coffee' is not in the spec"),
    ],
)
def test_bad_seed_file(tmp_path, seeds, expected):
    res = _prepare(tmp_path, seeds=seeds)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "edit,expected",
    [
        (("    threshold: 0.8\n    min_words:", "    treshold: 0.8\n    min_words:"), "field 'filter.toxicity.treshold': unknown key"),
        (("mix:\n", "mixx:\n"), "field 'mixx': unknown key"),
        (("  synthetic_ratio: auto", "  synthetic_ratio: lots"), "field 'mix.synthetic_ratio'"),
    ],
)
def test_bad_params(tmp_path, edit, expected):
    text = (REPO / "params.yaml").read_text()
    assert edit[0] in text
    res = _prepare(tmp_path, params=text.replace(edit[0], edit[1], 1))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "params.yaml" in lines[0] and expected in lines[0]
    assert not (tmp_path / "out").exists()


def test_mix_auto_that_cannot_cross_validate_says_how_it_mixed_on_stderr(tmp_path):
    import json

    import polars as pl

    assert _prepare(tmp_path).returncode == 0
    out = tmp_path / "out"
    pl.read_parquet(out / "seeds.parquet").head(0).write_parquet(out / "deduped.parquet")  # nothing synthetic survived
    res = run(
        ["python", str(REPO / "stages/mix.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(REPO / "spec/spec.yaml"),
         "--deduped", str(out / "deduped.parquet"), "--seeds", str(out / "seeds.parquet"), "--out", str(out / "train.parquet"),
         "--rejects", str(out / "rejects.parquet"), "--counts", str(out / "mix.json"), "--plots", str(out / "mix.csv"),
         "--choice", str(out / "mix_auto.json")],
        cwd=REPO, check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "warning: mix.synthetic_ratio auto: no synthetic rows to mix" in res.stderr
    assert json.loads((out / "mix_auto.json").read_text())["target"] == 0

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


def _evaluate_with_mislabelled_synthetic_rows(tmp_path: Path, action: str):
    """The evaluate stage on a training set whose synthetic rows carry the other label (the synthetic data hurts)."""
    import polars as pl

    seeds = "text,label,group,channel\n" + "".join(
        f"{t} {w},{lab},{lab}{i},chat\n"
        for lab, t in (("refund_request", "refund my money back please"), ("login_problem", "cannot log in to my account"))
        for i, w in enumerate(("now", "today", "again", "asap")))
    eval_ = "text,label,group,slices\n" + "".join(
        f"{t},{lab},e{i}{lab},\n" for lab, ts in (("refund_request", ("money back refund", "refund please now")), ("login_problem", ("log in account broken", "cannot log in")))
        for i, t in enumerate(ts))
    params = (REPO / "params.yaml").read_text().replace("students: [both, tfidf_logreg, embed_logreg]", "students: [tfidf_logreg]", 1)
    params = params.replace("on_negative_uplift: warn", f"on_negative_uplift: {action}", 1)
    assert f"on_negative_uplift: {action}" in params and "students: [tfidf_logreg]" in params
    assert _prepare(tmp_path, seeds=seeds, eval_=eval_, params=params).returncode == 0
    out = tmp_path / "out"
    real = pl.read_parquet(out / "seeds.parquet")
    flip = {"refund_request": "login_problem", "login_problem": "refund_request"}
    synth = pl.concat([real.with_columns(pl.lit("synthetic").alias("source"), (pl.col("id") + f"_s{k}").alias("id"),
                                         pl.col("label").replace_strict(flip).alias("label")) for k in range(10)])
    train = pl.concat([real, synth]).with_columns(pl.when(pl.col("source") == "real").then(1.0).otherwise(0.5).alias("weight"))
    train.write_parquet(out / "train.parquet")
    return run(
        ["python", str(REPO / "stages/evaluate.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(REPO / "spec/spec.yaml"),
         "--train", str(out / "train.parquet"), "--seeds", str(out / "seeds.parquet"), "--eval", str(out / "eval.parquet"),
         "--metrics", str(out / "metrics.json"), "--slices", str(out / "slices.json"), "--plots", str(out / "plots")],
        cwd=REPO, check=False,
    )


@pytest.mark.parametrize("action", ["warn", "fail"])
def test_evaluate_says_on_stderr_when_the_synthetic_data_lowers_the_score_and_stops_if_params_say_fail(tmp_path, action):
    import json

    res = _evaluate_with_mislabelled_synthetic_rows(tmp_path, action)
    metrics = json.loads((tmp_path / "out/metrics.json").read_text())  # written either way: the figures behind the line
    assert metrics["uplift"]["macro_f1"] < 0
    lines = [line for line in res.stderr.splitlines() if "lowered" in line]
    assert len(lines) == 1 and "macro_f1" in lines[0] and "tfidf_logreg" in lines[0], res.stderr
    if action == "warn":
        assert res.returncode == 0 and lines[0].startswith("warning: ")
    else:
        assert res.returncode == 2 and lines[0].startswith("error: ") and "evaluate.on_negative_uplift" in lines[0]
        assert "Traceback" not in res.stderr

"""Task types other than classification generate with the template or the openai backend: anything else is a clear
params error before any request; every generate stage writes its rejects artifact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.examples import write_seeds

REPO = Path(__file__).resolve().parents[2]
EX = REPO / "examples" / "extraction"


def run_generate(tmp_path, generate: dict, *extra: str):
    seeds = str(write_seeds("extraction", tmp_path))
    params = yaml.safe_load((EX / "params.yaml").read_text())
    params.setdefault("generate", {}).update(generate)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run(
        [sys.executable, str(REPO / "stages" / "generate.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(EX / "spec.yaml"),
         "--seeds", seeds, "--unlabeled", seeds, "--decisions", str(EX / "data" / "review" / "decisions.csv"), "--prompts", str(REPO / "prompts"),
         "--out", str(tmp_path / "c.parquet"), "--counts", str(tmp_path / "c.json"), "--llm-cache", str(tmp_path / "cache"), *extra],
        capture_output=True, text=True, cwd=REPO,
    )


def test_pseudo_label_backend_for_extraction_is_a_params_error(tmp_path):
    res = run_generate(tmp_path, {"backends": ["template", "pseudo_label"]}, "--rejects", str(tmp_path / "r.parquet"))
    assert res.returncode == 2, res.stderr
    assert "generate.backends" in res.stderr and "extraction" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "c.parquet").exists()


def test_the_generate_stage_requires_its_rejects_artifact(tmp_path):
    res = run_generate(tmp_path, {"backend": "openai"})
    assert res.returncode == 2, res.stderr
    assert "--rejects" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "c.parquet").exists() and not (tmp_path / "cache").exists()

"""Task types other than classification generate offline: asking them for another backend is a clear params error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
EX = REPO / "examples" / "extraction"


def test_openai_backend_for_extraction_is_a_params_error(tmp_path):
    params = yaml.safe_load((EX / "params.yaml").read_text())
    params.setdefault("generate", {})["backend"] = "openai"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    res = subprocess.run(
        [sys.executable, str(REPO / "stages" / "generate.py"), "--params", str(tmp_path / "params.yaml"), "--spec", str(EX / "spec.yaml"),
         "--seeds", str(EX / "data" / "prepared" / "seeds.parquet"), "--out", str(tmp_path / "c.parquet"), "--counts", str(tmp_path / "c.json")],
        capture_output=True, text=True, cwd=REPO,
    )
    assert res.returncode == 2, res.stderr
    assert "generate.backend" in res.stderr and "extraction" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "c.parquet").exists()

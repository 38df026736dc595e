"""Stage scripts run with the project's environment whichever python starts them, or say in one line how to get it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report_inputs import CHARTS, write_run

REPO = Path(__file__).resolve().parents[1]
# the interpreter behind the venv, with site-packages off (-S): it cannot import polars or synthkit
BARE = [os.path.realpath(sys.executable), "-S"]


def _env_without_venv() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "SYNTHKIT_ENV_REEXEC")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return env


def test_bare_python_cannot_import_the_project():
    res = subprocess.run([*BARE, "-c", "import polars"], capture_output=True, text=True)
    assert res.returncode != 0


@pytest.mark.skipif(not (REPO / ".venv/bin/python").exists(), reason="no project .venv (make setup)")
def test_stage_reruns_under_the_project_venv(tmp_path):
    root = write_run(tmp_path / "reports")
    out = tmp_path / "site" / "report.html"
    res = subprocess.run([*BARE, str(REPO / "stages/report.py"), "--reports", str(root), "--out", str(out)],
                         capture_output=True, text=True, env=_env_without_venv())
    assert res.returncode == 0, res.stderr
    assert out.read_text(encoding="utf-8").count('class="chart" data-chart=') == CHARTS
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # written atomically: no temp file left


def _lone_stage(tmp_path: Path) -> Path:
    stages = tmp_path / "proj" / "stages"
    stages.mkdir(parents=True)
    shutil.copy(REPO / "stages/_env.py", stages / "_env.py")
    script = stages / "demo.py"
    script.write_text('"""A stage."""\n\nimport _env  # noqa: F401\n\nimport polars\n\nprint("ran")\n')
    return script


def test_without_a_venv_one_line_says_how_to_fix(tmp_path):
    script = _lone_stage(tmp_path)
    res = subprocess.run([*BARE, str(script)], capture_output=True, text=True, env=_env_without_venv())
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "cannot import" in lines[0] and "make setup" in lines[0]


def test_a_venv_that_lacks_the_project_does_not_loop(tmp_path):
    script = _lone_stage(tmp_path)
    venv_bin = script.parents[1] / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(os.path.realpath(sys.executable))  # a "venv" python without the project
    env = _env_without_venv()
    res = subprocess.run([*BARE, str(script)], capture_output=True, text=True, env=env, timeout=60)
    # re-exec'd once into .venv/bin/python (site on, but no synthkit there), which then gives up with one line
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "make clean-env setup" in lines[0]

"""Run stage scripts with the project's environment: re-exec under .venv's python when this interpreter lacks it.

Imported first by every stage script (stdlib only), so `dvc repro` works whichever `python` is first on PATH.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("synthkit", "polars")  # the package and one of its locked dependencies
GUARD = "SYNTHKIT_ENV_REEXEC"  # set on the re-exec, so a broken .venv cannot loop


def missing_modules() -> list[str]:
    """The needed modules this interpreter cannot import."""
    return [m for m in NEEDED if importlib.util.find_spec(m) is None]


def venv_python(root: Path = ROOT) -> Path | None:
    """The project environment's interpreter, when it exists."""
    for rel in ("bin/python", "Scripts/python.exe"):
        p = root / ".venv" / rel
        if p.exists():
            return p
    return None


def early_interrupts() -> None:
    """Until the stage installs its own handlers (synthkit.stage.run): Ctrl-C or SIGTERM while the stage starts up
    (imports take seconds) ends it with one line and exit 130 / 143; nothing has been written yet."""
    import signal

    how = {signal.SIGINT: ("Ctrl-C (SIGINT)", 130), signal.SIGTERM: ("SIGTERM", 143)}
    stage = Path(sys.argv[0]).stem

    def handler(signum, frame):
        name, code = how[signum]
        sys.stderr.write(f"error: stage {stage} interrupted by {name}; no file was half-written (outputs are replaced whole or not at all)\n")
        sys.stderr.flush()
        os._exit(code)

    for s in how:
        if signal.getsignal(s) is not signal.SIG_IGN:  # a SIGINT ignored by the caller (nohup, &) stays ignored
            signal.signal(s, handler)


def ensure() -> None:
    """Return when this interpreter has the project; else re-exec the script with .venv's python, or exit 2 with one line."""
    missing = missing_modules()
    if not missing:
        return
    python = venv_python()
    if python is not None and os.environ.get(GUARD) != "1":
        os.environ[GUARD] = "1"
        os.execv(str(python), [str(python), *sys.argv])
    why = f"{sys.executable} cannot import {', '.join(missing)}"
    fix = f"{python} lacks them too: run `make clean-env setup` in {ROOT}" if python is not None else f"run `make setup` in {ROOT} (creates .venv), then rerun"
    print(f"error: {why}; {fix}", file=sys.stderr)
    sys.exit(2)


early_interrupts()
ensure()

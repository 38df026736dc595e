"""Make a throwaway copy of this repository (tracked and untracked-but-not-ignored files) as its own git repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def env() -> dict[str, str]:
    """The environment stage commands run with: this venv first on PATH, no network-dependent caches."""
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e.setdefault("TLDEXTRACT_CACHE", str(REPO / ".cache" / "tldextract"))
    e["DVC_NO_ANALYTICS"] = "1"
    return e


SHARED_CACHE_ENV = "SYNTHKIT_TEST_DVC_CACHE"  # set by tests/conftest.py: one DVC cache for the whole test session


def copy_repo(dst: Path, shared_cache: bool = True) -> Path:
    """Copy the project files into dst, `git init` and commit them there; returns dst.

    With shared_cache, the copy's DVC cache is the test session's (its run-cache included): a stage that another
    copy already ran with the same code, params and inputs is restored from it instead of running again, as DVC does
    for any user whose cache holds it. A test about losing the cache takes a cache of its own.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    git = ["git", "-c", "user.email=test@synthkit.invalid", "-c", "user.name=synthkit test"]
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dst, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "copy"], cwd=dst, check=True)
    if shared_cache and os.environ.get(SHARED_CACHE_ENV):
        subprocess.run(["dvc", "cache", "dir", "--local", os.environ[SHARED_CACHE_ENV]], cwd=dst, env=env(), check=True, capture_output=True)
    return dst


def run(args: list[str], cwd: Path, check: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command in cwd with env() (plus extra_env); on failure with check, show its output."""
    res = subprocess.run(args, cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {res.returncode}\nstdout:\n{res.stdout[-4000:]}\nstderr:\n{res.stderr[-4000:]}")
    return res


def built_copy(dst: Path) -> Path:
    """A copy of the repository whose root pipeline is reproduced (`dvc repro dvc.yaml`), in dst; returns dst.

    The test session builds it once, in a fresh copy next to its shared DVC cache, under a file lock that every
    pytest-xdist worker takes; each caller gets its own copy of that workspace, its git history included, to change
    as it likes. Without the shared cache (outside the test session) it copies and builds in dst.
    """
    shared = os.environ.get(SHARED_CACHE_ENV)
    if not shared:
        copy_repo(dst, shared_cache=False)
        run(["dvc", "repro", "dvc.yaml"], dst)
        return dst
    import fcntl

    base = Path(shared).parent / "built-root"
    with open(str(base) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (base / ".built").exists():
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir(parents=True)
            copy_repo(base)
            run(["dvc", "repro", "dvc.yaml"], base)
            (base / ".built").write_text("")
    # DVC's own state (.dvc/tmp: locks, hashes keyed by inode) stays behind: the copy's files are new inodes
    left = {base: {".built"}, base / ".dvc": {"tmp"}}
    shutil.copytree(base, dst, symlinks=True, ignore=lambda d, names: left.get(Path(d), set()), dirs_exist_ok=True)
    return dst

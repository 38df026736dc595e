"""What every stage script shares: argument parsing and turning bad input into one clear line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from synthkit import trace
from synthkit.errors import InputError, ServiceError
from synthkit.progress import stage_summary


def run(main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    """Parse arguments and run a stage; bad input prints `error: file: row N: field 'x': message` and exits 2, a failing service exits 3.

    Off a terminal, a stage that succeeds writes one summary line to stderr (stage, rows, seconds, rate).
    """
    args = parser.parse_args()
    trace.start(Path(sys.argv[0]).stem)
    try:
        with stage_summary(Path(sys.argv[0]).stem):
            main(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(3)


def parser(description: str, *paths: str) -> argparse.ArgumentParser:
    """An argument parser with --params and one required option per path name."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml")
    for name in paths:
        p.add_argument(f"--{name}", required=True)
    return p

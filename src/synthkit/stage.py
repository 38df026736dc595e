"""What every stage script shares: argument parsing, bad input as one clear line and exit 2, interrupts as exit 130 / 143."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from synthkit import trace
from synthkit.errors import InputError, ServiceError
from synthkit.progress import stage_summary

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal number, as a shell reports it
NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding like Ctrl-C so every cleanup written for Ctrl-C (atomic writes, batch cancels) runs too."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM in a command whose framework would turn a KeyboardInterrupt into its own message."""


@contextmanager
def exit_on_interrupt(what: str, keyboard: bool = True) -> Iterator[None]:
    """Run the block; on SIGINT or SIGTERM print `error: <what> interrupted by ...` and exit 130 or 143.

    The signal is also remembered, so an interrupt that Python swallowed (one raised inside a __del__ method is only
    printed as "Exception ignored") still ends the run with its exit code once the block returns.

    Args:
        what: the stage or command named in the line.
        keyboard: True (stages): SIGINT raises KeyboardInterrupt and SIGTERM Terminated, a KeyboardInterrupt;
            False (the CLI): both raise Interrupted, which click does not turn into "Aborted!".
    """
    received: list[int] = []

    def handler(signum, frame):
        received.append(signum)
        if not keyboard:
            raise Interrupted(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    previous = {s: signal.getsignal(s) for s in EXIT_CODES}
    for s in EXIT_CODES:
        if previous[s] != signal.SIG_IGN or s == signal.SIGTERM:  # a SIGINT ignored by the caller (nohup, &) stays ignored
            signal.signal(s, handler)
    interrupted = False
    try:
        yield
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted = True
        signum = received[0] if received else signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        _exit(what, signum)
    except BaseException:
        if not received:
            raise
        # a library that catches the handler's exception and raises its own (DuckDB wraps it in an
        # InvalidInputException, for one) must not turn the interrupt into a traceback
        interrupted = True
        _exit(what, received[0])
    finally:
        if not interrupted:
            for s, h in previous.items():
                if h is not None:
                    signal.signal(s, h)
    if received:
        _exit(what, received[0])


def _exit(what: str, signum: int) -> None:
    for s in EXIT_CODES:
        signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C while exiting must not print a traceback
    print(f"error: {what} interrupted by {NAMES[signum]}; no file was half-written (outputs are replaced whole or not at all)", file=sys.stderr)
    sys.exit(EXIT_CODES[signum])


def run(main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    """Parse arguments and run a stage; bad input prints `error: file: row N: field 'x': message` and exits 2, a failing
    service exits 3, Ctrl-C exits 130 and SIGTERM 143, each with one line and no traceback.

    Off a terminal, a stage that succeeds writes one summary line to stderr (stage, rows, seconds, rate).
    """
    args = parser.parse_args()
    trace.start(Path(sys.argv[0]).stem)
    with exit_on_interrupt(f"stage {Path(sys.argv[0]).stem}"):
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


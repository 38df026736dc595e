"""An interrupt that a library catches and re-raises as its own error still ends the run with one line and 130 / 143."""

from __future__ import annotations

import os
import signal

import pytest

from synthkit.stage import exit_on_interrupt


class LibraryError(Exception):
    """What a C library (DuckDB, for one) raises when a Python callback it runs raised."""


def _library_call() -> None:
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises inside the "callback"
    except BaseException as exc:  # the library swallows the handler's exception and raises its own
        raise LibraryError(f"reading the schema failed: {exc!r}") from None


@pytest.mark.parametrize("keyboard", [True, False])
def test_a_wrapped_interrupt_exits_143_with_one_line(capsys, keyboard):
    with pytest.raises(SystemExit) as stop:
        with exit_on_interrupt("synthkit query", keyboard=keyboard):
            _library_call()
    assert stop.value.code == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: synthkit query interrupted by SIGTERM; no file was half-written (outputs are replaced whole or not at all)"]
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL)


def test_an_error_without_an_interrupt_stays_an_error():
    with pytest.raises(LibraryError):
        with exit_on_interrupt("synthkit query", keyboard=False):
            raise LibraryError("a real failure")

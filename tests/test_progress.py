"""Progress: a bar with done/total and rate on a terminal, one summary line per stage (stage, rows, seconds, rate) in logs."""

from __future__ import annotations

import io
import re
import sys

import pytest

from synthkit import progress as prog
from synthkit import stage


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


SUMMARY = re.compile(r"^(?P<stage>\w+): (?P<rows>[\d,]+) (?P<unit>\w+) in (?P<s>[\d.]+) s \((?P<rate>[\d.,e+-]+) (?P=unit)/s\)")


def test_summary_line_off_a_terminal():
    log = io.StringIO()
    with prog.stage_summary("dedupe", stream=log):
        assert sum(prog.progress(range(5000), "minhash")) == sum(range(5000))
        list(prog.progress([[1, 2, 3], [4, 5]], "batches", total=5, size_of=len))
        prog.note_rows(1234)
    lines = log.getvalue().splitlines()
    assert len(lines) == 1
    m = SUMMARY.match(lines[0])
    assert m and m["stage"] == "dedupe" and m["rows"] == "1,234" and m["unit"] == "rows"
    assert "minhash 5,000 rows" in lines[0] and "batches 5 rows" in lines[0]  # each loop's rows done


def test_without_noted_rows_the_loops_count():
    log = io.StringIO()
    with prog.stage_summary("evaluate", stream=log):
        list(prog.progress(["real_only", "mix"], "students", unit="models"))
        list(prog.progress(range(4), "ratio curve", unit="models"))
        list(prog.progress(range(3), "features", unit="docs"))
    m = SUMMARY.match(log.getvalue())
    assert m and m["rows"] == "6" and m["unit"] == "models"


def test_no_summary_on_a_terminal_or_on_failure():
    tty = Tty()
    with prog.stage_summary("mix", stream=tty):
        prog.note_rows(3)
    assert tty.getvalue() == ""
    log = io.StringIO()
    with pytest.raises(ValueError), prog.stage_summary("mix", stream=log):
        raise ValueError("boom")
    assert log.getvalue() == ""


def test_bar_shows_done_of_total_and_rate_on_a_terminal():
    tty = Tty()
    with prog.Bar(7, "pii", stream=tty, delay=0, leave=True) as bar:
        for _ in range(7):
            bar.update(1)
    drawn = tty.getvalue()
    assert "pii" in drawn and "7/7" in drawn and "rows/s" in drawn


def test_short_loops_draw_nothing_and_logs_get_no_bar():
    tty, log = Tty(), io.StringIO()
    assert list(prog.progress(range(3), "quick", stream=tty)) == [0, 1, 2]  # over before SHOW_AFTER_S
    with prog.Bar(3, "logged", stream=log, delay=0) as bar:
        bar.update(3)
    assert tty.getvalue() == "" and log.getvalue() == ""


def test_stage_run_writes_the_summary(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["stages/validate.py", "--x", "1"])

    def main(args):
        list(prog.progress(range(10), "rule gate"))
        prog.note_rows(10)

    p = stage.parser("test stage", "x")
    stage.run(main, p)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("validate: 10 rows in ")

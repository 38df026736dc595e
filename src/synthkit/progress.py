"""Progress of long work: a bar on a terminal (done of total, rate), one summary line per stage in logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
SHOW_AFTER_S = 1.0  # a loop that ends sooner never shows a bar


def is_terminal(stream: TextIO) -> bool:
    """True when the stream is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@dataclass
class Loop:
    """What one loop did: units done of total, in seconds."""

    desc: str
    unit: str
    total: int | None
    done: int = 0
    seconds: float = 0.0


@dataclass
class StageTally:
    """The loops a stage ran and the rows it took in, for its summary line."""

    stage: str
    rows: int | None = None
    loops: list[Loop] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def summary(self, seconds: float) -> str:
        """One line: stage, rows, seconds, rate, then each loop's share."""
        if self.rows is not None:
            n, unit = self.rows, "rows"
        elif self.loops:  # no rows noted: the units of its loops, in the unit of the biggest one
            unit = max(self.loops, key=lambda lp: lp.done).unit
            n = sum(lp.done for lp in self.loops if lp.unit == unit)
        else:
            n, unit = None, "rows"
        head = f"{self.stage}: " + (f"{n:,} {unit} in {seconds:.1f} s ({_rate(n, seconds)} {unit}/s)" if n is not None else f"done in {seconds:.1f} s")
        parts = [f"{lp.desc} {lp.done:,} {lp.unit} {lp.seconds:.1f} s" for lp in self.loops]
        return head + (f"; {', '.join(parts)}" if parts else "")


def _rate(n: int, seconds: float) -> str:
    r = n / seconds if seconds > 0 else 0.0
    return f"{r:,.0f}" if r >= 10 else f"{r:.2g}"


_stage: StageTally | None = None  # the stage being run, set by stage_summary


def note_rows(n: int) -> None:
    """Tell the running stage how many rows it took in (the figure its summary line reports)."""
    if _stage is not None:
        _stage.rows = int(n)


@contextmanager
def stage_summary(stage: str, stream: TextIO | None = None) -> Iterator[StageTally]:
    """Collect the loops of a stage; when it succeeds and stderr is not a terminal, write its one summary line there."""
    global _stage
    outer, tally = _stage, StageTally(stage)
    _stage = tally
    try:
        yield tally
    finally:
        _stage = outer
    out = stream or sys.stderr
    if not is_terminal(out):
        print(tally.summary(time.perf_counter() - tally.started), file=out, flush=True)


class Bar:
    """A bar advanced by hand: drawn on a terminal (after `delay` seconds), silent elsewhere; counted into the stage summary."""

    def __init__(self, total: int | None, desc: str, unit: str = "rows", *, enabled: bool = True, leave: bool = False,
                 delay: float | None = None, stream: TextIO | None = None):
        out = stream or sys.stderr
        self.loop = Loop(desc, unit, total)
        self._t0 = time.perf_counter()
        self._closed = False
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=out, disable=not (enabled and is_terminal(out)), leave=leave,
                        delay=SHOW_AFTER_S if delay is None else delay, mininterval=0.5, dynamic_ncols=True)

    @property
    def disable(self) -> bool:
        """True when nothing is drawn."""
        return bool(self.bar.disable)

    def update(self, n: int = 1) -> None:
        """Advance by n units."""
        self.loop.done += n
        self.bar.update(n)

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        """Text after the rate (e.g. tokens and cost)."""
        self.bar.set_postfix_str(s, refresh=refresh)

    def refresh(self) -> None:
        """Redraw now."""
        self.bar.refresh()

    def close(self) -> None:
        """Remove the bar and add this loop to the running stage's summary (once)."""
        if self._closed:
            return
        self._closed = True
        self.loop.seconds = time.perf_counter() - self._t0
        self.bar.close()
        if _stage is not None:
            _stage.loops.append(self.loop)

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "rows",
             size_of: Callable[[T], int] | None = None, stream: TextIO | None = None) -> Iterator[T]:
    """Yield items under a bar: drawn on a terminal when the loop lasts over SHOW_AFTER_S, counted into the stage summary.

    size_of gives the units of one item (a batch of rows advances the bar by its row count).
    """
    n = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    bar = Bar(n, desc, unit, stream=stream)
    done = 0
    try:
        if bar.disable and size_of is None:  # nothing to draw: only count (a per-item update costs ~0.5 us)
            for done, item in enumerate(items, 1):  # noqa: B007
                yield item
        else:
            for item in items:
                yield item
                k = 1 if size_of is None else size_of(item)
                done += k
                bar.bar.update(k)
    finally:
        bar.loop.done = done
        bar.close()


def counter(total: int, desc: str, unit: str = "items", enabled: bool = True) -> Bar:
    """A bar advanced by hand for slow work such as remote requests: drawn on a terminal whatever the count, its last
    line left on screen; silent in logs and tests."""
    return Bar(total, desc, unit, enabled=enabled, leave=True, delay=0.0)

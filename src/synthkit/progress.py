"""Progress bars for long loops: shown on a terminal, silent in logs and tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
MIN_ITEMS = 2000  # shorter loops finish in a few seconds: no bar


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap a loop in a tqdm bar on stderr when it is long and stderr is a terminal."""
    n = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    disable = None if n is None or n >= MIN_ITEMS else True  # None: tqdm disables itself when not a TTY
    return iter(tqdm(items, desc=desc, total=n, disable=disable, unit="rows", leave=False))


def counter(total: int, desc: str, unit: str = "items", enabled: bool = True) -> tqdm:
    """A bar updated by hand (update, set_postfix_str) for slow work such as remote requests: shown on a terminal
    whatever the count, silent in logs and tests; its last line stays on screen."""
    return tqdm(total=total, desc=desc, unit=unit, disable=None if enabled else True, leave=True, mininterval=0.5,
                dynamic_ncols=True)

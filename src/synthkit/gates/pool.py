"""Process pools for gates: workers leave Ctrl-C to the stage process, and an interrupted stage stops them without running queued work."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


@contextmanager
def worker_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context process pool; leaving the block by an exception (an interrupt) stops its workers at once."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs polars/Arrow threads
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs)
    try:
        yield pool
    except BaseException:
        # the workers compute in memory and write nothing: stop them now rather than let queued chunks run;
        # no cancel_futures, so the pool's manager thread marks every pending task broken and ends quietly
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False)
        raise
    pool.shutdown(wait=True)


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Block SIGINT while worker processes start: they inherit the block and never see a terminal's Ctrl-C (the stage
    process handles it); a Ctrl-C in the meantime reaches this process as soon as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)

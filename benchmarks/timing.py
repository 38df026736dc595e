"""What every benchmark shares: the median wall time of repeated runs."""

from __future__ import annotations

import gc
import statistics
import time


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall seconds over repeats (garbage collected before each), and the last result."""
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result

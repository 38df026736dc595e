"""Where map-style work runs: in this process (engine: local) or on Ray Data (engine: ray).

Map-style work handles each row on its own (a PII or toxicity verdict, a MinHash signature). The caller supplies a
batch function: an Arrow table of rows, with their row numbers in column `_row`, in; an Arrow table with the same
`_row` column out. Results come back sorted by row number, so both engines give identical outputs. The engine knows
nothing of what the function computes; gates and dedupe supply their own batch forms.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa

from synthkit.config import Params, RayParams

ROW = "_row"
BatchFn = Callable[[pa.Table], pa.Table]


class LocalEngine:
    """Everything in this process: callers run their in-process form (the PII gate may still use its own workers)."""

    name = "local"
    in_process = True

    def map_batches(self, table: pa.Table, fn: BatchFn) -> pa.Table:
        """fn over the whole table at once."""
        return fn(table)


class RayEngine:
    """Batch functions as Ray Data map_batches over Arrow batches, on a local Ray or the cluster at ray.address."""

    name = "ray"
    in_process = False

    def __init__(self, params: RayParams):
        import ray

        self.params = params
        self.started = False
        if not ray.is_initialized():
            ray.init(
                address=params.address,  # None: RAY_ADDRESS if set, else a new local Ray
                num_cpus=params.num_cpus if params.address is None and not os.environ.get("RAY_ADDRESS") else None,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
            self.started = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False

    def map_batches(self, table: pa.Table, fn: BatchFn) -> pa.Table:
        """fn over batches of table on Ray, the results concatenated and sorted by row number."""
        import ray

        if table.num_rows == 0:
            return fn(table)
        ds = ray.data.from_arrow(table).map_batches(fn, batch_format="pyarrow", batch_size=self.params.batch_size)
        parts = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
        return pa.concat_tables(parts).sort_by(ROW)

    def close(self) -> None:
        """Shut down the Ray this engine started (a Ray already running, e.g. a cluster session, is left alone)."""
        import ray

        if self.started:
            ray.shutdown()


@contextmanager
def open_engine(params: Params) -> Iterator[LocalEngine | RayEngine]:
    """The engine params.yaml names, closed on exit."""
    if params.engine == "local":
        yield LocalEngine()
        return
    engine = RayEngine(params.ray)
    try:
        yield engine
    finally:
        engine.close()


__all__ = ["ROW", "LocalEngine", "RayEngine", "open_engine"]

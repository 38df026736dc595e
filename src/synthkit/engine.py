"""Where the map-style work runs: in this process (engine: local) or on Ray Data (engine: ray).

Map-style work is whatever handles each row on its own: the PII and toxicity gates (one verdict per row) and
the dedupe stage's MinHash signatures (bucket keys and marks per row). Rows travel as Arrow batches; results
come back with their row number and are put back in input order, so both engines give identical outputs.
Gates that look across rows (critic, consistency, review) and the LSH join stay in the calling process.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import polars as pl
import pyarrow as pa

from synthkit.config import DedupeParams, Params, PiiParams, RayParams, ToxicityParams
from synthkit.gates.base import Verdict

ROW = "_row"
FrameGate = Callable[[pl.DataFrame], list[Verdict]]


class LocalEngine:
    """Everything in this process (the PII gate may still use its own worker processes)."""

    name = "local"

    def map_gate(self, frame: pl.DataFrame, local: FrameGate, batch: FrameGate) -> list[Verdict]:
        """Verdicts of a map-style gate: `local` over the whole frame (`batch` is the per-batch form for Ray)."""
        return local(frame)

    def dedupe_keys(self) -> Callable[[Sequence[str], DedupeParams], tuple[np.ndarray, np.ndarray]] | None:
        """None: the dedupe stage computes its signatures in this process."""
        return None


def _verdict_table(frame: pl.DataFrame, gate: FrameGate) -> pa.Table:
    """A batch's verdicts as an Arrow table with its row numbers."""
    verdicts = gate(frame.drop(ROW))
    return pa.table(
        {
            ROW: frame[ROW].to_arrow(),
            "reason": pa.array([v.reason for v in verdicts], pa.string()),
            "detail": pa.array([v.detail for v in verdicts], pa.string()),
            "text": pa.array([v.text for v in verdicts], pa.string()),
        }
    )


def _sketch_table(table: pa.Table, params: DedupeParams) -> pa.Table:
    """A batch's LSH bucket keys and marks (fixed-size lists) with its row numbers."""
    from synthkit.dedupe import lsh_sketch

    keys, marks = lsh_sketch(table.column("norm").to_pylist(), params)
    return pa.table(
        {
            ROW: table.column(ROW),
            "keys": pa.FixedSizeListArray.from_arrays(pa.array(keys.ravel(), pa.uint64()), keys.shape[1]),
            "marks": pa.FixedSizeListArray.from_arrays(pa.array(marks.ravel(), pa.uint8()), marks.shape[1]),
        }
    )


class RayEngine:
    """Map-style work as Ray Data map_batches over Arrow batches, on a local Ray or the cluster at ray.address."""

    name = "ray"

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

    def _run(self, table: pa.Table, fn: Callable[[pa.Table], pa.Table]) -> pa.Table:
        """fn over batches of table on Ray, the results concatenated and sorted by row number."""
        import ray

        ds = ray.data.from_arrow(table).map_batches(fn, batch_format="pyarrow", batch_size=self.params.batch_size)
        parts = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
        return pa.concat_tables(parts).sort_by(ROW) if parts else None

    def map_gate(self, frame: pl.DataFrame, local: FrameGate, batch: FrameGate) -> list[Verdict]:
        """Verdicts of a map-style gate, `batch` applied to each Ray Data batch."""
        if frame.height == 0:
            return []
        table = frame.with_row_index(ROW).to_arrow()
        out = self._run(table, lambda t: _verdict_table(pl.from_arrow(t), batch))
        return [Verdict(r, d or "", x) for r, d, x in zip(*(out.column(c).to_pylist() for c in ("reason", "detail", "text")))]

    def dedupe_keys(self) -> Callable[[Sequence[str], DedupeParams], tuple[np.ndarray, np.ndarray]]:
        """The dedupe stage's bucket keys and marks computed by map_batches (the LSH join stays here)."""

        def keys_fn(norms: Sequence[str], params: DedupeParams) -> tuple[np.ndarray, np.ndarray]:
            from synthkit.dedupe import lsh_sketch

            if not norms:
                return lsh_sketch([], params)
            table = pa.table({ROW: pa.array(np.arange(len(norms), dtype=np.int64)), "norm": pa.array(list(norms), pa.string())})
            out = self._run(table, lambda t: _sketch_table(t, params))
            keys = out.column("keys").combine_chunks()
            marks = out.column("marks").combine_chunks()
            return (
                keys.values.to_numpy().reshape(len(norms), keys.type.list_size),
                marks.values.to_numpy().reshape(len(norms), marks.type.list_size),
            )

        return keys_fn

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


@functools.cache
def _worker_analyzer(spacy_model: str | None):
    """One PII analyzer per Ray worker process, built on first use."""
    from synthkit.gates.pii import build_analyzer

    return build_analyzer(spacy_model)


def pii_batch(frame: pl.DataFrame, params: PiiParams) -> list[Verdict]:
    """The PII gate over one batch inside a Ray worker (in-process analyzer: Ray already spreads batches)."""
    from synthkit.gates.pii import gate_pii

    if not params.enabled:
        return gate_pii(frame["text"].to_list(), params, None)
    return gate_pii(frame["text"].to_list(), params.model_copy(update={"workers": 1}), _worker_analyzer(params.spacy_model))


def toxicity_batch(frame: pl.DataFrame, params: ToxicityParams, llm) -> list[Verdict]:
    """The toxicity gate over one batch."""
    from synthkit.gates.toxicity import gate_toxicity

    return gate_toxicity(frame["text"].to_list(), params, llm)


__all__ = ["LocalEngine", "RayEngine", "open_engine", "pii_batch", "toxicity_batch"]

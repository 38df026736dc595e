"""One pipeline run's LLM calls: one budget for every stage of a `dvc repro`, the structured-output mode negotiated
per server and model, and loud failures.

The run is the `dvc repro` process that runs the stage (its nearest ancestor that is not a shell), or the stage's own
process when it runs by hand; the environment variable SYNTHKIT_RUN_ID names a run explicitly. Each stage records
what it spent and the modes it negotiated in run.json beside its LLM cache (data/llm_cache/run.json): a stage of the
same run starts from what the others spent and from their modes; a stage of another run starts the file anew. Only
what is sent costs: a rerun served from the cache spends nothing. The file is scratch (git-ignored, no DVC output):
budget and failures decide whether a stage finishes, never what an answer is.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import polars as pl

from synthkit.config import LlmParams
from synthkit.cost import CostLedger
from synthkit.errors import ServiceError
from synthkit.io import write_json
from synthkit.llm.causes import server_name

RUN_ENV = "SYNTHKIT_RUN_ID"
RUN_FILE = "run.json"
SHELLS = {"sh", "bash", "dash", "zsh", "fish", "ksh", "tcsh", "csh"}


def run_id() -> str:
    """Who this stage runs for: SYNTHKIT_RUN_ID, else the `dvc repro` process above it (DVC_STAGE is set), else itself."""
    explicit = os.environ.get(RUN_ENV)
    if explicit:
        return explicit
    import psutil

    proc = psutil.Process()
    if os.environ.get("DVC_STAGE"):
        try:
            proc = next((p for p in proc.parents() if p.name() not in SHELLS), proc)
        except psutil.Error:
            pass
    try:
        return f"{proc.pid}:{proc.create_time():.3f}"
    except psutil.Error:
        return f"{os.getpid()}"


def run_file(cache_dir: str | Path) -> Path:
    """The run ledger of the project a stage's LLM cache belongs to."""
    return Path(cache_dir).parent / RUN_FILE


def _read(path: Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def open_run(cache_dir: str | Path, stage: str | None = None) -> CostLedger:
    """The ledger of one stage in this pipeline run: what the run's other stages spent and the modes they negotiated."""
    path = run_file(cache_dir)
    me = run_id()
    state = _read(path)
    if state.get("run") != me:
        state = {"run": me, "stages": {}, "modes": {}}
    stage = stage or Path(cache_dir).name
    spent = sum(float(v) for k, v in (state.get("stages") or {}).items() if k != stage)
    ledger = CostLedger(spent_before=spent, run_file=str(path), stage=stage, negotiated=dict(state.get("modes") or {}))
    save_run(ledger)
    return ledger


def save_run(ledger: CostLedger) -> None:
    """Record what the ledger's stage spent and negotiated in its run file (no file: nothing to record)."""
    if not ledger.run_file:
        return
    path = Path(ledger.run_file)
    state = _read(path)
    me = run_id()
    if state.get("run") != me:
        state = {"run": me, "stages": {}, "modes": {}}
    state.setdefault("stages", {})[ledger.stage] = round(ledger.run_cost_usd, 9)
    state.setdefault("modes", {}).update(ledger.negotiated)
    write_json(state, path)


def ask(requests, llm: LlmParams, cache_dir: str | Path, ledger: CostLedger | None = None, *, label: str,
        progress: bool = True) -> list:
    """run_requests within the run's budget and its negotiated modes; the results are accounted in ledger and its run
    file. A ServiceError (one line) when the stage's failed requests pass llm.max_failure_rate."""
    import synthkit.llm as llm_pkg  # the package's run_requests (what tests spy on)

    ledger = ledger if ledger is not None else CostLedger()
    limit = None
    if llm.max_failure_rate < 1.0:
        done, failed, rate = ledger.completed, ledger.failed, llm.max_failure_rate
        limit = lambda n: math.floor(rate * (done + failed + n)) - failed  # noqa: E731
    results, stats = llm_pkg.run_requests(requests, llm, cache_dir, label=label, progress=progress, spent_usd=ledger.spent(),
                                  modes=ledger.negotiated, max_failures=limit)
    ledger.add(results, stats, server=server_name(llm.base_url))
    save_run(ledger)
    check_failures(ledger, llm, models=sorted({r.model for r in results if r.error in ("request_failed", "batch_failed")}))
    return results


def check_failures(ledger: CostLedger, llm: LlmParams, models: list[str] | None = None) -> None:
    """ServiceError when the stage's failed requests are more than llm.max_failure_rate of those it sent."""
    attempted = ledger.completed + ledger.failed
    if not ledger.failed or ledger.failed <= llm.max_failure_rate * attempted:
        return
    skipped = f", {ledger.aborted} more not sent" if ledger.aborted else ""
    raise ServiceError(
        f"LLM requests to {server_name(llm.base_url)} (model {', '.join(models or [llm.model])}) failed: {ledger.failed} of "
        f"{attempted}{skipped}, more than llm.max_failure_rate {llm.max_failure_rate:g}; first cause: {ledger.first_failure}"
    )


def require_llm_rows(candidates: pl.DataFrame, rejects: pl.DataFrame, ledger: CostLedger, llm: LlmParams) -> None:
    """ServiceError when an LLM generate backend gave no LLM row: naming the server, the model, what failed and why."""
    if candidates.height and (candidates["generator"].struct.field("backend") == "openai").any():
        return
    if ledger.failed:
        cause = ledger.first_failure
    elif rejects.height:
        first = rejects.sort("id").row(0, named=True)
        top = rejects.group_by("reason").len().sort("len", "reason", descending=[True, False]).row(0)
        cause = f"{top[0]} ({top[1]} of {rejects.height} rejects), e.g. {first['reason']}: {first['detail'][:200]}"
    elif ledger.budget_exhausted:
        cause = f"llm.budget_usd {llm.budget_usd} was spent before any row was made ({ledger.not_run} requests not run)"
    else:
        cause = "no request was made"
    raise ServiceError(
        f"generate.backend openai yielded no LLM rows from {server_name(llm.base_url)} (model {llm.model}): "
        f"{ledger.failed} of {ledger.completed + ledger.failed} requests failed, {rejects.height} answers rejected; first cause: {cause}"
    )

"""The OpenAI Batch API path: upload the request file, create the batch, poll, download, map back by custom_id.

The batch id is kept under cache_dir/batches/<hash of the request file>.json until its results are collected, so a
rerun after an interruption re-attaches to the running batch instead of paying for a new one. Ctrl-C cancels it.
Under a budget, only the requests whose estimated cost (prompt characters / 4 and max_tokens, at the batch price) fits
what is left are submitted; the rest are not run. A server without the Files or Batches API is a ServiceError.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from contextlib import contextmanager

from synthkit.config import LlmParams
from synthkit.errors import ServiceError
from synthkit.llm.cache import entry_from_completion, write_entry
from synthkit.llm.causes import OPENAI_URL, failure_cause
from synthkit.llm.limits import DEFAULT_OUTPUT_TOKENS
from synthkit.llm.request import request_body

RUNNING = {"validating", "in_progress", "finalizing", "cancelling"}
ENDPOINT = "/v1/chat/completions"
MAX_BATCH_REQUESTS = 50_000  # the Batch API's limits per input file
MAX_BATCH_BYTES = 190_000_000


def _wait(seconds: float) -> None:
    time.sleep(seconds)


def _state_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "batches"


def _write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(state, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def request_lines(todo, params: LlmParams) -> list[str]:
    """The batch input JSONL lines: one per request (custom_id, method, url, body)."""
    return [json.dumps({"custom_id": req.custom_id, "method": "POST", "url": ENDPOINT, "body": request_body(req, params)},
                       sort_keys=True, ensure_ascii=False) for _, req in todo]


def _chunks(lines: list[str]) -> list[list[int]]:
    """Indices of lines split to respect the Batch API's limits per input file."""
    out: list[list[int]] = [[]]
    size = 0
    for i, line in enumerate(lines):
        n = len(line.encode()) + 1
        if out[-1] and (len(out[-1]) >= MAX_BATCH_REQUESTS or size + n > MAX_BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(i)
        size += n
    return [c for c in out if c]


@contextmanager
def _api(params: LlmParams, what: str):
    """Turn the server's refusal of a Files or Batches API call into one ServiceError line naming the server."""
    import openai

    try:
        yield
    except openai.APIStatusError as exc:
        hint = "; this server has no Files or Batches API: set llm.batch: false" if exc.status_code in (404, 405, 501) else ""
        raise ServiceError(f"batch mode: {params.base_url or OPENAI_URL} answered {what} with {failure_cause(exc)}{hint}") from None
    except openai.APIError as exc:
        raise ServiceError(f"batch mode: {what} at {params.base_url or OPENAI_URL} failed: {failure_cause(exc, params.timeout_s)}") from None


def _estimated_usd(req, params: LlmParams) -> float:
    """An estimate of what one request costs at the batch price, before sending it (unpriced models: 0)."""
    price = params.prices.get(req.model or params.model)
    if price is None:
        return 0.0
    chars = sum(len(str(m.get("content") or "")) + 8 for m in req.messages) + (len(str(req.schema)) if req.schema is not None else 0)
    usd = ((chars // 4 + 1) * price.input + (req.max_tokens or DEFAULT_OUTPUT_TOKENS) * price.output) / 1_000_000
    return usd * params.batch_price_factor


def within_budget(todo, params: LlmParams, spent_usd: float) -> int:
    """How many requests of todo, in order, fit in what is left of llm.budget_usd at their estimated cost."""
    if params.budget_usd is None:
        return len(todo)
    left = params.budget_usd - spent_usd
    n = 0
    for _, req in todo:
        left -= _estimated_usd(req, params)
        if left < 0:
            break
        n += 1
    return n


def run_batch(todo, params: LlmParams, cache_dir: Path, stats, prices, label: str, spent_usd: float = 0.0) -> dict:
    """Send todo [(cache key, LLMRequest)] as batches; cache every answer; key -> (entry, error, detail).

    spent_usd: what the run already spent; requests past llm.budget_usd (estimated) are not run (a batch already
    running is still collected).
    """
    from synthkit.llm.client import make_client

    client = make_client(params)
    out: dict[str, tuple[dict | None, str | None, str]] = {}
    fits = within_budget(todo, params, spent_usd)
    if fits < len(todo):
        stats.budget_exhausted = True
        detail = f"budget of {params.budget_usd} USD would be exceeded by this request's estimated cost"
        out.update({key: (None, "budget_exhausted", detail) for key, _ in todo[fits:]})
        stats.not_run += len(todo) - fits
        todo = todo[:fits]
    lines = request_lines(todo, params)
    jobs = []  # (part of todo, state file, batch id)
    for idx in _chunks(lines):
        part = [todo[i] for i in idx]
        data = ("\n".join(lines[i] for i in idx) + "\n").encode()
        set_hash = hashlib.sha256(data).hexdigest()
        state_path = _state_dir(cache_dir) / f"{set_hash}.json"
        if state_path.exists():
            state = json.loads(state_path.read_text())
        else:
            with _api(params, "POST /files"):
                upload = client.files.create(file=(f"{label}-{set_hash[:12]}.jsonl", data, "application/jsonl"), purpose="batch")
            with _api(params, "POST /batches"):
                batch = client.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
                                              metadata={"synthkit": label[:64]})
            state = {"batch_id": batch.id, "input_file_id": upload.id, "requests": len(part)}
            _write_state(state_path, state)
            stats.requests_sent += len(part)
        stats.batch_ids.append(state["batch_id"])
        jobs.append((part, state_path, state["batch_id"]))

    finished: dict[str, object] = {}
    try:
        while True:
            for _, _, batch_id in jobs:
                if batch_id not in finished:
                    with _api(params, f"GET /batches/{batch_id}"):
                        batch = client.batches.retrieve(batch_id)
                    if batch.status not in RUNNING:
                        finished[batch_id] = batch
            if len(finished) == len(jobs):
                break
            _wait(params.batch_poll_s)
    except KeyboardInterrupt:
        for _, _, batch_id in jobs:  # the state files stay: the next run collects whatever the batches finished
            if batch_id not in finished:
                client.batches.cancel(batch_id)
        raise

    for part, state_path, batch_id in jobs:
        out.update(_collect(client, finished[batch_id], part, params, cache_dir, stats, prices))
        state_path.unlink(missing_ok=True)  # collected: a rerun starts a new batch for what is still missing
    return out


def _collect(client, batch, part, params: LlmParams, cache_dir: Path, stats, prices) -> dict:
    """Download a finished batch's output and error files, cache the answers, map the rest to reasons."""
    by_id = {req.custom_id: (key, req) for key, req in part}
    out: dict[str, tuple[dict | None, str | None, str]] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if not file_id:
            continue
        with _api(params, f"GET /files/{file_id}/content"):
            text = client.files.content(file_id).text
        for line in text.splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            hit = by_id.get(row.get("custom_id"))
            if hit is None:
                continue
            key, req = hit
            response = row.get("response") or {}
            body = response.get("body") or {}
            if response.get("status_code") == 200 and not row.get("error"):
                entry = entry_from_completion(body, batch=True, mode="json_schema" if req.schema is not None else None)
                write_entry(cache_dir, key, entry)
                model = req.model or params.model
                stats.completed += 1
                stats.input_tokens += entry["input_tokens"]
                stats.output_tokens += entry["output_tokens"]
                stats.cost_usd += prices.cost(model, entry)
                out[key] = (entry, None, "")
            else:
                err = row.get("error") or body.get("error") or {}
                msg = err.get("message") if isinstance(err, dict) else str(err)
                out[key] = (None, "batch_failed", f"batch {batch.id}: HTTP {response.get('status_code')}: {str(msg)[:200]}")
    errors = getattr(batch, "errors", None)
    why = "; ".join(str(e.message) for e in (errors.data or [])) if errors is not None and errors.data else ""
    for key, _ in part:
        if key not in out:
            out[key] = (None, "batch_failed", f"batch {batch.id} ended {batch.status}" + (f": {why[:200]}" if why else ""))
    stats.failed += sum(1 for entry, _, _ in out.values() if entry is None)
    return out


def cancel_batches(cache_dir: str | Path, params: LlmParams) -> list[str]:
    """Cancel every batch this cache directory is waiting for; the next run collects what they finished."""
    import openai

    from synthkit.llm.client import make_client

    client = make_client(params)
    cancelled = []
    for path in sorted(_state_dir(Path(cache_dir)).glob("*.json")):
        batch_id = json.loads(path.read_text())["batch_id"]
        try:
            client.batches.cancel(batch_id)
        except openai.APIStatusError:  # already finished: nothing to cancel
            continue
        cancelled.append(batch_id)
    return cancelled

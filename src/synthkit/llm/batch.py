"""The OpenAI Batch API path: upload the request file, create the batch, poll, download, map back by custom_id.

The batch id is kept under cache_dir/batches/<hash of the request file>.json until its results are collected, so a
rerun after an interruption re-attaches to the running batch instead of paying for a new one. Ctrl-C cancels it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from synthkit.config import LlmParams
from synthkit.llm.cache import entry_from_completion, write_entry
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


def run_batch(todo, params: LlmParams, cache_dir: Path, stats, prices, label: str, over_budget: bool = False) -> dict:
    """Send todo [(cache key, LLMRequest)] as batches; cache every answer; key -> (entry, error, detail).

    over_budget: the run already spent llm.budget_usd, so no new batch is created (a running one is still collected).
    """
    from synthkit.llm.client import make_client

    client = make_client(params)
    lines = request_lines(todo, params)
    out: dict[str, tuple[dict | None, str | None, str]] = {}
    jobs = []  # (part of todo, state file, batch id)
    for idx in _chunks(lines):
        part = [todo[i] for i in idx]
        data = ("\n".join(lines[i] for i in idx) + "\n").encode()
        set_hash = hashlib.sha256(data).hexdigest()
        state_path = _state_dir(cache_dir) / f"{set_hash}.json"
        if state_path.exists():
            state = json.loads(state_path.read_text())
        elif over_budget:
            stats.budget_exhausted = True
            stats.not_run += len(part)
            detail = f"budget of {params.budget_usd} USD spent before this batch was sent"
            out.update({key: (None, "budget_exhausted", detail) for key, _ in part})
            continue
        else:
            upload = client.files.create(file=(f"{label}-{set_hash[:12]}.jsonl", data, "application/jsonl"), purpose="batch")
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
        for line in client.files.content(file_id).text.splitlines():
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
                entry = entry_from_completion(body, batch=True)
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

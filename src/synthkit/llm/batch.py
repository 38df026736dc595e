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

RUNNING = {"validating", "in_progress", "finalizing", "cancelling"}
ENDPOINT = "/v1/chat/completions"


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


def request_file(todo, params: LlmParams) -> bytes:
    """The batch input JSONL: one line per request (custom_id, method, url, body)."""
    from synthkit.llm.runtime import request_body

    lines = [json.dumps({"custom_id": req.custom_id, "method": "POST", "url": ENDPOINT, "body": request_body(req, params)},
                        sort_keys=True, ensure_ascii=False) for _, req in todo]
    return ("\n".join(lines) + "\n").encode()


def run_batch(todo, params: LlmParams, cache_dir: Path, stats, prices, label: str, over_budget: bool = False) -> dict:
    """Send todo [(cache key, LLMRequest)] as one batch; cache every answer; key -> (entry, error, detail).

    over_budget: the run already spent llm.budget_usd, so no new batch is created (a running one is still collected).
    """
    from synthkit.llm.client import make_client

    client = make_client(params)
    data = request_file(todo, params)
    set_hash = hashlib.sha256(data).hexdigest()
    state_path = _state_dir(cache_dir) / f"{set_hash}.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
    elif over_budget:
        stats.budget_exhausted = True
        stats.not_run += len(todo)
        detail = f"budget of {params.budget_usd} USD spent before this batch was sent"
        return {key: (None, "budget_exhausted", detail) for key, _ in todo}
    else:
        upload = client.files.create(file=(f"{label}-{set_hash[:12]}.jsonl", data, "application/jsonl"), purpose="batch")
        batch = client.batches.create(input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h",
                                      metadata={"synthkit": label[:64]})
        state = {"batch_id": batch.id, "input_file_id": upload.id, "requests": len(todo)}
        _write_state(state_path, state)
        stats.requests_sent += len(todo)
    batch_id = state["batch_id"]
    stats.batch_ids.append(batch_id)
    try:
        batch = client.batches.retrieve(batch_id)
        while batch.status in RUNNING:
            _wait(params.batch_poll_s)
            batch = client.batches.retrieve(batch_id)
    except KeyboardInterrupt:
        client.batches.cancel(batch_id)  # the state stays: the next run collects whatever the batch finished
        raise

    by_id = {req.custom_id: (key, req) for key, req in todo}
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
                out[key] = (None, "batch_failed", f"batch {batch_id}: HTTP {response.get('status_code')}: {str(msg)[:200]}")
    errors = getattr(batch, "errors", None)
    why = "; ".join(str(e.message) for e in (errors.data or [])) if errors is not None and errors.data else ""
    for key, _ in todo:
        if key not in out:
            out[key] = (None, "batch_failed", f"batch {batch_id} ended {batch.status}" + (f": {why[:200]}" if why else ""))
    stats.failed += sum(1 for e, err, _ in out.values() if e is None)
    state_path.unlink(missing_ok=True)  # collected: a rerun starts a new batch for what is still missing
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

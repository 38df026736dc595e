"""Content-addressed response cache: one JSON file per request key, written atomically when the response arrives.

A file holds what the server answered (content, refusal, finish reason, token usage, model) and the structured-output
mode it was asked in, nothing else:
no headers, no API key, no timestamps, so the cache is reproducible and safe to version with DVC.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from synthkit.config import LlmParams


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(req, params: LlmParams) -> str:
    """sha256 over everything that shapes the answer: model, messages, schema, temperature, max_tokens, seed."""
    payload = {
        "model": req.model or params.model,
        "messages": req.messages,
        "schema": req.schema,
        "schema_name": req.schema_name if req.schema is not None else None,
        "temperature": req.temperature if req.temperature is not None else params.temperature,
        "max_tokens": req.max_tokens,
        "seed": req.seed,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def entry_path(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir) / key[:2] / f"{key}.json"


def read_entry(cache_dir: str | Path, key: str) -> dict | None:
    """The cached response for key, or None (absent or unreadable: then it is requested again)."""
    try:
        with open(entry_path(cache_dir, key), "rb") as fh:
            entry = json.loads(fh.read())
    except (FileNotFoundError, ValueError):
        return None
    ok = isinstance(entry, dict) and "content" in entry and all(isinstance(entry.get(k), int) for k in ("input_tokens", "output_tokens"))
    return entry if ok else None


def write_entry(cache_dir: str | Path, key: str, entry: dict) -> None:
    """Write atomically (temporary file, fsync, rename): a killed run leaves either the whole entry or none."""
    path = entry_path(cache_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
    data = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def entry_from_completion(body: dict, batch: bool = False, mode: str | None = None) -> dict:
    """The cacheable part of a chat completion response body (a dict as the server sent it); mode: the structured-output
    mode the request was sent in (synthkit.llm.request.MODES; None for free text)."""
    choices = body.get("choices") or [{}]
    choice = choices[0] or {}
    message = choice.get("message") or {}
    usage = body.get("usage") or {}
    return {
        "content": message.get("content"),
        "refusal": message.get("refusal"),
        "finish_reason": choice.get("finish_reason"),
        "model": body.get("model"),
        "input_tokens": int(usage.get("prompt_tokens") or 0),
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "batch": batch,
        "mode": mode,
    }


def sweep_stale_tmp(cache_dir: str | Path) -> int:
    """Remove temporary files left by a killed run (their writer process is gone); returns how many."""
    removed = 0
    for tmp in Path(cache_dir).glob("??/.*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


CACHE_README = (
    "LLM response cache of this stage (content-addressed: model, messages, params, seed).\n"
    "A DVC output with persist: true: reruns reuse it, and it travels with dvc push / dvc pull.\n"
    "Delete the stage's entries to pay for the requests again.\n"
)


def ensure_cache_dir(path: str | Path) -> None:
    """Create an LLM cache directory holding a fixed README.txt, so the DVC output exists (and hashes the same) when unused."""
    readme = Path(path) / "README.txt"
    if not readme.exists() or readme.read_text(encoding="utf-8") != CACHE_README:
        readme.parent.mkdir(parents=True, exist_ok=True)
        tmp = readme.with_name(f".README.txt.{os.getpid()}.tmp")
        tmp.write_text(CACHE_README, encoding="utf-8")
        os.replace(tmp, readme)

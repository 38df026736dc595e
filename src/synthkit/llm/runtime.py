"""Run many chat requests against an OpenAI-compatible server: cached, resumable, rate limited and budgeted.

Every response is written to a content-addressed cache the moment it arrives, so a rerun with unchanged inputs
sends nothing and a killed run loses only the requests that were in flight. The structured-output mode is negotiated
per server and model (json_schema, then json_object with the schema, then the schema in the prompt), moving down
only when the server's error names response_format; every failure keeps its cause (connection refused, timeout,
HTTP status and the server's message).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthkit.config import LlmParams
from synthkit.llm.batch import run_batch
from synthkit.llm.cache import (
    cache_key,
    entry_from_completion,
    read_entry,
    sweep_stale_tmp,
    write_entry,
)
from synthkit.llm.causes import InvalidBody, endpoint, failure_cause, schema_unsupported, short_message
from synthkit.llm.limits import RateLimiter, backoff_s, estimate_tokens, retry_after_s
from synthkit.llm.request import MODES, LLMRequest, request_body

log = logging.getLogger(__name__)
ERRORS = ("malformed_json", "refused", "request_failed", "budget_exhausted", "batch_failed", "aborted")
RETRY_STATUS = {408, 409, 429}
FORMAT_STATUS = {400, 422, 500}  # statuses with which servers reject a response_format they do not support


@dataclass(frozen=True)
class LLMResult:
    custom_id: str
    cache_key: str
    ok: bool
    data: dict | None
    text: str | None
    error: str | None  # None when ok, else one of ERRORS
    detail: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool  # served from the cache (or by an identical request of the same call): no request of its own
    mode: str | None = None  # structured-output mode the answer came in (None: unknown, an answer cached before modes)


@dataclass
class RunStats:
    """What one run_requests call did; tokens and cost count only requests answered in this run."""

    requests_sent: int = 0  # HTTP chat requests sent, retries included (batch: requests submitted in a new batch)
    cache_hits: int = 0
    retries: int = 0
    failed: int = 0  # request_failed + batch_failed
    not_run: int = 0  # skipped because the budget was spent
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    budget_exhausted: bool = False
    wall_s: float = 0.0
    completed: int = 0  # responses received (paid) in this run
    malformed: int = 0
    refused: int = 0
    json_mode_fallback: bool = False  # the server rejected a structured-output mode: a less strict one for the rest of the run
    first_failure: str = ""  # the cause of the first request that failed (connection refused, timeout, HTTP status: message)
    aborted: int = 0  # not sent: failures had already passed what the caller allows
    unpriced_models: list[str] = field(default_factory=list)  # models without a price: counted at 0 USD
    batch_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["cost_usd"] = round(d["cost_usd"], 6)
        d["wall_s"] = round(d["wall_s"], 3)
        return d


# ------------------------------------------------------------------------------------------------ results


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def parse_json_object(text: str | None) -> dict | None:
    """The JSON object in a response (tolerating a Markdown code fence around it), or None."""
    if text is None:
        return None
    m = _FENCE.match(text)
    try:
        obj = json.loads(m.group(1) if m else text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class _Prices:
    def __init__(self, params: LlmParams):
        self.params = params
        self.unpriced: set[str] = set()

    def cost(self, model: str, entry: dict) -> float:
        price = self.params.prices.get(model) or self.params.prices.get(entry.get("model") or "")
        if price is None:
            self.unpriced.add(model)
            return 0.0
        usd = (entry["input_tokens"] * price.input + entry["output_tokens"] * price.output) / 1_000_000
        return usd * (self.params.batch_price_factor if entry.get("batch") else 1.0)


def _result(req: LLMRequest, key: str, model: str, entry: dict, cost: float, cached: bool) -> LLMResult:
    content, refusal = entry.get("content"), entry.get("refusal")
    common = dict(custom_id=req.custom_id, cache_key=key, text=content, model=model, input_tokens=entry["input_tokens"],
                  output_tokens=entry["output_tokens"], cost_usd=cost, cached=cached,
                  mode=entry.get("mode") if req.schema is not None else None)
    if refusal:
        return LLMResult(ok=False, data=None, error="refused", detail=f"the model refused: {str(refusal)[:200]}", **common)
    if req.schema is None:
        if content is None:
            return LLMResult(ok=False, data=None, error="malformed_json", detail="the response has no content", **common)
        return LLMResult(ok=True, data=None, error=None, detail="", **common)
    data = parse_json_object(content)
    if data is None:
        why = f" (finish_reason {entry.get('finish_reason')})" if entry.get("finish_reason") not in (None, "stop") else ""
        return LLMResult(ok=False, data=None, error="malformed_json",
                         detail=f"the response is not a JSON object{why}: {str(content)[:120]!r}", **common)
    return LLMResult(ok=True, data=data, error=None, detail="", **common)


def _error_result(req: LLMRequest, key: str, model: str, error: str, detail: str) -> LLMResult:
    return LLMResult(custom_id=req.custom_id, cache_key=key, ok=False, data=None, text=None, error=error, detail=detail,
                     model=model, input_tokens=0, output_tokens=0, cost_usd=0.0, cached=False)


# ------------------------------------------------------------------------------------------------ online mode


class _Bar:
    """tqdm bar on a terminal (silent in logs and tests): requests, tokens and cost in the postfix, ETA from tqdm."""

    def __init__(self, total: int, label: str, enabled: bool, stats: RunStats):
        from synthkit.progress import counter

        self.stats = stats
        self.bar = counter(total, label, unit="req", enabled=enabled)

    def _postfix(self) -> None:
        s = self.stats
        self.bar.set_postfix_str(f"sent={s.requests_sent} tok={s.input_tokens + s.output_tokens} ${s.cost_usd:.4f}",
                                 refresh=False)

    def step(self) -> None:
        if not self.bar.disable:
            self._postfix()
        self.bar.update(1)

    def close(self) -> None:
        if not self.bar.disable:
            self._postfix()
            self.bar.refresh()
        self.bar.close()


class _Online:
    def __init__(self, params: LlmParams, cache_dir: Path, stats: RunStats, prices: _Prices, bar: _Bar,
                 modes: dict[str, str] | None = None, max_failures: int | None = None):
        from synthkit.llm.client import make_async_client

        self.params, self.cache_dir, self.stats, self.prices, self.bar = params, cache_dir, stats, prices, bar
        self.client = make_async_client(params)
        self.rpm = RateLimiter(params.rpm) if params.rpm else None
        self.tpm = RateLimiter(params.tpm) if params.tpm else None
        self.modes = modes if modes is not None else {}  # endpoint -> negotiated mode (shared with the caller)
        self.max_failures = max_failures
        self.spent_before = 0.0
        self.rng = random.Random()
        self.out: dict[str, tuple[dict | None, str | None, str]] = {}  # key -> (entry, error, detail)
        # cache writes (write, fsync, rename) run on a few threads without a round trip through the event loop
        self.writer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm-cache")
        self.writes: list = []

    def _over_budget(self) -> bool:
        return _over_budget(self.params, self.spent_before + self.stats.cost_usd)

    def _mode(self, model: str) -> str:
        return self.modes.get(endpoint(self.params.base_url, model), MODES[0])

    def _downgrade(self, model: str, sent: str, exc) -> None:
        """The server rejected mode `sent`: the next less strict one, for every later request to this server and model."""
        key = endpoint(self.params.base_url, model)
        nxt = MODES[MODES.index(sent) + 1]
        if MODES.index(self.modes.get(key, MODES[0])) < MODES.index(nxt):  # other requests in flight may have moved it already
            log.warning("%s rejected response_format %s (%s): %s from now on", key, sent, short_message(exc), nxt)
            self.modes[key] = nxt
        self.stats.json_mode_fallback = True

    def _aborted(self) -> bool:
        return self.max_failures is not None and self.stats.failed > self.max_failures

    async def run(self, todo: list[tuple[str, LLMRequest]]) -> None:
        it = iter(todo)

        async def worker():
            for key, req in it:  # one shared iterator: requests go out in order
                if self._aborted():
                    self.stats.aborted += 1
                    self.out[key] = (None, "aborted", f"not sent: {self.stats.failed} requests had failed ({self.stats.first_failure})")
                else:
                    self.out[key] = await self._one(key, req)
                self.bar.step()

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.params.max_concurrency, len(todo)))))
        finally:
            await self.client.close()
            self.writer.shutdown(wait=True)
        for write in self.writes:
            write.result()  # a failed cache write (disk full) is an error, not a silent loss

    async def _one(self, key: str, req: LLMRequest):
        import openai

        p, stats = self.params, self.stats
        model = req.model or p.model
        attempt = 0
        while True:
            mode = self._mode(model) if req.schema is not None else None
            body = request_body(req, p, mode or MODES[0])
            grant = None
            if self.rpm:
                await self.rpm.acquire(1)
            if self.tpm:
                grant = await self.tpm.acquire(estimate_tokens(body["messages"], req.schema, req.max_tokens))
            if self._over_budget():
                stats.budget_exhausted = True
                stats.not_run += 1
                return None, "budget_exhausted", f"budget of {p.budget_usd} USD spent before this request was sent"
            stats.requests_sent += 1
            try:
                # the client's generic post: same transport, auth and error types as chat.completions.create, without
                # its per-call parameter transform and response models (the bulk of the client's CPU per request)
                async with asyncio.timeout(p.timeout_s):  # the whole request, however slowly the bytes come
                    resp = await self.client.post("/chat/completions", body=body, cast_to=object)
                if not (isinstance(resp, dict) and isinstance(resp.get("choices"), list)):
                    raise InvalidBody(f"not a chat completion: {str(resp)[:120]!r}")
            except (TimeoutError, InvalidBody, openai.APITimeoutError, openai.APIConnectionError,
                    openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                if status in FORMAT_STATUS and mode not in (None, MODES[-1]) and schema_unsupported(exc):
                    self._downgrade(model, mode, exc)  # not an attempt: the same request again in a mode the server takes
                    continue
                retryable = status is None or status in RETRY_STATUS or status >= 500
                if status == 429 and getattr(exc, "code", None) == "insufficient_quota":
                    retryable = False  # out of credit: waiting does not help
                if not retryable or attempt >= p.max_retries:
                    stats.failed += 1
                    cause = failure_cause(exc, p.timeout_s)
                    stats.first_failure = stats.first_failure or cause
                    tries = f" after {attempt + 1} attempts" if retryable else ""
                    return None, "request_failed", f"{cause}{tries}"
                response = getattr(exc, "response", None)
                wait = retry_after_s(response.headers if response is not None else None)
                if wait is None:
                    wait = backoff_s(attempt, p.retry_base_s, self.rng)
                attempt += 1
                stats.retries += 1
                await asyncio.sleep(wait)
                continue
            entry = entry_from_completion(resp, mode=mode)
            self.writes.append(self.writer.submit(write_entry, self.cache_dir, key, entry))
            if grant is not None:
                self.tpm.settle(grant, entry["input_tokens"] + entry["output_tokens"])
            stats.completed += 1
            stats.input_tokens += entry["input_tokens"]
            stats.output_tokens += entry["output_tokens"]
            stats.cost_usd += self.prices.cost(model, entry)
            return entry, None, ""


# ------------------------------------------------------------------------------------------------ entry point


def _run_async(coro) -> None:
    """asyncio.run, also from code that already runs an event loop (a notebook): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _over_budget(params: LlmParams, spent: float) -> bool:
    return params.budget_usd is not None and spent >= params.budget_usd


def run_requests(requests: Sequence[LLMRequest], params: LlmParams, cache_dir: str | Path, *,
                 label: str = "llm", progress: bool = True, spent_usd: float = 0.0, modes: dict[str, str] | None = None,
                 max_failures: Callable[[int], int] | None = None) -> tuple[list[LLMResult], RunStats]:
    """Answer every request, in order, from the cache or the server; see the module docstring.

    A cached key is never requested again; identical requests within one call are sent once. The API key is needed
    only when something must be sent (a fully cached rerun runs without it). Failures never raise: each request ends
    ok or with an error in ERRORS; only a missing API key (InputError naming llm.api_key_env) or repeated custom_ids
    (ValueError) stop the call.
    spent_usd: what earlier calls of the same run already spent; it counts toward params.budget_usd.
    modes: endpoint (server and model) -> structured-output mode negotiated earlier in the run; updated in place.
    max_failures: given the number of requests to send, how many may fail before the rest are not sent (aborted).
    """
    t0 = time.perf_counter()
    cache_dir = Path(cache_dir)
    stats = RunStats()
    prices = _Prices(params)
    ids = [r.custom_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("run_requests: custom_id values must be unique within one call")
    keys = [cache_key(r, params) for r in requests]
    entries: dict[str, dict | None] = {}
    todo: list[tuple[str, LLMRequest]] = []
    for key, req in zip(keys, requests):
        if key not in entries:
            entries[key] = read_entry(cache_dir, key)
            if entries[key] is None:
                todo.append((key, req))
    fresh = {k for k, _ in todo}
    outcome: dict[str, tuple[dict | None, str | None, str]] = {}
    if todo:
        from synthkit.llm.client import api_key

        api_key(params)  # InputError naming llm.api_key_env before anything starts
        sweep_stale_tmp(cache_dir)
        bar = _Bar(len(todo), label, progress, stats)
        try:
            if params.batch:
                outcome = run_batch(todo, params, cache_dir, stats, prices, label, spent_usd=spent_usd)
                bar.bar.update(len(todo))
            else:
                online = _Online(params, cache_dir, stats, prices, bar, modes, max_failures(len(todo)) if max_failures else None)
                online.spent_before = spent_usd
                try:
                    _run_async(online.run(todo))
                finally:
                    outcome = online.out
        finally:
            bar.close()
    results: list[LLMResult] = []
    answered: set[str] = set()
    for key, req in zip(keys, requests):
        model = req.model or params.model
        if key in fresh:
            entry, error, detail = outcome.get(key, (None, "request_failed", "the run ended before this request finished"))
            if entry is None:
                results.append(_error_result(req, key, model, error, detail))
                continue
            cached = key in answered  # an identical request earlier in this call paid for it
            answered.add(key)
        else:
            entry, cached = entries[key], True
        stats.cache_hits += cached
        res = _result(req, key, model, entry, prices.cost(model, entry), cached)
        stats.malformed += (res.error == "malformed_json") and not cached
        stats.refused += (res.error == "refused") and not cached
        results.append(res)
    stats.unpriced_models = sorted(prices.unpriced)
    stats.wall_s = time.perf_counter() - t0
    return results, stats

"""Client-side rate limits (requests and tokens per minute), Retry-After parsing and backoff with jitter."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections import deque

WINDOW_S = 60.0
DEFAULT_OUTPUT_TOKENS = 256  # assumed answer length when a request sets no max_tokens
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 600.0


class _Grant:
    __slots__ = ("t", "amount", "live")

    def __init__(self, t: float, amount: float):
        self.t, self.amount, self.live = t, amount, True


class RateLimiter:
    """At most `per_minute` units in any 60 s window, paced evenly (no burst of a minute's worth at the start).

    Units are requests (rpm) or tokens (tpm). A token grant is an estimate made before sending; `settle` corrects it
    with the usage the server reports, so later requests wait for what was really spent.
    """

    def __init__(self, per_minute: int):
        self.limit = float(per_minute)
        self.interval = WINDOW_S / float(per_minute)  # seconds per unit
        self.log: deque[_Grant] = deque()
        self.total = 0.0
        self.next_t = 0.0
        self.lock = asyncio.Lock()

    def _expire(self, now: float) -> None:
        while self.log and self.log[0].t <= now - WINDOW_S:
            grant = self.log.popleft()
            grant.live = False
            self.total -= grant.amount

    async def acquire(self, amount: float = 1.0) -> _Grant:
        amount = min(float(amount), self.limit)  # a request larger than the whole limit still goes, alone
        async with self.lock:
            while True:
                now = time.monotonic()
                self._expire(now)
                wait = self.next_t - now
                if self.log and self.total + amount > self.limit:
                    wait = max(wait, self.log[0].t + WINDOW_S - now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            grant = _Grant(now, amount)
            self.log.append(grant)
            self.total += amount
            self.next_t = max(self.next_t, now) + amount * self.interval
            return grant

    def settle(self, grant: _Grant, actual: float) -> None:
        """Replace a grant's estimate with what was actually used."""
        actual = float(actual)
        self.next_t += (actual - grant.amount) * self.interval
        if grant.live:
            self.total += actual - grant.amount
        grant.amount = actual


def estimate_tokens(messages: list[dict], schema: dict | None, max_tokens: int | None) -> int:
    """A cheap upper-ish estimate (about 4 characters per token) of what a request will use, before sending it."""
    chars = sum(len(str(m.get("content") or "")) + 8 for m in messages)
    if schema is not None:
        chars += len(str(schema))
    return chars // 4 + 1 + (max_tokens or DEFAULT_OUTPUT_TOKENS)


def retry_after_s(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None when absent or unreadable."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return min(max(float(ms) / 1000.0, 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER_S)


def backoff_s(attempt: int, base_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base * 2**attempt, drawn uniformly from its upper half, capped."""
    full = min(base_s * (2**attempt), MAX_BACKOFF_S)
    return full / 2 + rng.uniform(0, full / 2)

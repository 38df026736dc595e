"""Real LLM calls through any OpenAI-compatible server: cached, resumable, rate limited, budgeted, batchable."""

from synthkit.llm.batch import cancel_batches
from synthkit.llm.cache import cache_key
from synthkit.llm.client import api_key, make_async_client, make_client
from synthkit.llm.request import LLMRequest, request_body, strict_schema
from synthkit.llm.runtime import ERRORS, LLMResult, RunStats, run_requests

__all__ = [
    "ERRORS",
    "LLMRequest",
    "LLMResult",
    "RunStats",
    "api_key",
    "cache_key",
    "cancel_batches",
    "make_async_client",
    "make_client",
    "request_body",
    "run_requests",
    "strict_schema",
]

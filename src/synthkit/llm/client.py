"""The OpenAI client, built from params and the environment; the API key never leaves the environment."""

from __future__ import annotations

import os

from synthkit.config import LlmParams
from synthkit.errors import InputError


def api_key(params: LlmParams) -> str:
    """The key from the variable params.api_key_env names; InputError naming llm.api_key_env when it is unset."""
    key = os.environ.get(params.api_key_env)
    if not key:
        raise InputError("params.yaml", f"environment variable {params.api_key_env} is not set", field="llm.api_key_env")
    return key


def make_client(params: LlmParams):
    """An `openai.OpenAI` client for params.base_url with the key read from the variable params.api_key_env names."""
    from openai import OpenAI

    return OpenAI(base_url=params.base_url, api_key=api_key(params), timeout=params.timeout_s, max_retries=params.max_retries)


def make_async_client(params: LlmParams):
    """An `openai.AsyncOpenAI` client without built-in retries: the runtime retries itself (it counts them and honours
    Retry-After). Uses the aiohttp transport when aiohttp is installed: about half the CPU per request of httpx."""
    from openai import AsyncOpenAI

    http_client = None
    try:
        from openai import DefaultAioHttpClient

        http_client = DefaultAioHttpClient(timeout=params.timeout_s)
    except (ImportError, RuntimeError):  # no aiohttp: the default httpx transport
        pass
    return AsyncOpenAI(base_url=params.base_url, api_key=api_key(params), timeout=params.timeout_s, max_retries=0,
                       http_client=http_client)

"""The OpenAI client, built from params and the environment; the API key never leaves the environment."""

from __future__ import annotations

import os

from synthkit.config import LlmParams
from synthkit.errors import InputError


def make_client(params: LlmParams):
    """An `openai.OpenAI` client for params.base_url with the key read from the variable params.api_key_env names."""
    from openai import OpenAI

    key = os.environ.get(params.api_key_env)
    if not key:
        raise InputError("params.yaml", f"environment variable {params.api_key_env} is not set", field="llm.api_key_env")
    return OpenAI(base_url=params.base_url, api_key=key, timeout=params.timeout_s, max_retries=params.max_retries)

"""What went wrong with a request to an OpenAI-compatible server, in words a user acts on, and where it went."""

from __future__ import annotations

import errno
import re
import socket

OPENAI_URL = "https://api.openai.com/v1"


class InvalidBody(Exception):
    """A 200 whose body is not a chat completion (e.g. a proxy's error page): retried like a 5xx."""


def server_name(base_url: str | None) -> str:
    """The server a base_url names (None: the official OpenAI endpoint)."""
    return base_url or OPENAI_URL


def endpoint(base_url: str | None, model: str) -> str:
    """The key a negotiated structured-output mode is remembered under: server and model."""
    return f"{server_name(base_url)} {model}"


def short_message(exc: BaseException) -> str:
    """The error's message on one line, at most 300 characters."""
    if isinstance(exc, TimeoutError):
        return "no response within llm.timeout_s"
    msg = getattr(exc, "message", None) or str(exc)
    msg = re.sub(r"^Error code: \d+ - ", "", " ".join(str(msg).split()))  # the client's prefix: the status is given apart
    return msg[:300]


def schema_unsupported(exc: BaseException) -> bool:
    """The server's error names the structured-output request (response_format, json_schema) as what it cannot take."""
    text = " ".join(str(x) for x in (getattr(exc, "message", ""), getattr(exc, "param", ""), getattr(exc, "code", ""),
                                     getattr(exc, "body", "")))
    return bool(re.search(r"response_format|json_schema|structured output", text, re.I))


def failure_cause(exc: BaseException, timeout_s: float | None = None) -> str:
    """One request's failure: connection refused, host name not resolved, timeout, or the HTTP status with the
    server's message (the transport's own error is looked for below the client's wrappers)."""
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"HTTP {status}: {short_message(exc)}"
    seen, node = set(), exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ConnectionRefusedError) or getattr(node, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(node, socket.gaierror):
            return "host name not resolved"
        node = node.__cause__ or node.__context__
    if isinstance(exc, InvalidBody):
        return f"invalid response: {exc}"
    import openai

    if isinstance(exc, (TimeoutError, openai.APITimeoutError)):
        return f"timeout (no response within {timeout_s:g} s)" if timeout_s else "timeout"
    return f"connection error: {short_message(exc)}"

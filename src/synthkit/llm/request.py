"""One chat request and the body sent for it, in one of three structured-output modes (MODES): strict json_schema,
JSON object mode carrying the schema (servers such as llama.cpp constrain the output to it), or JSON asked for in the
prompt only; the answer is validated locally in every mode."""

from __future__ import annotations

import json
from dataclasses import dataclass

from synthkit.config import LlmParams

JSON_MODE_INSTRUCTION = "Answer with one JSON object only, no other text. It must conform to this JSON schema:\n"
# structured-output modes, from the strictest: the runtime moves down this list when a server rejects a mode
MODES = ("json_schema", "json_object", "prompt")


@dataclass(frozen=True)
class LLMRequest:
    """One chat request; custom_id is the caller's stable id, unique within one run_requests call."""

    custom_id: str
    messages: list[dict]
    schema: dict | None = None  # JSON schema of the expected object; None: free text
    schema_name: str = "output"
    model: str | None = None  # None: params.model
    temperature: float | None = None  # None: params.temperature
    max_tokens: int | None = None
    seed: int | None = None


def strict_schema(schema: dict) -> dict:
    """A JSON schema as OpenAI's strict structured outputs accept it: every object closed, every property required."""

    def walk(node):
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k != "default"}
            if out.get("type") == "object" or "properties" in out:
                props = out.get("properties") or {}
                out["additionalProperties"] = False
                out["required"] = list(props)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def request_body(req: LLMRequest, params: LlmParams, mode: str = "json_schema") -> dict:
    """The chat.completions request body for req in a structured-output mode (see MODES; ignored for free text).

    json_schema: response_format json_schema, strict. json_object: response_format json_object with the schema beside
    it, and the schema in a system message. prompt: no response_format, the schema in a system message only.
    """
    if mode not in MODES:
        raise ValueError(f"unknown structured-output mode {mode!r}")
    messages = list(req.messages)
    body: dict = {"model": req.model or params.model}
    if req.schema is not None:
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": req.schema_name, "schema": strict_schema(req.schema), "strict": True},
            }
        else:
            note = {"role": "system", "content": JSON_MODE_INSTRUCTION + json.dumps(req.schema, sort_keys=True)}
            messages = [note, *messages]
            if mode == "json_object":
                body["response_format"] = {"type": "json_object", "schema": req.schema}
    body["messages"] = messages
    body["temperature"] = req.temperature if req.temperature is not None else params.temperature
    if req.max_tokens is not None:
        body["max_tokens"] = req.max_tokens
    if req.seed is not None:
        body["seed"] = req.seed
    return body

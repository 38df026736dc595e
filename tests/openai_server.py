"""A local OpenAI-compatible HTTP server for tests and benchmarks: real sockets, scripted faults, request counting.

Serves chat completions (content from a pluggable function; by default a JSON object valid for the request's
json_schema, filled deterministically), /v1/files (upload, content), /v1/batches (create, retrieve, cancel; a batch
completes after a few polls) and any extra POST route given. Faults come from a queue (`faults`, answered first)
or at random by rate and seed: 429 with Retry-After, 500/502/503, slow answers, timeouts (sleeping past the
client's timeout, then 504), malformed JSON content; `json_schema_supported=False` answers 400 to json_schema
(`format_status=500` answers 500 with the message llama.cpp's server gives), `json_object_supported=False` refuses
JSON object mode as well; `files_api=False` answers 404 to /v1/files and /v1/batches (a server without the Batch API);
`usage=(prompt_tokens, completion_tokens)` fixes the token counts of every answer (for exact cost arithmetic).
It counts requests, statuses and completed (200) chat answers per cache key (`body_key`: a hash of model,
messages, response format, temperature, max_tokens and seed from the body).

In-process: `with FakeOpenAI() as srv: srv.base_url`. Separate process (benchmarks, kill tests):
`python -m tests.openai_server --port 0 --latency-ms 100` prints its base URL; GET /stats returns the counts.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import hashlib
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[dict], dict]
FAULT_KINDS = ("429", "500", "502", "503", "timeout", "slow", "malformed")


def body_key(body: dict) -> str:
    """The cache key of a chat request as the server sees it (what a second completion of it would re-pay)."""
    payload = {k: body.get(k) for k in ("model", "messages", "response_format", "temperature", "max_tokens", "seed")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def fill_schema(schema: dict, tag: str, root: dict | None = None, name: str = "value"):
    """A deterministic instance of a JSON schema; tag (a hash) varies strings and enum choices between requests."""
    root = root if root is not None else schema
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return fill_schema(node, tag, root, name)
    if "enum" in schema:
        return schema["enum"][int(tag[:8], 16) % len(schema["enum"])]
    if "const" in schema:
        return schema["const"]
    for alt in ("anyOf", "oneOf", "allOf"):
        if alt in schema:
            options = [s for s in schema[alt] if s.get("type") != "null"] or schema[alt]
            return fill_schema(options[0], tag, root, name)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {k: fill_schema(v, hashlib.sha256((tag + k).encode()).hexdigest(), root, k)
                for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        n = max(int(schema.get("minItems", 1)), 1)
        return [fill_schema(schema.get("items") or {}, hashlib.sha256(f"{tag}{i}".encode()).hexdigest(), root, name)
                for i in range(n)]
    if kind == "integer":
        lo, hi = schema.get("minimum", 1), schema.get("maximum", 5)
        return int(lo + int(tag[:8], 16) % (int(hi) - int(lo) + 1))
    if kind == "number":
        lo, hi = schema.get("minimum", 0.0), schema.get("maximum", 1.0)
        return lo + (hi - lo) * (int(tag[:8], 16) % 1000) / 1000
    if kind == "boolean":
        return int(tag[0], 16) % 2 == 0
    if kind == "null":
        return None
    return f"{name} {tag[:10]}"


def default_content(body: dict) -> str:
    """Content for a chat request: an object valid for its json_schema (or the schema beside json_object, as llama.cpp
    constrains it), a small object in plain JSON mode, else text."""
    tag = body_key(body)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return json.dumps(fill_schema(fmt["json_schema"]["schema"], tag))
    if fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
        return json.dumps(fill_schema(fmt["schema"], tag))
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": tag[:10]})
    return f"text {tag[:10]}"


# what llama-cpp-python's server (0.3.x) answers, with HTTP 500, to response_format json_schema
LLAMA_CPP_FORMAT_ERROR = ("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
                          "\"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}")


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 (see the module docstring).

    routes: extra POST handlers (path -> body -> JSON answer), e.g. /v1/moderations. faults: a queue answered first,
    each item (status, headers) or (status, headers, JSON body) for any POST route, or a kind in FAULT_KINDS for chat completions. fault_rates: kind
    -> share of chat requests drawn with random.Random(seed).
    """

    def __init__(self, routes: dict[str, Handler] | None = None, *, latency_s: float = 0.0,
                 content: Callable[[dict], str] | None = None, fault_rates: dict[str, float] | None = None,
                 seed: int = 0, retry_after: str = "1", timeout_sleep_s: float = 2.0, slow_s: float = 0.3,
                 json_schema_supported: bool = True, batch_polls: int = 2, port: int = 0, record: bool = True,
                 format_status: int = 400, json_object_supported: bool = True, files_api: bool = True,
                 usage: tuple[int, int] | None = None):
        self.routes = dict(routes or {})
        self.latency_s, self.content = latency_s, content or default_content
        self.fault_rates = dict(fault_rates or {})
        unknown = set(self.fault_rates) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.rng = random.Random(seed)
        self.retry_after, self.timeout_sleep_s, self.slow_s = retry_after, timeout_sleep_s, slow_s
        self.json_schema_supported, self.batch_polls, self.record = json_schema_supported, batch_polls, record
        self.format_status, self.json_object_supported, self.files_api = format_status, json_object_supported, files_api
        self.usage = usage
        self.faults: list = []
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.chat_times: list[float] = []  # monotonic arrival time of every chat request
        self.completed: Counter = Counter()  # body_key -> chat answers with status 200
        self.status_counts: Counter = Counter()
        self.fault_counts: Counter = Counter()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._ids = 0
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one thread per client connection, not per request
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server._get(self)

            def do_POST(self):
                server._post(self)

            def send(self, status: int, payload, headers: dict[str, str] | None = None, raw: bytes | None = None):
                data = raw if raw is not None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout): nothing to answer
                    self.close_connection = True
                with server._lock:
                    server.status_counts[str(status)] += 1

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that hung up (timeout, kill -9) is no error
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self.httpd = _Server(("127.0.0.1", port), _Handler, bind_and_activate=False)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self.httpd.allow_reuse_address = True
        self.httpd.server_bind()
        self.httpd.server_activate()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ---------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def stats(self, times: bool = False) -> dict:
        with self._lock:
            out = {
                "requests": len(self.auth_headers),
                "chat_requests": len(self.chat_times),
                "completed": dict(self.completed),
                "completed_total": sum(self.completed.values()),
                "keys_completed_twice": sum(1 for n in self.completed.values() if n > 1),
                "status_counts": dict(self.status_counts),
                "fault_counts": dict(self.fault_counts),
                "batches_created": len(self.batches),
                "batch_status": {k: b["status"] for k, b in self.batches.items()},
            }
            if times:
                out["chat_times"] = list(self.chat_times)
            return out

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}-{self._ids}"

    # ---------------------------------------------------------------------------------------------- routing

    def _get(self, h) -> None:
        path = h.path.split("?")[0]
        with self._lock:
            self.auth_headers.append(h.headers.get("Authorization", ""))
        if path == "/stats":
            h.send(200, self.stats(times="times=1" in h.path))
        elif path.startswith("/v1/files/") and path.endswith("/content"):
            file_id = path[len("/v1/files/"):-len("/content")]
            if file_id not in self.files:
                h.send(404, {"error": {"message": f"no file {file_id}", "type": "invalid_request_error"}})
            else:
                h.send(200, None, raw=self.files[file_id])
        elif path.startswith("/v1/batches/"):
            self._batch_retrieve(h, path[len("/v1/batches/"):])
        else:
            h.send(404, {"error": {"message": f"no route GET {path}"}})

    def _post(self, h) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length", 0)))
        ctype = h.headers.get("Content-Type", "")
        body = json.loads(raw or b"{}") if "multipart" not in ctype else {}
        path = h.path.split("?")[0]
        with self._lock:
            if self.record:
                self.requests.append({"path": path, "body": body})
            self.auth_headers.append(h.headers.get("Authorization", ""))
            fault = self.faults.pop(0) if self.faults and (path == "/v1/chat/completions" or isinstance(self.faults[0], tuple)) else None
        if isinstance(fault, tuple):  # (status, headers) or (status, headers, body)
            status, headers, *payload = fault
            h.send(status, payload[0] if payload else {"error": {"message": "injected", "type": "server_error"}}, headers)
        elif not self.files_api and path.startswith(("/v1/files", "/v1/batches")):
            h.send(404, {"detail": "Not Found"})
        elif path in self.routes:
            h.send(200, self.routes[path](body))
        elif path == "/v1/chat/completions":
            self._chat(h, body, fault)
        elif path == "/v1/files":
            self._file_upload(h, raw, ctype)
        elif path == "/v1/batches":
            self._batch_create(h, body)
        elif path.startswith("/v1/batches/") and path.endswith("/cancel"):
            self._batch_cancel(h, path[len("/v1/batches/"):-len("/cancel")])
        else:
            h.send(404, {"error": {"message": f"no route {path}"}})

    # ---------------------------------------------------------------------------------------------- chat

    def _draw_fault(self) -> str | None:
        if not self.fault_rates:
            return None
        r, acc = self.rng.random(), 0.0
        for kind in FAULT_KINDS:
            acc += self.fault_rates.get(kind, 0.0)
            if r < acc:
                return kind
        return None

    def _format_refusal(self, fmt: dict) -> tuple[int, dict] | None:
        """The error for a response_format this server does not take, else None."""
        kind = fmt.get("type")
        if (kind == "json_schema" and not self.json_schema_supported) or (kind == "json_object" and not self.json_object_supported):
            if self.format_status == 500:
                return 500, {"error": {"message": LLAMA_CPP_FORMAT_ERROR, "type": "internal_server_error", "param": None, "code": None}}
            return self.format_status, {"error": {"message": f"response_format of type {kind} is not supported by this model",
                                                  "type": "invalid_request_error", "param": "response_format", "code": None}}
        return None

    def _answer(self, body: dict, malformed: bool = False) -> tuple[int, dict]:
        """(status, payload) for one chat body; counts a 200 as a completion of its key."""
        refusal = self._format_refusal(body.get("response_format") or {})
        if refusal is not None:
            return refusal
        content = self.content(body)
        if malformed:
            content = content[: max(len(content) // 2, 1)] + " <<not json"
        key = body_key(body)
        prompt_tokens, completion_tokens = self.usage or (len(json.dumps(body.get("messages", []))) // 4 + 1, len(content) // 4 + 1)
        with self._lock:
            self.completed[key] += 1
            n = sum(self.completed.values())
        return 200, {
            "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def _chat(self, h, body: dict, fault) -> None:
        with self._lock:
            self.chat_times.append(time.monotonic())
            kind = fault if fault is not None else self._draw_fault()
            if kind:
                self.fault_counts[kind] += 1
        if self.latency_s:
            time.sleep(self.latency_s)
        if kind == "429":
            h.send(429, {"error": {"message": "rate limited", "type": "rate_limit_error"}}, {"Retry-After": self.retry_after})
        elif kind in ("500", "502", "503"):
            h.send(int(kind), {"error": {"message": "injected", "type": "server_error"}})
        elif kind == "timeout":
            time.sleep(self.timeout_sleep_s)
            h.send(504, {"error": {"message": "timed out", "type": "server_error"}})
        else:
            if kind == "slow":
                time.sleep(self.slow_s)
            h.send(*self._answer(body, malformed=kind == "malformed"))

    # ---------------------------------------------------------------------------------------------- files, batches

    def _file_upload(self, h, raw: bytes, ctype: str) -> None:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        fields, filename, data = {}, "upload", b""
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                filename, data = part.get_filename(), payload
            else:
                fields[name] = payload.decode()
        file_id = self._new_id("file")
        with self._lock:
            self.files[file_id] = data
        h.send(200, {"id": file_id, "object": "file", "bytes": len(data), "created_at": 0, "filename": filename,
                     "purpose": fields.get("purpose", "batch"), "status": "processed"})

    def _batch_json(self, b: dict) -> dict:
        keep = ("id", "object", "endpoint", "input_file_id", "completion_window", "status", "created_at",
                "output_file_id", "error_file_id", "metadata", "request_counts")
        return {k: b[k] for k in keep if k in b}

    def _batch_create(self, h, body: dict) -> None:
        if body.get("input_file_id") not in self.files:
            h.send(400, {"error": {"message": "unknown input_file_id", "type": "invalid_request_error"}})
            return
        batch_id = self._new_id("batch")
        b = {"id": batch_id, "object": "batch", "endpoint": body.get("endpoint"), "input_file_id": body["input_file_id"],
             "completion_window": body.get("completion_window"), "status": "validating", "created_at": 0,
             "metadata": body.get("metadata"), "polls": 0}
        with self._lock:
            self.batches[batch_id] = b
        h.send(200, self._batch_json(b))

    def _batch_retrieve(self, h, batch_id: str) -> None:
        with self._lock:
            b = self.batches.get(batch_id)
            if b is not None:
                b["polls"] += 1
        if b is None:
            h.send(404, {"error": {"message": f"no batch {batch_id}", "type": "invalid_request_error"}})
            return
        if b["status"] == "cancelling":
            b["status"] = "cancelled"
        elif b["status"] in ("validating", "in_progress"):
            b["status"] = "in_progress"
            if b["polls"] >= self.batch_polls:
                self._batch_run(b)
        h.send(200, self._batch_json(b))

    def _batch_run(self, b: dict) -> None:
        out, err = [], []
        for line in self.files[b["input_file_id"]].decode().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            with self._lock:
                kind = self._draw_fault()
            status, payload = self._answer(row["body"], malformed=kind == "malformed")
            item = {"id": f"batch_req_{row['custom_id']}", "custom_id": row["custom_id"],
                    "response": {"status_code": status, "request_id": "req", "body": payload}, "error": None}
            (out if status == 200 else err).append(json.dumps(item))
        for name, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                file_id = self._new_id("file")
                with self._lock:
                    self.files[file_id] = ("\n".join(rows) + "\n").encode()
                b[name] = file_id
        b["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}
        b["status"] = "completed"

    def _batch_cancel(self, h, batch_id: str) -> None:
        b = self.batches.get(batch_id)
        if b is None:
            h.send(404, {"error": {"message": f"no batch {batch_id}", "type": "invalid_request_error"}})
            return
        if b["status"] not in ("validating", "in_progress"):
            h.send(409, {"error": {"message": f"batch {batch_id} is {b['status']}", "type": "invalid_request_error"}})
            return
        b["status"] = "cancelling"
        h.send(200, self._batch_json(b))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    for kind in FAULT_KINDS:
        ap.add_argument(f"--fault-{kind}", type=float, default=0.0, help=f"share of chat requests answered with {kind}")
    ap.add_argument("--retry-after", default="1", help="Retry-After header value of injected 429s")
    ap.add_argument("--timeout-sleep-s", type=float, default=2.0)
    ap.add_argument("--no-json-schema", action="store_true")
    ap.add_argument("--format-status", type=int, default=400, help="status of the answer to a refused response_format (500: as llama.cpp)")
    ap.add_argument("--no-files-api", action="store_true", help="404 to /v1/files and /v1/batches")
    ap.add_argument("--batch-polls", type=int, default=2)
    args = ap.parse_args(argv)
    rates = {k: getattr(args, f"fault_{k}") for k in FAULT_KINDS if getattr(args, f"fault_{k}")}
    srv = FakeOpenAI(latency_s=args.latency_ms / 1000.0, fault_rates=rates, seed=args.seed, retry_after=args.retry_after,
                     timeout_sleep_s=args.timeout_sleep_s, json_schema_supported=not args.no_json_schema,
                     batch_polls=args.batch_polls, port=args.port, record=False, format_status=args.format_status,
                     files_api=not args.no_files_api)
    print(srv.base_url, flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()

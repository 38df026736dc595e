"""A local OpenAI-compatible HTTP server for tests: real sockets, scripted faults, request counting."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[dict], dict]


class FakeOpenAI:
    """Serve POST routes (e.g. /v1/moderations) on 127.0.0.1; `faults` is a queue of (status, headers) answered first."""

    def __init__(self, routes: dict[str, Handler]):
        self.routes = routes
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body})
                    server.auth_headers.append(self.headers.get("Authorization", ""))
                    fault = server.faults.pop(0) if server.faults else None
                if fault is not None:
                    status, headers = fault
                    self._send(status, {"error": {"message": "injected", "type": "server_error"}}, headers)
                    return
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(200, route(body))

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

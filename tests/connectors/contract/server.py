"""A local contract server on 127.0.0.1 with fault injection, shared by the vendor fakes.

Each vendor module implements the documented contract (pagination, cursors, auth, error bodies)
as an ``App``; this server runs it in a thread and can, per path, answer 429 with
``Retry-After``, a 5xx, a slow response (client timeout) or a dropped connection, once, a few
times or for good (a failure in the middle of a stream). All data served is synthetic.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

Reply = tuple[int, dict[str, str], Any]


class App(Protocol):
    """A vendor fake: answers one request."""

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        """Returns status, headers and a JSON-serialisable body."""
        ...


@dataclass
class Fault:
    """A fault answered instead of the vendor's reply.

    Attributes:
        kind: "429", "500", "502", "503", "slow" or "drop".
        path: Only requests to this path ("": every request).
        nth: First matching request (1-based) that gets the fault.
        times: How many matching requests in a row get it (-1: all from ``nth`` on).
        retry_after: ``Retry-After`` header value for 429/503.
        delay: Seconds a "slow" response waits before answering.
    """

    kind: str
    path: str = ""
    nth: int = 1
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0
    seen: int = 0

    def fires(self, path: str) -> bool:
        if self.path and self.path != path:
            return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        return self.times < 0 or self.seen < self.nth + self.times


class ContractServer:
    """Runs an ``App`` on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self.faults_served: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server._serve(self)

            def do_POST(self) -> None:  # noqa: N802 - token endpoints (OAuth 2.0) are POSTs
                server._serve(self)

            def log_message(self, *args: Any) -> None:
                """Quiet: tests read ``ContractServer.requests`` instead."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ContractServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def inject(self, fault: Fault) -> Fault:
        """Adds a fault (evaluated in the order added)."""
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.requests.append(handler.path)
            # Every fault sees every request, so that each one's ``nth`` counts all of them.
            firing = [f for f in self.faults if f.fires(parts.path)]
            fault = firing[0] if firing else None
            if fault is not None:
                self.faults_served.append(fault.kind)
        try:
            if fault is not None and fault.kind == "drop":
                handler.close_connection = True
                handler.connection.close()
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind != "slow":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(handler, int(fault.kind), headers, {"error": f"injected {fault.kind}"})
                return
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if handler.command == "POST":
                length = int(handler.headers.get("Content-Length") or 0)
                raw = handler.rfile.read(length).decode()
                if "json" in (handler.headers.get("Content-Type") or ""):
                    query["_json"] = raw  # a JSON body (search endpoints), parsed by the app
                else:  # a form-encoded body (OAuth token endpoints) reads like a query
                    query.update(parse_qsl(raw, keep_blank_values=True))
            headers = {k.lower(): v for k, v in handler.headers.items()}
            status, extra, body = self.app.handle(parts.path, query, headers, self.url)
            self._send(handler, status, extra, body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up (timeout test): nothing to answer

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: Any
    ) -> None:
        binary = isinstance(body, bytes)  # a file download (export archives)
        data = body if binary else json.dumps(body).encode()
        handler.send_response(status)
        kind = "application/zip" if binary else "application/json; charset=utf-8"
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

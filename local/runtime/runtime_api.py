"""A small local implementation of the Lambda Runtime API (version 2018-06-01).

AWS's runtime interface client (awslambdaric) drives a function by long-polling this API:

    GET  /2018-06-01/runtime/invocation/next               -> the next event (blocks until one)
    POST /2018-06-01/runtime/invocation/{request-id}/response
    POST /2018-06-01/runtime/invocation/{request-id}/error
    POST /2018-06-01/runtime/init/error

Reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

Each execution environment (one runtime process) gets its own server, as in Lambda, so an
invocation that times out can be traced to the process to kill. `next` carries every header
Lambda sends, Client-Context and Cognito-Identity empty when there is nothing to say:
awslambdaric 4.2.2 reads them all (it only fails without the deadline), and older releases
of its C client refuse a `next` answer that lacks any of them.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


@dataclass
class Invocation:
    """One event on its way through a runtime process, and what came back."""

    event: bytes
    timeout_s: float
    function_arn: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline_ms: int = 0
    result: bytes | None = None
    error: dict[str, Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def trace_id(self) -> str:
        # X-Ray's format; Sampled=0 so an SDK in the function never tries to send segments.
        return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


class RuntimeApi(ThreadingHTTPServer):
    """The Runtime API on 127.0.0.1 (port 0 picks a free one)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.in_flight: dict[str, Invocation] = {}
        self.init_error: dict[str, Any] | None = None
        self.waiting = False  # the runtime process is blocked in `next`: initialised and idle
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API for the runtime processes."""
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> RuntimeApi:
        self._thread = threading.Thread(target=self.serve_forever, name="runtime-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime process killed mid-request (a timeout) is expected, not an error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def submit(self, invocation: Invocation) -> Invocation:
        invocation.deadline_ms = int((time.time() + invocation.timeout_s) * 1000)
        self.pending.put(invocation)
        return invocation

    def abandon(self, invocation: Invocation) -> None:
        """Forget an invocation that timed out (its process is being killed)."""
        with self.lock:
            self.in_flight.pop(invocation.request_id, None)


class _Handler(BaseHTTPRequestHandler):
    server: RuntimeApi
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: with Nagle's algorithm the body would wait
    # for the client's delayed ACK of the headers (about 40 ms per invocation).
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # the runtime polls constantly; the function URL server logs requests

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        api = self.server
        with api.lock:
            api.waiting = True
            api.changed.notify_all()
        try:
            invocation = api.pending.get()  # no timeout: Lambda's `next` also waits as long as it takes
        finally:
            with api.lock:
                api.waiting = False
        with api.lock:
            api.in_flight[invocation.request_id] = invocation
        self._reply(
            200,
            invocation.event,
            {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id(),
                "Lambda-Runtime-Client-Context": "",
                "Lambda-Runtime-Cognito-Identity": "",
            },
        )

    def do_POST(self) -> None:
        api = self.server
        body = self._body()
        path = self.path
        if path == f"{PREFIX}/init/error":
            error = _json_or_text(body)
            error.setdefault("errorType", self.headers.get("Lambda-Runtime-Function-Error-Type", "Runtime.Unknown"))
            with api.lock:
                api.init_error = error
                api.changed.notify_all()
            self._reply(202, b'{"status":"OK"}')
            return
        parts = path.removeprefix(f"{PREFIX}/invocation/").split("/")
        if not path.startswith(f"{PREFIX}/invocation/") or len(parts) != 2 or parts[1] not in ("response", "error"):
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        request_id, kind = parts
        with api.lock:
            invocation = api.in_flight.pop(request_id, None)
        if invocation is None:
            # Lambda answers 400 for an unknown or already answered request id.
            self._reply(400, b'{"errorMessage":"InvalidRequestID","errorType":"InvalidRequestID"}')
            return
        if kind == "response":
            invocation.result = body
        else:
            invocation.error = _json_or_text(body)
            invocation.error.setdefault(
                "errorType", self.headers.get("Lambda-Runtime-Function-Error-Type", "Unhandled")
            )
        invocation.done.set()
        self._reply(202, b'{"status":"OK"}')


def _json_or_text(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {"errorMessage": body.decode("utf-8", "replace")}
    return parsed if isinstance(parsed, dict) else {"errorMessage": str(parsed)}

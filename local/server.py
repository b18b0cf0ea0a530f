"""Serve the real Lambda handler over HTTP, the way a function URL would.

    python -m local.server --state-dir .local --port 3100

Each request becomes a payload-2.0 event (local/adapter.py), is passed to
loki_ingest.handler with a context whose deadline is the function's timeout, and the
handler's response is mapped back to HTTP. The handler's configuration comes from the
Terraform outputs of the local deployment, so pushes land in the Terraform-created
Firehose stream and bucket inside the emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local.adapter import MAX_INVOKE_PAYLOAD, build_event, event_size, to_http
from loki_ingest.handler import App, deadline_of
from loki_ingest.settings import ENV_NAMES

DRAIN_LIMIT = 64 * 1024 * 1024  # larger declared bodies are refused without reading them


class LocalContext:
    """The slice of the Lambda context object the handler uses."""

    def __init__(self, timeout_s: float) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "loki-ingest-local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _too_large() -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(
        {"Message": f"Request must be smaller than {MAX_INVOKE_PAYLOAD} bytes for the InvokeFunction operation"}
    )
    return 413, [("content-type", "application/json")], body.encode()


class FunctionUrlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App, timeout_s: float = 15.0, quiet: bool = False) -> None:
        super().__init__(address, FunctionUrlHandler)
        self.app = app
        self.timeout_s = timeout_s
        self.quiet = quiet

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.app.handle_event(event, deadline_of(LocalContext(self.timeout_s)))


class FunctionUrlHandler(BaseHTTPRequestHandler):
    server: FunctionUrlServer
    protocol_version = "HTTP/1.1"

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                total += size
                if total > MAX_INVOKE_PAYLOAD:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_INVOKE_PAYLOAD:
            # Read and discard it, so the client gets to see the 413 instead of a reset.
            remaining = length if length <= DRAIN_LIMIT else 0
            while remaining > 0:
                chunk = self.rfile.read(min(1 << 20, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        if body is None:
            status, headers, payload = _too_large()
            self.close_connection = True
        else:
            path, _, query = self.path.partition("?")
            event = build_event(
                self.command,
                path,
                list(self.headers.items()),
                body,
                query=query,
                source_ip=self.client_address[0],
                domain=f"{self.server.server_address[0]}:{self.server.server_address[1]}",
            )
            if event_size(event) > MAX_INVOKE_PAYLOAD:
                status, headers, payload = _too_large()
            else:
                response = to_http(self.server.invoke(event))
                status, headers, payload = response.status, response.headers, response.body
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def handler_env(outputs: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Handler settings from the Terraform outputs, shell overrides, then explicit ones."""
    env = {
        "FIREHOSE_DELIVERYSTREAM_NAME": str(outputs["firehose_stream_name"]),
        "AUTH_SECRET_ARN": str(outputs["secret_arn"]),
    }
    # Handler settings may be overridden from the shell, e.g. SUCCESS_STATUS_CODE=204 make run.
    env.update({key: value for key, value in os.environ.items() if key in ENV_NAMES})
    env.update(overrides or {})
    return env


def make_server(
    outputs: Mapping[str, Any],
    port: int,
    *,
    host: str = "127.0.0.1",
    timeout_s: float = 15.0,
    quiet: bool = False,
    overrides: Mapping[str, str] | None = None,
) -> FunctionUrlServer:
    app = App.from_environment(handler_env(outputs, overrides))
    return FunctionUrlServer((host, port), app, timeout_s=timeout_s, quiet=quiet)


def serve_in_thread(server: FunctionUrlServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="function-url", daemon=True)
    thread.start()
    return thread


def main() -> None:
    from local.state import LocalState, NotDeployed

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=15.0, help="the function timeout in seconds")
    args = parser.parse_args()
    state = LocalState(args.state_dir)
    try:
        state.apply_aws_env()
        server = make_server(state.outputs, args.port, host=args.host, timeout_s=args.timeout)
    except NotDeployed as exc:
        sys.exit(str(exc))
    print(
        f"Serving the Loki push endpoint at http://{args.host}:{args.port}/loki/api/v1/push (Ctrl-C to stop)",
        flush=True,
    )

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a background start inherits SIGINT as ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

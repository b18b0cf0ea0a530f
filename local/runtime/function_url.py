"""Serve the function over HTTP, the way its function URL would.

    python -m local.runtime.function_url --state-dir .local --port 3100 --zip dist/lambda-x86_64.zip \
        --python312 ~/.pyenv/versions/3.12.1/bin/python3.12 --runtime-dir build/lambda-runtime-py312

Each request becomes a payload-2.0 event (local/runtime/adapter.py) and goes to an invoker:

* the artifact (`make run`, the end-to-end suite): the deployment package run by AWS's
  runtime interface client in separate Python 3.12 processes (local/runtime/artifact.py), with
  the configuration Terraform gave the function in the emulator;
* in process (unit and integration tests, or when no Python 3.12 exists): the handler
  package imported into this process.

The invoker's result is mapped back to HTTP as function URLs do.
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
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from local.runtime.adapter import MAX_INVOKE_PAYLOAD, HttpResponse, build_event, event_size, to_http

DRAIN_LIMIT = 64 * 1024 * 1024  # larger declared bodies are refused without reading them


class Invoker(Protocol):
    """Runs one event through the function and returns the HTTP answer."""

    description: str

    def __call__(self, event: dict[str, Any]) -> tuple[HttpResponse, str]:
        """(response, a note for the access log such as the duration)."""
        ...

    def close(self) -> None: ...


class LocalContext:
    """The slice of the Lambda context object the handler uses (in-process invoker)."""

    def __init__(self, timeout_s: float) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "loki-ingest-local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InProcessInvoker:
    """The handler package imported into this process: fast, for tests and fallbacks."""

    description = "the handler imported in-process"

    def __init__(self, app: Any, timeout_s: float = 15.0) -> None:
        self.app = app
        self.timeout_s = timeout_s

    @classmethod
    def from_environment(cls, env: Mapping[str, str], timeout_s: float = 15.0) -> InProcessInvoker:
        from loki_ingest.handler import App

        return cls(App.from_environment(env), timeout_s)

    def __call__(self, event: dict[str, Any]) -> tuple[HttpResponse, str]:
        from loki_ingest.handler import deadline_of

        started = time.monotonic()
        result = self.app.handle_event(event, deadline_of(LocalContext(self.timeout_s)))
        return to_http(result), f"{(time.monotonic() - started) * 1000:.1f} ms"

    def close(self) -> None:
        return None


# What a function URL answers when the invocation itself fails (error, timeout, crash).
FUNCTION_ERROR = HttpResponse(502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}')


class ArtifactInvoker:
    """The deployment package in Python 3.12 runtime processes (local/runtime/artifact.py)."""

    def __init__(self, runner: Any, log: Callable[[str], None] | None = None) -> None:
        self.runner = runner
        self.log = log or (lambda line: sys.stderr.write(line + "\n"))
        self.description = (
            f"{runner.zip_path.name} through awslambdaric (Python 3.12, up to {runner.max_environments} environments)"
        )

    def __call__(self, event: dict[str, Any]) -> tuple[HttpResponse, str]:
        result = self.runner.invoke(event)
        note = f"{result.duration_ms:.1f} ms" + (
            f", cold start (init {result.init_ms:.0f} ms)" if result.init_ms else ""
        )
        if not result.ok:
            error = result.error or {}
            self.log(f"function error: {error.get('errorType')}: {error.get('errorMessage', '')}")
            return FUNCTION_ERROR, note
        return to_http(result.payload), note

    def close(self) -> None:
        self.runner.close()


def _too_large() -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(
        {"Message": f"Request must be smaller than {MAX_INVOKE_PAYLOAD} bytes for the InvokeFunction operation"}
    )
    return 413, [("content-type", "application/json")], body.encode()


class FunctionUrlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], invoker: Invoker, quiet: bool = False) -> None:
        super().__init__(address, FunctionUrlHandler)
        self.invoker = invoker
        self.quiet = quiet

    @property
    def authority(self) -> str:
        """host:port it listens on (the events' domainName)."""
        host, port = self.server_address[:2]
        return f"{host.decode() if isinstance(host, bytes | bytearray) else host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.authority}"


class FunctionUrlHandler(BaseHTTPRequestHandler):
    server: FunctionUrlServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in one segment (no delayed-ACK stall)
    wbufsize = 64 * 1024
    _note = ""

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
        self._note = ""
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
                domain=self.server.authority,
            )
            if event_size(event) > MAX_INVOKE_PAYLOAD:
                status, headers, payload = _too_large()
            else:
                response, self._note = self.server.invoker(event)
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
            note = f"  ({self._note})" if self._note else ""
            sys.stderr.write(f"{time.strftime('%H:%M:%S')} {format % args}{note}\n")


def serve_in_thread(server: FunctionUrlServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="function-url", daemon=True)
    thread.start()
    return thread


def open_invoker(
    outputs: Mapping[str, Any],
    endpoint_url: str,
    *,
    zip_path: Path | None,
    python312: str | None,
    runtime_dir: Path | None,
    overrides: Mapping[str, str] | None = None,
    max_environments: int = 4,
    function_log: Path | None = None,
) -> Invoker:
    """The artifact invoker when a zip, a Python 3.12 and the runtime client are given,
    the in-process one otherwise; both run with the function's deployed configuration."""
    from local.runtime.function_env import FunctionConfig
    from local.state import emulator_client, emulator_env

    config = FunctionConfig.from_emulator(emulator_client("lambda", endpoint_url), outputs["function_name"])
    if zip_path is not None and python312 and runtime_dir is not None:
        from local.runtime.artifact import ArtifactRunner

        runner = ArtifactRunner(
            zip_path,
            config,
            python=python312,
            runtime_dir=runtime_dir,
            aws=emulator_env(endpoint_url),
            overrides=overrides,
            max_environments=max_environments,
            log_path=function_log,
        )
        return ArtifactInvoker(runner)
    os.environ.update(emulator_env(endpoint_url))
    return InProcessInvoker.from_environment({**config.variables, **(overrides or {})}, config.timeout_s)


def main() -> None:
    from local.phases import Phases
    from local.runtime.overrides import passthrough
    from local.state import LocalState, NotDeployed

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--zip", type=Path, help="the deployment package to run (omit: import the handler in-process)")
    parser.add_argument("--python312", default="", help="a Python 3.12 interpreter for the runtime processes")
    parser.add_argument("--runtime-dir", type=Path, help="directory holding awslambdaric and boto3 for Python 3.12")
    parser.add_argument("--concurrency", type=int, default=4, help="most execution environments at once")
    parser.add_argument("--started-at", type=float, help="epoch seconds `make run` started (for its phase lines)")
    args = parser.parse_args()
    phases = Phases(args.started_at)
    state = LocalState(args.state_dir)
    function_log = args.state_dir / "function.log"
    try:
        state.require_emulator()
        if args.zip is not None and not args.python312:
            phases.line(
                "serve", "no Python 3.12 on this machine: importing the handler in-process instead of running the zip"
            )
        invoker = open_invoker(
            state.outputs,
            state.endpoint_url,
            zip_path=args.zip if args.python312 else None,
            python312=args.python312 or None,
            runtime_dir=args.runtime_dir,
            overrides=passthrough(os.environ),
            max_environments=args.concurrency,
            function_log=function_log,
        )
        server = FunctionUrlServer((args.host, args.port), invoker)
    except NotDeployed as exc:
        sys.exit(str(exc))
    except OSError as exc:
        sys.exit(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror}): "
            "another `make run` may be serving there (Ctrl-C it in its terminal), or stop what uses it, "
            "or pick another port with `make run LOCAL_PORT=...`"
        )
    if isinstance(invoker, ArtifactInvoker):
        from local.runtime.artifact import InitFailed

        try:
            init_ms = invoker.runner.warm_up()
        except InitFailed as failed:
            invoker.close()
            sys.exit(f"the function failed to initialise: {failed}; its output is in {function_log}")
        phases.line("serve", f"{invoker.description}; first environment initialised in {init_ms:.0f} ms")
        phases.line("serve", f"function logs: {function_log}")
    else:
        phases.line("serve", invoker.description)
    phases.line(
        "ready",
        f"Loki push endpoint at {server.url}/loki/api/v1/push  (Ctrl-C stops it; `make stop-local` stops the emulator)",
    )

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a background start inherits SIGINT as ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped (the emulator keeps running: `make stop-local` stops it, keeping the deployment)", flush=True)
    finally:
        server.server_close()
        invoker.close()


if __name__ == "__main__":
    main()

"""The local stack's figures: the first and second `make run` from a fresh clone of this
repository, and the zip's cold start and warm latency over HTTP against that deployment."""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ROOT

# --- the local stack from a fresh clone ----------------------------------------------------------


def _until_ready(process: subprocess.Popen[str], started: float, timeout_s: float = 900) -> float:
    """Seconds from `started` until `make run` prints its ready line."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    for line in process.stdout:
        if "] ready " in line:  # the phase name, not "... venv ready"
            return time.monotonic() - started
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"make run did not get ready (exit {process.poll()})")


def _stop(process: subprocess.Popen[str]) -> None:
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def local_stack() -> dict[str, Any]:
    """`make run` from a fresh clone of this repository (HEAD), then again after
    `make stop-local`; the zip's cold start (a new execution environment's first request,
    over HTTP) and warm latency, against that deployment."""
    import shutil

    from local.emulator.control import free_port
    from local.runtime.function_url import FunctionUrlServer, open_invoker, serve_in_thread
    from local.state import LocalState

    clone = Path(tempfile.mkdtemp(prefix="loki-ingest-bench-"))
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port, emulator_port = free_port(), free_port()
    make_vars = [f"LOCAL_PORT={port}", f"EMULATOR_PORT={emulator_port}"]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out: dict[str, Any] = {}

    def make_run() -> tuple[subprocess.Popen[str], float]:
        started = time.monotonic()
        process = subprocess.Popen(
            ["make", "run", *make_vars],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return process, _until_ready(process, started)

    try:
        process, out["first_make_run_s"] = make_run()
        _stop(process)
        subprocess.run(["make", "-s", "stop-local", *make_vars], cwd=clone, env=env, check=True, capture_output=True)
        process, out["second_make_run_s"] = make_run()
        try:
            state = LocalState(clone / ".local")
            auth = state.credentials()
            push = json.dumps({"streams": [{"stream": {"bench": "1"}, "values": [[str(time.time_ns()), "x"]]}]})
            out["warm_ms"] = _latencies(f"http://127.0.0.1:{port}", auth, push.encode(), 50)
            cold = []
            for _ in range(5):  # each a new runner: its first request starts an environment
                invoker = open_invoker(
                    state.outputs,
                    state.endpoint_url,
                    zip_path=clone / "dist" / f"lambda-{state.deployment['architecture']}.zip",
                    python312=subprocess.run(
                        ["make", "-s", "print-py312"], cwd=clone, capture_output=True, text=True, check=True
                    ).stdout.strip(),
                    runtime_dir=clone / "build" / "lambda-runtime-py312",
                )
                server = FunctionUrlServer(("127.0.0.1", free_port()), invoker, quiet=True)
                serve_in_thread(server)
                cold.append(_latencies(server.url, auth, push.encode(), 1)["median"])
                server.shutdown()
                server.server_close()
                invoker.close()
            out["cold_start_ms"] = {"median": round(statistics.median(cold), 1), "max": round(max(cold), 1)}
        finally:
            _stop(process)
    finally:
        subprocess.run(["make", "-s", "stop-local", *make_vars], cwd=clone, env=env, check=False, capture_output=True)
        shutil.rmtree(clone, ignore_errors=True)
    return out


def _latencies(url: str, auth: tuple[str, str], body: bytes, count: int) -> dict[str, float]:
    import urllib.request

    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    times = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{url}/loki/api/v1/push",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}

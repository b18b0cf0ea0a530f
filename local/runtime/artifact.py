"""Run the deployment package (dist/lambda-<arch>.zip) the way Lambda does.

The zip is unpacked into a fresh directory (the function's /var/task). Each execution
environment is a separate Python 3.12 process running AWS's runtime interface client
(`python -m awslambdaric <handler>`) with only the task directory and the runtime client's
own directory on its path, fed by its own local Runtime API (local/runtime/runtime_api.py).

Environments start on demand, like Lambda's: a request that finds none idle starts a new
one (a cold start, up to `max_environments`), otherwise it waits for one to free up. An
invocation that outlives the function timeout kills its environment, as Lambda does, and
the caller gets what a function URL answers for a failed invocation (502).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from local.runtime.function_env import FunctionConfig, runtime_environment
from local.runtime.runtime_api import Invocation, RuntimeApi

INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit for on-demand functions
KILL_GRACE_S = 1.0


class InitFailed(RuntimeError):
    """The function could not initialise (import error, bad handler name, crash)."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        self.error = dict(error)
        super().__init__(f"{error.get('errorType', 'Runtime.Unknown')}: {error.get('errorMessage', '')}".strip())


@dataclass
class InvokeResult:
    """What came back from one invocation, with Lambda's REPORT figures."""

    payload: Any  # the handler's return value (decoded JSON) when ok
    error: dict[str, Any] | None
    duration_ms: float
    init_ms: float | None  # set on a cold start

    @property
    def ok(self) -> bool:
        return self.error is None


def unpack(zip_path: Path, destination: Path) -> Path:
    """Unpack the package into a fresh task directory (refuses entries escaping it)."""
    destination.mkdir(parents=True, exist_ok=False)
    root = destination.resolve()
    with zipfile.ZipFile(zip_path) as archive:
        for member in archive.infolist():
            target = (root / member.filename).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"{zip_path}: entry {member.filename!r} escapes the task directory")
        archive.extractall(root)
    return root


class ExecutionEnvironment:
    """One runtime process and its Runtime API."""

    def __init__(
        self,
        python: str,
        config: FunctionConfig,
        task_root: Path,
        runtime_dir: Path,
        aws: Mapping[str, str],
        overrides: Mapping[str, str],
        log: IO[bytes],
    ) -> None:
        self.config = config
        self.api = RuntimeApi().start()
        self.started = time.monotonic()
        self.init_ms: float | None = None
        self.invocations = 0
        self._stopped = False
        env = runtime_environment(
            config,
            runtime_api=self.api.address,
            task_root=task_root,
            runtime_dir=runtime_dir,
            aws=aws,
            overrides=overrides,
        )
        # -S: no site-packages of the interpreter; the path is the task root, then the
        # runtime client's directory (PYTHONPATH), then the standard library.
        self.process = subprocess.Popen(
            [python, "-S", "-m", "awslambdaric", config.handler],
            cwd=task_root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float = INIT_TIMEOUT_S) -> float:
        """Block until the runtime asks for its first event; returns the init time in ms."""
        deadline = time.monotonic() + timeout_s
        with self.api.changed:
            while not self.api.waiting:
                if self.api.init_error is not None:
                    raise InitFailed(self.api.init_error)
                if self.process.poll() is not None:
                    raise InitFailed(
                        {"errorType": "Runtime.ExitError", "errorMessage": f"exited with {self.process.returncode}"}
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InitFailed(
                        {"errorType": "Runtime.InitTimeout", "errorMessage": f"init over {timeout_s:.0f} s"}
                    )
                self.api.changed.wait(min(remaining, 0.05))
        self.init_ms = (time.monotonic() - self.started) * 1000
        return self.init_ms

    def invoke(self, event: bytes) -> tuple[bytes | None, dict[str, Any] | None]:
        """(response, error) of one invocation; kills the process if it times out."""
        invocation = self.api.submit(Invocation(event, self.config.timeout_s, self.config.arn))
        self.invocations += 1
        if invocation.done.wait(self.config.timeout_s + KILL_GRACE_S):
            return invocation.result, invocation.error
        self.api.abandon(invocation)
        self.stop()
        message = f"Task timed out after {self.config.timeout_s:.2f} seconds"
        return None, {"errorType": "Sandbox.Timedout", "errorMessage": message}

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # Only signal a process not yet reaped: once reaped, its pid may belong to another.
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self.api.stop()


class ArtifactRunner:
    """The unpacked zip plus a pool of execution environments; `invoke` is thread-safe."""

    def __init__(
        self,
        zip_path: Path,
        config: FunctionConfig,
        *,
        python: str,
        runtime_dir: Path,
        aws: Mapping[str, str],
        overrides: Mapping[str, str] | None = None,
        max_environments: int = 4,
        log_path: Path | None = None,
    ) -> None:
        self.zip_path = zip_path
        self.config = config
        self.python = python
        self.runtime_dir = runtime_dir
        self.aws = dict(aws)
        self.overrides = dict(overrides or {})
        self.max_environments = max_environments
        self._tmp = Path(tempfile.mkdtemp(prefix="loki-ingest-task-"))
        self.task_root = unpack(zip_path, self._tmp / "task")
        self._log: IO[bytes] = log_path.open("ab") if log_path else open(os.devnull, "wb")  # noqa: SIM115
        self._idle: list[ExecutionEnvironment] = []
        self._all: list[ExecutionEnvironment] = []
        self._starting = 0
        self._lock = threading.Condition()
        self.cold_starts: list[float] = []

    def _spawn(self) -> ExecutionEnvironment:
        return ExecutionEnvironment(
            self.python, self.config, self.task_root, self.runtime_dir, self.aws, self.overrides, self._log
        )

    def _acquire(self) -> tuple[ExecutionEnvironment, bool]:
        """An idle environment, or a new one when all are busy and the pool has room."""
        with self._lock:
            while True:
                while self._idle:
                    env = self._idle.pop()
                    if env.alive:
                        return env, False
                    self._forget(env)
                if len(self._all) + self._starting < self.max_environments:
                    self._starting += 1
                    break
                self._lock.wait()
        try:
            env = self._spawn()
            with self._lock:
                self._all.append(env)
            return env, True
        finally:
            with self._lock:
                self._starting -= 1

    def _release(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            if env.alive:
                self._idle.append(env)
            else:
                self._forget(env)
            self._lock.notify()

    def _forget(self, env: ExecutionEnvironment) -> None:
        if env in self._all:
            self._all.remove(env)
        env.stop()

    def warm_up(self) -> float:
        """Start one environment now (fails fast on a broken package); returns init ms."""
        env, _ = self._acquire()
        try:
            return env.wait_ready()
        except InitFailed:
            with self._lock:
                self._forget(env)
            raise
        finally:
            self._release(env)

    def invoke(self, event: Mapping[str, Any]) -> InvokeResult:
        env, cold = self._acquire()
        started = time.monotonic()
        init_ms = None
        try:
            if cold or env.init_ms is None:
                try:
                    init_ms = env.wait_ready()
                except InitFailed as failed:
                    env.stop()
                    return InvokeResult(None, failed.error, 0.0, (time.monotonic() - started) * 1000)
                started = time.monotonic()
            result, error = env.invoke(json.dumps(event).encode())
        finally:
            self._release(env)
        duration_ms = (time.monotonic() - started) * 1000
        if init_ms is not None:
            self.cold_starts.append(init_ms + duration_ms)
        if error is not None:
            return InvokeResult(None, error, duration_ms, init_ms)
        try:
            payload = json.loads(result or b"null")
        except ValueError:
            return InvokeResult(None, {"errorType": "Runtime.InvalidResponse"}, duration_ms, init_ms)
        return InvokeResult(payload, None, duration_ms, init_ms)

    def close(self) -> None:
        with self._lock:
            environments, self._all, self._idle = list(self._all), [], []
        for env in environments:
            env.stop()
        self._log.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

"""Start and stop a moto server (the local AWS emulator) in the background.

    python -m local.emulator start --port 4599 --state-dir .local
    python -m local.emulator stop --state-dir .local

`start` is idempotent: if something already answers on the port (our moto, or a LocalStack
the user runs there) it is reused. The pid file and log live in the state directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

READY_TIMEOUT_S = 30.0
ROOT = Path(__file__).resolve().parent.parent


def is_up(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        pass
    # LocalStack (or anything) on the port also counts as a running emulator.
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """Start moto_server on 127.0.0.1:port in its own session; returns once it answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # AWS managed IAM policies (e.g. AWSXRayDaemonWriteAccess) only exist in moto on request.
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=ROOT,
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}; see {log_path}")
        if is_up(port):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto server did not answer on port {port} within {READY_TIMEOUT_S:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def start(port: int, state_dir: Path) -> None:
    pid_file = state_dir / "emulator.pid"
    if is_up(port):
        print(f"emulator: already running on 127.0.0.1:{port}")
        return
    process = spawn(port, state_dir / "emulator.log")
    pid_file.write_text(f"{process.pid} {port}\n")
    print(f"emulator: moto server started on 127.0.0.1:{port} (pid {process.pid}, log {state_dir / 'emulator.log'})")


def stop(state_dir: Path) -> None:
    pid_file = state_dir / "emulator.pid"
    if not pid_file.exists():
        print("emulator: not running (no pid file)")
        return
    pid = int(pid_file.read_text().split()[0])
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    print(f"emulator: stopped (pid {pid})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    args = parser.parse_args()
    args.state_dir.mkdir(parents=True, exist_ok=True)
    if args.action == "start":
        start(args.port, args.state_dir)
    else:
        stop(args.state_dir)


if __name__ == "__main__":
    main()

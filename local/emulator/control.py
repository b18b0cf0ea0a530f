"""Start and stop a moto server (the local AWS emulator) in the background.

    python -m local.emulator.control start --port 4599 --state-dir .local
    python -m local.emulator.control stop --state-dir .local

`start` is idempotent: if something already answers on the port (our moto, or a LocalStack
the user runs there) it is reused. The pid file, the log and the saved emulator state
(local/emulator/moto_server.py) live in the state directory: `stop` saves the state and `start`
loads it, so the local deployment, its logs and its password survive a restart.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local import ROOT
from local.phases import Phases
from local.state import answers

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 60.0  # saving a state with many logs takes a moment
STATE_FILE = "emulator-state.pickle"


def is_up(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        pass
    # LocalStack (or anything) on the port also counts as a running emulator.
    return answers(f"http://{host}:{port}", timeout_s=0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(port: int, log_path: Path, state_file: Path | None = None) -> subprocess.Popen[bytes]:
    """Start moto_server on 127.0.0.1:port in its own session; returns once it answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # AWS managed IAM policies (e.g. AWSXRayDaemonWriteAccess) only exist in moto on request.
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.emulator.moto_server",
                *(["--state-file", str(state_file)] if state_file else []),
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
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
    if process.poll() is not None:
        return  # already gone (and reaped: its pid may belong to another process now)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def start(port: int, state_dir: Path) -> tuple[str, bool]:
    """Start (or reuse) the emulator. Returns one line saying what happened to the saved
    state, and whether the emulator holds what it held before (reused or restored)."""
    pid_file = state_dir / "emulator.pid"
    if is_up(port):
        return f"already running on 127.0.0.1:{port}; reused with everything in it", True
    state_file = state_dir / STATE_FILE
    status_file = state_dir / f"{STATE_FILE}.status.json"
    status_file.unlink(missing_ok=True)
    process = spawn(port, state_dir / "emulator.log", state_file)
    pid_file.write_text(f"{process.pid} {port}\n")
    status = json.loads(status_file.read_text()) if status_file.exists() else {}
    where = f"moto server on 127.0.0.1:{port} (pid {process.pid}, log {state_dir / 'emulator.log'})"
    if status.get("unclean_stop"):
        # The state is saved when the emulator stops (make stop-local, Ctrl-C); one killed
        # without that lost what it received since: say so rather than look complete.
        saved_at = status.get("saved_at")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(saved_at)) if saved_at else "never"
        where += (
            f"; WARNING: the previous emulator was killed without saving (not `make stop-local`): "
            f"what it received after the last clean stop ({when}) is lost"
        )
    if status.get("restored"):
        unsaved = status.get("unsaved") or {}
        lost = f"; not restored: {', '.join(unsaved)}" if unsaved else ""
        return f"{where}; restored the saved state (deployment, logs, password){lost}", not unsaved
    if "moved to" in str(status.get("reason", "")):
        return (
            f"{where}; the saved state could not be loaded ({status['reason']}): starting empty, so the "
            "deployment is re-created with a new password and the earlier logs are not in it"
        ), False
    return f"{where}; started empty", False


def _is_our_emulator(pid: int) -> bool:
    """A pid file can outlive its process, and the pid be reused: check before signalling."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # The second name: an emulator started before local/ was grouped into sub-packages.
    return any(module in command for module in (b"local.emulator.moto_server", b"local.moto_server"))


def _alive(pid: int) -> bool:
    """Whether pid still runs; reaps it when it is our own exited child (a zombie)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: the kill probe below decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(state_dir: Path) -> str:
    """Stop the emulator we started; it saves its state on the way out."""
    pid_file = state_dir / "emulator.pid"
    if not pid_file.exists():
        return "not running (nothing to stop)"
    pid = int(pid_file.read_text().split()[0])
    if not _is_our_emulator(pid):
        pid_file.unlink(missing_ok=True)
        return "not running (its pid file was stale)"
    saved = state_dir / STATE_FILE
    asked_at = time.time()
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise ProcessLookupError(pid)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)
        return f"killed (pid {pid}) after {STOP_TIMEOUT_S:.0f} s without saving: the next start begins empty"
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    if saved.exists() and saved.stat().st_mtime >= asked_at - 1:
        if not (state_dir / "deployment.json").exists():
            return f"stopped (pid {pid}); its state is saved in {saved}"
        return (
            f"stopped (pid {pid}); the deployment, its logs and its password are saved in {saved} "
            "and come back with `make run`"
        )
    return f"stopped (pid {pid})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--started-at", type=float, help="epoch seconds `make run` started (for its phase lines)")
    args = parser.parse_args()
    args.state_dir.mkdir(parents=True, exist_ok=True)
    phases = Phases(args.started_at)
    if args.action == "start":
        message, kept = start(args.port, args.state_dir)
        (args.state_dir / "emulator-start.json").write_text(json.dumps({"port": args.port, "kept": kept}) + "\n")
        phases.line("emulator", message)
    else:
        phases.line("emulator", stop(args.state_dir))


if __name__ == "__main__":
    main()

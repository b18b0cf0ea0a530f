"""Apply environments/dev to the local emulator with tflocal (PyPI terraform-local).

    python -m local.tools.deploy apply --state-dir .local --endpoint http://127.0.0.1:4599 --zip dist/lambda-x86_64.zip
    python -m local.tools.deploy outputs --state-dir .local
    python -m local.tools.deploy destroy --state-dir .local

tflocal points the AWS provider at the endpoint in AWS_ENDPOINT_URL (a provider override
file it writes next to the root's .tf files for the duration of the command), so the dev
root keeps no emulator settings of its own. The same command works against LocalStack:
AWS_ENDPOINT_URL=http://localhost:4566. Terraform's state and data directory live in the
state directory, the full Terraform output goes to <state-dir>/terraform.log, and a summary
line is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local import ROOT
from local.phases import Phases
from local.state import EMULATOR_DOWN, REGION, LocalState, NotDeployed, answers

DEV_ROOT = ROOT / "environments" / "dev"
MODULE = ROOT / "modules" / "loki-ingest"
OVERRIDE_FILE = "localstack_providers_override.tf"  # tflocal's default name (.gitignore'd)
LOCK_FILE = ROOT / ".tfcli" / "tflocal-dev.lock"
TIMEOUT_S = 900  # the AWS provider retries emulator errors for 10+ minutes; never wait forever
LOCAL_NAME = "loki-ingest-local"


def host_architecture() -> str:
    """The Lambda architecture name of this machine (the zip `make run` builds and runs)."""
    return "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"


def tflocal_binary() -> str:
    """tflocal from this interpreter's venv (or PATH)."""
    candidate = Path(sys.executable).parent / "tflocal"
    found = str(candidate) if candidate.exists() else shutil.which("tflocal")
    if not found:
        raise NotDeployed("tflocal is not installed in this environment: run `make run` (it installs it)")
    return found


def tflocal_env(endpoint_url: str, data_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    host = endpoint_url.split("://", 1)[-1].split(":", 1)[0]
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            # tflocal's default S3 host is a LocalStack DNS name; path-style on the
            # endpoint's own host works offline with moto and LocalStack alike.
            "S3_HOSTNAME": host,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "DISABLE_DEPRECATION_NOTICE": "1",
            "TF_DATA_DIR": str(data_dir),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    tfrc = ROOT / ".tfcli" / "terraformrc"
    if not Path(env.get("TF_CLI_CONFIG_FILE", "")).is_file() and tfrc.exists():
        env["TF_CLI_CONFIG_FILE"] = str(tfrc)
    return env


@contextlib.contextmanager
def root_lock() -> Iterator[None]:
    """One tflocal command at a time on environments/dev: each writes the same override
    file there, and a second one would refuse to start (or point at the wrong endpoint)."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Holding the lock, any override file left behind is stale (a killed tflocal).
        (DEV_ROOT / OVERRIDE_FILE).unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fingerprint(zip_path: Path, variables: Mapping[str, str], endpoint_url: str) -> str:
    """Changes whenever an apply could change something: Terraform sources, the zip, the
    variables, the endpoint."""
    digest = hashlib.sha256()
    for path in sorted([*DEV_ROOT.glob("*.tf"), *MODULE.glob("*.tf")]):
        if path.name != OVERRIDE_FILE:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(hashlib.sha256(zip_path.read_bytes()).digest())
    digest.update(json.dumps([sorted(variables.items()), endpoint_url]).encode())
    return digest.hexdigest()


@dataclass
class Stack:
    """environments/dev applied to one endpoint, with its own state file and data dir."""

    endpoint_url: str
    state_path: Path
    data_dir: Path
    log: IO[str] | None = None
    progress: Callable[[str], None] | None = None  # called with every output line
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, check: bool = True, plain: bool = False) -> subprocess.CompletedProcess[str]:
        """tflocal (or, with plain, terraform itself for commands that never call AWS)."""
        tool = (shutil.which("terraform") or "terraform") if plain else tflocal_binary()
        command = [tool, f"-chdir={DEV_ROOT}", *args]
        if self.log is not None:
            self.log.write(f"$ {Path(tool).name} -chdir=environments/dev {' '.join(args)}\n")
        lines: list[str] = []
        with root_lock():
            process = subprocess.Popen(
                command,
                env=tflocal_env(self.endpoint_url, self.data_dir),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if not plain else subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=ROOT,  # tflocal reads provider aliases from the *.tf files of its cwd: none here
            )
            timer = threading.Timer(TIMEOUT_S, process.kill)
            timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    lines.append(line)
                    if self.log is not None:
                        self.log.write(line)
                    if self.progress is not None:
                        self.progress(line.rstrip("\n"))
                process.wait()
            finally:
                timer.cancel()
        if self.log is not None:
            self.log.flush()
        result = subprocess.CompletedProcess(command, process.returncode, "".join(lines), "")
        if check and result.returncode != 0:
            raise TerraformFailed(args[0], result)
        return result

    def init(self) -> None:
        if (self.data_dir / "providers").exists() and (self.data_dir / "terraform.tfstate").exists():
            return  # initialised before with the same backend path
        self.run("init", "-input=false", "-no-color", "-reconfigure", f"-backend-config=path={self.state_path}")

    def apply(self, variables: Mapping[str, str], label: str = "apply") -> str:
        """Apply; returns Terraform's summary line ("Resources: 21 added, ...")."""
        self.init()
        started = time.monotonic()
        result = self.run("apply", "-input=false", "-auto-approve", "-no-color", *var_args(variables))
        self.timings[label] = round(time.monotonic() - started, 1)
        match = re.search(r"Resources: .*", result.stdout)
        return match.group(0).rstrip(".") if match else "applied"

    def planned_changes(self, variables: Mapping[str, str], plan_file: Path) -> list[dict[str, Any]]:
        started = time.monotonic()
        self.run("plan", "-input=false", "-no-color", f"-out={plan_file}", *var_args(variables))
        self.timings["plan"] = round(time.monotonic() - started, 1)
        shown = json.loads(self.run("show", "-json", str(plan_file), plain=True).stdout)
        return [c for c in shown.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]]

    def outputs_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.run("output", "-json", plain=True).stdout)
        return data

    def destroy(self, variables: Mapping[str, str]) -> None:
        self.init()
        started = time.monotonic()
        self.run("destroy", "-input=false", "-auto-approve", "-no-color", *var_args(variables))
        self.timings["destroy"] = round(time.monotonic() - started, 1)


class TerraformFailed(RuntimeError):
    def __init__(self, command: str, result: subprocess.CompletedProcess[str]) -> None:
        self.result = result
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        super().__init__(f"terraform {command} failed (exit {result.returncode}):\n{tail}")


def var_args(variables: Mapping[str, str]) -> list[str]:
    return [f"-var={key}={value}" for key, value in sorted(variables.items())]


def local_variables(zip_path: Path, architecture: str) -> dict[str, str]:
    return {
        "name": LOCAL_NAME,
        "lambda_architecture": architecture,
        "lambda_zip_path": str(zip_path.resolve()),
    }


def local_stack(state_dir: Path, endpoint_url: str, log: IO[str] | None = None) -> Stack:
    return Stack(endpoint_url, state_dir / "terraform.tfstate", state_dir / "terraform", log)


class Heartbeat:
    """A phase line every `every_s` seconds of a long apply, naming what it waits for."""

    def __init__(self, phases: Phases, every_s: float = 15.0) -> None:
        self.phases = phases
        self.every_s = every_s
        self.last = time.monotonic()
        self.waiting_on = ""

    def __call__(self, line: str) -> None:
        match = re.match(r"(\S+): Still (?:creating|modifying|destroying)\.\.\. \[(\w+) elapsed\]", line)
        if match:
            self.waiting_on = match.group(1)
        # Only progress lines trigger it, not the burst of summary lines at the end.
        progress = re.search(r"(Still \w+|Creating|Modifying|Destroying|Refreshing state|Reading)\.\.\.", line)
        if progress and time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            detail = f"; waiting on {self.waiting_on}" if self.waiting_on else ""
            if "lifecycle_configuration" in self.waiting_on:
                detail += " (the AWS provider polls it until it has read it back unchanged 10 times, 5 s apart)"
            self.phases.line("apply", f"still applying{detail}")


def apply_local(
    state_dir: Path,
    endpoint_url: str,
    zip_path: Path,
    architecture: str,
    *,
    if_changed: bool,
    log: IO[str],
    progress: Callable[[str], None] | None = None,
) -> str:
    """Apply the dev root to the emulator and record outputs and inputs. With if_changed,
    skip when nothing changed since the last apply into this (still populated) emulator."""
    variables = local_variables(zip_path, architecture)
    stamp = fingerprint(zip_path, variables, endpoint_url)
    state = LocalState(state_dir)
    if if_changed:
        with contextlib.suppress(NotDeployed):
            if state.deployment.get("fingerprint") == stamp and (state_dir / "outputs.json").exists():
                return "skipped: nothing changed since the last apply, and the emulator kept the deployment"
    stack = local_stack(state_dir, endpoint_url, log)
    stack.progress = progress
    summary = stack.apply(variables)
    (state_dir / "outputs.json").write_text(json.dumps(stack.outputs_json(), indent=2) + "\n")
    (state_dir / "deployment.json").write_text(
        json.dumps(
            {
                "endpoint_url": endpoint_url,
                "fingerprint": stamp,
                "zip": str(zip_path),
                "architecture": architecture,
                "variables": variables,
                "applied_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        + "\n"
    )
    return f"{summary} in {stack.timings['apply']:.1f} s"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["apply", "outputs", "destroy"])
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--endpoint", help="emulator URL (apply; default: the recorded one)")
    parser.add_argument("--zip", type=Path, help="deployment package (apply)")
    parser.add_argument("--arch", default=host_architecture())
    parser.add_argument("--if-changed", action="store_true", help="skip the apply when its inputs did not change")
    parser.add_argument("--started-at", type=float)
    args = parser.parse_args(argv)
    phases = Phases(args.started_at)
    state = LocalState(args.state_dir)
    log_path = args.state_dir / "terraform.log"
    try:
        if args.action == "apply":
            endpoint = args.endpoint or state.endpoint_url
            if not answers(endpoint):
                raise NotDeployed(EMULATOR_DOWN)
            with log_path.open("a") as log:
                summary = apply_local(
                    args.state_dir,
                    endpoint,
                    args.zip,
                    args.arch,
                    if_changed=args.if_changed,
                    log=log,
                    progress=Heartbeat(phases),
                )
            phases.line("apply", f"tflocal -chdir=environments/dev apply: {summary}; output in {log_path}")
        elif args.action == "outputs":
            # Read from the state file: works while the emulator is stopped too.
            result = local_stack(args.state_dir, state.endpoint_url).run("output", plain=True)
            where = f"{state.endpoint_url} (state {state.state_dir}/terraform.tfstate)"
            print(f"# environments/dev applied to the local emulator at {where}")
            print(result.stdout, end="")
        else:
            state.require_emulator()
            phases.line("destroy", "destroying the local deployment: its logs and its password go with it")
            with log_path.open("a") as log:
                local_stack(args.state_dir, state.endpoint_url, log).destroy(state.deployment["variables"])
            for name in ("outputs.json", "deployment.json"):
                (args.state_dir / name).unlink(missing_ok=True)
            phases.line("destroy", f"done; `make run` deploys a new one; output in {log_path}")
    except NotDeployed as exc:
        sys.exit(str(exc))
    except TerraformFailed as exc:
        sys.exit(f"{exc}\n(full output in {log_path})")


if __name__ == "__main__":
    main()

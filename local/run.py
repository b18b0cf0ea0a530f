"""`make run`: everything from a fresh clone to a served endpoint, in short phase lines.

    [   0.0s] make run  first run: installs the tools, builds, applies (about 90 s); later runs take seconds
    [  18.5s] venv      .venv-run ready (18.4 s)
    ...
    [  84.0s] ready     Loki push endpoint at http://127.0.0.1:3100/loki/api/v1/push

Standard library only: it runs before the virtualenv exists. The phases:

* venv, build, init (in parallel): the run-path virtualenv, the deployment package for
  this machine's architecture, and `terraform init`; the Python 3.12 runtime client
  directory installs later, while the apply waits;
* emulator: start moto (or reuse a running one), restoring its saved state;
* apply: environments/dev with tflocal, skipped when nothing changed and the emulator
  kept the deployment;
* serve: the function URL server running the zip (it replaces this process).

Each phase's full output goes to .local/logs/<phase>.log; a failing phase prints its last
lines and the log's path.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local import ROOT
from local.phases import Phases
from local.state import SERVER_PORT_FILE


@dataclass
class Step:
    phase: str
    make_target: str  # or "" with a command
    done: str  # phase line when it had to work
    fresh: str  # phase line when it was already up to date
    command: list[str] | None = None
    env: dict[str, str] | None = None
    skip: bool = False  # already done (for command steps)
    seconds: float = 0.0


class PhaseFailed(RuntimeError):
    pass


def make(target: str, log: Path, extra: list[str]) -> subprocess.CompletedProcess[str]:
    with log.open("a") as out:
        out.write(f"$ make {target} {' '.join(extra)}\n")
        out.flush()
        return subprocess.run(
            ["make", "-s", target, *extra], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, check=False
        )


def up_to_date(target: str, extra: list[str]) -> bool:
    result = subprocess.run(["make", "-q", target, *extra], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.returncode == 0


def tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def start_steps(steps: list[Step], logs: Path, extra: list[str], phases: Phases) -> Callable[[], None]:
    """Start the steps in parallel, one phase line each as it finishes; returns the function
    that waits for them (and raises PhaseFailed if one failed)."""
    errors: list[str] = []

    def work(step: Step) -> None:
        log = logs / f"{step.phase}.log"
        if step.skip or (step.make_target and up_to_date(step.make_target, extra)):
            phases.line(step.phase, step.fresh)
            return
        started = time.monotonic()
        if step.command is not None:
            with log.open("a") as out:
                result = subprocess.run(
                    step.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=step.env, check=False, text=True
                )
        else:
            result = make(step.make_target, log, extra)
        step.seconds = time.monotonic() - started
        if result.returncode != 0:
            errors.append(f"{step.phase} failed:\n{tail(log)}\n  full output: {log}")
            phases.line(step.phase, f"FAILED after {step.seconds:.1f} s (see below)")
            return
        phases.line(step.phase, step.done.format(seconds=step.seconds))

    threads = [threading.Thread(target=work, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()

    def join() -> None:
        for thread in threads:
            thread.join()
        if errors:
            raise PhaseFailed("\n".join(errors))

    return join


def run_tool(phase: str, command: list[str], logs: Path, phases: Phases) -> None:
    """A step that prints its own phase lines; its stderr goes to the log."""
    log = logs / f"{phase}.log"
    with log.open("a") as err:
        result = subprocess.run(command, cwd=ROOT, stderr=err, check=False, env=tool_env())
    if result.returncode != 0:
        raise PhaseFailed(f"{phase} failed:\n{tail(log)}\n  full output: {log}")


def tool_env() -> dict[str, str]:
    # Both venvs the tools run in have the handler package installed (editable in .venv, a
    # .pth file in .venv-run), so the environment passes through as it is.
    return dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--emulator-port", type=int, default=4599)
    parser.add_argument("--venv-python", required=True, help="python of the venv the local tools run in")
    parser.add_argument("--venv-target", required=True, help="make target that creates that venv")
    parser.add_argument("--zip", type=Path, required=True)
    parser.add_argument("--arch", required=True)
    parser.add_argument("--python312", default="")
    parser.add_argument("--runtime-dir", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-serve", action="store_true", help="stop after the apply and print how to use it")
    args = parser.parse_args()
    phases = Phases()
    state_dir: Path = args.state_dir
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    first = not (state_dir / "outputs.json").exists()
    if first:
        phases.line("make run", "first run: installs the tools, builds the zip, applies Terraform (about 90 s)")

    make_vars = [f"LAMBDA_ARCH={args.arch}"]
    venv_name = Path(args.venv_python).parent.parent.name
    steps = [
        Step("venv", args.venv_target, f"{venv_name} ready ({{seconds:.1f}} s)", f"{venv_name} up to date"),
        Step("build", "build-zip", f"{args.zip.name} built ({{seconds:.1f}} s)", f"{args.zip.name} up to date"),
    ]
    # The runtime client is only needed to serve: it installs while the apply waits, off
    # the CPU the venv and the zip need first.
    later: list[Step] = []
    if args.python312:
        later.append(
            Step(
                "runtime",
                "lambda-runtime",
                f"awslambdaric for Python 3.12 installed in {args.runtime_dir.name} ({{seconds:.1f}} s)",
                f"awslambdaric for Python 3.12 ready ({args.python312})",
            )
        )
    else:
        phases.line(
            "runtime",
            "no Python 3.12 found (python3.12 on PATH, ~/.pyenv/versions/3.12*): the endpoint will import the "
            "handler in-process instead of running the zip; install Python 3.12 to run the artifact",
        )
    # Terraform's init needs neither the venv nor the emulator: done alongside them.
    data_dir = state_dir / "terraform"
    steps.append(
        Step(
            "init",
            "",
            "terraform init of environments/dev done ({seconds:.1f} s)",
            "terraform init of environments/dev up to date",
            command=[
                "terraform",
                "-chdir=environments/dev",
                "init",
                "-input=false",
                "-no-color",
                "-reconfigure",
                f"-backend-config=path={state_dir / 'terraform.tfstate'}",
            ],
            env={**os.environ, "TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"},
            skip=(data_dir / "providers").exists() and (data_dir / "terraform.tfstate").exists(),
        )
    )
    try:
        start_steps(steps, logs, make_vars, phases)()
        finish_later = start_steps(later, logs, make_vars, phases)
        python = args.venv_python
        common = ["--state-dir", str(state_dir), "--started-at", str(phases.started_at)]
        run_tool(
            "emulator",
            [python, "-m", "local.emulator.control", "start", "--port", str(args.emulator_port), *common],
            logs,
            phases,
        )
        started = json.loads((state_dir / "emulator-start.json").read_text())
        deployed_before = (state_dir / "deployment.json").exists()
        if deployed_before and not started["kept"]:
            phases.line(
                "apply",
                "the emulator no longer holds the local deployment: re-creating it, with a new password "
                "and without the logs that landed before",
            )
        run_tool(
            "apply",
            [
                python,
                "-m",
                "local.tools.deploy",
                "apply",
                "--endpoint",
                f"http://127.0.0.1:{args.emulator_port}",
                "--zip",
                str(args.zip),
                "--arch",
                args.arch,
                *(["--if-changed"] if started["kept"] else []),
                *common,
            ],
            logs,
            phases,
        )
        finish_later()
    except PhaseFailed as failed:
        print(str(failed), file=sys.stderr)
        sys.exit(1)
    os.chdir(ROOT)
    (state_dir / SERVER_PORT_FILE).write_text(f"{args.port}\n")  # for make verify and make load
    if args.no_serve:
        info = [python, "-m", "local.tools.info", "--state-dir", str(state_dir), "--port", str(args.port)]
        os.execve(python, info, tool_env())
    server = [
        python,
        "-m",
        "local.runtime.function_url",
        "--port",
        str(args.port),
        "--zip",
        str(args.zip),
        "--python312",
        args.python312,
        "--runtime-dir",
        str(args.runtime_dir),
        "--concurrency",
        str(args.concurrency),
        *common,
    ]
    os.execve(python, server, tool_env())


if __name__ == "__main__":
    main()

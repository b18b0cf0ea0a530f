"""`make run` from a fresh clone installs only requirements-run.txt (.venv-run), not the dev
venv: the emulator must still import every moto backend the dev stack creates resources in.
moto declares the extra dependencies of a service as an extra of its own (`moto[s3]`), so every
service with such an extra that the module or the dev root uses must be among the extras
requirements-run.in installs (a missing one fails only there: the apply hangs on a backend that
cannot import)."""

from __future__ import annotations

import importlib.metadata
import re

from tests.conftest import ROOT

#: Terraform's service word -> moto's extra, where they differ.
_EXTRA_NAMES = {"lambda": "awslambda"}


def moto_extras_with_dependencies() -> set[str]:
    found = set()
    for requirement in importlib.metadata.requires("moto") or []:
        match = re.search(r'extra == "([^"]+)"', requirement)
        if match:
            found.add(match.group(1))
    return found


def services_of_the_dev_stack() -> set[str]:
    types: set[str] = set()
    for folder in ("modules/loki-ingest", "environments/dev"):
        for path in (ROOT / folder).glob("*.tf"):
            types |= set(re.findall(r'resource\s+"aws_([a-z0-9]+)_', path.read_text()))
    return {_EXTRA_NAMES.get(service, service) for service in types}


def test_the_run_venv_installs_the_moto_extras_of_every_service_the_dev_stack_uses() -> None:
    match = re.search(r"^moto\[([a-z0-9,]+)\]==", (ROOT / "requirements-run.in").read_text(), re.MULTILINE)
    assert match, "requirements-run.in pins moto with its extras"
    installed = set(match.group(1).split(","))
    needed = services_of_the_dev_stack() & moto_extras_with_dependencies()
    assert needed >= {"s3", "awslambda"}  # the check sees the stack at all
    assert needed <= installed, f"add {sorted(needed - installed)} to moto's extras in requirements-run.in"


def test_requirements_run_txt_pins_what_those_extras_need() -> None:
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements-run.txt").read_text().splitlines()
        if "==" in line
    }
    for requirement in importlib.metadata.requires("moto") or []:
        match = re.search(r'extra == "([^"]+)"', requirement)
        name = re.split(r"[<>=!~; \[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        if match and match.group(1) in services_of_the_dev_stack():
            assert name in pinned, f"{name} (moto[{match.group(1)}]) is not in requirements-run.txt: run make lock"

"""Terraform checks that need no AWS: fmt, validate (no warnings), deprecated attributes,
checkov, and the reproducible Lambda zip. The module's `terraform test` run is in
test_module.py, the prod root applied to an emulator in test_prod_stack.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.terraform.support import ok, terraform

pytestmark = pytest.mark.terraform

ROOTS = ["modules/loki-ingest", "environments/dev", "environments/prod", "environments/prod/bootstrap"]
# checkov scans directories recursively: environments/prod covers its bootstrap root.
CHECKOV_ROOTS = ROOTS[:3]
TERRAFORM_DIRS = ("modules", "environments", "examples")
# The example takes the module from git (a placeholder URL): validated with this clone's module.
EXAMPLES = ["examples/consumer"]
GIT_SOURCE = re.compile(r'(?m)^(\s*source\s*=\s*)"git::[^"]+"')


def test_terraform_files_are_formatted(tmp_path: Path) -> None:
    ok(terraform("fmt", "-check", "-recursive", "-diff", *TERRAFORM_DIRS, cwd=ROOT, data_dir=tmp_path))


def configuration_dir(root: str, tmp_path: Path) -> Path:
    if root not in EXAMPLES:
        return ROOT / root
    copy = tmp_path / "root"
    shutil.copytree(ROOT / root, copy, ignore=shutil.ignore_patterns(".terraform"))
    text, count = GIT_SOURCE.subn(rf'\1"{ROOT / "modules" / "loki-ingest"}"', (copy / "main.tf").read_text())
    assert count == 1
    (copy / "main.tf").write_text(text)
    return copy


@pytest.mark.parametrize("root", ROOTS + EXAMPLES)
def test_configuration_is_valid_without_warnings(root: str, tmp_path: Path) -> None:
    directory = configuration_dir(root, tmp_path)
    # -lockfile=readonly: the committed .terraform.lock.hcl must cover what init installs.
    readonly = [] if root.startswith("modules/") else ["-lockfile=readonly"]
    ok(terraform("init", "-backend=false", "-input=false", *readonly, cwd=directory, data_dir=tmp_path / "data"))
    report = json.loads(ok(terraform("validate", "-json", cwd=directory, data_dir=tmp_path / "data")))
    assert report["valid"], report
    assert report["error_count"] == 0
    assert report["warning_count"] == 0, [d["summary"] for d in report["diagnostics"]]


# Attributes that providers newer than the offline mirror's 5.100 deprecate, so `validate`
# above cannot warn about them here: checked in the sources instead.
DEPRECATED_IN_PROVIDER_6 = [
    # 6.0 deprecates data.aws_region's `name` in favour of `region`, which 5.x lacks.
    pytest.param(r"data\.aws_region\.[a-z0-9_]+\.name\b", id="aws_region.name-6.0"),
    # 6.47 deprecates `id` as well (hashicorp/terraform-provider-aws#48036).
    pytest.param(r"data\.aws_region\.[a-z0-9_]+\.id\b", id="aws_region.id-6.47"),
]


@pytest.mark.parametrize("pattern", DEPRECATED_IN_PROVIDER_6)
def test_no_configuration_reads_attributes_deprecated_in_provider_6(pattern: str) -> None:
    uses = [
        f"{path.relative_to(ROOT)}:{number}"
        for directory in TERRAFORM_DIRS
        for path in sorted((ROOT / directory).rglob("*.tf"))
        if ".terraform" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert not uses, f"deprecated attribute read at {uses}"


def checkov(root: str) -> dict[str, Any]:
    binary = os.environ.get("CHECKOV") or str(ROOT / ".venv-checkov" / "bin" / "checkov")
    assert Path(binary).exists(), "checkov is not installed: run `make test-terraform`"
    result = subprocess.run(
        # Not --quiet: that drops passed and skipped checks from the JSON report.
        [binary, "-d", str(ROOT / root), "--framework", "terraform", "-o", "json", "--compact"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    data = json.loads(result.stdout)
    reports = data if isinstance(data, list) else [data]
    return {
        "failed": [c for r in reports for c in r.get("results", {}).get("failed_checks", [])],
        "skipped": [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])],
        "passed": sum(r.get("summary", {}).get("passed", 0) for r in reports),
    }


@pytest.mark.parametrize("root", CHECKOV_ROOTS)
def test_checkov_finds_nothing_and_every_skip_is_justified(root: str) -> None:
    report = checkov(root)
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']})" for c in report["failed"]]
    assert not failed, "checkov failures:\n" + "\n".join(failed)
    assert report["passed"] > 100
    assert report["skipped"], "expected the documented inline skips in the report"
    for check in report["skipped"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        justified = reason and reason != "No comment provided" and len(reason) > 20
        assert justified, f"{check['check_id']} on {check['resource']} is skipped without a justification"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def python312() -> str | None:
    result = subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "print-py312"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    path = result.stdout.strip()
    return path or None


def test_lambda_zip_is_byte_reproducible(tmp_path: Path) -> None:
    deps = ROOT / "build" / "deps-arm64"
    script = ROOT / "scripts" / "build_zip.py"
    packages = [ROOT / "lambda" / "loki_ingest", ROOT / "lambda" / "loki_canary"]  # what `make build` zips
    python = python312()
    common = [*(["--deps", str(deps)] if deps.exists() else []), *(["--python", python] if python else [])]
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"

    def build(sources: list[Path], output: Path) -> None:
        flags = [arg for source in sources for arg in ("--package", str(source))]
        subprocess.run(["python3", str(script), *flags, *common, "--output", str(output)], check=True)

    build(packages, first)
    # Same sources with new mtimes, copied elsewhere: the zip must not change.
    copies = [tmp_path / "src" / package.name for package in packages]
    for package, copy in zip(packages, copies, strict=True):
        shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for path in copy.rglob("*.py"):
            os.utime(path, (time.time() + 3600, time.time() + 3600))
    build(copies, second)
    assert sha256(first) == sha256(second)
    names = zipfile.ZipFile(first).namelist()
    assert "loki_ingest/handler.py" in names and "loki_canary/handler.py" in names
    if python:
        assert "loki_ingest/__pycache__/handler.cpython-312.pyc" in names
    built = ROOT / "dist" / "lambda-arm64.zip"
    if built.exists() and deps.exists():
        assert sha256(first) == sha256(built), f"{built.name} is stale: run `make build`"

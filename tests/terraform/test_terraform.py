"""Terraform checks that run offline: fmt, validate, `terraform test` against moto, checkov,
and the reproducible Lambda zip."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, terraform_env

pytestmark = pytest.mark.terraform

ROOTS = ["modules/loki-ingest", "environments/dev", "environments/prod"]
TIMEOUT = 900  # the AWS provider retries emulator errors for 10+ minutes; never wait forever


def terraform(
    *args: str, cwd: Path, data_dir: Path, timeout: int = TIMEOUT, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("terraform")
    assert binary, "terraform is not installed"
    env = {**terraform_env(data_dir), **(extra_env or {})}
    return subprocess.run(
        [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def lambda_zip() -> Path:
    path = ROOT / "dist" / "lambda-arm64.zip"
    assert path.exists(), "run `make build` first (make test does)"
    return path


def test_terraform_files_are_formatted(tmp_path: Path) -> None:
    ok(terraform("fmt", "-check", "-recursive", "-diff", "modules", "environments", cwd=ROOT, data_dir=tmp_path))


@pytest.mark.parametrize("root", ROOTS)
def test_configuration_is_valid(root: str, tmp_path: Path) -> None:
    ok(terraform("init", "-backend=false", "-input=false", cwd=ROOT / root, data_dir=tmp_path))
    out = ok(terraform("validate", "-json", cwd=ROOT / root, data_dir=tmp_path))
    report = json.loads(out)
    assert report["valid"], report
    assert report["error_count"] == 0


def test_module_tests_pass_against_the_emulator(moto_endpoint: str, lambda_zip: Path, tmp_path: Path) -> None:
    module = ROOT / "modules" / "loki-ingest"
    ok(terraform("init", "-input=false", cwd=module, data_dir=tmp_path))
    started = time.monotonic()
    result = terraform(
        "test",
        f"-var=lambda_zip_path={lambda_zip}",
        "-no-color",
        cwd=module,
        data_dir=tmp_path,
        extra_env={"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    output = ok(result)
    print(f"terraform test took {time.monotonic() - started:.0f} s")
    assert " 0 failed" in output and "Success!" in output, output


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


@pytest.mark.parametrize("root", ROOTS)
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
    package = ROOT / "lambda" / "loki_ingest"
    python = python312()
    common = [*(["--deps", str(deps)] if deps.exists() else []), *(["--python", python] if python else [])]
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    subprocess.run(["python3", str(script), "--package", str(package), *common, "--output", str(first)], check=True)
    # Same sources with new mtimes, copied elsewhere: the zip must not change.
    copy = tmp_path / "src" / "loki_ingest"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        os.utime(path, (time.time() + 3600, time.time() + 3600))
    subprocess.run(["python3", str(script), "--package", str(copy), *common, "--output", str(second)], check=True)
    assert sha256(first) == sha256(second)
    names = zipfile.ZipFile(first).namelist()
    assert "loki_ingest/handler.py" in names
    if python:
        assert "loki_ingest/__pycache__/handler.cpython-312.pyc" in names
    built = ROOT / "dist" / "lambda-arm64.zip"
    if built.exists() and deps.exists():
        assert sha256(first) == sha256(built), f"{built.name} is stale: run `make build`"

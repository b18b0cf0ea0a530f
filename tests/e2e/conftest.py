"""End-to-end fixtures: environments/dev applied with real Terraform to a moto server the
session starts on a free port, the real handler served over HTTP in front of it, and
helpers to read S3 back. Everything is torn down (terraform destroy) at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.emulator import free_port
from local.logs import read_records
from local.server import FunctionUrlServer, make_server, serve_in_thread
from local.state import emulator_client, emulator_env, flatten_outputs, read_credentials
from tests.conftest import ROOT, record_figures, terraform_env

TIMEOUT = 900  # the AWS provider retries emulator errors for 10+ minutes


@dataclass
class Deployment:
    endpoint: str
    workdir: Path
    timings: dict[str, float] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return terraform_env(self.workdir / "tf-data")

    @property
    def state_path(self) -> Path:
        return self.workdir / "terraform.tfstate"

    def terraform(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = shutil.which("terraform")
        assert binary, "terraform is not installed"
        result = subprocess.run(
            [binary, f"-chdir={ROOT / 'environments' / 'dev'}", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"terraform {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def var_args(self) -> list[str]:
        return [f"-var={key}={value}" for key, value in self.variables.items()]

    def apply(self, label: str) -> None:
        started = time.monotonic()
        self.terraform("apply", "-input=false", "-auto-approve", "-no-color", *self.var_args())
        self.timings[label] = round(time.monotonic() - started, 1)
        self.outputs = flatten_outputs(json.loads(self.terraform("output", "-json").stdout))

    def planned_changes(self) -> list[dict[str, Any]]:
        started = time.monotonic()
        plan = self.workdir / "check.tfplan"
        self.terraform("plan", "-input=false", "-no-color", f"-out={plan}", *self.var_args())
        self.timings["plan"] = round(time.monotonic() - started, 1)
        shown = json.loads(self.terraform("show", "-json", str(plan)).stdout)
        return [c for c in shown.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]]

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint)

    def credentials(self) -> tuple[str, str]:
        return read_credentials(self.endpoint, self.outputs["secret_arn"])

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for _, line in read_records(self.client("s3"), self.outputs["bucket_name"])]


@pytest.fixture(scope="session")
def aws_env(moto_endpoint: str) -> Iterator[None]:
    """Point boto3 (and so the handler served in-process) at the session's emulator."""
    values = emulator_env(moto_endpoint)
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


@pytest.fixture(scope="session")
def deployment(moto_endpoint: str, aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    zip_path = ROOT / "dist" / "lambda.zip"
    assert zip_path.exists(), "run `make build` first (make test does)"
    workdir = tmp_path_factory.mktemp("deployment")
    deployment = Deployment(moto_endpoint, workdir)
    deployment.variables = {
        "aws_endpoint_url": moto_endpoint,
        "enforce_tls": "false",  # moto cannot evaluate aws:SecureTransport
        "name": f"e2e-{uuid.uuid4().hex[:8]}",
        "lambda_zip_path": str(zip_path),
        "password_version": "1",
    }
    deployment.terraform("init", "-input=false", "-no-color", f"-backend-config=path={deployment.state_path}")
    deployment.apply("apply")
    yield deployment
    started = time.monotonic()
    deployment.terraform("destroy", "-input=false", "-auto-approve", "-no-color", *deployment.var_args())
    deployment.timings["destroy"] = round(time.monotonic() - started, 1)
    state = json.loads(deployment.state_path.read_text())
    assert state.get("resources", []) == [], "destroy left resources in state"
    record_figures("terraform timings (s)", deployment.timings)


@dataclass
class Endpoint:
    server: FunctionUrlServer
    url: str


def start_endpoint(outputs: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> Endpoint:
    port = free_port()
    server = make_server(outputs, port, quiet=True, overrides=overrides)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2).read()
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    return Endpoint(server, url)


@contextmanager
def running_endpoint(outputs: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> Iterator[Endpoint]:
    served = start_endpoint(outputs, overrides)
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()


@pytest.fixture(scope="session")
def endpoint(deployment: Deployment) -> Iterator[Endpoint]:
    """The real handler at http://127.0.0.1:<port>, configured from the Terraform outputs."""
    with running_endpoint(deployment.outputs, {"AUTH_REFRESH_MIN_INTERVAL_SECONDS": "1"}) as served:
        yield served


@pytest.fixture(scope="session")
def loki_mode_endpoint(deployment: Deployment) -> Iterator[Endpoint]:
    """The same stack with SUCCESS_STATUS_CODE=204, for clients that accept nothing else."""
    with running_endpoint(deployment.outputs, {"SUCCESS_STATUS_CODE": "204"}) as served:
        yield served

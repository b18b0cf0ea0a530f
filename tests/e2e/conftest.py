"""End-to-end fixtures: environments/dev applied with tflocal to a moto server the session
starts on a free port, the deployment package (the host's zip) run by AWS's runtime
interface client on Python 3.12 behind a function URL server, and helpers to read S3 back.
Everything is torn down (terraform destroy) at the end.

Without a Python 3.12 (LOKI_E2E_PY312 empty) the endpoint imports the handler in-process
instead, and says so in the test output."""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.emulator.control import free_port
from local.runtime.function_url import FunctionUrlServer, open_invoker, serve_in_thread
from local.state import emulator_client, emulator_env, flatten_outputs, read_credentials
from local.tools.deploy import Stack, host_architecture
from local.tools.logs import read_records
from loki_ingest.records import reader
from tests.conftest import ROOT, record_figures

ZIP = Path(os.environ.get("LOKI_E2E_ZIP") or ROOT / "dist" / f"lambda-{host_architecture()}.zip")
ARCH = os.environ.get("LOKI_E2E_ARCH") or host_architecture()
PY312 = os.environ.get("LOKI_E2E_PY312", "")
RUNTIME_DIR = Path(os.environ.get("LOKI_E2E_RUNTIME_DIR") or ROOT / "build" / "lambda-runtime-py312")


@dataclass
class Deployment:
    endpoint: str
    workdir: Path
    stack: Stack
    variables: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def timings(self) -> dict[str, float]:
        return self.stack.timings

    @property
    def state_path(self) -> Path:
        return self.stack.state_path

    def apply(self, label: str) -> None:
        self.stack.apply(self.variables, label)
        self.outputs = flatten_outputs(self.stack.outputs_json())

    def planned_changes(self) -> list[dict[str, Any]]:
        return self.stack.planned_changes(self.variables, self.workdir / "check.tfplan")

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
    assert ZIP.exists(), f"{ZIP} is missing: run `make test-e2e` (it builds it)"
    workdir = tmp_path_factory.mktemp("deployment")
    log = (workdir / "terraform.log").open("w")
    stack = Stack(moto_endpoint, workdir / "terraform.tfstate", workdir / "tf-data", log)
    deployment = Deployment(moto_endpoint, workdir, stack)
    # The dev root as is (TLS-only bucket policy included): tflocal supplies the emulator.
    deployment.variables = {
        "name": f"e2e-{uuid.uuid4().hex[:8]}",
        "lambda_zip_path": str(ZIP),
        "lambda_architecture": ARCH,
        "password_version": "1",
        "dashboard_enabled": "true",  # off by default ($3 a month); on here, so it is checked
    }
    deployment.apply("apply")
    yield deployment
    audit_every_landed_line(deployment, workdir / "landed.ndjson")
    stack.destroy(deployment.variables)
    state = json.loads(deployment.state_path.read_text())
    assert state.get("resources", []) == [], "destroy left resources in state"
    record_figures("terraform timings (s)", deployment.timings)
    log.close()


def audit_every_landed_line(deployment: Deployment, copy: Path) -> None:
    """After the whole suite: every line of every object the session's pushes left in S3 is a
    record the reader parses strictly and reads back, and DuckDB's JSON reader (independent of
    ours) parses every one of them too and sees the same fields."""
    import duckdb

    landed = read_records(deployment.client("s3"), deployment.outputs["bucket_name"])
    lines = [line for _, line in landed]
    ours = []
    for line in lines:
        ours.append(reader.parse(line))  # strict JSON, UTF-8, no duplicate keys, no lone surrogates
        for read_back in (reader.original_line, reader.original_labels, reader.original_metadata):
            read_back(line)  # raises on a record that does not give its original back
    copy.write_bytes(b"".join(line + b"\n" for line in lines))
    rows = (
        duckdb.connect()
        .sql(
            f"SELECT timestamp_ns, id, format, json(record) FROM read_json('{copy}', format='newline_delimited', "
            "columns={timestamp_ns: 'VARCHAR', id: 'VARCHAR', format: 'VARCHAR', record: 'JSON'})"
        )
        .fetchall()
    )
    assert len(rows) == len(ours) > 0
    for (timestamp_ns, record_id, fmt, record), doc in zip(rows, ours, strict=True):
        assert (timestamp_ns, record_id, fmt) == (doc["timestamp_ns"], doc["id"], doc["format"])
        assert json.loads(record) == doc["record"]
    objects = len({key for key, _ in landed})
    record_figures("e2e objects read back by the reader and DuckDB", {"objects": objects, "lines": len(lines)})


@dataclass
class Endpoint:
    server: FunctionUrlServer
    url: str


def start_endpoint(deployment: Deployment, overrides: Mapping[str, str] | None = None) -> Endpoint:
    """The function behind a local function URL: the zip on Python 3.12 when there is one."""
    if not PY312:
        warnings.warn("no Python 3.12: the end-to-end endpoint imports the handler in-process", stacklevel=2)
    invoker = open_invoker(
        deployment.outputs,
        deployment.endpoint,
        zip_path=ZIP,
        python312=PY312 or None,
        runtime_dir=RUNTIME_DIR,
        overrides=overrides,
        function_log=deployment.workdir / "function.log",
    )
    # Listening from here on; no request is made, so the first one is a cold start.
    server = FunctionUrlServer(("127.0.0.1", free_port()), invoker, quiet=True)
    serve_in_thread(server)
    return Endpoint(server, server.url)


@contextmanager
def running_endpoint(deployment: Deployment, overrides: Mapping[str, str] | None = None) -> Iterator[Endpoint]:
    served = start_endpoint(deployment, overrides)
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()
        served.server.invoker.close()


@pytest.fixture(scope="session")
def endpoint(deployment: Deployment) -> Iterator[Endpoint]:
    """The real handler at http://127.0.0.1:<port>, configured from the Terraform outputs."""
    with running_endpoint(deployment, {"AUTH_REFRESH_MIN_INTERVAL_SECONDS": "1"}) as served:
        yield served


@pytest.fixture(scope="module")
def stack(deployment: Deployment, endpoint: Endpoint, request: pytest.FixtureRequest) -> Endpoint:
    """The endpoint, with the Firehose stream in place: test_local_stack.py ends by deleting it
    (its health test), and a module using this may run after it; terraform apply puts it back
    (timed as "<module>_reapply")."""
    firehose = deployment.client("firehose")
    try:
        firehose.describe_delivery_stream(DeliveryStreamName=deployment.outputs["firehose_stream_name"])
    except firehose.exceptions.ResourceNotFoundException:
        deployment.apply(f"{request.module.__name__.rsplit('.', 1)[-1].removeprefix('test_')}_reapply")
    return endpoint


@pytest.fixture(scope="session")
def loki_mode_endpoint(deployment: Deployment) -> Iterator[Endpoint]:
    """The same stack with SUCCESS_STATUS_CODE=204, for clients that accept nothing else."""
    with running_endpoint(deployment, {"SUCCESS_STATUS_CODE": "204"}) as served:
        yield served

"""The whole product on one machine: the dev root applied with tflocal to the emulator, the
deployment package run by AWS's runtime interface client on Python 3.12 behind real HTTP,
real Loki client libraries, S3 read back line by line and queried with SQL.

Tests run in file order; the last one deletes the Firehose stream."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import shutil
import statistics
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from local.runtime.function_url import ArtifactInvoker
from local.tools.load import LoadReport, landed_exactly_once, run_load
from local.tools.query import connect, run
from tests.conftest import ROOT, record_figures
from tests.e2e.conftest import PY312, Deployment, Endpoint, running_endpoint
from tests.support.logproto import protobuf_push

pytestmark = pytest.mark.e2e

NODE_DIR = ROOT / "tests" / "e2e" / "node"


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def wait_for(deployment: Deployment, predicate: Any, expected: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Records matching predicate, once `expected` of them have landed."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in deployment.records() if predicate(r)]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


# --- Terraform -------------------------------------------------------------------------------


def test_apply_then_plan_shows_no_changes(deployment: Deployment) -> None:
    changes = deployment.planned_changes()
    assert changes == [], [f"{c['address']}: {c['change']['actions']}" for c in changes]
    for name in ("push_url", "stytch_hostname", "username", "secret_arn", "bucket_name", "firehose_stream_name"):
        assert deployment.outputs[name], name
    assert deployment.outputs["username"] == "stytch-logs-ingestion"
    assert deployment.outputs["push_url"].endswith("/loki/api/v1/push")


def test_the_password_is_in_secrets_manager_but_never_in_state_or_outputs(deployment: Deployment) -> None:
    _, password = deployment.credentials()
    assert len(password) == 40 and password.isalnum()  # punctuation excluded
    assert password not in deployment.state_path.read_text()
    assert password not in json.dumps(deployment.outputs)


def test_the_endpoint_runs_the_zip_in_python_312_runtime_processes(deployment: Deployment, endpoint: Endpoint) -> None:
    if not PY312:
        pytest.skip("no Python 3.12 on this machine: the endpoint imports the handler in-process")
    invoker = endpoint.server.invoker
    assert isinstance(invoker, ArtifactInvoker)
    status, _, _ = http("GET", f"{endpoint.url}/healthz")
    assert status == 200
    runner = invoker.runner
    assert runner.config.handler == "loki_ingest.handler.handler"  # what Terraform configured
    assert runner.config.variables["FIREHOSE_DELIVERYSTREAM_NAME"] == deployment.outputs["firehose_stream_name"]
    # The handler's own structured log line, written by the runtime process (JSON log format): a
    # 4xx has its own line (a successful /healthz only counts towards the metrics line).
    status, _, _ = http("GET", f"{endpoint.url}/no-such-route")
    assert status == 404
    log = (deployment.workdir / "function.log").read_text()
    lines = [json.loads(raw) for raw in log.splitlines() if raw.startswith("{")]
    assert any(line.get("message") == "request" and line.get("status") == 404 for line in lines), log[-2000:]


def test_the_zip_has_a_cold_start_then_answers_warm(deployment: Deployment) -> None:
    """Figures for the README (recorded, never asserted on): the first request of a new
    execution environment, then warm requests."""
    if not PY312:
        pytest.skip("no Python 3.12 on this machine")
    user, password = deployment.credentials()
    body = json.dumps({"streams": [{"stream": {"run": "latency"}, "values": [[str(time.time_ns()), "x"]]}]}).encode()
    headers = {"Content-Type": "application/json"}
    with running_endpoint(deployment) as served:
        started = time.perf_counter()
        status, _, _ = http("POST", f"{served.url}/loki/api/v1/push", body, headers, (user, password))
        cold_ms = (time.perf_counter() - started) * 1000
        assert status == 200
        warm: list[float] = []
        for _ in range(30):
            started = time.perf_counter()
            assert http("POST", f"{served.url}/loki/api/v1/push", body, headers, (user, password))[0] == 200
            warm.append((time.perf_counter() - started) * 1000)
    record_figures(
        "artifact latency (ms)",
        {
            "cold_start_first_request": round(cold_ms, 1),
            "warm_median": round(statistics.median(warm), 1),
            "warm_max": round(max(warm), 1),
        },
    )


# --- pushes over HTTP, read back from S3 --------------------------------------------------------


@pytest.mark.parametrize("kind", ["json", "gzip-json", "protobuf-snappy"])
def test_a_push_lands_in_s3_line_for_line(deployment: Deployment, endpoint: Endpoint, kind: str) -> None:
    run = uuid.uuid4().hex[:12]
    base = time.time_ns()
    lines = [
        json.dumps({"event_id": f"event-{run}-{i}", "action": "SessionsAuthenticate", "status": "success", "i": i})
        for i in range(5)
    ] + [f"plain {run} é {i}" for i in range(5)]
    labels = {"service_name": "stytch", "run": run, "kind": kind}
    entries = [(base + i * 1_000_003, line) for i, line in enumerate(lines)]
    if kind == "protobuf-snappy":
        body = protobuf_push(
            [(f'{{service_name="stytch", run="{run}", kind="{kind}"}}', [(t, line, []) for t, line in entries])]
        )
        headers = {"Content-Type": "application/x-protobuf"}
    else:
        body = json.dumps({"streams": [{"stream": labels, "values": [[str(t), line] for t, line in entries]}]}).encode()
        headers = {"Content-Type": "application/json"}
        if kind == "gzip-json":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
    status, _, answer = http("POST", f"{endpoint.url}/loki/api/v1/push", body, headers, deployment.credentials())
    assert status == 200, answer
    count = json.loads(answer)["count"]
    assert count == len(lines)
    found = wait_for(deployment, lambda r: r["stream"].get("run") == run, len(lines))
    assert len(found) == count, "the count in the response must equal the lines found in S3"
    by_ts = {int(r["timestamp_ns"]): r for r in found}
    for timestamp, line in entries:
        record = by_ts[timestamp]  # exact nanoseconds
        assert record["stream"] == labels
        expected = json.loads(line) if line.startswith("{") else {"message": line}
        assert record["record"] == expected


def test_sql_over_the_local_bucket_answers_like_athena(deployment: Deployment, endpoint: Endpoint) -> None:
    """make query: DuckDB over the emulator's S3, on a view shaped like the Glue table."""
    run_id = uuid.uuid4().hex[:12]
    values = [
        [str(time.time_ns() + i), json.dumps({"action": action, "status": "success"})]
        for i, action in enumerate(["SessionsAuthenticate", "SessionsAuthenticate", "OtpsEmailSend"])
    ]
    body = json.dumps({"streams": [{"stream": {"service_name": "stytch", "run": run_id}, "values": values}]})
    status, _, _ = http(
        "POST",
        f"{endpoint.url}/loki/api/v1/push",
        body.encode(),
        {"Content-Type": "application/json"},
        deployment.credentials(),
    )
    assert status == 200
    wait_for(deployment, lambda r: r["stream"].get("run") == run_id, 3)
    database = deployment.outputs["glue_database_name"]
    year = time.gmtime().tm_year
    columns, rows = run(
        connect(deployment.endpoint, deployment.outputs),
        f"""SELECT json_extract_scalar(record, '$.action') AS action, count(*) AS events
            FROM {database}.records
            WHERE year = {year} AND stream['run'] = '{run_id}'
            GROUP BY 1 ORDER BY events DESC""",
    )
    assert columns == ["action", "events"]
    assert rows == [("SessionsAuthenticate", 2), ("OtpsEmailSend", 1)]


# --- independent Loki client libraries ------------------------------------------------------


@pytest.mark.parametrize(("version", "path"), [("1", "/loki/api/v1/push"), ("0", "/api/prom/push")])
def test_python_logging_loki_client_lands_its_lines(
    deployment: Deployment, loki_mode_endpoint: Endpoint, version: str, path: str
) -> None:
    import logging_loki

    run = uuid.uuid4().hex[:12]
    handler = logging_loki.LokiHandler(
        url=f"{loki_mode_endpoint.url}{path}", tags={"run": run}, auth=deployment.credentials(), version=version
    )
    errors: list[BaseException] = []
    handler.handleError = lambda record: errors.append(RuntimeError(record.getMessage()))  # type: ignore[method-assign]
    logger = logging.getLogger(f"e2e.logging_loki.{run}")
    logger.propagate = False
    logger.addHandler(handler)
    for i in range(5):
        logger.warning("python-logging-loki line %s %d", run, i)
    handler.close()
    assert not errors, errors  # it raises on anything but 204
    found = wait_for(deployment, lambda r: r["stream"].get("run") == run, 5)
    assert sorted(r["record"]["message"] for r in found) == [f"python-logging-loki line {run} {i}" for i in range(5)]
    assert {r["stream"]["severity"] for r in found} == {"warning"}


def test_loki_logger_handler_client_sends_gzip_json_that_lands(deployment: Deployment, endpoint: Endpoint) -> None:
    from loki_logger_handler.loki_logger_handler import LokiLoggerHandler

    run = uuid.uuid4().hex[:12]
    handler = LokiLoggerHandler(
        url=f"{endpoint.url}/loki/api/v1/push",
        labels={"run": run, "client": "loki-logger-handler"},
        auth=deployment.credentials(),
        timeout=1,
        compressed=True,
    )
    logger = logging.getLogger(f"e2e.loki_logger_handler.{run}")
    logger.propagate = False
    logger.addHandler(handler)
    for i in range(5):
        logger.error("loki-logger-handler line %s %d", run, i)
    handler._send()  # flush now (the library otherwise flushes on its timer)
    found = wait_for(deployment, lambda r: r["stream"].get("run") == run, 5)
    assert len(found) == 5
    assert sorted(r["record"]["message"] for r in found) == [f"loki-logger-handler line {run} {i}" for i in range(5)]


@pytest.fixture(scope="session")
def node_clients() -> str:
    npm = shutil.which("npm")
    node = shutil.which("node")
    assert npm and node, "node and npm are needed for the winston-loki client test"
    if not (NODE_DIR / "node_modules" / "winston-loki").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)
    return node


def test_winston_loki_client_sends_snappy_protobuf_that_lands(
    deployment: Deployment, endpoint: Endpoint, node_clients: str
) -> None:
    run = uuid.uuid4().hex[:12]
    lines = [f"winston-loki line {run} {i}" for i in range(20)]
    user, password = deployment.credentials()
    result = subprocess.run(
        [node_clients, "push.js"],
        cwd=NODE_DIR,
        env={
            **os.environ,
            "LOKI_HOST": endpoint.url,
            "LOKI_AUTH": f"{user}:{password}",
            "LOKI_LINES": json.dumps(lines),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["contentType"] == "application/x-protobuf", "winston-loki fell back to JSON"
    found = wait_for(deployment, lambda r: run in r["record"].get("message", ""), len(lines))
    assert sorted(r["record"]["message"] for r in found) == sorted(lines)
    assert {r["stream"]["client"] for r in found} == {"winston-loki"}


# --- auth --------------------------------------------------------------------------------------


def test_wrong_password_is_401(deployment: Deployment, endpoint: Endpoint) -> None:
    user, _ = deployment.credentials()
    status, headers, _ = http(
        "POST",
        f"{endpoint.url}/loki/api/v1/push",
        b'{"streams":[]}',
        {"Content-Type": "application/json"},
        (user, "wrong"),
    )
    assert status == 401
    assert headers.get("www-authenticate") == 'Basic realm="loki"'


def test_rotating_with_terraform_works_without_restarting_the_endpoint(
    deployment: Deployment, endpoint: Endpoint
) -> None:
    user, old_password = deployment.credentials()
    push = json.dumps({"streams": [{"stream": {"run": "rotation"}, "values": [[str(time.time_ns()), "x"]]}]}).encode()
    headers = {"Content-Type": "application/json"}
    assert http("POST", f"{endpoint.url}/loki/api/v1/push", push, headers, (user, old_password))[0] == 200

    deployment.variables["password_version"] = "2"
    deployment.apply("rotation_apply")
    _, new_password = deployment.credentials()
    assert new_password != old_password
    time.sleep(1.1)  # AUTH_REFRESH_MIN_INTERVAL_SECONDS for this endpoint
    assert http("POST", f"{endpoint.url}/loki/api/v1/push", push, headers, (user, new_password))[0] == 200
    # The previous password keeps working during the grace period (1 h in dev).
    assert http("POST", f"{endpoint.url}/loki/api/v1/push", push, headers, (user, old_password))[0] == 200
    assert deployment.planned_changes() == []
    assert new_password not in deployment.state_path.read_text()


# --- load --------------------------------------------------------------------------------------


def load(deployment: Deployment, endpoint: Endpoint, clients: int, pushes: int, entries: int) -> LoadReport:
    report = run_load(
        f"{endpoint.url}/loki/api/v1/push",
        deployment.credentials(),
        deployment.records,
        clients=clients,
        pushes=pushes,
        entries=entries,
    )
    record_figures("load", report)
    assert landed_exactly_once(report), report
    return report


def test_parallel_clients_every_line_lands_exactly_once(deployment: Deployment, endpoint: Endpoint) -> None:
    report = load(deployment, endpoint, clients=8, pushes=25, entries=20)
    assert report["duplicates"] == 0 and report["non_2xx_answers"] == 0


@pytest.mark.soak
def test_parallel_clients_soak(deployment: Deployment, endpoint: Endpoint) -> None:
    load(deployment, endpoint, clients=16, pushes=200, entries=50)


# --- health (destructive: runs last) -------------------------------------------------------


def test_healthz_is_healthy_then_degraded_when_the_stream_is_deleted(deployment: Deployment) -> None:
    with running_endpoint(deployment, {"HEALTH_CACHE_TTL_SECONDS": "1"}) as served:
        status, _, body = http("GET", f"{served.url}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "healthy"})
        deployment.client("firehose").delete_delivery_stream(
            DeliveryStreamName=deployment.outputs["firehose_stream_name"]
        )
        time.sleep(1.1)  # the health answer is cached for at least a second
        status, headers, body = http("GET", f"{served.url}/healthz")
        assert (status, json.loads(body)) == (503, {"status": "degraded"})  # the reason is only logged
        assert headers.get("retry-after")

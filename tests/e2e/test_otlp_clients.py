"""OTLP logs end to end: real OpenTelemetry SDKs export through their OTLP/HTTP exporters to
the Terraform-created stack, and the records are read back from S3.

* Python: the SDK's LoggerProvider and stdlib logging bridge, inside a span, through
  opentelemetry-exporter-otlp-proto-http (binary protobuf, deflate-compressed);
* JavaScript: @opentelemetry/sdk-logs through @opentelemetry/exporter-logs-otlp-http (OTLP
  JSON) and @opentelemetry/exporter-logs-otlp-proto (protobuf, gzip), tests/e2e/node/otlp.js.

Each run tags its resource with service.instance.id (an index label) to find its records.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tests.conftest import ROOT
from tests.e2e.conftest import Deployment, Endpoint
from tests.support.otlp import parse_status, record, request, resource_logs, to_json

pytestmark = pytest.mark.e2e

NODE_DIR = ROOT / "tests" / "e2e" / "node"
BASE_NS = 1_767_225_600_123_456_789  # 2026-01-01T00:00:00.123456789Z: exact nanoseconds survive


def landed(deployment: Deployment, run: str, expected: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The records of one run (by its service_instance_id label), once `expected` have landed."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in deployment.records() if r["stream"].get("service_instance_id") == run]
        if len(found) >= expected or time.monotonic() > deadline:
            return sorted(found, key=lambda r: int(r["timestamp_ns"]))
        time.sleep(0.5)


# --- the Python SDK -----------------------------------------------------------------------------------------


class Recording(LogRecordExporter):
    """The SDK's OTLP/HTTP exporter, with the result of every export kept (processors drop it)."""

    def __init__(self, inner: OTLPLogExporter) -> None:
        self.inner = inner
        self.results: list[LogRecordExportResult] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result = self.inner.export(batch)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def basic_auth(deployment: Deployment) -> str:
    user, password = deployment.credentials()
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# The SDK's stdlib bridge is deprecated in favour of opentelemetry-instrumentation-logging,
# which wraps the same handler; it is what most Python services run today.
@pytest.mark.filterwarnings("ignore:`LoggingHandler` in `opentelemetry-sdk` is deprecated:DeprecationWarning")
def test_python_sdk_exports_protobuf_that_lands_mapped_like_loki(deployment: Deployment, stack: Endpoint) -> None:
    run = uuid.uuid4().hex[:12]
    exporter = Recording(
        OTLPLogExporter(
            endpoint=f"{stack.url}/otlp/v1/logs",
            headers={"Authorization": basic_auth(deployment)},
            compression=Compression.Deflate,  # zlib-wrapped, as this SDK sends it
        )
    )
    provider = LoggerProvider(
        resource=Resource.create(
            {
                "service.name": "otel-python-e2e",
                "service.instance.id": run,
                "k8s.namespace.name": "e2e",
                "host.name": "h1",
            }
        )
    )
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=100))

    # 1. The stdlib logging bridge, inside a span: the records carry its trace context.
    tracer = TracerProvider().get_tracer("e2e")
    stdlib = logging.getLogger(f"e2e.otlp.{run}")
    stdlib.propagate = False
    stdlib.setLevel(logging.INFO)
    stdlib.addHandler(LoggingHandler(logger_provider=provider))
    with tracer.start_as_current_span("checkout") as span:
        for i in range(3):
            stdlib.warning("python otlp line %s %d", run, i)
    context = span.get_span_context()

    # 2. The logs API directly: exact nanoseconds and every attribute value type.
    api = provider.get_logger("e2e.otlp.python", "4.5.6")
    api.emit(
        timestamp=BASE_NS,
        severity_number=SeverityNumber.ERROR,
        severity_text="ERROR",
        body={"event": "payment_failed", "amount": 12.5, "items": [1, "two"]},
        attributes={"http.status_code": 502, "retry": True, "raw": b"\x00\xff", "ratio": 0.125, "tags": ["a", "b"]},
    )
    api.emit(timestamp=BASE_NS + 1, body="plain api line é")

    assert provider.force_flush(10_000)
    provider.shutdown()
    assert exporter.results and all(r == LogRecordExportResult.SUCCESS for r in exporter.results), exporter.results

    records = landed(deployment, run, 5)
    assert len(records) == 5
    stream = {"service_name": "otel-python-e2e", "service_instance_id": run, "k8s_namespace_name": "e2e"}
    assert all(r["stream"] == stream for r in records)

    bridged = [r for r in records if r["metadata"].get("scope_name") == f"e2e.otlp.{run}"]
    assert sorted(r["record"]["message"] for r in bridged) == [f"python otlp line {run} {i}" for i in range(3)]
    for r in bridged:
        meta = r["metadata"]
        assert meta["trace_id"] == format(context.trace_id, "032x")
        assert meta["span_id"] == format(context.span_id, "016x")
        assert int(meta["flags"]) & 0xFF == context.trace_flags  # W3C trace flags: sampled, random
        assert (meta["severity_text"], meta["severity_number"]) == ("WARN", "13")
        assert meta["host_name"] == "h1" and meta["telemetry_sdk_language"] == "python"

    structured, plain = (r for r in records if r["metadata"].get("scope_name") == "e2e.otlp.python")
    assert (structured["timestamp_ns"], plain["timestamp_ns"]) == (str(BASE_NS), str(BASE_NS + 1))
    assert structured["timestamp"] == "2026-01-01T00:00:00.123456789Z"
    assert structured["record"] == {"amount": 12.5, "event": "payment_failed", "items": [1, "two"]}
    assert {k: structured["metadata"][k] for k in ("http_status_code", "retry", "raw", "ratio", "tags")} == {
        "http_status_code": "502",
        "retry": "true",
        "raw": "AP8=",
        "ratio": "0.125",
        "tags": '["a","b"]',
    }
    assert (structured["metadata"]["severity_text"], structured["metadata"]["scope_version"]) == ("ERROR", "4.5.6")
    assert plain["record"] == {"message": "plain api line é"}


def test_python_sdk_export_with_a_wrong_password_fails_without_retrying(
    deployment: Deployment, stack: Endpoint
) -> None:
    exporter = Recording(
        OTLPLogExporter(endpoint=f"{stack.url}/otlp/v1/logs", headers={"Authorization": "Basic d3Jvbmc6d3Jvbmc="})
    )
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("e2e").emit(body="never lands")
    provider.shutdown()
    assert exporter.results == [LogRecordExportResult.FAILURE]  # a 401 is not retryable for OTLP exporters


# --- the JavaScript SDK -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def otel_node() -> str:
    npm = shutil.which("npm")
    node = shutil.which("node")
    assert npm and node, "node and npm are needed for the OpenTelemetry JS client test"
    if not (NODE_DIR / "node_modules" / "@opentelemetry" / "exporter-logs-otlp-proto").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)
    return node


def export_with_js(node: str, deployment: Deployment, url: str, protocol: str, compression: str, run: str) -> Any:
    user, password = deployment.credentials()
    result = subprocess.run(
        [node, "otlp.js"],
        cwd=NODE_DIR,
        env={
            **os.environ,
            "OTLP_URL": f"{url}/otlp/v1/logs",
            "OTLP_AUTH": f"{user}:{password}",
            "OTLP_PROTOCOL": protocol,
            "OTLP_COMPRESSION": compression,
            "OTLP_RUN": run,
            "OTLP_BASE_NS": str(BASE_NS),
            "OTLP_LINES": json.dumps(['{"event_id":"event-js-1","action":"SessionsAuthenticate"}', "plain js line"]),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_javascript_sdk_exports_json_and_protobuf_that_land_identically(
    deployment: Deployment, stack: Endpoint, otel_node: str
) -> None:
    runs = {}
    for protocol, compression in (("json", "none"), ("protobuf", "gzip")):
        run = uuid.uuid4().hex[:12]
        report = export_with_js(otel_node, deployment, stack.url, protocol, compression, run)
        assert report["exports"] == [{"code": 0, "error": None}], report
        runs[protocol] = landed(deployment, run, 3)

    for protocol, records in runs.items():
        assert len(records) == 3, protocol
        assert [r["timestamp_ns"] for r in records] == [str(BASE_NS), str(BASE_NS + 1), str(BASE_NS + 1000)]
        json_line, text_line, structured = records
        assert json_line["record"] == {"event_id": "event-js-1", "action": "SessionsAuthenticate"}
        assert text_line["record"] == {"message": "plain js line"}
        assert structured["record"] == {"count": 3, "event": "structured", "nested": {"a": [True, None], "z": 1}}
        assert json_line["stream"]["service_name"] == "otel-js-e2e"
        assert json_line["stream"]["deployment_environment_name"] == "e2e"
        meta = text_line["metadata"]
        assert {k: meta[k] for k in ("http_status_code", "ratio", "ok", "tags", "user_id", "user_geo_country")} == {
            "http_status_code": "201",
            "ratio": "0.25",
            "ok": "true",
            "tags": '["a","b"]',
            "user_id": "u1",
            "user_geo_country": "FR",
        }
        assert (meta["severity_text"], meta["severity_number"], meta["scope_name"], meta["scope_version"]) == (
            "WARN",
            "13",
            "e2e.otlp.js",
            "1.2.3",
        )

    # The same records sent as JSON and as protobuf are the same in S3 (but for the run's own
    # label, the id that depends on it, and the SDK's observed time).
    def comparable(record: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in record["metadata"].items() if k != "observed_timestamp"}
        stream = {k: v for k, v in record["stream"].items() if k != "service_instance_id"}
        return {**record, "metadata": meta, "stream": stream, "id": None}

    assert [comparable(r) for r in runs["json"]] == [comparable(r) for r in runs["protobuf"]]


# --- plain HTTP: the OTLP answers on the wire ---------------------------------------------------------------


def test_otlp_answers_over_http(deployment: Deployment, stack: Endpoint) -> None:
    """A JSON export is answered in JSON, a malformed protobuf export with a protobuf Status."""
    run = uuid.uuid4().hex[:12]
    message = request(resource_logs({"service.instance.id": run}, [record("over http", time_unix_nano=BASE_NS)]))

    def post(body: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(
            f"{stack.url}/otlp/v1/logs",
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": basic_auth(deployment)},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    status, headers, body = post(to_json(message), "application/json")
    assert (status, headers["content-type"], body) == (200, "application/json", b"{}")
    (landed_record,) = landed(deployment, run, 1)
    assert landed_record["stream"] == {"service_name": "unknown_service", "service_instance_id": run}
    assert landed_record["record"] == {"message": "over http"}

    status, headers, body = post(b"\x0a\xff\xff", "application/x-protobuf")
    assert (status, headers["content-type"]) == (400, "application/x-protobuf")
    rpc_status, _ = parse_status(body, as_json=False)
    assert rpc_status.code == 3 and "invalid protobuf" in rpc_status.message

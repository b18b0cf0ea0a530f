"""The handler's CloudWatch metrics: Embedded Metric Format in the one log line per request.

Each request's line must be a valid EMF document (tests/support/emf.py, written from the
specification), with the metric names, units and dimensions the Terraform module's alarms and
dashboard read, and only fixed words as dimension values."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from loki_ingest import metrics
from loki_ingest.handler import ROUTES
from tests.conftest import NOW_NS, ROOT, SAMPLE_V1, Harness, basic, event, v1_body
from tests.support import emf

MODULE = ROOT / "modules" / "loki-ingest"

OTLP_JSON = json.dumps(
    {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeLogs": [{"logRecords": [{"timeUnixNano": str(NOW_NS), "body": {"stringValue": "hello"}}]}],
            }
        ]
    }
).encode()
PARTIAL = v1_body([({"app": "ok"}, [[str(NOW_NS), "good"], [str(NOW_NS + 1), "x" * 300_000]])])


def failing_firehose(harness: Harness) -> None:
    harness.firehose.script = lambda call, records: ["ServiceUnavailableException"] * len(records)


def degrade(harness: Harness) -> None:
    harness.firehose.status = "DELETING"


# (id, event, arrange, expected metric values, status class, endpoint, failure word or None)
CASES: list[tuple[str, dict[str, Any], Callable[[Harness], None] | None, dict[str, float], str, str, str | None]] = [
    (
        "delivered-push",
        event(body=SAMPLE_V1),
        None,
        {"Requests": 1, "Pushes": 1, "Pushes503": 0, "EntriesReceived": 3, "AcceptedEntries": 3, "RejectedEntries": 0}
        | {"FirehoseRecords": 1, "PutRecordBatchCalls": 1, "PutRecordBatchRetries": 0},
        "2xx",
        "/loki/api/v1/push",
        None,
    ),
    (
        "partial-push",
        event(body=PARTIAL),
        None,
        {"Pushes": 1, "EntriesReceived": 2, "AcceptedEntries": 1, "RejectedEntries": 1, "Pushes503": 0},
        "4xx",
        "/loki/api/v1/push",
        None,
    ),
    (
        "wrong-password",
        event(body=SAMPLE_V1, auth=basic(password="wrong")),
        None,
        {"Pushes": 1, "EntriesReceived": 0, "AcceptedEntries": 0, "FirehoseRecords": 0, "Pushes503": 0},
        "4xx",
        "/loki/api/v1/push",
        "unauthorized",
    ),
    (
        "firehose-failing",
        event(body=SAMPLE_V1),
        failing_firehose,
        {"Pushes": 1, "Pushes503": 1, "EntriesReceived": 3, "AcceptedEntries": 0, "PutRecordBatchRetries": 7},
        "5xx",
        "/loki/api/v1/push",
        "delivery_failed",
    ),
    (
        "otlp-push",
        event(path="/otlp/v1/logs", body=OTLP_JSON),
        None,
        {"Pushes": 1, "EntriesReceived": 1, "AcceptedEntries": 1},
        "2xx",
        "/otlp/v1/logs",
        None,
    ),
    (
        "healthz",
        event("GET", "/healthz", auth=None, content_type=None),
        None,
        {"Requests": 1, "Pushes": 0, "Pushes503": 0, "EntriesReceived": 0},
        "2xx",
        "/healthz",
        None,
    ),
    (
        "healthz-degraded",
        event("GET", "/healthz", auth=None, content_type=None),
        degrade,
        {"Requests": 1, "Pushes": 0, "Pushes503": 0},  # a 503, but not a push's
        "5xx",
        "/healthz",
        None,
    ),
    (
        "unknown-path",
        event("POST", "/loki/api/v1/query", body=SAMPLE_V1),
        None,
        {"Requests": 1, "Pushes": 0, "BytesIn": 0},
        "4xx",
        "none",
        "no_route",
    ),
]


def logged(harness: Harness, push: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    harness(push)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    requests = [line for line in lines if line.get("message") == "request"]
    assert len(requests) == 1, lines
    return requests[0]


@pytest.mark.parametrize(
    ("push", "arrange", "expected", "status_class", "endpoint", "failure"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_every_request_line_is_valid_emf_with_its_figures(
    harness: Harness,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    push: dict[str, Any],
    arrange: Callable[[Harness], None] | None,
    expected: dict[str, float],
    status_class: str,
    endpoint: str,
    failure: str | None,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "loki-ingest-test")
    if arrange:
        arrange(harness)
    before = int(time.time() * 1000)
    line = logged(harness, push, capsys)
    assert emf.problems(json.dumps(line)) == []
    assert before <= line["_aws"]["Timestamp"] <= int(time.time() * 1000)
    values = emf.metric_values(line)
    function = (("FunctionName", "loki-ingest-test"),)
    for name, value in expected.items():
        assert values[(name, function)] == value, name
    assert values[("Requests", (*function, ("StatusClass", status_class)))] == 1
    assert values[("Requests", (*function, ("Endpoint", endpoint)))] == 1
    by_failure = {key: v for key, v in values.items() if any(d == "Failure" for d, _ in key[1])}
    assert by_failure == ({("Requests", (*function, ("Failure", failure))): 1} if failure else {})
    # The metrics repeat the line's own figures; they never disagree with them.
    assert values[("Duration", function)] == line["duration_ms"]
    assert values[("BytesIn", function)] == line["bytes_in"]
    assert values[("EntriesReceived", function)] == line["entries"]


def test_every_metric_has_a_unit_and_one_dimension_set_per_purpose() -> None:
    doc = metrics.members(
        metrics.Figures("/loki/api/v1/push", True, 503, "delivery_failed", 3, 1, 10, 20, 1, 8, 7, 1.5),
        timestamp_ms=1,
        function="f",
    )
    directives = doc["_aws"]["CloudWatchMetrics"]
    assert [d["Namespace"] for d in directives] == [metrics.NAMESPACE] * 3
    assert directives[0]["Dimensions"] == [["FunctionName"]]
    units = {m["Name"]: m["Unit"] for m in directives[0]["Metrics"]}
    assert units == {m.name: m.unit for m in metrics.PER_FUNCTION}
    assert units["Duration"] == "Milliseconds" and units["BytesIn"] == units["RecordBytes"] == "Bytes"
    assert {unit for name, unit in units.items() if name not in ("Duration", "BytesIn", "RecordBytes")} == {"Count"}
    assert directives[1]["Dimensions"] == [["FunctionName", "StatusClass"], ["FunctionName", "Endpoint"]]
    assert directives[2]["Dimensions"] == [["FunctionName", "Failure"]]


def test_no_metric_member_shadows_a_field_of_the_line_in_another_case(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    line = logged(harness, event(body=PARTIAL), capsys)
    keys = [key.lower() for key in line]
    assert len(keys) == len(set(keys)), sorted(line)


def test_dimension_values_are_fixed_words_whatever_the_request_carries(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cardinality and privacy: the route never comes from the raw path, and no label value,
    header or line text reaches a dimension."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    mark = "zz-client-text-zz"
    pushes = [
        event(path=f"/{mark}", body=SAMPLE_V1),
        event(path="/loki/api/v1/push/", body=v1_body([({mark: mark}, [[str(NOW_NS), mark]])])),
        event(body=b"{" + mark.encode(), extra_headers=[("X-Scope-OrgID", mark)]),
        event(body=SAMPLE_V1, content_type=mark, content_encoding=mark),
    ]
    allowed = {
        "FunctionName": {metrics.LOCAL_FUNCTION},
        "StatusClass": {"2xx", "4xx", "5xx"},
        "Endpoint": {*ROUTES, metrics.NO_ROUTE},
    }
    for push in pushes:
        line = logged(harness, push, capsys)
        assert mark not in json.dumps({k: v for k, v in line.items() if k[:1].isupper() or k == "_aws"})
        for name, words in allowed.items():
            assert line[name] in words, (name, line[name])
        if "Failure" in line:
            assert re.fullmatch(r"[a-z_]+", line["Failure"]), line["Failure"]


# --- the Terraform module reads the same names -------------------------------------------------


def monitoring_tf() -> str:
    return "\n".join(path.read_text() for path in sorted(MODULE.glob("*.tf")))


def test_the_module_reads_the_handlers_namespace() -> None:
    assert re.search(rf'metrics_namespace\s*=\s*"{metrics.NAMESPACE}"', monitoring_tf())


def handler_metrics_named_in(text: str) -> set[str]:
    """The LokiIngest metric names monitoring.tf uses: the rate alarms' numerators and
    denominators, the dashboard's handler rows and its rows written out in full."""
    names = set(re.findall(r'(?:numerator|denominator)\s*=\s*"(\w+)"', text))
    names |= set(re.findall(r'local\.metrics_namespace,\s*"(\w+)"', text))
    for listed in re.findall(r"for name in \[(.*?)\] : name =>", text, re.DOTALL):
        names |= set(re.findall(r'"(\w+)"', listed))
    return names


def test_every_handler_metric_the_module_names_is_one_the_handler_emits() -> None:
    """An alarm or a dashboard graph on a metric the handler never writes would sit in
    INSUFFICIENT_DATA (or show nothing) forever."""
    named = handler_metrics_named_in((MODULE / "monitoring.tf").read_text())
    emitted = {m.name for m in metrics.PER_FUNCTION}
    assert {"RejectedEntries", "EntriesReceived", "Pushes503", "Pushes", "Duration"} <= named
    assert named <= emitted, named - emitted


def test_the_metric_table_in_the_docs_lists_every_metric_with_its_unit() -> None:
    """docs/monitoring.md is where a user reads what each metric counts; a metric missing
    there, or listed with another unit, would send them to the wrong graph."""
    text = (ROOT / "docs" / "monitoring.md").read_text()
    documented: dict[str, str] = {}
    for names, unit in re.findall(r"^\| (`\w+`(?:, `\w+`)*) \| (\w+) \|", text, re.MULTILINE):
        documented |= dict.fromkeys(re.findall(r"`(\w+)`", names), unit)
    assert documented == {m.name: m.unit for m in metrics.PER_FUNCTION}

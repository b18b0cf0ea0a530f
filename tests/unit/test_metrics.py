"""The handler's CloudWatch metrics: Embedded Metric Format on its log lines.

Every line that carries metrics must be a valid EMF document (tests/support/emf.py, written from
the specification), with exactly the metric names, units and dimension the Terraform module's
alarms and dashboard read, and only fixed words as dimension values. A request is counted once:
in its own line (4xx, 5xx, or every request with LOG_EVERY_REQUEST) or in the summed metrics
line, and the sums equal the per-request figures (a property over random request sequences)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loki_ingest.observability import metrics
from loki_ingest.observability.request_log import RequestLog
from tests.conftest import NOW_NS, ROOT, SAMPLE_V1, FakeFirehose, FakeSecrets, Harness, basic, event, new_app, v1_body
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


# (id, event, arrange, expected metric values, whether it keeps a line of its own by default)
CASES: list[tuple[str, dict[str, Any], Callable[[Harness], None] | None, dict[str, float], bool]] = [
    (
        "delivered-push",
        event(body=SAMPLE_V1),
        None,
        {"Pushes": 1, "Pushes503": 0, "EntriesReceived": 3, "RejectedEntries": 0},
        False,
    ),
    (
        "partial-push",
        event(body=PARTIAL),
        None,
        {"Pushes": 1, "Pushes503": 0, "EntriesReceived": 2, "RejectedEntries": 1},
        True,
    ),
    (
        "wrong-password",
        event(body=SAMPLE_V1, auth=basic(password="wrong")),
        None,
        {"Pushes": 1, "Pushes503": 0, "EntriesReceived": 0, "RejectedEntries": 0},
        True,
    ),
    (
        "firehose-failing",
        event(body=SAMPLE_V1),
        failing_firehose,
        {"Pushes": 1, "Pushes503": 1, "EntriesReceived": 3, "RejectedEntries": 0},
        True,
    ),
    (
        "otlp-push",
        event(path="/otlp/v1/logs", body=OTLP_JSON),
        None,
        {"Pushes": 1, "Pushes503": 0, "EntriesReceived": 1, "RejectedEntries": 0},
        False,
    ),
    (
        "healthz-degraded",
        event("GET", "/healthz", auth=None, content_type=None),
        degrade,
        {"Pushes": 0, "Pushes503": 0, "EntriesReceived": 0, "RejectedEntries": 0},  # a 503, but not a push's
        True,
    ),
    (
        "unknown-path",
        event("POST", "/loki/api/v1/query", body=SAMPLE_V1),
        None,
        {"Pushes": 0, "Pushes503": 0, "EntriesReceived": 0, "RejectedEntries": 0},
        True,
    ),
]
FUNCTION = (("FunctionName", "loki-ingest-test"),)


def lines_of(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def with_metrics(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "_aws" in line]


def summed(lines: list[dict[str, Any]]) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every metric value the lines carry, summed per metric name and dimensions."""
    total: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for line in with_metrics(lines):
        assert emf.problems(json.dumps(line)) == [], line
        total.update(emf.metric_values(line))
    return total


@pytest.mark.parametrize(
    ("push", "arrange", "expected", "own_line"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
@pytest.mark.parametrize("every_request", [True, False], ids=["log-every-request", "default"])
def test_every_request_is_counted_once_in_valid_emf_with_its_figures(
    make_app: Callable[..., Harness],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    push: dict[str, Any],
    arrange: Callable[[Harness], None] | None,
    expected: dict[str, float],
    own_line: bool,
    every_request: bool,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "loki-ingest-test")
    harness = make_app(log_every_request=every_request)
    if arrange:
        arrange(harness)
    before = int(time.time() * 1000)
    capsys.readouterr()
    harness(push)
    harness.app.request_log.flush()
    lines = [line for line in lines_of(capsys) if line["message"] in ("request", "metrics")]
    assert [line["message"] for line in lines] == ["request" if every_request or own_line else "metrics"]
    (line,) = with_metrics(lines)
    assert before <= line["_aws"]["Timestamp"] <= int(time.time() * 1000)
    assert summed(lines) == {(name, FUNCTION): value for name, value in expected.items()}
    if line["message"] == "request":  # the metrics repeat the line's own figures
        assert (line["EntriesReceived"], line["RejectedEntries"]) == (line["entries"], line["rejected"])


def test_a_successful_healthz_writes_nothing_until_a_push_does(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """Probes alone show in no metric: they are counted in the next metrics line's `requests`."""
    capsys.readouterr()
    for _ in range(3):
        harness(event("GET", "/healthz", auth=None, content_type=None))
    assert capsys.readouterr().out == ""
    harness(event(body=SAMPLE_V1))
    (line,) = lines_of(capsys)
    assert (line["message"], line["requests"], line["Pushes"]) == ("metrics", 4, 1)


def test_every_metric_is_a_count_with_the_function_as_its_only_dimension() -> None:
    doc = metrics.members(
        metrics.Figures("/loki/api/v1/push", True, 503, "delivery_failed", 3, 1, 10, 20, 1, 8, 7, 1.5),
        timestamp_ms=1,
        function="f",
    )
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.NAMESPACE
    assert directive["Dimensions"] == [["FunctionName"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {m.name: m.unit for m in metrics.PER_FUNCTION}
    assert set(units.values()) == {"Count"}  # summable: a sum is the same Sum statistic


def test_no_metric_member_shadows_a_field_of_the_line_in_another_case(
    make_app: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    for every_request, push in ((True, event(body=PARTIAL)), (False, event(body=SAMPLE_V1))):
        harness = make_app(log_every_request=every_request)
        capsys.readouterr()
        harness(push)
        harness.app.request_log.flush()
        (line,) = lines_of(capsys)
        keys = [key.lower() for key in line]
        assert len(keys) == len(set(keys)), sorted(line)


def test_dimension_values_are_fixed_words_whatever_the_request_carries(
    make_app: Callable[..., Harness], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cardinality and privacy: no label value, header, path or line text reaches a metric."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    mark = "zz-client-text-zz"
    pushes = [
        event(path=f"/{mark}", body=SAMPLE_V1),
        event(path="/loki/api/v1/push/", body=v1_body([({mark: mark}, [[str(NOW_NS), mark]])])),
        event(body=b"{" + mark.encode(), extra_headers=[("X-Scope-OrgID", mark)]),
        event(body=SAMPLE_V1, content_type=mark, content_encoding=mark),
        event(body=v1_body([({mark: mark}, [[str(NOW_NS), mark]])])),
    ]
    for every_request in (True, False):
        harness = make_app(log_every_request=every_request)
        capsys.readouterr()
        for push in pushes:
            harness(push)
        harness.app.request_log.flush()
        for line in with_metrics(lines_of(capsys)):
            assert mark not in json.dumps({k: v for k, v in line.items() if k[:1].isupper() or k == "_aws"})
            assert line["FunctionName"] == metrics.LOCAL_FUNCTION
            assert [d for directive in line["_aws"]["CloudWatchMetrics"] for d in directive["Dimensions"]] == [
                ["FunctionName"]
            ]


# --- the summed metrics line -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KINDS: dict[str, tuple[dict[str, Any], str | None]] = {
    "push": (event(body=SAMPLE_V1), None),
    "partial": (event(body=PARTIAL), None),
    "otlp": (event(path="/otlp/v1/logs", body=OTLP_JSON), None),
    "wrong-password": (event(body=SAMPLE_V1, auth=basic(password="wrong")), None),
    "no-route": (event("POST", "/loki/api/v1/query", body=SAMPLE_V1), None),
    "bad-body": (event(body=b"{not json"), None),
    "healthz": (event("GET", "/healthz", auth=None, content_type=None), None),
    "firehose-down": (event(body=SAMPLE_V1), "firehose"),
    "stream-deleting": (event("GET", "/healthz", auth=None, content_type=None), "deleting"),
}


def run(sequence: list[tuple[str, float]], *, every_request: bool, interval: int) -> list[dict[str, Any]]:
    """The lines one execution environment writes for `sequence` (kind, seconds since the
    previous request), then what it still holds, as if flushed."""
    import io
    import logging

    firehose = FakeFirehose()
    app = new_app(firehose, FakeSecrets(), log_every_request=every_request, metrics_interval_seconds=interval)
    clock = Clock()
    app.request_log = RequestLog(app.logger, app.settings, clock=clock)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(app.logger.handlers[0].formatter)
    app.logger.handlers, saved = [handler], app.logger.handlers
    try:
        for kind, wait in sequence:
            clock.now += wait
            push, fault = KINDS[kind]
            firehose.script = (lambda c, r: ["ServiceUnavailableException"] * len(r)) if fault == "firehose" else None
            firehose.status = "DELETING" if fault == "deleting" else "ACTIVE"
            app.health._cached = None
            Harness(app, firehose, FakeSecrets())(push)
        written = out.getvalue()
        app.request_log.flush()
    finally:
        app.logger.handlers = saved
    ours = ("request", "metrics")  # not the health check's own warning
    lines = [line for line in map(json.loads, written.splitlines()) if line["message"] in ours]
    tail = [json.loads(line) for line in out.getvalue()[len(written) :].splitlines()]
    return [*lines, *({**line, "held_at_the_end": True} for line in tail)]


SEQUENCES = st.lists(
    st.tuples(st.sampled_from(sorted(KINDS)), st.sampled_from([0.0, 0.5, 7.0, 59.9, 60.0, 61.0, 600.0])),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=SEQUENCES, interval=st.sampled_from([0, 1, 60, 300]))
def test_the_summed_figures_equal_the_per_request_ones(sequence: list[tuple[str, float]], interval: int) -> None:
    every = run(sequence, every_request=True, interval=interval)
    default = run(sequence, every_request=False, interval=interval)
    assert len(every) == len(sequence) and all(line["message"] == "request" for line in every)
    assert summed(default) == summed(every)
    # Every 4xx and 5xx keeps its line, identical to the per-request one but for the timing.
    failed = [line for line in every if line["status"] >= 400]
    own = [line for line in default if line["message"] == "request"]
    assert [(line["status"], line.get("reason")) for line in own] == [
        (line["status"], line.get("reason")) for line in failed
    ]
    # At most one metrics line per interval, the first at once; each counts what it says.
    written = [line for line in default if line["message"] == "metrics" and not line.get("held_at_the_end")]
    assert len(written) <= 1 + sum(wait for _, wait in sequence) / max(interval, 1e-9)
    assert sum(line["requests"] for line in default if line["message"] == "metrics") == len(sequence) - len(failed)


def test_a_figure_waits_at_most_until_the_first_invocation_one_interval_after_the_last_line(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    harness.app.request_log = RequestLog(harness.app.logger, harness.app.settings, clock=clock)
    written: list[int] = []

    def push(at: float) -> None:
        clock.now = 1000.0 + at
        capsys.readouterr()
        harness(event(body=SAMPLE_V1))
        written.extend(line["requests"] for line in lines_of(capsys))

    push(0)  # the environment's first: written at once
    assert written == [1]
    for at in (1, 30, 59.9):
        push(at)
    assert written == [1], "held: less than the 60 s interval since the last line"
    push(60)
    assert written == [1, 4]
    push(75)
    push(500)  # a quiet environment: held 425 s, until its next invocation
    assert written == [1, 4, 2]
    assert harness.app.request_log.window.requests == 0


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


def test_the_module_reads_exactly_the_metrics_the_handler_emits() -> None:
    """An alarm or a dashboard graph on a metric the handler never writes would sit in
    INSUFFICIENT_DATA (or show nothing) forever; a metric nothing reads is $0.30 a month for
    nothing (every custom metric is billed)."""
    text = (MODULE / "monitoring.tf").read_text()
    named = handler_metrics_named_in(text)
    emitted = {m.name for m in metrics.PER_FUNCTION}
    alarmed = set(re.findall(r'(?:numerator|denominator)\s*=\s*"(\w+)"', text))
    assert alarmed == {"RejectedEntries", "EntriesReceived", "Pushes503", "Pushes"}
    assert named == emitted, (named - emitted, emitted - named)


def test_the_metric_table_in_the_docs_lists_every_metric_with_its_unit() -> None:
    """docs/monitoring.md is where a user reads what each metric counts; a metric missing
    there, or listed with another unit, would send them to the wrong graph."""
    text = (ROOT / "docs" / "monitoring.md").read_text()
    documented: dict[str, str] = {}
    for names, unit in re.findall(r"^\| (`\w+`(?:, `\w+`)*) \| (\w+) \|", text, re.MULTILINE):
        documented |= dict.fromkeys(re.findall(r"`(\w+)`", names), unit)
    assert documented == {m.name: m.unit for m in metrics.PER_FUNCTION}

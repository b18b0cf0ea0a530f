"""The cost model (bench/cost.py) counts what the handler really does: the bytes it writes, the
metrics it emits, the records it sends, and the deployment the Terraform root describes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import cost, envelope, pushes
from bench.harness import ROOT
from loki_ingest.observability import metrics
from loki_ingest.observability.request_log import RequestLog
from tests.conftest import FakeFirehose, new_app

DEFAULT = cost.terraform_defaults("prod")


@pytest.fixture(scope="module")
def ten_events() -> dict[str, Any]:
    return pushes.push_event("10")


# --- the bytes the handler writes ----------------------------------------------------------------


@pytest.mark.parametrize("every_request", [True, False], ids=["log-every-request", "metrics-line"])
def test_a_log_line_more_per_request_is_a_log_line_more_in_the_bill(
    monkeypatch: pytest.MonkeyPatch, ten_events: dict[str, Any], every_request: bool
) -> None:
    deployment = replace(DEFAULT, log_every_request=every_request)
    before = cost.log_output(ten_events, seconds_between_pushes=1.0, deployment=deployment, pushes=200)
    original = RequestLog.__call__

    def chattier(self: RequestLog, *args: Any) -> None:
        original(self, *args)
        self.logger.info("one more line", extra={"fields": {"pad": "x" * 100}})

    monkeypatch.setattr(RequestLog, "__call__", chattier)
    after = cost.log_output(ten_events, seconds_between_pushes=1.0, deployment=deployment, pushes=200)
    line = {"timestamp": "2026-01-01T00:00:00.000+00:00", "level": "INFO", "logger": "loki_ingest"}
    extra = len(json.dumps({**line, "message": "one more line", "pad": "x" * 100}, separators=(",", ":")))
    assert after.lines_per_push == pytest.approx(before.lines_per_push + 1)
    assert after.bytes_per_push - before.bytes_per_push == pytest.approx(extra, abs=1)  # durations vary in digits
    bill_before = cost.bill(deployment, _measured(ten_events), "10", 30.0, log=lambda *a, **k: before)
    bill_after = cost.bill(deployment, _measured(ten_events), "10", 30.0, log=lambda *a, **k: after)
    lines = "CloudWatch Logs: handler lines"
    assert _term(bill_after, lines) > _term(bill_before, lines)


def test_the_bytes_counted_are_the_bytes_written(
    ten_events: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """log_output measures the handler's own stdout: the same run, captured by pytest, agrees."""
    deployment = replace(DEFAULT, log_every_request=True)
    counted = cost.log_output(ten_events, seconds_between_pushes=1.0, deployment=deployment, pushes=20)
    app = new_app(log_every_request=True)
    capsys.readouterr()
    for _ in range(20):
        app.handle_event(ten_events, cost_deadline())
    written = capsys.readouterr().out.splitlines()
    assert counted.lines_per_push == 1
    assert counted.bytes_per_push == pytest.approx(sum(len(line) for line in written) / 20, rel=0.01)


@pytest.mark.parametrize(
    ("seconds_between_pushes", "lines_per_push"),
    [(0.5, 1 / 120), (10.0, 1 / 6), (61.0, 1.0)],
    ids=["busy", "every-10-s", "quieter-than-the-interval"],
)
def test_the_metrics_line_is_written_once_per_interval_per_environment(
    ten_events: dict[str, Any], seconds_between_pushes: float, lines_per_push: float
) -> None:
    figures = cost.log_output(
        ten_events, seconds_between_pushes=seconds_between_pushes, deployment=DEFAULT, pushes=1200
    )
    assert figures.lines_per_push == pytest.approx(lines_per_push, rel=0.02, abs=1 / 1200)


# --- the metrics it emits --------------------------------------------------------------------------


def test_the_custom_metrics_are_the_four_the_alarms_read_and_the_canarys_one() -> None:
    emitted = cost.emitted_metrics()
    function = (("FunctionName", "loki-ingest-prod"),)
    assert emitted == {
        *((metrics.NAMESPACE, m.name, function) for m in metrics.PER_FUNCTION),
        (metrics.NAMESPACE, "CanarySuccess", function),
    }


def test_what_ran_before_does_not_change_what_is_counted(ten_events: dict[str, Any]) -> None:
    """`make bench` builds silent apps for its speed figures before the cost model runs: they
    must not silence the handler's logger for the apps the model measures."""
    from bench.harness import bench_app

    before = cost.emitted_metrics(), cost.log_output(ten_events, seconds_between_pushes=61.0, deployment=DEFAULT)
    bench_app().handle_event(ten_events, cost_deadline())
    after = cost.emitted_metrics(), cost.log_output(ten_events, seconds_between_pushes=61.0, deployment=DEFAULT)
    assert after[0] == before[0]
    assert after[1].lines_per_push == before[1].lines_per_push == 1.0  # one metrics line a minute
    assert after[1].bytes_per_push == pytest.approx(before[1].bytes_per_push, abs=8)  # durations vary in digits


def test_a_dimension_more_is_billed_more(monkeypatch: pytest.MonkeyPatch, ten_events: dict[str, Any]) -> None:
    """Every metric name x dimension value the EMF carries is a custom metric: a status-class
    dimension on one metric is three more ($0.90 a month) once 2xx, 4xx and 5xx are seen."""
    document = metrics.document

    def by_status(values: Any, *, timestamp_ms: int, function: str | None = None) -> dict[str, Any]:
        doc = document(values, timestamp_ms=timestamp_ms, function=function)
        status = "5xx" if values["Pushes503"] else "4xx" if not values["EntriesReceived"] else "2xx"
        doc["_aws"]["CloudWatchMetrics"].append(
            {
                "Namespace": metrics.NAMESPACE,
                "Dimensions": [["FunctionName", "Outcome"]],
                "Metrics": [{"Name": "Pushes"}],
            }
        )
        return {**doc, "Outcome": status}

    before = cost.emitted_metrics()
    monkeypatch.setattr(metrics, "document", by_status)
    after = cost.emitted_metrics()
    assert len(after) == len(before) + 3
    bills = [
        cost.bill(DEFAULT, replace(_measured(ten_events), metrics=found), "10", 1.0, log=_no_log)
        for found in (before, after)
    ]
    assert _term(bills[1], "Custom metrics: handler") - _term(bills[0], "Custom metrics: handler") == pytest.approx(
        0.90
    )


# --- what Lambda, X-Ray, Firehose and S3 add --------------------------------------------------


@pytest.mark.parametrize(
    ("level", "tracing", "expected"),
    [
        ("WARN", "PassThrough", range(0, 1)),
        ("INFO", "PassThrough", range(250, 400)),
        ("INFO", "Active", range(450, 650)),
    ],
)
def test_platform_lines_follow_the_system_log_level_and_tracing(level: str, tracing: str, expected: range) -> None:
    deployment = replace(DEFAULT, system_log_level=level, tracing_mode=tracing)
    assert cost.platform_bytes_per_invocation(deployment, 45.0) in expected


@pytest.mark.parametrize(("per_second", "traces_per_second"), [(0.5, 0.5), (1.0, 1.0), (21.0, 2.0), (101.0, 6.0)])
def test_xray_records_the_first_request_each_second_and_5_percent_of_the_rest(
    per_second: float, traces_per_second: float
) -> None:
    assert cost.xray_traces(per_second, 3600) == pytest.approx(traces_per_second * 3600)


def test_tracing_and_platform_lines_are_billed_only_when_on(ten_events: dict[str, Any]) -> None:
    measured = _measured(ten_events)
    off = cost.bill(DEFAULT, measured, "10", 1024.0, log=_no_log)
    on = cost.bill(
        replace(DEFAULT, tracing_mode="Active", system_log_level="INFO"), measured, "10", 1024.0, log=_no_log
    )
    for term in ("X-Ray traces", "CloudWatch Logs: platform lines"):
        assert _term(off, term) == 0 and _term(on, term) > 1.0, term


@pytest.mark.parametrize(
    ("sizes", "billed"),
    [([1], 5120), ([5120], 5120), ([5121], 10240), ([100, 11932], 5120 + 15360)],
)
def test_firehose_bills_each_record_in_5_kb_steps(sizes: list[int], billed: int) -> None:
    assert cost.billed_bytes(sizes) == billed


def test_the_real_client_sends_the_records_the_handler_builds(ten_events: dict[str, Any]) -> None:
    """Through boto3 and the stub on 127.0.0.1: the same records as a fake client receives."""
    (push,) = cost.measure_pushes(("10",), repeats=3).values()
    fake = FakeFirehose()
    new_app(fake).handle_event(ten_events, cost_deadline())
    assert push.record_sizes == [len(record) for call in fake.calls for record in call]
    assert push.calls == len(fake.calls) == 1 and push.cpu_ms > 0
    # Firehose bills each record in 5 KB steps.
    assert push.record_bytes == sum(push.record_sizes) > push.body_bytes
    assert push.billed_bytes == sum(-(-size // 5120) * 5120 for size in push.record_sizes)


def test_s3_puts_follow_the_buffer_interval_until_the_size_fills_first(ten_events: dict[str, Any]) -> None:
    measured = _measured(ten_events)
    small = cost.bill(DEFAULT, measured, "10", 1.0, log=_no_log)
    large = cost.bill(DEFAULT, measured, "10", 100_000.0, log=_no_log)
    assert _term(small, "S3 PUTs") == pytest.approx(cost.MONTH_S / DEFAULT.buffer_interval_s * 0.005 / 1000)
    stored = 100_000 * cost.GIB * measured.pushes["10"].record_bytes / measured.pushes["10"].body_bytes
    assert _term(large, "S3 PUTs") == pytest.approx(stored / (DEFAULT.buffer_mb * cost.MIB) * 0.005 / 1000)


# --- the deployment the Terraform root describes ----------------------------------------------


def test_the_prod_root_is_read_from_terraform() -> None:
    assert (DEFAULT.tracing_mode, DEFAULT.system_log_level, DEFAULT.log_every_request) == ("PassThrough", "WARN", False)
    assert (DEFAULT.kms_keys, DEFAULT.dashboards, DEFAULT.canary_runs_per_month) == (1, 0, 730)
    assert DEFAULT.alarm_metrics == 9 + 2 * 2 + 1  # metric alarms, two rate alarms of two metrics, the canary's
    dev = cost.terraform_defaults("dev")
    assert (dev.kms_keys, dev.canary_runs_per_month, dev.buffer_interval_s, dev.alarm_metrics) == (0, 0, 60, 13)


def test_an_alarm_more_in_monitoring_tf_is_billed(tmp_path: Path) -> None:
    for folder in ("modules", "environments"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns(".terraform*"))
    monitoring = tmp_path / "modules" / "loki-ingest" / "monitoring.tf"
    text = monitoring.read_text()
    monitoring.write_text(text.replace("  metric_alarms = {\n", '  metric_alarms = {\n    "one-more" = {}\n', 1))
    assert cost.terraform_defaults("prod", tmp_path).alarm_metrics == DEFAULT.alarm_metrics + 1


# --- the README's figures are this code's ---------------------------------------------------


def test_the_committed_figures_match_what_the_code_emits_and_configures() -> None:
    """bench/cost_figures.json (what `make docs` renders into the README) is measured again by
    `make cost-figures`; what does not depend on timing must still be this code's."""
    committed = json.loads(cost.FIGURES.read_text())
    found = sorted("/".join([ns, name, *("=".join(d) for d in dims)]) for ns, name, dims in cost.emitted_metrics())
    assert committed["custom_metrics"] == found, "run `make cost-figures`"
    assert committed["deployment"] == {**DEFAULT.__dict__}, "run `make cost-figures`"
    for shape in ("1", "10", "100"):
        lines = envelope.stored_lines(pushes.push_event(shape))
        body = len(pushes._body(pushes.push_event(shape)))
        assert committed["record_expansion"][shape] == pytest.approx(sum(map(len, lines)) / body, abs=0.002), shape


def test_the_envelope_fields_add_up_to_the_stored_line() -> None:
    lines = envelope.stored_lines(pushes.push_event("10"))
    fields = envelope.field_bytes(lines)
    assert sum(fields.values()) + 2 == pytest.approx(sum(map(len, lines)) / len(lines))
    assert {"timestamp", "timestamp_ns", "stream", "record", "id"} <= set(fields)


# --- helpers ---------------------------------------------------------------------------------


def cost_deadline() -> Any:
    import time

    from loki_ingest.delivery.sink import FixedDeadline

    return FixedDeadline(time.monotonic() + 60)


def _no_log(*_: Any, **__: Any) -> cost.LogFigures:
    return cost.LogFigures(0.0, 0.0)


def _term(bill: cost.Bill, name: str) -> float:
    (term,) = [t for t in bill.terms if t.name == name]
    return term.usd


_MEASURED: dict[str, cost.Measured] = {}


def _measured(ten_events: dict[str, Any]) -> cost.Measured:
    """Records from a fake client (fast); CPU fixed: these tests are about counting, not speed."""
    if "10" not in _MEASURED:
        fake = FakeFirehose()
        new_app(fake).handle_event(ten_events, cost_deadline())
        sizes = [len(record) for call in fake.calls for record in call]
        body = len(pushes._body(ten_events))
        push = cost.Push("10", 10, body, sizes, len(fake.calls), cpu_ms=1.0, event=ten_events)
        _MEASURED["10"] = cost.Measured({"10": push}, cost.emitted_metrics(), 2, 500, 0.2)
    return _MEASURED["10"]

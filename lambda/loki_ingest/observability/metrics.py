"""The handler's CloudWatch metrics, in Embedded Metric Format (EMF) on its own log lines.

An `_aws` member that follows the EMF specification makes CloudWatch Logs extract metrics from
a log line the handler writes anyway: no API call on the request path, no
cloudwatch:PutMetricData permission, no dependency.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

What the specification asks of the line, and how it is met here:

* the log event is exactly one JSON object, `_aws` at its root with `Timestamp` (milliseconds
  since the epoch) and `CloudWatchMetrics` (MetricDirectives: Namespace, Dimensions, Metrics);
* every name in a DimensionSet has a string member at the root (never empty), every metric
  Name a number member at the root, each directive at most 100 metrics and 30 dimensions.

Which lines carry them (request_log.py): a 4xx or 5xx answer keeps its own line with its own
figures; a successful request only adds its figures to a `Window`, which is written as one
"metrics" line at the end of the first invocation METRICS_INTERVAL_SECONDS after the previous
one. Every request is counted exactly once, in one of the two. All metrics are counts, so a
sum is the same figure for CloudWatch's Sum statistic (not for SampleCount or Average).

Lambda with the JSON log format (what the module configures): the handler writes its JSON lines
to stdout itself, not through the runtime's logger. Lambda reads such a line's `level` and
`timestamp` for its log-level filtering, and a line below the function's application log level
never reaches CloudWatch Logs, so neither do its metrics
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
CloudWatch Logs extracts EMF from every event that follows the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
docs/monitoring.md has the details.

Only the metrics the module's alarms and dashboard read, with the one dimension they need
(FunctionName, which tells deployments apart): CloudWatch bills every metric name x dimension
value combination as a custom metric ($0.30 a month each). What AWS publishes for free is read
from AWS/Lambda and AWS/Firehose instead (answers by status class, latency, records, bytes).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

#: CloudWatch namespace of the handler's metrics. The Terraform module's alarms and dashboard
#: read it from here (modules/loki-ingest/monitoring.tf, checked by tests/unit/test_metrics.py).
NAMESPACE = "LokiIngest"

#: Function name dimension outside Lambda (tests, the in-process local server): CloudWatch
#: rejects empty dimension values.
LOCAL_FUNCTION = "local"


class Metric(NamedTuple):
    name: str
    unit: str  # one of CloudWatch's StandardUnit values


#: The metrics, each dimensioned by FunctionName only. What each one counts is the table in
#: docs/monitoring.md (checked by tests/unit/test_metrics.py); every one is read by an alarm.
PER_FUNCTION: tuple[Metric, ...] = (
    Metric("Pushes", "Count"),  # requests to a push route (Loki v1, legacy, OTLP): push-503's denominator
    Metric("Pushes503", "Count"),  # pushes answered 503 (Firehose or Secrets Manager failed, clients retry)
    Metric("EntriesReceived", "Count"),  # rejected-entries' denominator
    Metric("RejectedEntries", "Count"),  # entries refused by a limit (partial success)
)
DIMENSIONS = [["FunctionName"]]


class Figures(NamedTuple):
    """What one request reports (all of it also in its line when it has one)."""

    route: str  # the matched route, "" for none
    push: bool
    status: int
    reason: str
    entries: int
    rejected: int
    bytes_in: int
    record_bytes: int
    records: int
    calls: int
    retries: int
    duration_ms: float


def function_name() -> str:
    """The function's name, which Lambda sets for its runtime."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or LOCAL_FUNCTION


def values(figures: Figures) -> dict[str, int]:
    """One request's metric values."""
    return {
        "Pushes": int(figures.push),
        "Pushes503": int(figures.push and figures.status == 503),
        "EntriesReceived": figures.entries,
        "RejectedEntries": figures.rejected,
    }


def document(metric_values: Mapping[str, float], *, timestamp_ms: int, function: str | None = None) -> dict[str, Any]:
    """The members to add to a line: `_aws`, the dimension and the metric values."""
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": DIMENSIONS,
        "Metrics": [{"Name": m.name, "Unit": m.unit} for m in PER_FUNCTION],
    }
    return {
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]},
        "FunctionName": function or function_name(),
        **{m.name: metric_values[m.name] for m in PER_FUNCTION},
    }


def members(figures: Figures, *, timestamp_ms: int, function: str | None = None) -> dict[str, Any]:
    """The members to add to one request's own line."""
    return document(values(figures), timestamp_ms=timestamp_ms, function=function)


class Window:
    """The figures of the successful requests this execution environment served since its
    last metrics line, summed.

    `due()` is true at the end of an invocation when there is something to write and either no
    metrics line was written yet in this environment (the first one goes out at once) or the
    last one is `interval_s` old. So an environment writes at most one line per interval, a
    request in a quiet environment (nothing else within the interval) is written at once, and
    a figure waits at most until the end of the first invocation `interval_s` after the last
    line. An environment that is never invoked again loses what it holds then: at most the
    successful requests of the last `interval_s` before its last invocation (docs/monitoring.md).
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._written_at: float | None = None
        self._reset()

    def _reset(self) -> None:
        self.sums = dict.fromkeys((m.name for m in PER_FUNCTION), 0)
        self.requests = 0
        self.totals = {"bytes_in": 0, "records": 0, "calls": 0, "retries": 0}
        self.duration_ms_max = 0.0

    def add(self, figures: Figures) -> None:
        with self._lock:
            for name, value in values(figures).items():
                self.sums[name] += value
            self.requests += 1
            self.totals["bytes_in"] += figures.bytes_in
            self.totals["records"] += figures.records
            self.totals["calls"] += figures.calls
            self.totals["retries"] += figures.retries
            self.duration_ms_max = max(self.duration_ms_max, figures.duration_ms)

    def due(self) -> bool:
        with self._lock:
            if not any(self.sums.values()):
                return False  # only /healthz answers: nothing a metric would show
            return self._written_at is None or self._clock() - self._written_at >= self.interval_s

    def take(self, *, timestamp_ms: int | None = None) -> dict[str, Any] | None:
        """The metrics line's members, and an empty window; None when there is nothing to write."""
        with self._lock:
            if not self.requests:
                return None
            line: dict[str, Any] = {
                "requests": self.requests,
                **self.totals,
                "duration_ms_max": self.duration_ms_max,
                "interval_s": self.interval_s,
            }
            if any(self.sums.values()):
                stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
                line.update(document(self.sums, timestamp_ms=stamp))
            self._written_at = self._clock()
            self._reset()
            return line

"""CloudWatch metrics carried by the one log line per request: Embedded Metric Format (EMF).

The handler already writes one JSON object per request to stdout (observability.py). An `_aws`
member that follows the EMF specification makes CloudWatch Logs extract metrics from that same
line: no API call on the request path, no cloudwatch:PutMetricData permission, no dependency.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

What the specification asks of the line, and how it is met here:

* the log event is exactly one JSON object, `_aws` at its root with `Timestamp` (milliseconds
  since the epoch) and `CloudWatchMetrics` (MetricDirectives: Namespace, Dimensions, Metrics);
* every name in a DimensionSet has a string member at the root (never empty), every metric
  Name a number member at the root, each directive at most 100 metrics and 30 dimensions.

Lambda with the JSON log format (what the module configures): the handler writes its JSON lines
to stdout itself, not through the runtime's logger. Lambda reads such a line's `level` and
`timestamp` for its log-level filtering, and a line below the function's application log level
never reaches CloudWatch Logs, so neither do its metrics
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
CloudWatch Logs extracts EMF from every event that follows the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
A runtime logger that wraps the message into its own JSON object (Node.js console.log under the
JSON format) moves `_aws` off the root, and the metrics are lost; writing the object itself, as
observability.JsonFormatter does, keeps it at the root. docs/monitoring.md has the details.

Dimensions are fixed words only (cardinality and privacy: never a label value, a header or the
path): the function's name, the matched route, the status class and the failure reason. No EMF
member repeats a field of the line in another case (`Endpoint`, not `Route` beside `route`), so
a query for one never finds the other.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

#: CloudWatch namespace of the handler's metrics. The Terraform module's alarms and dashboard
#: read it from here (modules/loki-ingest/monitoring.tf, checked by tests/unit/test_metrics.py).
NAMESPACE = "LokiIngest"

#: Function name dimension outside Lambda (tests, the in-process local server): CloudWatch
#: rejects empty dimension values.
LOCAL_FUNCTION = "local"
NO_ROUTE = "none"


class Metric(NamedTuple):
    name: str
    unit: str  # one of CloudWatch's StandardUnit values


#: Every request line carries these, dimensioned by FunctionName only (the alarms' metrics).
#: What each one counts is the table in docs/monitoring.md (checked by tests/unit/test_metrics.py).
_BY_UNIT: dict[str, tuple[str, ...]] = {
    "Count": (
        "Requests",  # every request: pushes, /healthz, unknown paths
        "Pushes",  # requests to a push route (Loki v1, legacy, OTLP)
        "Pushes503",  # pushes answered 503: Firehose or Secrets Manager failed, clients retry
        "EntriesReceived",
        "AcceptedEntries",  # entries the answer reports delivered to Firehose
        "RejectedEntries",  # entries refused by a limit (partial success)
        "FirehoseRecords",
        "PutRecordBatchCalls",  # retries included
        "PutRecordBatchRetries",  # calls that resent failed records
    ),
    "Bytes": ("BytesIn", "RecordBytes"),  # the body as received; the NDJSON records built
    "Milliseconds": ("Duration",),  # handler time for the request
}
PER_FUNCTION: tuple[Metric, ...] = tuple(Metric(name, unit) for unit, names in _BY_UNIT.items() for name in names)

#: `Requests` again, split by fixed words: the status class and the matched route on every
#: line, the failure reason (our own word, e.g. delivery_failed) on failed requests only.
BY_OUTCOME_DIMENSIONS = [["FunctionName", "StatusClass"], ["FunctionName", "Endpoint"]]
BY_FAILURE_DIMENSIONS = [["FunctionName", "Failure"]]


class Figures(NamedTuple):
    """What one request line reports (all of it already in the line)."""

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


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def delivered(figures: Figures) -> bool:
    """Whether the answer told the client its accepted entries are in Firehose: a 2xx, or the
    partial-success 400, which is the one 400 without a failure reason (handler.App.render)."""
    return figures.status < 300 or (figures.status == 400 and not figures.reason)


def members(figures: Figures, *, timestamp_ms: int, function: str | None = None) -> dict[str, Any]:
    """The members to add to a request line: `_aws` and its dimension and metric targets."""
    values: dict[str, float] = {
        "Requests": 1,
        "Pushes": int(figures.push),
        "Pushes503": int(figures.push and figures.status == 503),
        "EntriesReceived": figures.entries,
        "AcceptedEntries": figures.entries - figures.rejected if delivered(figures) else 0,
        "RejectedEntries": figures.rejected,
        "BytesIn": figures.bytes_in,
        "RecordBytes": figures.record_bytes,
        "FirehoseRecords": figures.records,
        "PutRecordBatchCalls": figures.calls,
        "PutRecordBatchRetries": figures.retries,
        "Duration": figures.duration_ms,
    }
    directives: list[dict[str, Any]] = [
        {
            "Namespace": NAMESPACE,
            "Dimensions": [["FunctionName"]],
            "Metrics": [{"Name": m.name, "Unit": m.unit} for m in PER_FUNCTION],
        },
        {
            "Namespace": NAMESPACE,
            "Dimensions": BY_OUTCOME_DIMENSIONS,
            "Metrics": [{"Name": "Requests", "Unit": "Count"}],
        },
    ]
    dimensions = {
        "FunctionName": function or function_name(),
        "StatusClass": status_class(figures.status),
        "Endpoint": figures.route or NO_ROUTE,
    }
    if figures.reason:
        requests = [{"Name": "Requests", "Unit": "Count"}]
        directives.append({"Namespace": NAMESPACE, "Dimensions": BY_FAILURE_DIMENSIONS, "Metrics": requests})
        dimensions["Failure"] = figures.reason
    return {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}, **dimensions, **values}

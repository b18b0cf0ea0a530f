"""A checker for CloudWatch Embedded Metric Format documents, written from the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
independently of lambda/loki_ingest/metrics.py, which it checks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# CloudWatch's StandardUnit values (MetricDatum.Unit).
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSIONS_PER_SET = 30
MAX_EVENT_BYTES = 1024 * 1024


def problems(line: str) -> list[str]:
    """Everything that keeps `line` (one log event) from being a valid EMF document; [] if none."""
    if len(line.encode()) > MAX_EVENT_BYTES:
        return ["larger than a CloudWatch Logs event"]
    try:
        doc = json.loads(line)
    except ValueError as exc:
        return [f"not one JSON value: {exc}"]
    if not isinstance(doc, dict):
        return ["the event is not a JSON object"]
    meta = doc.get("_aws")
    if not isinstance(meta, dict):
        return ["no _aws object at the root"]
    found: list[str] = []
    timestamp = meta.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        found.append("_aws.Timestamp must be a positive integer of milliseconds")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*found, "_aws.CloudWatchMetrics must be a non-empty array"]
    for number, directive in enumerate(directives):
        found += [f"directive {number}: {p}" for p in _directive_problems(directive, doc)]
    return found


def _directive_problems(directive: Any, root: Mapping[str, Any]) -> list[str]:
    if not isinstance(directive, dict):
        return ["not an object"]
    found = []
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255 or namespace.startswith("AWS/"):
        found.append(f"bad Namespace {namespace!r}")
    for dimension_set in directive.get("Dimensions", []):
        if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSIONS_PER_SET:
            found.append(f"bad dimension set {dimension_set!r}")
            continue
        for name in dimension_set:
            value = root.get(name)
            if not isinstance(value, str) or not value:
                found.append(f"dimension {name!r} has no non-empty string member at the root")
    metrics = directive.get("Metrics")
    if not isinstance(metrics, list) or not 1 <= len(metrics) <= MAX_METRICS_PER_DIRECTIVE:
        return [*found, "Metrics must hold 1 to 100 definitions"]
    for definition in metrics:
        name = definition.get("Name") if isinstance(definition, dict) else None
        if not isinstance(name, str):
            found.append(f"bad metric definition {definition!r}")
            continue
        value = root.get(name)
        if not _number(value) and not (isinstance(value, list) and 0 < len(value) <= 100 and all(map(_number, value))):
            found.append(f"metric {name!r} has no number member at the root")
        if definition.get("Unit", "None") not in UNITS:
            found.append(f"metric {name!r} has unit {definition.get('Unit')!r}")
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def metric_values(doc: Mapping[str, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(metric name, its dimensions) -> value, for every metric the document defines."""
    out = {}
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive.get("Dimensions", []):
            key = tuple((name, doc[name]) for name in dimension_set)
            for definition in directive["Metrics"]:
                out[(definition["Name"], key)] = doc[definition["Name"]]
    return out

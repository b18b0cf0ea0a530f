"""What the handler writes and emits, measured for the cost model (bench/cost.py): its log bytes
per push, the custom metrics in its EMF, Secrets Manager calls, Lambda's platform lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bench.deployment import Deployment
from bench.harness import NullFirehose, bench_settings
from bench.pushes import environment, quiet_app

# --- measured: what the handler writes and emits ------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class LogFigures:
    bytes_per_push: float
    lines_per_push: float


def log_output(
    push: dict[str, Any], *, seconds_between_pushes: float, deployment: Deployment, pushes: int | None = None
) -> LogFigures:
    """What the handler writes to stdout, per push, over a long run of pushes one execution
    environment receives `seconds_between_pushes` apart (its metrics interval on a fake clock)."""
    from loki_ingest.delivery.sink import FixedDeadline
    from loki_ingest.settings import Settings

    declared = {setting.name for setting in Settings.declared()}
    overrides = {
        name: value
        for name, value in (
            ("log_every_request", deployment.log_every_request),
            ("metrics_interval_seconds", deployment.metrics_interval_s),
        )
        if name in declared
    }
    app = quiet_app(NullFirehose(), **overrides)
    clock = _Clock()
    request_log = getattr(app, "request_log", None)
    if request_log is not None and hasattr(request_log, "window"):
        request_log.window._clock = clock
    interval = max(deployment.metrics_interval_s, 1)
    count = pushes or int(min(20_000, max(300, 8 * interval / max(seconds_between_pushes, 1e-6))))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for _ in range(count):
            clock.now += seconds_between_pushes
            app.handle_event(push, FixedDeadline(time.monotonic() + 60))
    lines = out.getvalue().splitlines()
    # A CloudWatch Logs event is the line without its newline.
    return LogFigures(sum(len(line.encode()) for line in lines) / count, len(lines) / count)


def emitted_metrics(checkout_has_canary: bool = True) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Every (namespace, metric, dimensions) the handler writes over every kind of answer, and
    the canary's (its success and its failure): each one is a billed custom metric."""
    from tests.conftest import SAMPLE_V1, FakeFirehose, basic, event, new_app, v1_body

    firehose = FakeFirehose()
    app = new_app(firehose)
    kinds = [
        (event(body=SAMPLE_V1), None),
        (event(body=v1_body([({"a": "b"}, [["1767225600000000000", "x" * 300_000]])])), None),  # partial 400
        (event(body=SAMPLE_V1, auth=basic(password="wrong")), None),
        (event("POST", "/nowhere", body=SAMPLE_V1), None),
        (event(body=b"{not json"), None),
        (event(body=SAMPLE_V1), "down"),
        (event("GET", "/healthz", auth=None, content_type=None), None),
        (event("GET", "/healthz", auth=None, content_type=None), "deleting"),
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), environment({"AWS_LAMBDA_FUNCTION_NAME": "loki-ingest-prod"}):
        from loki_ingest.delivery.sink import FixedDeadline

        for push, fault in kinds:
            firehose.script = (lambda c, r: ["ServiceUnavailableException"] * len(r)) if fault == "down" else None
            firehose.status = "DELETING" if fault == "deleting" else "ACTIVE"
            with contextlib.suppress(AttributeError):
                app.health._cached = None
            app.handle_event(push, FixedDeadline(time.monotonic() + 60))
        request_log = getattr(app, "request_log", None)
        if request_log is not None and hasattr(request_log, "flush"):
            request_log.flush()
        if checkout_has_canary:
            from loki_canary.handler import Result, report_line

            for ok in (True, False):
                result = Result(ok, "", "x")._replace(found_after_s=1.0 if ok else None)
                print(json.dumps(report_line(result, "loki-ingest-prod", 1)))
    return {key for line in out.getvalue().splitlines() for key in _emf_metrics(json.loads(line))}


def _emf_metrics(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
    meta = doc.get("_aws")
    if not isinstance(meta, dict):
        return
    for directive in meta.get("CloudWatchMetrics", []):
        for dimensions in directive.get("Dimensions", []):
            key = tuple((name, str(doc[name])) for name in dimensions)
            for metric in directive.get("Metrics", []):
                yield (directive["Namespace"], metric["Name"], key)


def secret_calls_per_refresh() -> int:
    """GetSecretValue calls one credential refresh makes (the real Authenticator)."""
    from tests.conftest import SAMPLE_V1, FakeSecrets, event

    from loki_ingest.delivery.sink import FixedDeadline
    from loki_ingest.handler import App

    secrets = FakeSecrets()
    app = App(bench_settings(), _null_sink(), secrets)
    with contextlib.redirect_stdout(io.StringIO()):
        app.handle_event(event(body=SAMPLE_V1), FixedDeadline(time.monotonic() + 60))
    return len(secrets.fetches)


def _null_sink() -> Any:
    from loki_ingest.delivery.firehose import FirehoseSink

    return FirehoseSink(NullFirehose(), bench_settings())


def platform_bytes_per_invocation(deployment: Deployment, billed_ms: float) -> int:
    """Lambda's own lines per invocation in the JSON log format: platform.start and
    platform.report at INFO (and DEBUG), none at WARN. Built from the record shapes AWS
    documents (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html),
    with this deployment's values; the report carries the trace context when tracing is Active."""
    if deployment.system_log_level == "WARN":
        return 0
    request_id = "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"
    start: dict[str, Any] = {
        "time": "2026-12-01T12:00:00.000Z",
        "type": "platform.start",
        "record": {"requestId": request_id, "version": "$LATEST"},
    }
    report: dict[str, Any] = {
        "time": "2026-12-01T12:00:00.045Z",
        "type": "platform.report",
        "record": {
            "requestId": request_id,
            "metrics": {
                "durationMs": round(billed_ms - 0.37, 2),
                "billedDurationMs": math.ceil(billed_ms),
                "memorySizeMB": deployment.memory_mb,
                "maxMemoryUsedMB": 88,
            },
            "status": "success",
        },
    }
    if deployment.tracing_mode == "Active":
        report["record"]["tracing"] = {
            "spanId": "2d6e8b1f3c9a7e42",
            "type": "X-Amzn-Trace-Id",
            "value": "Root=1-675040c0-3f0e8b7c9d2a4e6f1b3c5d7e;Parent=2d6e8b1f3c9a7e42;Sampled=1",
        }
    return sum(len(json.dumps(doc, separators=(",", ":"))) for doc in (start, report))

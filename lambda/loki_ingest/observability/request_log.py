"""What the handler writes about each request: sizes, counts and our own words (a reason, an AWS
error code); never a header value, label text, line text or the raw path.

A 4xx or 5xx answer gets its own line, with its figures as CloudWatch metrics (Embedded Metric
Format, metrics.py). A successful request gets no line of its own: its figures are summed in
the execution environment and written as one "metrics" line at most once per
METRICS_INTERVAL_SECONDS (metrics.Window), since one line per push cost more than the data for
small pushes. LOG_EVERY_REQUEST=true brings one line per request back, for debugging."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loki_ingest.http.routes import ROUTES
from loki_ingest.observability import metrics

if TYPE_CHECKING:
    from loki_ingest.context import Outcome
    from loki_ingest.http.request import Request
    from loki_ingest.settings import Settings

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def request_id(request: Request | None) -> str:
    return request.request_id if request else ""


def figures_of(outcome: Outcome, status: int, duration_ms: float) -> metrics.Figures:
    delivery = outcome.delivery
    route = ROUTES.get(outcome.route)
    return metrics.Figures(
        route=outcome.route,
        push=route is not None and route.kind == "push",
        status=status,
        reason=outcome.reason,
        entries=outcome.entries,
        rejected=outcome.rejections.entries,
        bytes_in=outcome.bytes_in,
        record_bytes=outcome.bytes_decoded,
        records=delivery.records if delivery else 0,
        calls=delivery.calls if delivery else 0,
        retries=delivery.retries if delivery else 0,
        duration_ms=duration_ms,
    )


def fields(request: Request | None, status: int, outcome: Outcome, duration_ms: float) -> dict[str, Any]:
    """One request's line members, EMF included."""
    figures = figures_of(outcome, status, duration_ms)
    method = request.method if request else ""
    line: dict[str, Any] = {
        "request_id": request_id(request),
        "method": method if method in _METHODS else "other",
        "route": outcome.route,
        "status": status,
        "streams": outcome.streams,
        "entries": outcome.entries,
        "bytes_in": outcome.bytes_in,
        "bytes_decoded": outcome.bytes_decoded,
        "work_units": outcome.work_units,
        "records": figures.records,
        "calls": figures.calls,
        "retries": figures.retries,
        "rejected": outcome.rejections.entries,
        "duration_ms": duration_ms,
    }
    if outcome.rejections:
        line["rejected_by"] = outcome.rejections.by_kind()
    if outcome.reason:
        line["reason"] = outcome.reason
    if outcome.detail:
        line["detail"] = outcome.detail
    line.update(metrics.members(figures, timestamp_ms=int(time.time() * 1000)))
    return line


class RequestLog:
    """Called once at the end of every invocation (handler.App.handle_event)."""

    def __init__(
        self, logger: logging.Logger, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.every_request = settings.log_every_request
        self.window = metrics.Window(settings.metrics_interval_seconds, clock)

    def __call__(self, request: Request | None, status: int, outcome: Outcome, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if self.every_request or status >= 400:
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            self.logger.log(level, "request", extra={"fields": fields(request, status, outcome, duration_ms)})
        else:
            self.window.add(figures_of(outcome, status, duration_ms))
        if self.window.due():
            self.flush()

    def flush(self) -> None:
        """Write the metrics line now, if anything is pending."""
        line = self.window.take()
        if line is not None:
            self.logger.info("metrics", extra={"fields": line})

"""Lambda entry point: function URL event -> Loki push -> Firehose.

One push reads top to bottom in `App.push`:
event -> request -> auth -> decode -> validate -> records -> pack -> delivery -> response.

Status codes follow what Loki clients do with them (loki-push-protocol.md §8): 4xx only for
input that will never succeed (never retried), 5xx/503 for anything on our side (retried),
and a 2xx only once every accepted entry has a Firehose RecordId.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from . import aws, config, records
from .auth import REALM_HEADER, Authenticator, SecretsManagerSource, SecretSource
from .config import ConfigError, Settings
from .decode import decode_body
from .delivery import Deadline, Deliverer, DeliveryFailed, FixedDeadline, LambdaDeadline
from .errors import HttpError, MethodNotAllowed, NotFound, ServiceUnavailable
from .health import HealthCheck
from .observability import Tracer, configure_logging
from .pack import pack
from .request import Response, empty_response, from_event, json_response
from .validate import validate

PUSH_PATHS = frozenset({"/loki/api/v1/push", "/api/prom/push"})
HEALTH_PATHS = frozenset({"/healthz", "/ready"})
MAX_ERRORS_IN_RESPONSE = 20


class Stats:
    """The fields of the one structured log line written per request."""

    __slots__ = ("bytes_decoded", "bytes_in", "calls", "entries", "extra", "records", "rejected", "retries", "streams")

    def __init__(self) -> None:
        self.streams = self.entries = self.bytes_in = self.bytes_decoded = 0
        self.records = self.calls = self.retries = self.rejected = 0
        self.extra: dict[str, Any] = {}


class App:
    def __init__(
        self,
        settings: Settings,
        firehose: Any,
        secret_source: SecretSource,
        *,
        tracer: Tracer | None = None,
        logger: logging.Logger | None = None,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.settings = settings
        self.logger = logger or configure_logging(settings.log_level)
        self.tracer = tracer or Tracer(False)
        self.auth = Authenticator(
            secret_source,
            ttl_s=settings.secret_cache_ttl_s,
            refresh_min_interval_s=settings.auth_refresh_min_interval_s,
            previous_grace_s=settings.previous_password_grace_s,
        )
        self.deliverer = deliverer or Deliverer(firehose, settings.delivery_stream_name, settings)
        self.health = HealthCheck(
            firehose,
            settings.delivery_stream_name,
            settings.health_cache_ttl_s,
            extra_check=self.auth.ensure_loaded,
        )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> App:
        settings = config.load(env)
        logger = configure_logging(settings.log_level)
        tracer = Tracer(settings.tracing_enabled, logger)
        firehose = aws.firehose_client(settings)
        source = SecretsManagerSource(aws.secrets_client(settings), settings.auth_secret_arn)
        return cls(settings, firehose, source, tracer=tracer, logger=logger)

    # --- routing -----------------------------------------------------------------------

    def handle_event(self, event: Any, deadline: Deadline) -> dict[str, Any]:
        started = time.perf_counter()
        stats = Stats()
        request_id = ""
        method = path = ""
        try:
            request = from_event(event, max_body_bytes=self.settings.max_body_bytes)
            request_id, method, path = request.request_id, request.method, request.path
            stats.bytes_in = len(request.body)
            response = self.route(request, deadline, stats)
        except HttpError as exc:
            response = error_response(exc)
            stats.extra["error"] = exc.message
        except Exception:
            self.logger.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            response = json_response(500, {"status": "error", "message": "internal error; retry later"})
        self._log(request_id, method, path, response.status, stats, started)
        return response.to_event()

    def route(self, request: Any, deadline: Deadline, stats: Stats) -> Response:
        path = request.path.rstrip("/") or "/"
        if path in PUSH_PATHS:
            if request.method != "POST":
                raise MethodNotAllowed(f"{request.method} is not allowed on {path}; use POST", allow="POST")
            return self.push(request, deadline, stats)
        if path in HEALTH_PATHS:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(f"{request.method} is not allowed on {path}; use GET", allow="GET, HEAD")
            return self.healthz()
        raise NotFound(f"no route for {path[:100]}; push to /loki/api/v1/push")

    # --- the push path -----------------------------------------------------------------

    def push(self, request: Any, deadline: Deadline, stats: Stats) -> Response:
        settings = self.settings
        with self.tracer.segment("auth"):
            self.auth.check(request.header("authorization"))
        with self.tracer.segment("decode"):
            streams = decode_body(
                request.body,
                path=request.path,
                content_type=request.header("content-type"),
                content_encoding=request.header("content-encoding"),
                max_decompressed_bytes=settings.max_decompressed_bytes,
            )
        stats.streams = len(streams)
        stats.entries = sum(len(s.entries) for s in streams)
        with self.tracer.segment("records"):
            validated = validate(streams, settings)
            built = records.build(validated.streams)
            # Drop the decoded model before delivery holds the packed bytes (peak memory).
            del streams
            validated.streams = []
            batches = pack(built.lines)
            built.lines.clear()
        rejections = validated.rejections + built.rejections
        accepted = validated.accepted - sum(r.entry_count for r in built.rejections)
        stats.rejected = stats.entries - accepted
        stats.bytes_decoded = built.payload_bytes
        try:
            with self.tracer.segment("delivery"):
                report = self.deliverer.deliver(batches, deadline)
        except DeliveryFailed as exc:
            stats.records, stats.calls, stats.retries = exc.report.records, exc.report.calls, exc.report.retries
            raise
        stats.records, stats.calls, stats.retries = report.records, report.calls, report.retries

        if rejections:
            shown = [r.reason if r.entry_count == 1 else f"{r.reason} ({r.entry_count} entries)" for r in rejections]
            return json_response(
                400,
                {
                    "status": "partial",
                    "message": (
                        f"{stats.rejected} of {stats.entries} entries rejected; "
                        f"{accepted} accepted and delivered. First: {shown[0]}"
                    ),
                    "count": accepted,
                    "rejected": stats.rejected,
                    "errors": shown[:MAX_ERRORS_IN_RESPONSE],
                },
            )
        if settings.success_status == 204:
            return empty_response(204)
        return json_response(200, {"status": "success", "count": accepted})

    def healthz(self) -> Response:
        result = self.health.check()
        if result.healthy:
            return json_response(200, {"status": "healthy"})
        return json_response(503, {"status": "degraded", "error": result.error}, {"retry-after": "5"})

    def _log(self, request_id: str, method: str, path: str, status: int, stats: Stats, started: float) -> None:
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "path": path[:200],
            "status": status,
            "streams": stats.streams,
            "entries": stats.entries,
            "bytes_in": stats.bytes_in,
            "bytes_decoded": stats.bytes_decoded,
            "records": stats.records,
            "calls": stats.calls,
            "retries": stats.retries,
            "rejected": stats.rejected,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        fields.update(stats.extra)
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        self.logger.log(level, "request", extra={"fields": fields})


def error_response(exc: HttpError) -> Response:
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers.update(REALM_HEADER)
    if isinstance(exc, MethodNotAllowed):
        headers["allow"] = exc.allow
    if isinstance(exc, ServiceUnavailable):
        headers["retry-after"] = str(exc.retry_after)
    return json_response(exc.status, {"status": "error", "message": exc.message}, headers)


# --- module-level wiring for the Lambda runtime ----------------------------------------

_app: App | None = None


def get_app() -> App:
    global _app
    if _app is None:
        _app = App.from_environment()
    return _app


def _deadline(context: Any) -> Deadline:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return LambdaDeadline(context)
    return FixedDeadline(time.monotonic() + 15.0)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The function URL handler (payload format 2.0)."""
    try:
        app = get_app()
    except ConfigError as exc:
        logging.getLogger("loki_ingest").error("configuration error: %s", exc)
        return json_response(500, {"status": "error", "message": "server misconfigured; see function logs"}).to_event()
    return app.handle_event(event, _deadline(context))


# Build clients during the init phase (which runs with a full CPU burst) when running in
# Lambda; elsewhere (tests, local server) build on first use.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # pragma: no cover - exercised in Lambda only
    with contextlib.suppress(ConfigError):  # reported by handler() on every request, with a 500
        get_app()

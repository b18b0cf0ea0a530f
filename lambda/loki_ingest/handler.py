"""Lambda entry point: function URL event -> route -> (auth -> ingest) -> response.

One push reads top to bottom in `App.push`:
event -> request -> auth -> decode -> validate -> records -> sink -> response.

Status codes follow what Loki clients do with them (docs/loki-protocol.md#status-codes): 4xx
only for input that will never succeed (never retried), 503 for anything on our side that a
retry can fix, and a 2xx only once every accepted entry has been accepted by the sink.

/otlp/v1/logs takes the same path with the OTLP decoder and answers the way the OTLP/HTTP
specification says (docs/loki-protocol.md#otlp-logs): 200 with an ExportLogsServiceResponse,
partial_success listing what was refused, and a google.rpc.Status body on every 4xx and 5xx,
each in the request's encoding. The status codes are the same as on the Loki routes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from . import firehose, metrics, otlp, records
from .auth import Authenticator, SecretsManagerSource, SecretSource, secrets_client, tenant_of
from .decode import Dialect, media_type
from .errors import BadRequest, HttpError, MethodNotAllowed, NotFound
from .health import HealthCheck
from .observability import Tracer, configure_logging
from .pipeline import Outcome, ingest
from .request import Request, Response, empty_response, error_response, from_event, json_response
from .settings import ConfigError, Settings
from .sink import Deadline, DeliveryFailed, FixedDeadline, LambdaDeadline, Sink

MAX_ERRORS_IN_RESPONSE = 20
MAX_REASON_CHARS = 1024
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class Route(NamedTuple):
    kind: Literal["push", "health"]
    allow: str
    dialect: Dialect = "v1"


#: The route table. Loki picks the JSON dialect from the path: /loki/api/v1 is v1. OTLP logs
#: use Loki's path (an OTLP exporter's base URL is then https://<host>/otlp).
ROUTES: Mapping[str, Route] = {
    "/loki/api/v1/push": Route("push", "POST", "v1"),
    "/api/prom/push": Route("push", "POST", "legacy"),
    "/otlp/v1/logs": Route("push", "POST", "otlp"),
    "/healthz": Route("health", "GET, HEAD"),
    "/ready": Route("health", "GET, HEAD"),
}


class App:
    def __init__(
        self,
        settings: Settings,
        sink: Sink,
        secret_source: SecretSource,
        *,
        tracer: Tracer | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.logger = logger or configure_logging(settings.log_level)
        self._check_record_budget(settings, sink)
        self.settings = settings
        self.tracer = tracer or Tracer(False)
        self.sink = sink
        self.auth = Authenticator(secret_source, settings)
        self.health = HealthCheck([sink.probe, self.auth.probe], settings)

    @staticmethod
    def _check_record_budget(settings: Settings, sink: Sink) -> None:
        """Every entry within the limits must fit one sink record (docs/record-format.md); a
        MAX_LINE_BYTES that cannot would refuse entries Loki accepts, so it is a configuration
        error (the module's plan refuses it too)."""
        fits = records.max_line_bytes_that_fit(settings, sink.max_line_bytes)
        if settings.max_line_bytes > fits:
            raise ConfigError(
                f"MAX_LINE_BYTES={settings.max_line_bytes} cannot fit one {sink.max_line_bytes}-byte record "
                f"beside the label and metadata limits; at most {fits} with these limits"
            )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> App:
        settings = Settings.load(env)
        logger = configure_logging(settings.log_level)
        tracer = Tracer(settings.tracing_enabled, logger)
        sink = firehose.FirehoseSink(firehose.client(settings), settings)
        source = SecretsManagerSource(secrets_client(), settings.auth_secret_arn)
        return cls(settings, sink, source, tracer=tracer, logger=logger)

    def handle_event(self, event: Any, deadline: Deadline) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = Outcome()
        request: Request | None = None
        try:
            request = from_event(event, max_body_bytes=self.settings.max_body_bytes)
            response = self.route(request, deadline, outcome)
        except HttpError as exc:
            response = self.error(request, exc)
            outcome.reason, outcome.detail = exc.reason, exc.detail
            if isinstance(exc, DeliveryFailed):
                outcome.delivery = exc.report
        except Exception as exc:  # noqa: BLE001 - any bug is a 500 the client retries
            # The type and the stack only: an exception's message may quote what was pushed.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            fields = {"request_id": _request_id(request), "error_type": type(exc).__name__, "stack": stack}
            self.logger.error("unhandled error", extra={"fields": fields})
            response = self.error(request, HttpError("internal error; retry later", reason="internal_error"))
            outcome.reason = "internal_error"
        self._log(request, response.status, outcome, started)
        return response.to_event()

    def route(self, request: Request, deadline: Deadline, outcome: Outcome) -> Response:
        path = _route_path(request)
        route = ROUTES.get(path)
        if route is None:
            target = "/otlp/v1/logs" if path.startswith("/otlp") or path.startswith("/v1/") else "/loki/api/v1/push"
            raise NotFound(f"no route for {path[:100]}; push to {target}")
        outcome.route = path
        if request.method not in route.allow.split(", "):
            raise MethodNotAllowed(f"{request.method} is not allowed on {path}; use {route.allow}", allow=route.allow)
        if route.kind == "health":
            return self.healthz()
        return self.push(request, route.dialect, deadline, outcome)

    def push(self, request: Request, dialect: Dialect, deadline: Deadline, outcome: Outcome) -> Response:
        with self.tracer.segment("auth"):
            identity = self.auth.check(request.header("authorization"))
        tenant = tenant_of(identity, request.header("x-scope-orgid"))
        ingest(request, dialect, self.settings, self.sink, deadline, self.tracer, outcome, tenant=tenant)
        if dialect == "otlp":
            return self.render_otlp(request, outcome)
        return self.render(outcome)

    def render(self, outcome: Outcome) -> Response:
        rejections = outcome.rejections
        if rejections:
            shown = _rejection_reasons(outcome)
            return json_response(
                400,
                {
                    "status": "partial",
                    "message": _rejection_summary(outcome, shown),
                    "count": outcome.accepted,
                    "rejected": rejections.entries,
                    "errors": shown[:MAX_ERRORS_IN_RESPONSE],
                },
            )
        if self.settings.success_status_code == 204:
            return empty_response(204)
        return json_response(200, {"status": "success", "count": outcome.accepted})

    def render_otlp(self, request: Request, outcome: Outcome) -> Response:
        """Always 200 with an ExportLogsServiceResponse (the OTLP/HTTP specification: a partial
        success is a 200 whose partial_success counts the refused records, which clients must
        not retry); SUCCESS_STATUS_CODE applies to the Loki routes only."""
        as_json = _answers_json(request)
        rejected = outcome.rejections.entries
        message = _rejection_summary(outcome, _rejection_reasons(outcome)) if rejected else ""
        return _otlp_response(200, otlp.export_response(rejected, message, as_json=as_json), as_json)

    def error(self, request: Request | None, exc: HttpError) -> Response:
        """The error answer of the request's route: a google.rpc.Status on the OTLP route, the
        short JSON body everywhere else; the error's headers (Retry-After, Allow,
        WWW-Authenticate) either way."""
        route = ROUTES.get(_route_path(request)) if request is not None else None
        if request is None or route is None or route.dialect != "otlp":
            return error_response(exc)
        as_json = _answers_json(request)
        body = otlp.status(exc.status, exc.message, as_json=as_json)
        return _otlp_response(exc.status, body, as_json, exc.headers())

    def healthz(self) -> Response:
        """Healthy or degraded, and nothing else: the caller is anonymous. The reason is logged."""
        problem = self.health.check()
        if problem is None:
            return json_response(200, {"status": "healthy"})
        self.logger.warning("health check failed", extra={"fields": {"problem": problem}})
        retry_after = str(self.settings.health_cache_ttl_seconds)  # the answer cannot change sooner
        return json_response(503, {"status": "degraded"}, {"retry-after": retry_after})

    def _log(self, request: Request | None, status: int, outcome: Outcome, started: float) -> None:
        """The one line per request: sizes, counts and our own words (a reason, an AWS error
        code); never a header value, label text, line text or the raw path. Its figures are
        also CloudWatch metrics, in Embedded Metric Format (metrics.py)."""
        delivery = outcome.delivery
        method = request.method if request else ""
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        fields: dict[str, Any] = {
            "request_id": _request_id(request),
            "method": method if method in _METHODS else "other",
            "route": outcome.route,
            "status": status,
            "streams": outcome.streams,
            "entries": outcome.entries,
            "bytes_in": outcome.bytes_in,
            "bytes_decoded": outcome.bytes_decoded,
            "records": delivery.records if delivery else 0,
            "calls": delivery.calls if delivery else 0,
            "retries": delivery.retries if delivery else 0,
            "rejected": outcome.rejections.entries,
            "duration_ms": duration_ms,
        }
        if outcome.rejections:
            fields["rejected_by"] = outcome.rejections.by_kind()
        if outcome.reason:
            fields["reason"] = outcome.reason
        if outcome.detail:
            fields["detail"] = outcome.detail
        route = ROUTES.get(outcome.route)
        figures = metrics.Figures(
            route=outcome.route,
            push=route is not None and route.kind == "push",
            status=status,
            reason=outcome.reason,
            entries=outcome.entries,
            rejected=outcome.rejections.entries,
            bytes_in=outcome.bytes_in,
            record_bytes=outcome.bytes_decoded,
            records=fields["records"],
            calls=fields["calls"],
            retries=fields["retries"],
            duration_ms=duration_ms,
        )
        fields.update(metrics.members(figures, timestamp_ms=int(time.time() * 1000)))
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        self.logger.log(level, "request", extra={"fields": fields})


def _request_id(request: Request | None) -> str:
    return request.request_id if request else ""


def _route_path(request: Request) -> str:
    return request.path.rstrip("/") or "/"


def _rejection_reasons(outcome: Outcome) -> list[str]:
    return [
        _clip(r.reason if r.entry_count == 1 else f"{r.reason} ({r.entry_count} entries)")
        for r in outcome.rejections.items[:MAX_ERRORS_IN_RESPONSE]
    ]


def _clip(reason: str) -> str:
    # A reason quotes the stream's labels (as Loki's do), which a refused stream may have by the
    # megabyte; a function URL cannot answer more than 6 MB (it would be a 502, and a retry).
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return f"{reason[: MAX_REASON_CHARS // 2]} ... {reason[-MAX_REASON_CHARS // 2 :]}"


def _rejection_summary(outcome: Outcome, shown: list[str]) -> str:
    return (
        f"{outcome.rejections.entries} of {outcome.entries} entries rejected; "
        f"{outcome.accepted} accepted and delivered. First: {shown[0]}"
    )


def _answers_json(request: Request) -> bool:
    """OTLP answers in the request's encoding: JSON for a JSON request, protobuf for a protobuf
    one, and JSON when the request's Content-Type is neither (or unreadable)."""
    try:
        return media_type(request.header("content-type")) != otlp.PROTOBUF_MEDIA_TYPE
    except BadRequest:
        return True


def _otlp_response(status: int, body: bytes, as_json: bool, headers: Mapping[str, str] | None = None) -> Response:
    content_type = otlp.JSON_MEDIA_TYPE if as_json else otlp.PROTOBUF_MEDIA_TYPE
    return Response(status, body.decode() if as_json else body, {"content-type": content_type, **(headers or {})})


# --- module-level wiring for the Lambda runtime ----------------------------------------

_app: App | None = None


def get_app() -> App:
    global _app
    if _app is None:
        _app = App.from_environment()
    return _app


def deadline_of(context: Any) -> Deadline:
    """The invocation's deadline (15 s from now when there is no Lambda context)."""
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
    return app.handle_event(event, deadline_of(context))


# Build clients during the init phase (which runs with a full CPU burst) when running in
# Lambda; elsewhere (tests, local server) build on first use.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # pragma: no cover - exercised in Lambda only
    with contextlib.suppress(ConfigError):  # reported by handler() on every request, with a 500
        get_app()

"""Lambda entry point. One request reads top to bottom in `App.handle_event`:

event -> request -> route -> (auth -> ingest: decode -> validate -> records -> sink) -> response,
then the request is logged: its own line for a 4xx or 5xx, its figures added to the metrics line
otherwise (observability/request_log.py).

Status codes follow what Loki clients do with them (docs/loki-protocol.md#status-codes): 4xx
only for input that will never succeed (never retried), 503 for anything on our side that a
retry can fix, and a 2xx only once every accepted entry has been accepted by the sink. The OTLP
route takes the same path and answers as the OTLP/HTTP specification says (http/answers.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
from collections.abc import Mapping
from typing import Any

from loki_ingest.auth.authenticator import Authenticator, SecretsManagerSource, SecretSource, secrets_client, tenant_of
from loki_ingest.context import Outcome, RequestContext
from loki_ingest.delivery import registry
from loki_ingest.delivery.sink import Deadline, DeliveryFailed, FixedDeadline, LambdaDeadline, Sink
from loki_ingest.errors import HttpError
from loki_ingest.http import answers, routes
from loki_ingest.http.request import Request, from_event
from loki_ingest.http.responses import Response, json_response
from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.pipeline import ingest
from loki_ingest.observability.health import HealthCheck
from loki_ingest.observability.logs import configure_logging
from loki_ingest.observability.request_log import RequestLog, request_id
from loki_ingest.observability.tracing import Tracer
from loki_ingest.records import render
from loki_ingest.settings import ConfigError, Settings, retired_in


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
        self.limits = Limits.from_settings(settings)
        self.tracer = tracer or Tracer(False)
        self.sink = sink
        self.auth = Authenticator(secret_source, settings)
        self.health = HealthCheck([sink.probe, self.auth.probe], settings)
        self.request_log = RequestLog(self.logger, settings)

    @staticmethod
    def _check_record_budget(settings: Settings, sink: Sink) -> None:
        """Every entry within the limits must fit one sink record (docs/record-format.md); a
        MAX_LINE_BYTES that cannot would refuse entries Loki accepts, so it is a configuration
        error (the module's plan refuses it too)."""
        fits = render.max_line_bytes_that_fit(Limits.from_settings(settings), sink.max_line_bytes)
        if settings.max_line_bytes > fits:
            raise ConfigError(
                f"MAX_LINE_BYTES={settings.max_line_bytes} cannot fit one {sink.max_line_bytes}-byte record "
                f"beside the label and metadata limits; at most {fits} with these limits"
            )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> App:
        settings = Settings.load(env)
        logger = configure_logging(settings.log_level)
        for name, instead in retired_in(os.environ if env is None else env).items():
            logger.warning("retired setting ignored", extra={"fields": {"setting": name, "instead": instead}})
        tracer = Tracer(settings.tracing_enabled, logger)
        source = SecretsManagerSource(secrets_client(), settings.auth_secret_arn)
        return cls(settings, registry.build(settings), source, tracer=tracer, logger=logger)

    def handle_event(self, event: Any, deadline: Deadline) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = Outcome()
        request: Request | None = None
        try:
            request = from_event(event, max_body_bytes=self.settings.max_body_bytes)
            response = self.serve(RequestContext(request, deadline, self.tracer, self.limits, outcome=outcome))
        except HttpError as exc:
            response = answers.error(request, exc)
            outcome.reason, outcome.detail = exc.reason, exc.detail
            if isinstance(exc, DeliveryFailed):
                outcome.delivery = exc.report
        except Exception as exc:  # noqa: BLE001 - any bug is a 500 the client retries
            # The type and the stack only: an exception's message may quote what was pushed.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            fields = {"request_id": request_id(request), "error_type": type(exc).__name__, "stack": stack}
            self.logger.error("unhandled error", extra={"fields": fields})
            response = answers.error(request, HttpError("internal error; retry later", reason="internal_error"))
            outcome.reason = "internal_error"
        self.request_log(request, response.status, outcome, started)
        return response.to_event()

    def serve(self, ctx: RequestContext) -> Response:
        route = routes.match(ctx.request)
        ctx.route = route
        ctx.outcome.route = route.path
        if route.kind == "health":
            return self.healthz()
        with self.tracer.segment("auth"):
            identity = self.auth.check(ctx.request.header("authorization"))
        ctx.tenant = tenant_of(identity, ctx.request.header("x-scope-orgid"))
        ingest(ctx, self.sink)
        if route.dialect == "otlp":
            return answers.otlp(ctx.request, ctx.outcome)
        return answers.loki(ctx.outcome, self.settings.success_status_code)

    def healthz(self) -> Response:
        """Healthy or degraded, and nothing else: the caller is anonymous. The reason is logged."""
        problem = self.health.check()
        if problem is None:
            return json_response(200, {"status": "healthy"})
        self.logger.warning("health check failed", extra={"fields": {"problem": problem}})
        retry_after = str(self.settings.health_cache_ttl_seconds)  # the answer cannot change sooner
        return json_response(503, {"status": "degraded"}, {"retry-after": retry_after})


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

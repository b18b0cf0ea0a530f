"""The answer to a push, built from its Outcome, in the dialect of its route.

Loki routes: `200 {"status":"success","count":N}` (or Loki's empty 204, SUCCESS_STATUS_CODE),
and a 400 that lists what was refused when some entries were (partial success, as Loki answers).
OTLP: always 200 with an ExportLogsServiceResponse whose partial_success counts the refused
records (the OTLP/HTTP specification: clients must not retry those), and a google.rpc.Status on
every error, each in the request's encoding (docs/loki-protocol.md#otlp-logs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from loki_ingest.decoding.push import media_type
from loki_ingest.errors import BadRequest, HttpError
from loki_ingest.http import otlp_answers
from loki_ingest.http.responses import Response, empty_response, error_response, json_response
from loki_ingest.http.routes import find

if TYPE_CHECKING:
    from loki_ingest.context import Outcome
    from loki_ingest.http.request import Request

MAX_ERRORS_IN_RESPONSE = 20
MAX_REASON_CHARS = 1024


def loki(outcome: Outcome, success_status_code: int) -> Response:
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
    if success_status_code == 204:
        return empty_response(204)
    return json_response(200, {"status": "success", "count": outcome.accepted})


def otlp(request: Request, outcome: Outcome) -> Response:
    """Always 200 with an ExportLogsServiceResponse; SUCCESS_STATUS_CODE applies to the Loki
    routes only."""
    as_json = _answers_json(request)
    rejected = outcome.rejections.entries
    message = _rejection_summary(outcome, _rejection_reasons(outcome)) if rejected else ""
    return _otlp_response(200, otlp_answers.export_response(rejected, message, as_json=as_json), as_json)


def error(request: Request | None, exc: HttpError) -> Response:
    """The error answer of the request's route: a google.rpc.Status on the OTLP route, the
    short JSON body everywhere else; the error's headers (Retry-After, Allow,
    WWW-Authenticate) either way."""
    route = find(request) if request is not None else None
    if request is None or route is None or route.dialect != "otlp":
        return error_response(exc)
    as_json = _answers_json(request)
    body = otlp_answers.status(exc.status, exc.message, as_json=as_json)
    return _otlp_response(exc.status, body, as_json, exc.headers())


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
        return media_type(request.header("content-type")) != otlp_answers.PROTOBUF_MEDIA_TYPE
    except BadRequest:
        return True


def _otlp_response(status: int, body: bytes, as_json: bool, headers: Mapping[str, str] | None = None) -> Response:
    content_type = otlp_answers.JSON_MEDIA_TYPE if as_json else otlp_answers.PROTOBUF_MEDIA_TYPE
    return Response(status, body.decode() if as_json else body, {"content-type": content_type, **(headers or {})})

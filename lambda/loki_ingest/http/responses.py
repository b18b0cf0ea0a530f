"""Response -> function URL result (payload format 2.0), and the plain answers every route uses.

A binary body (an OTLP protobuf answer) goes base64-encoded with `isBase64Encoded`, as the
function URL response format asks
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-response-payload).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from loki_ingest.errors import HttpError


class Response(NamedTuple):
    status: int
    body: str | bytes = ""  # bytes: a binary body (an OTLP protobuf answer)
    headers: Mapping[str, str] = {}

    def to_event(self) -> dict[str, Any]:
        """The function URL response shape; a binary body goes base64-encoded."""
        binary = isinstance(self.body, bytes)
        return {
            "statusCode": self.status,
            "headers": dict(self.headers),
            "body": base64.b64encode(self.body).decode("ascii") if isinstance(self.body, bytes) else self.body,
            "isBase64Encoded": binary,
        }


def json_response(status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    merged = {"content-type": "application/json"}
    if headers:
        merged.update(headers)
    return Response(status, json.dumps(payload, separators=(",", ":")), merged)


def empty_response(status: int) -> Response:
    return Response(status, "", {})


def error_response(exc: HttpError) -> Response:
    return json_response(exc.status, {"status": "error", "message": exc.message}, exc.headers())

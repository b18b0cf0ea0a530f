"""Function URL event (payload format 2.0) -> Request.

The event schema is API Gateway HTTP API v2's: lowercased header names, repeated headers
comma-joined, and `body` base64-encoded whenever AWS considers the payload binary (which is
the case for Loki's default `application/x-protobuf` push). We always honour
`isBase64Encoded` and work on bytes; the body is never assumed to be UTF-8.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, NamedTuple

from loki_ingest.errors import BadRequest, PayloadTooLarge


class Request(NamedTuple):
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    request_id: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def from_event(event: Any, *, max_body_bytes: int) -> Request:
    """Build a Request, enforcing the raw body cap before and after base64 decoding."""
    if not isinstance(event, Mapping):
        raise BadRequest("invalid function URL event: not an object", reason="invalid_event")
    context = event.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    http = context.get("http")
    http = http if isinstance(http, Mapping) else {}

    method = _str(http.get("method"), "GET").upper()
    path = _str(event.get("rawPath")) or _str(http.get("path"), "/")

    raw_headers = event.get("headers")
    headers: dict[str, str] = {}
    if isinstance(raw_headers, Mapping):
        for key, value in raw_headers.items():
            if isinstance(key, str) and isinstance(value, str):
                headers[key.lower()] = value

    body = _body(event.get("body"), bool(event.get("isBase64Encoded")), max_body_bytes)
    return Request(
        method=method,
        path=path,
        headers=headers,
        body=body,
        request_id=_str(context.get("requestId")),
    )


def _body(raw: Any, is_base64: bool, max_body_bytes: int) -> bytes:
    if raw is None:
        return b""
    if not isinstance(raw, str):
        raise BadRequest("invalid function URL event: body is not a string", reason="invalid_event")
    if is_base64:
        # Cheap pre-check: base64 is 4/3 of the payload, so reject before decoding.
        if len(raw) // 4 * 3 > max_body_bytes + 3:
            raise PayloadTooLarge(f"request body exceeds {max_body_bytes} bytes", reason="body_too_large")
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(
                "request body is not valid base64 although isBase64Encoded is true", reason="invalid_event"
            ) from None
    else:
        # AWS only passes text bodies un-encoded; surrogatepass keeps any odd input lossless.
        body = raw.encode("utf-8", "surrogatepass")
    if len(body) > max_body_bytes:
        raise PayloadTooLarge(f"request body exceeds {max_body_bytes} bytes", reason="body_too_large")
    return body

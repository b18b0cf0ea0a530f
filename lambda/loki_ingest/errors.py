"""HTTP-mapped errors: each carries its status and the headers that go with it.

Every failure that reaches the client is one of these, so the status code is decided in one
place. Loki clients (Promtail, Alloy) retry 429 and 5xx and drop the batch on any other 4xx
(docs/loki-protocol.md#status-codes), so a 4xx must only ever mean "this input is wrong and
will stay wrong", and a 503 only "retrying can succeed".

The `message` is for the client and may quote its own input back to it. The log gets only
`reason` (a fixed word per kind of failure) and `detail` (our own words, such as an AWS error
code): never header values, label text or line text.
"""

from __future__ import annotations

from collections.abc import Mapping


class HttpError(Exception):
    """An error with the HTTP status and headers the client should see."""

    status: int = 500
    reason: str = "error"

    def __init_subclass__(cls, *, status: int | None = None, reason: str | None = None) -> None:
        # Each kind declares its status and reason word in its class line.
        super().__init_subclass__()
        cls.status = status or cls.status
        cls.reason = reason or cls.reason

    def __init__(self, message: str, *, reason: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.detail = detail

    def headers(self) -> Mapping[str, str]:
        return {}


class BadRequest(HttpError, status=400, reason="bad_request"):
    """400: malformed input. Never retried by Loki clients."""


class DecodeError(BadRequest, reason="undecodable"):
    """The body could not be decoded (compression, snappy, protobuf, JSON)."""


class Unauthorized(HttpError, status=401, reason="unauthorized"):
    """401: missing or wrong credentials."""

    def headers(self) -> Mapping[str, str]:
        return {"www-authenticate": 'Basic realm="loki"'}


class Forbidden(HttpError, status=403, reason="forbidden"):
    """403: the credential is valid but may not do this (write another credential's tenant)."""


class NotFound(HttpError, status=404, reason="no_route"):
    """404: no route has this path."""


class MethodNotAllowed(HttpError, status=405, reason="method_not_allowed"):
    """405, with the Allow header RFC 9110 asks for."""

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> Mapping[str, str]:
        return {"allow": self.allow}


class PayloadTooLarge(HttpError, status=413, reason="too_large"):
    """413: a size cap was hit (body, decompressed body, labels, entries)."""


class ServiceUnavailable(HttpError, status=503, reason="unavailable"):
    """503: our side failed (Firehose, Secrets Manager); retrying can succeed."""

    def __init__(self, message: str, *, retry_after: int = 1, reason: str | None = None, detail: str = "") -> None:
        super().__init__(message, reason=reason, detail=detail)
        self.retry_after = retry_after

    def headers(self) -> Mapping[str, str]:
        return {"retry-after": str(self.retry_after)}


def aws_error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return ""
    error = response.get("Error")
    return str(error.get("Code", "")) if isinstance(error, Mapping) else ""

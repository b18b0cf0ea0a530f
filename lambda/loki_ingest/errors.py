"""HTTP-mapped errors: each carries its status and the headers that go with it.

Every failure that reaches the client is one of these, so the status code is decided in one
place. Loki clients (Promtail, Alloy) retry 429 and 5xx and drop the batch on any other 4xx
(docs/loki-protocol.md#status-codes), so a 4xx must only ever mean "this input is wrong and
will stay wrong", and a 503 only "retrying can succeed".
"""

from __future__ import annotations

from collections.abc import Mapping


class HttpError(Exception):
    """An error with the HTTP status and headers the client should see."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> Mapping[str, str]:
        return {}


class BadRequest(HttpError):
    """400: malformed input. Never retried by Loki clients."""

    status = 400


class DecodeError(BadRequest):
    """The body could not be decoded (compression, snappy, protobuf, JSON)."""


class Unauthorized(HttpError):
    """401: missing or wrong credentials."""

    status = 401

    def headers(self) -> Mapping[str, str]:
        return {"www-authenticate": 'Basic realm="loki"'}


class NotFound(HttpError):
    status = 404


class MethodNotAllowed(HttpError):
    status = 405

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow

    def headers(self) -> Mapping[str, str]:
        return {"allow": self.allow}


class PayloadTooLarge(HttpError):
    """413: a size cap was hit (body, decompressed body, labels, entries)."""

    status = 413


class ServiceUnavailable(HttpError):
    """503: our side failed (Firehose, Secrets Manager); retrying can succeed."""

    status = 503

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
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

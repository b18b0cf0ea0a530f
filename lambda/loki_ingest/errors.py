"""HTTP-mapped errors.

Every failure that reaches the client is one of these, so the status code is decided in one
place. Loki clients (Promtail, Alloy) retry 429 and 5xx and drop the batch on any other 4xx,
so a 4xx must only ever mean "this input is wrong and will stay wrong".
"""

from __future__ import annotations


class HttpError(Exception):
    """An error with the HTTP status the client should see."""

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(HttpError):
    """400: malformed input. Never retried by Loki clients."""

    status = 400


class Unauthorized(HttpError):
    """401: missing or wrong credentials."""

    status = 401


class NotFound(HttpError):
    status = 404


class MethodNotAllowed(HttpError):
    status = 405

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class PayloadTooLarge(HttpError):
    """413: a size cap was hit (body, decompressed body, labels)."""

    status = 413


class UnsupportedMediaType(HttpError):
    status = 415


class ServiceUnavailable(HttpError):
    """503: our side failed (Firehose, Secrets Manager); the client must retry."""

    status = 503

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DecodeError(BadRequest):
    """The body could not be decoded (compression, snappy, protobuf, JSON)."""

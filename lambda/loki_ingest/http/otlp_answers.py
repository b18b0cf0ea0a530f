"""The OTLP/HTTP answers: ExportLogsServiceResponse on success or partial success, and
google.rpc.Status on every 4xx and 5xx, in the request's encoding (binary protobuf or JSON)."""

from __future__ import annotations

import json
from typing import Any

from loki_ingest.decoding.logproto import (
    WIRE_LEN,
    WIRE_VARINT,
)

_U64 = 1 << 64
JSON_MEDIA_TYPE = "application/json"
PROTOBUF_MEDIA_TYPE = "application/x-protobuf"


def _pb_tag(field: int, wire: int) -> bytes:
    return _pb_varint((field << 3) | wire)


def _pb_varint(value: int) -> bytes:
    value &= _U64 - 1
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _pb_len(field: int, payload: bytes) -> bytes:
    return _pb_tag(field, WIRE_LEN) + _pb_varint(len(payload)) + payload


def export_response(rejected: int, message: str, *, as_json: bool) -> bytes:
    """ExportLogsServiceResponse. partial_success (1: rejected_log_records int64,
    2: error_message) is set only when entries were rejected: the OTLP/HTTP specification
    requires it unset on full success."""
    if as_json:
        doc: dict[str, Any] = {}
        if rejected:
            doc["partialSuccess"] = {"rejectedLogRecords": str(rejected), "errorMessage": message}  # int64 -> string
        return json.dumps(doc, separators=(",", ":")).encode()
    if not rejected:
        return b""
    partial = _pb_tag(1, WIRE_VARINT) + _pb_varint(rejected) + (_pb_len(2, message.encode()) if message else b"")
    return _pb_len(1, partial)


#: HTTP status -> google.rpc.Code, as the collector's OTLP/HTTP receiver maps them
#: (opentelemetry-collector internal/httphelper NewStatusFromMsgAndHTTPCode).
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 12, 429: 8, 502: 14, 503: 14, 504: 14}
_GRPC_UNKNOWN = 2
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def status(http_status: int, message: str, *, as_json: bool) -> bytes:
    """google.rpc.Status (1: code, 2: message, 3: details: repeated Any), the body the OTLP/HTTP
    specification requires for every 4xx and 5xx. A 400 carries a google.rpc.BadRequest
    detail (1: field_violations, each 2: description), as the specification recommends."""
    code = _GRPC_CODES.get(http_status, _GRPC_UNKNOWN)
    if as_json:
        doc: dict[str, Any] = {"code": code, "message": message}
        if http_status == 400:
            doc["details"] = [{"@type": _BAD_REQUEST_TYPE, "fieldViolations": [{"description": message}]}]
        return json.dumps(doc, separators=(",", ":")).encode()
    encoded = _pb_tag(1, WIRE_VARINT) + _pb_varint(code) + _pb_len(2, message.encode("utf-8", "surrogateescape"))
    if http_status == 400:
        violation = _pb_len(2, message.encode("utf-8", "surrogateescape"))
        detail = _pb_len(1, _BAD_REQUEST_TYPE.encode()) + _pb_len(2, _pb_len(1, violation))
        encoded += _pb_len(3, detail)
    return encoded

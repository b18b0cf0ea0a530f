"""Body bytes -> streams: Content-Type, then Content-Encoding, then the dialect's decoder.

Loki's order (docs/loki-protocol.md#request-processing): the media type decides the format,
the body is decompressed per Content-Encoding with the size cap, then `application/json` is
JSON in the route's dialect (v1 or legacy) and *any other* media type is a snappy-compressed
protobuf PushRequest. A missing or malformed Content-Type is a 400.

The OTLP route (docs/loki-protocol.md#otlp-logs) takes the two media types of the OTLP/HTTP
specification, `application/x-protobuf` and `application/json`, and nothing else (400, as
Loki's /otlp/v1/logs answers).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Literal

from loki_ingest.decoding import encoding, otlp, prepass, snappy
from loki_ingest.decoding import logproto as protobuf
from loki_ingest.decoding import lokijson as jsonpush
from loki_ingest.errors import BadRequest, DecodeError
from loki_ingest.http.otlp_answers import JSON_MEDIA_TYPE
from loki_ingest.ingest.budget import Budget, Costs, unlimited
from loki_ingest.ingest.limits import UNLIMITED, Limits
from loki_ingest.ingest.model import Stream
from loki_ingest.wire import Bytes

#: The dialect of a push route: Loki picks the JSON dialect from the path (/loki/api/v1 -> v1);
#: "otlp" is an OTLP/HTTP logs route (ExportLogsServiceRequest, protobuf or JSON).
Dialect = Literal["v1", "legacy", "otlp"]

_JSON_DECODERS: dict[Dialect, Callable[[Bytes, Limits, Budget], list[Stream]]] = {
    "v1": jsonpush.decode_v1,
    "legacy": jsonpush.decode_legacy,
}
#: The JSON keys that open a stream (charged Costs.STREAM each, beside their structure).
_STREAM_KEYS: dict[Dialect, tuple[bytes, ...]] = {"v1": (b'"stream"',), "legacy": (b'"labels"',)}
#: The JSON keys that open an OTLP resource_logs or scope_logs (either spelling).
_OTLP_GROUP_KEYS = (b'"resourceLogs"', b'"resource_logs"', b'"scopeLogs"', b'"scope_logs"')

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA = re.compile(rf"\s*({_TOKEN})/({_TOKEN})\s*(.*)\Z", re.DOTALL)
_PARAM = re.compile(rf';\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")\s*')


def media_type(content_type: str | None) -> str:
    """The lower-cased media type, validated like Go's mime.ParseMediaType."""
    if not content_type or not content_type.strip():
        raise BadRequest(
            "Content-Type header is required (application/json or application/x-protobuf)", reason="bad_content_type"
        )
    match = _MEDIA.match(content_type)
    if not match:
        raise BadRequest("malformed Content-Type header", reason="bad_content_type")
    params = match.group(3)
    pos = 0
    while pos < len(params):
        param = _PARAM.match(params, pos)
        if not param:
            raise BadRequest("malformed Content-Type parameters", reason="bad_content_type")
        pos = param.end()
    return f"{match.group(1)}/{match.group(2)}".lower()


def decode_push(
    body: Bytes,
    *,
    dialect: Dialect,
    content_type: str | None,
    content_encoding: str | None,
    limits: Limits = UNLIMITED,
    received_ns: int | None = None,
    budget: Budget | None = None,
) -> list[Stream]:
    """The streams of a push body; `received_ns` is the time of receipt (for OTLP records
    without a time of their own, as in Loki). Every element is charged to `budget` before it
    is decoded (decoding/prepass.py): a push over it is a 413 before the work."""
    budget = unlimited() if budget is None else budget
    max_decompressed_bytes = limits.max_decompressed_bytes
    if dialect == "otlp":
        now_ns = time.time_ns() if received_ns is None else received_ns
        return decode_otlp(body, content_type, content_encoding, limits, now_ns, budget)
    if media_type(content_type) == "application/json":
        data = encoding.decoder(content_encoding)(body, max_decompressed_bytes, budget)
        prepass.charge_json(data, budget, group_keys=_STREAM_KEYS[dialect], group_cost=Costs.STREAM)
        return _JSON_DECODERS[dialect](data, limits, budget)
    data = encoding.decoder(content_encoding, encoding.PROTOBUF_ENCODINGS)(body, max_decompressed_bytes, budget)
    try:
        raw = snappy.decompress(data, max_decompressed_bytes, budget)
    except DecodeError as exc:
        raise DecodeError(
            f"{exc.message}. A Content-Type other than application/json is read as snappy-compressed "
            "protobuf, as Loki does; send Content-Type: application/json for a JSON body",
            reason=exc.reason,
        ) from None
    prepass.charge_protobuf(raw, budget, prepass.LOKI_PUSH, "PushRequest")
    return protobuf.decode_push_request(raw, limits)


def decode_otlp(
    body: Bytes, content_type: str | None, content_encoding: str | None, limits: Limits, now_ns: int, budget: Budget
) -> list[Stream]:
    cap = limits.max_decompressed_bytes
    media = media_type(content_type)
    decoder = otlp.DECODERS.get(media)
    if decoder is None:
        raise BadRequest(
            f"content type {media[:64]} is not supported for OTLP; send application/x-protobuf or application/json",
            reason="bad_content_type",
        )
    data = encoding.decoder(content_encoding, encoding.OTLP_ENCODINGS)(body, cap, budget)
    if media == JSON_MEDIA_TYPE:
        prepass.charge_json(
            data, budget, group_keys=_OTLP_GROUP_KEYS, group_cost=Costs.OTLP_GROUP, scale=Costs.OTLP_JSON_SCALE
        )
    else:
        prepass.charge_protobuf(data, budget, prepass.OTLP_LOGS, "ExportLogsServiceRequest")
    # Records without a time get the time of receipt, as in Loki; their metadata is copied
    # into every entry, so the decoder counts what it builds against the same cap.
    return decoder(data, now_ns=now_ns, max_expanded_bytes=cap, work=budget)

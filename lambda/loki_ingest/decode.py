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

from . import encoding, jsonpush, otlp, protobuf, snappy
from .errors import BadRequest, DecodeError
from .model import UNLIMITED, Limits, Stream
from .wire import Bytes

#: The dialect of a push route: Loki picks the JSON dialect from the path (/loki/api/v1 -> v1);
#: "otlp" is an OTLP/HTTP logs route (ExportLogsServiceRequest, protobuf or JSON).
Dialect = Literal["v1", "legacy", "otlp"]

_JSON_DECODERS: dict[Dialect, Callable[[Bytes, Limits], list[Stream]]] = {
    "v1": jsonpush.decode_v1,
    "legacy": jsonpush.decode_legacy,
}

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
    max_decompressed_bytes: int,
    limits: Limits = UNLIMITED,
) -> list[Stream]:
    if dialect == "otlp":
        return decode_otlp(body, content_type, content_encoding, max_decompressed_bytes, limits)
    if media_type(content_type) == "application/json":
        data = encoding.decoder(content_encoding)(body, max_decompressed_bytes)
        return _JSON_DECODERS[dialect](data, limits)
    data = encoding.decoder(content_encoding, encoding.PROTOBUF_ENCODINGS)(body, max_decompressed_bytes)
    try:
        raw = snappy.decompress(data, max_decompressed_bytes)
    except DecodeError as exc:
        raise DecodeError(
            f"{exc.message}. A Content-Type other than application/json is read as snappy-compressed "
            "protobuf, as Loki does; send Content-Type: application/json for a JSON body",
            reason=exc.reason,
        ) from None
    return protobuf.decode_push_request(raw, limits)


def decode_otlp(
    body: Bytes, content_type: str | None, content_encoding: str | None, cap: int, limits: Limits
) -> list[Stream]:
    media = media_type(content_type)
    decoder = otlp.DECODERS.get(media)
    if decoder is None:
        raise BadRequest(
            f"content type {media[:64]} is not supported for OTLP; send application/x-protobuf or application/json",
            reason="bad_content_type",
        )
    data = encoding.decoder(content_encoding, encoding.OTLP_ENCODINGS)(body, cap)
    # Records without a time get the time of receipt, as in Loki; their metadata is copied
    # into every entry, so the decoder counts what it builds against the same cap.
    streams = decoder(data, now_ns=time.time_ns(), max_expanded_bytes=cap)
    limits.check(len(streams), sum(len(s.entries) for s in streams))
    return streams

"""Body bytes -> streams: Content-Encoding, then Content-Type, then the right decoder.

Loki's order (loki-push-protocol.md §2): decompress per Content-Encoding with the size cap,
then choose by media type: `application/json` is JSON (v1 or legacy by path), *any other*
media type is a snappy-compressed protobuf PushRequest. A missing or malformed
Content-Type is a 400.
"""

from __future__ import annotations

import re

from . import encoding, jsonpush, protobuf, snappy
from .errors import BadRequest, DecodeError
from .model import Stream

Bytes = bytes | bytearray

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA = re.compile(rf"\s*({_TOKEN})/({_TOKEN})\s*(.*)\Z", re.DOTALL)
_PARAM = re.compile(rf';\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")\s*')


def media_type(content_type: str | None) -> str:
    """The lower-cased media type, validated like Go's mime.ParseMediaType."""
    if not content_type or not content_type.strip():
        raise BadRequest("Content-Type header is required (application/json or application/x-protobuf)")
    match = _MEDIA.match(content_type)
    if not match:
        raise BadRequest(f"malformed Content-Type {content_type[:100]!r}")
    params = match.group(3)
    pos = 0
    while pos < len(params):
        param = _PARAM.match(params, pos)
        if not param:
            raise BadRequest(f"malformed Content-Type parameters in {content_type[:100]!r}")
        pos = param.end()
    return f"{match.group(1)}/{match.group(2)}".lower()


def is_v1_path(path: str) -> bool:
    # Loki picks the JSON dialect by URI: anything under /loki/api/v1 is v1.
    return "/loki/api/v1" in path.lower()


def decode_body(
    body: Bytes,
    *,
    path: str,
    content_type: str | None,
    content_encoding: str | None,
    max_decompressed_bytes: int,
) -> list[Stream]:
    kind = media_type(content_type)
    data = encoding.decode_content_encoding(body, content_encoding, max_decompressed_bytes)
    if kind == "application/json":
        if (content_encoding or "").strip() == "snappy" and data.lstrip()[:1] not in (b"{", b""):
            # Loki passes snappy-encoded JSON through undecoded (and then fails); we accept it.
            data = snappy.decompress(data, max_decompressed_bytes)
        return jsonpush.decode_v1(data) if is_v1_path(path) else jsonpush.decode_legacy(data)
    try:
        raw = snappy.decompress(data, max_decompressed_bytes)
    except DecodeError as exc:
        raise DecodeError(
            f"{exc.message}. Content-Type {kind!r} is read as snappy-compressed protobuf, as Loki does; "
            "send Content-Type: application/json for a JSON body"
        ) from None
    return protobuf.decode_push_request(raw)

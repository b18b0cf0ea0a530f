"""Content-Encoding: gzip / deflate / snappy, with the decompressed-size cap enforced while
inflating, so a compression bomb costs at most `cap` bytes of memory, never more.

Loki (loki-push-protocol.md §2 step 4) compares the header exactly: "" and "snappy" pass the
body through (the protobuf path snappy-decodes it anyway), "gzip" is gunzipped (multi-member
allowed), "deflate" is *raw* DEFLATE (RFC 1951). We also accept zlib-wrapped deflate, which
some HTTP clients send for "deflate". Anything else is a 400.
"""

from __future__ import annotations

import zlib

from .errors import BadRequest, DecodeError, PayloadTooLarge

Bytes = bytes | bytearray

_GZIP_MAGIC = b"\x1f\x8b"
# Inflate in slices so no single call can allocate far past the cap.
_CHUNK = 1 << 20


def decode_content_encoding(body: Bytes, encoding: str | None, cap: int) -> Bytes:
    name = (encoding or "").strip()
    if name in ("", "snappy"):
        if len(body) > cap:
            raise PayloadTooLarge(f"body exceeds the decompressed size limit of {cap} bytes")
        return body
    if name == "gzip":
        return gunzip(body, cap)
    if name == "deflate":
        return inflate(body, cap)
    raise BadRequest(f'Content-Encoding "{name[:64]}" not supported (use gzip, deflate or snappy)')


def _inflate_one(data: Bytes, wbits: int, cap: int, out: bytearray, what: str) -> bytes:
    """Inflate one stream into `out`; returns the bytes that follow the stream."""
    inflater = zlib.decompressobj(wbits)
    pending: Bytes = data
    try:
        while True:
            room = cap + 1 - len(out)
            chunk = inflater.decompress(pending, min(room, _CHUNK))
            out += chunk
            if len(out) > cap:
                raise PayloadTooLarge(f"{what} body inflates past the decompressed size limit of {cap} bytes")
            if inflater.eof:
                return inflater.unused_data
            pending = inflater.unconsumed_tail
            if not pending and not chunk:
                raise DecodeError(f"{what} body is truncated")
    except zlib.error as exc:
        raise DecodeError(f"invalid {what} body: {exc}") from None


def gunzip(data: Bytes, cap: int) -> bytearray:
    if not data:
        raise DecodeError("gzip body is empty")
    out = bytearray()
    rest: Bytes = data
    while rest:
        if rest[:2] != _GZIP_MAGIC:
            why = "garbage after the last member" if out else "bad header"
            raise DecodeError(f"invalid gzip body: {why}")
        rest = _inflate_one(rest, 16 + zlib.MAX_WBITS, cap, out, "gzip")
    return out


def inflate(data: Bytes, cap: int) -> bytearray:
    if not data:
        raise DecodeError("deflate body is empty")
    out = bytearray()
    try:
        rest = _inflate_one(data, -zlib.MAX_WBITS, cap, out, "deflate")
    except DecodeError as raw_error:
        # Not raw DEFLATE: try the zlib wrapper (RFC 1950) before giving up.
        out.clear()
        try:
            rest = _inflate_one(data, zlib.MAX_WBITS, cap, out, "deflate")
        except DecodeError:
            raise raw_error from None
    if rest:
        raise DecodeError("invalid deflate body: data after the end of the stream")
    return out

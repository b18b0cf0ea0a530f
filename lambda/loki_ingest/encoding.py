"""Content-Encoding: one decoding function per encoding, in the ENCODINGS table.

Each function takes the body and the decompressed-size cap and enforces the cap while
inflating, so a compression bomb costs at most `cap` bytes of memory, never more. Adding an
encoding is one function and one table entry here.

Loki (docs/loki-protocol.md#content-encoding) compares the header exactly: "" passes the body
through, "gzip" is gunzipped (multi-member allowed), "deflate" is *raw* DEFLATE (RFC 1951),
"snappy" passes the body through because a protobuf body is a snappy block anyway. We also
accept zlib-wrapped deflate, which some HTTP clients send for "deflate", and decode a
snappy-marked JSON body that really is snappy. Anything else is a 400.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from . import snappy
from .errors import BadRequest, DecodeError, PayloadTooLarge
from .wire import Bytes

_GZIP_MAGIC = b"\x1f\x8b"
# Inflate in slices so no single call can allocate far past the cap.
_CHUNK = 1 << 20


def identity(data: Bytes, cap: int) -> Bytes:
    if len(data) > cap:
        raise PayloadTooLarge(
            f"body exceeds the decompressed size limit of {cap} bytes", reason="decompressed_too_large"
        )
    return data


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
                raise PayloadTooLarge(
                    f"{what} body inflates past the decompressed size limit of {cap} bytes",
                    reason="decompressed_too_large",
                )
            if inflater.eof:
                return inflater.unused_data
            pending = inflater.unconsumed_tail
            if not pending and not chunk:
                raise DecodeError(f"{what} body is truncated", reason="invalid_compression")
    except zlib.error as exc:
        raise DecodeError(f"invalid {what} body: {exc}", reason="invalid_compression") from None


def gunzip(data: Bytes, cap: int) -> bytearray:
    if not data:
        raise DecodeError("gzip body is empty", reason="invalid_compression")
    out = bytearray()
    rest: Bytes = data
    while rest:
        if rest[:2] != _GZIP_MAGIC:
            why = "garbage after the last member" if out else "bad header"
            raise DecodeError(f"invalid gzip body: {why}", reason="invalid_compression")
        rest = _inflate_one(rest, 16 + zlib.MAX_WBITS, cap, out, "gzip")
    return out


def inflate(data: Bytes, cap: int) -> bytearray:
    if not data:
        raise DecodeError("deflate body is empty", reason="invalid_compression")
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
        raise DecodeError("invalid deflate body: data after the end of the stream", reason="invalid_compression")
    return out


def unsnappy_json(data: Bytes, cap: int) -> Bytes:
    """A JSON body marked snappy: Loki passes it through undecoded (so only plain JSON works
    there); we also decode it when it really is a snappy block."""
    if data.lstrip()[:1] in (b"{", b""):
        return identity(data, cap)
    return snappy.decompress(data, cap)


Decoder = Callable[[Bytes, int], Bytes]

#: Content-Encoding -> decoder. Protobuf bodies are snappy blocks by media type (decode.py),
#: so "snappy" on a protobuf body is the identity, as in Loki.
ENCODINGS: dict[str, Decoder] = {"": identity, "gzip": gunzip, "deflate": inflate, "snappy": unsnappy_json}
PROTOBUF_ENCODINGS: dict[str, Decoder] = {**ENCODINGS, "snappy": identity}
#: OTLP/HTTP: servers must take none and gzip (opentelemetry-proto docs/specification.md);
#: deflate is what OpenTelemetry SDKs offer besides (Python sends it zlib-wrapped). Loki
#: itself takes gzip only on /otlp/v1/logs.
OTLP_ENCODINGS: dict[str, Decoder] = {"": identity, "gzip": gunzip, "deflate": inflate}


def decoder(name: str | None, table: dict[str, Decoder] = ENCODINGS) -> Decoder:
    """The decoder for a Content-Encoding header value (exact match, as in Loki), or 400."""
    key = (name or "").strip()
    found = table.get(key)
    if found is None:
        accepted = ", ".join(known for known in table if known)
        raise BadRequest(f'Content-Encoding "{key[:64]}" not supported (use {accepted})', reason="unsupported_encoding")
    return found

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

from loki_ingest.decoding import snappy
from loki_ingest.errors import BadRequest, DecodeError, PayloadTooLarge
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.wire import Bytes

_GZIP_MAGIC = b"\x1f\x8b"
# Inflate in slices so no single call can allocate far past the cap.
_CHUNK = 1 << 20
# The first input slice of a stream: an empty gzip member is 20 bytes.
_FIRST_FEED = 64


def identity(data: Bytes, cap: int, budget: Budget | None = None) -> Bytes:
    if len(data) > cap:
        raise PayloadTooLarge(
            f"body exceeds the decompressed size limit of {cap} bytes", reason="decompressed_too_large"
        )
    return data


def _inflate_one(data: memoryview, pos: int, wbits: int, cap: int, out: bytearray, what: str) -> int:
    """Inflate the stream that starts at `pos` into `out`; returns where the next one starts.

    Input goes in in growing slices: zlib copies everything after a stream's end into
    `unused_data`, so handing it the whole rest of a multi-member body would copy that rest
    once per member (quadratic in the member count)."""
    inflater = zlib.decompressobj(wbits)
    feed = _FIRST_FEED
    try:
        while pos < len(data):
            piece = data[pos : pos + feed]
            pos += len(piece)
            pending: Bytes | memoryview = piece
            while True:
                chunk = inflater.decompress(pending, min(cap + 1 - len(out), _CHUNK))
                out += chunk
                if len(out) > cap:
                    raise PayloadTooLarge(
                        f"{what} body inflates past the decompressed size limit of {cap} bytes",
                        reason="decompressed_too_large",
                    )
                if inflater.eof:
                    return pos - len(inflater.unused_data)
                pending = inflater.unconsumed_tail
                if not pending:
                    break
            feed = min(feed * 2, _CHUNK)
    except zlib.error as exc:
        raise DecodeError(f"invalid {what} body: {exc}", reason="invalid_compression") from None
    raise DecodeError(f"{what} body is truncated", reason="invalid_compression")


def gunzip(data: Bytes, cap: int, budget: Budget | None = None) -> bytearray:
    if not data:
        raise DecodeError("gzip body is empty", reason="invalid_compression")
    out = bytearray()
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if view[pos : pos + 2] != _GZIP_MAGIC:
            why = "garbage after the last member" if pos else "bad header"
            raise DecodeError(f"invalid gzip body: {why}", reason="invalid_compression")
        if budget is not None:
            budget.charge(Costs.GZIP_MEMBER)  # a member is a new inflater: ~3 us and 150 bytes
        pos = _inflate_one(view, pos, 16 + zlib.MAX_WBITS, cap, out, "gzip")
    return out


def inflate(data: Bytes, cap: int, budget: Budget | None = None) -> bytearray:
    if not data:
        raise DecodeError("deflate body is empty", reason="invalid_compression")
    out = bytearray()
    view = memoryview(data)
    try:
        end = _inflate_one(view, 0, -zlib.MAX_WBITS, cap, out, "deflate")
    except DecodeError as raw_error:
        # Not raw DEFLATE: try the zlib wrapper (RFC 1950) before giving up.
        out.clear()
        try:
            end = _inflate_one(view, 0, zlib.MAX_WBITS, cap, out, "deflate")
        except DecodeError:
            raise raw_error from None
    if end != len(view):
        raise DecodeError("invalid deflate body: data after the end of the stream", reason="invalid_compression")
    return out


def unsnappy_json(data: Bytes, cap: int, budget: Budget | None = None) -> Bytes:
    """A JSON body marked snappy: Loki passes it through undecoded (so only plain JSON works
    there); we also decode it when it really is a snappy block. Snappy goes first: a block of
    123 bytes starts with "{" too (its length varint), while plain JSON fails snappy's
    length check within a few bytes."""
    try:
        decoded = snappy.decompress(data, cap, budget)
    except DecodeError:
        return identity(data, cap)
    return decoded if decoded.lstrip()[:1] == b"{" else identity(data, cap)


Decoder = Callable[[Bytes, int, Budget | None], Bytes]

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

"""Entries -> NDJSON records (one JSON object per line, each ending in "\\n").

    {"timestamp":"2026-01-01T00:00:00.123456789Z","timestamp_ns":"1767225600123456789",
     "stream":{"service_name":"stytch"},"record":{...},"metadata":{},"id":"<32 hex>"}

* `record` is the line itself when the line is a JSON object. It is spliced in verbatim
  (after validating it), so the line's exact bytes are in the file. Other lines become
  `{"message": line}`.
* A JSON-object line containing CR/LF cannot be spliced without breaking NDJSON: it is
  re-serialised compactly and the exact original is kept in `line`.
* A line that is not valid Unicode (invalid UTF-8 in a protobuf push, or a lone surrogate
  escape in JSON) keeps a readable `record.message` (U+FFFD for bad bytes) plus
  `line_base64` with the exact original bytes.
* `id` is the first 128 bits of sha256(canonical labels, "\n", timestamp, "\n", line bytes) in hex:
  the same entry pushed twice
  (client retries, at-least-once delivery) gets the same id, so duplicates can be dropped
  downstream.

Labels are serialised once per stream, and the seconds part of the ISO timestamp once per
distinct second: only the line-dependent parts are computed per entry.
"""

from __future__ import annotations

import base64
import json
from binascii import hexlify
from collections.abc import Callable, Iterable
from hashlib import sha256
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from .model import Metadata, Rejections, iso_seconds
from .validate import ValidStream
from .wire import NS_PER_SECOND

_EMPTY_OBJECT = b"{}"


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


# The C scanner: scan_once(text, index) -> (value, end). No per-call wrapper overhead, and
# NaN/Infinity (not JSON) are refused so spliced records stay valid JSON for every reader.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(parse_constant=_reject_constant).scan_once  # type: ignore[attr-defined]


class Built:
    __slots__ = ("lines", "payload_bytes")

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.payload_bytes = 0


def json_object_text(line: str) -> str | None:
    """The text to validate if `line` looks like a JSON object, else None."""
    if line[:1] == "{" and line[-1:] == "}":
        return line
    if line[:1].isspace() or line[-1:].isspace():
        stripped = line.strip()
        if stripped[:1] == "{" and stripped[-1:] == "}":
            return stripped
    return None


def _object_json(pairs: Metadata, encode: Callable[[str], str]) -> str:
    return "{" + ",".join(f"{encode(name)}:{encode(value)}" for name, value in pairs) + "}"


_CONTROL_BYTES = bytes(range(32))  # must be escaped inside JSON strings (RFC 8259)

# One formatting operation per record (the line-independent parts are precomputed).
_RECORD = b'%b%09dZ","timestamp_ns":"%b%b%b%b,"metadata":%b,"id":"%b"}\n'


def _message(line: str, line_bytes: bytes) -> bytes:
    """{"message": line} as JSON. A line without control characters only needs quotes and
    backslashes escaped, which bytes.replace does several times faster than the json module;
    translate() finds control characters faster than a regex scan."""
    if len(line_bytes.translate(None, _CONTROL_BYTES)) == len(line_bytes):
        if b'"' in line_bytes or b"\\" in line_bytes:
            line_bytes = line_bytes.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        return b'{"message":"' + line_bytes + b'"}'
    return b'{"message":' + encode_basestring(line).encode() + b"}"


def _record_body(line: str, line_bytes: bytes) -> tuple[bytes, bytes]:
    """(value of "record", extra fields) for a valid-Unicode line. A JSON object line is
    validated by the C scanner and spliced verbatim; anything else becomes {"message": line}."""
    text = json_object_text(line)
    if text is not None:
        try:
            obj, end = _scan_once(text, 0)
        except (StopIteration, ValueError, RecursionError):
            obj, end = None, 0
        if end == len(text) and type(obj) is dict:
            if "\n" in line or "\r" in line:
                # Raw newlines would split the NDJSON line: re-serialise, keep the original.
                compact = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
                return compact.encode("utf-8", "surrogatepass"), b',"line":' + encode_basestring(line).encode()
            return line_bytes, b""
    return _message(line, line_bytes), b""


def _pairs_json(pairs: Metadata, *, ascii_only: bool = False) -> bytes:
    """(name, value) pairs (labels, structured metadata) as a JSON object, in order."""
    if not pairs:
        return _EMPTY_OBJECT
    if not ascii_only:
        try:
            return _object_json(pairs, encode_basestring).encode()
        except UnicodeEncodeError:
            pass  # lone surrogates: escape everything instead
    return _object_json(pairs, encode_basestring_ascii).encode()


def entry_id(labels_prefix: bytes, timestamp: int, line_bytes: bytes) -> bytes:
    """128 bits of sha256(canonical labels, timestamp, line), as 32 hex characters."""
    return hexlify(sha256(b"%b%d\n%b" % (labels_prefix, timestamp, line_bytes)).digest()[:16])


def build(streams: Iterable[ValidStream], rejections: Rejections, max_record_bytes: int) -> Built:
    """NDJSON lines for every entry; one that would not fit in `max_record_bytes` goes to `rejections`."""
    built = Built()
    lines = built.lines
    append = lines.append
    last_second: int | None = None
    second_prefix = b""
    total = 0
    for stream in streams:
        stream_part = b'","stream":' + _pairs_json(stream.labels) + b',"record":'
        labels_prefix = stream.canonical.encode("utf-8", "surrogatepass") + b"\n"
        for timestamp, line, metadata in stream.entries:
            seconds, nanos = divmod(timestamp, NS_PER_SECOND)
            if seconds != last_second:
                last_second = seconds
                second_prefix = b'{"timestamp":"' + iso_seconds(seconds).encode()
            try:
                line_bytes = line.encode()
            except UnicodeEncodeError:
                # Not valid Unicode: a readable message plus the exact bytes in line_base64.
                line_bytes, body, extra = _odd_line(line)
                meta = _pairs_json(metadata, ascii_only=True)
            else:
                body, extra = _record_body(line, line_bytes)
                meta = _pairs_json(metadata)
            record = _RECORD % (
                second_prefix,
                nanos,
                b"%d" % timestamp,
                stream_part,
                body,
                extra,
                meta,
                entry_id(labels_prefix, timestamp, line_bytes),
            )
            if len(record) > max_record_bytes:
                rejections.add(
                    stream.canonical,
                    f"entry for stream '{stream.canonical}' is {len(record)} bytes as a record, "
                    f"over the {max_record_bytes}-byte record limit",
                )
                continue
            total += len(record)
            append(record)
    built.payload_bytes = total
    return built


def _odd_line(line: str) -> tuple[bytes, bytes, bytes]:
    """(exact bytes, record body, extra fields) for a line that is not valid Unicode."""
    try:
        raw = line.encode("utf-8", "surrogateescape")  # invalid UTF-8 from a protobuf push
    except UnicodeEncodeError:
        raw = line.encode("utf-8", "surrogatepass")  # a lone \\uD800-style escape from JSON
    readable = raw.decode("utf-8", "replace")
    body = b'{"message":' + encode_basestring(readable).encode() + b"}"
    return raw, body, b',"line_base64":"' + base64.b64encode(raw) + b'"'

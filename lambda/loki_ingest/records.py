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
* `id` is blake2b-128 over (canonical labels, timestamp, line): the same entry pushed twice
  (client retries, at-least-once delivery) gets the same id, so duplicates can be dropped
  downstream.

Labels are serialised once per stream, and the seconds part of the ISO timestamp once per
distinct second: only the line-dependent parts are computed per entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from .config import FIREHOSE_MAX_RECORD_BYTES
from .model import Metadata, Rejection, iso_seconds
from .validate import ValidStream

_NS = 1_000_000_000
_EMPTY_METADATA = b"{}"


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


# The C scanner: scan_once(text, index) -> (value, end). No per-call wrapper overhead, and
# NaN/Infinity (not JSON) are refused so spliced records stay valid JSON for every reader.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(parse_constant=_reject_constant).scan_once  # type: ignore[attr-defined]


@dataclass(slots=True)
class Built:
    lines: list[bytes] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    payload_bytes: int = 0


def json_object_text(line: str) -> str | None:
    """The text to validate if `line` looks like a JSON object, else None."""
    if line[:1] == "{" and line[-1:] == "}":
        return line
    if line[:1].isspace() or line[-1:].isspace():
        stripped = line.strip()
        if stripped[:1] == "{" and stripped[-1:] == "}":
            return stripped
    return None


def parse_json_object(text: str) -> dict[str, Any] | None:
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(text) or type(value) is not dict:
        return None
    return value


def _metadata_json(metadata: Metadata, encode: Callable[[str], str]) -> str:
    return "{" + ",".join(f"{encode(name)}:{encode(value)}" for name, value in metadata) + "}"


def _iso_seconds(seconds: int) -> bytes:
    return iso_seconds(seconds).encode()


def build(streams: Iterable[ValidStream], max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES) -> Built:
    built = Built()
    lines = built.lines
    append = lines.append
    blake2b = hashlib.blake2b
    last_second: int | None = None
    second_prefix = b""
    total = 0
    for stream in streams:
        labels_json = json.dumps(dict(stream.labels), ensure_ascii=False, separators=(",", ":"))
        try:
            stream_part = b'","stream":' + labels_json.encode() + b',"record":'
        except UnicodeEncodeError:
            ascii_labels = json.dumps(dict(stream.labels), separators=(",", ":"))
            stream_part = b'","stream":' + ascii_labels.encode() + b',"record":'
        hasher = blake2b(stream.canonical.encode("utf-8", "surrogatepass") + b"\n", digest_size=16)
        for timestamp, line, metadata in stream.entries:
            seconds, nanos = divmod(timestamp, _NS)
            if seconds != last_second:
                last_second = seconds
                second_prefix = _iso_seconds(seconds)
            ts_bytes = b"%d" % timestamp
            try:
                line_bytes = line.encode()
            except UnicodeEncodeError:
                record = _odd_record(stream_part, hasher, timestamp, line, metadata, second_prefix, nanos)
            else:
                digest = hasher.copy()
                digest.update(ts_bytes + b"\n")
                digest.update(line_bytes)
                text = json_object_text(line)
                obj = None if text is None else parse_json_object(text)
                if obj is None:
                    body = b'{"message":' + encode_basestring(line).encode() + b"}"
                    extra = b""
                elif "\n" in line or "\r" in line:
                    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
                    extra = b',"line":' + encode_basestring(line).encode()
                else:
                    body = line_bytes
                    extra = b""
                if metadata:
                    try:
                        meta = _metadata_json(metadata, encode_basestring).encode()
                    except UnicodeEncodeError:
                        meta = _metadata_json(metadata, encode_basestring_ascii).encode()
                else:
                    meta = _EMPTY_METADATA
                record = b"".join(
                    (
                        b'{"timestamp":"',
                        second_prefix,
                        b"%09dZ" % nanos,
                        b'","timestamp_ns":"',
                        ts_bytes,
                        stream_part,
                        body,
                        extra,
                        b',"metadata":',
                        meta,
                        b',"id":"',
                        digest.hexdigest().encode(),
                        b'"}\n',
                    )
                )
            if len(record) > max_record_bytes:
                built.rejections.append(
                    Rejection(
                        stream.canonical,
                        f"entry for stream '{stream.canonical}' is {len(record)} bytes as a record, "
                        f"over Firehose's {max_record_bytes}-byte record limit",
                    )
                )
                continue
            total += len(record)
            append(record)
    built.payload_bytes = total
    return built


def _odd_record(
    stream_part: bytes,
    hasher: Any,
    timestamp: int,
    line: str,
    metadata: Metadata,
    second_prefix: bytes,
    nanos: int,
) -> bytes:
    """A line that is not valid Unicode: readable message + exact bytes in line_base64."""
    try:
        raw = line.encode("utf-8", "surrogateescape")  # invalid UTF-8 from a protobuf push
    except UnicodeEncodeError:
        raw = line.encode("utf-8", "surrogatepass")  # a lone \\uD800-style escape from JSON
    digest = hasher.copy()
    digest.update(b"%d\n" % timestamp)
    digest.update(raw)
    readable = raw.decode("utf-8", "replace")
    meta = _metadata_json(metadata, encode_basestring_ascii) if metadata else "{}"
    return b"".join(
        (
            b'{"timestamp":"',
            second_prefix,
            b"%09dZ" % nanos,
            b'","timestamp_ns":"',
            b"%d" % timestamp,
            stream_part,
            b'{"message":',
            encode_basestring(readable).encode(),
            b'},"line_base64":"',
            base64.b64encode(raw),
            b'","metadata":',
            meta.encode(),
            b',"id":"',
            digest.hexdigest().encode(),
            b'"}\n',
        )
    )

"""Entries -> NDJSON records: one strict JSON object per line, each ending in "\\n".

    {"timestamp":"2026-01-01T00:00:00.123456789Z","timestamp_ns":"1767225600123456789",
     "stream":{"service_name":"stytch"},"record":{...},"metadata":{},"id":"<32 hex>","format":"json"}

The invariant (docs/record-format.md; reader.py is the rule as code):

* every line is strict RFC 8259 JSON: UTF-8, no NaN or Infinity, no duplicate keys, one object,
  no raw CR or LF, nesting and number lengths that Jackson-based readers (Athena) accept;
* the exact original line, label values and metadata values of every entry can be read back,
  and `format` says how:
  - "json": the line is one JSON object (within those limits), spliced into `record` byte for
    byte; JSON whitespace around it is kept in `line_prefix` / `line_suffix`;
  - "text": `record` is `{"message": line}` and the line is exactly `record.message`;
  - "base64": the line's bytes are in `line_base64` (a line that is not valid Unicode, or one
    whose escaped form would not fit one Firehose record); `record.message` shows it readably
    (invalid bytes as U+FFFD) when that fits too, else `record` is `{}`;
* `stream` and `metadata` are objects of strings. When a label or metadata name or value is
  not valid Unicode, or a metadata name repeats, the exact pairs are in `stream_base64` /
  `metadata_base64` (ordered `[name, value]` lists, base64) and the objects are readable forms.
* Whatever its bytes, an entry within the configured limits fits one Firehose record: the
  readable forms are dropped before that could fail (worst_case_record_bytes bounds it).

`id` is the first 128 bits of sha256([tenant, "\\n",] canonical labels, "\\n", timestamp, "\\n",
line bytes) in hex: the same entry pushed twice (client retries, at-least-once delivery) gets
the same id, and the same entry from two tenants does not.

Labels are serialised once per stream, and the seconds part of the ISO timestamp once per
distinct second: only the line-dependent parts are computed per entry.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from base64 import b64encode
from binascii import hexlify
from collections.abc import Callable, Iterable, Iterator, Sequence
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any

from loki_ingest.decoding.jsondoc import has_lone_surrogate
from loki_ingest.ingest.budget import Costs
from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.model import (
    EntryMetadata,
    Metadata,
    Rejections,
    SharedTail,
    TailedMetadata,
    exact_bytes,
    iso_seconds,
)
from loki_ingest.ingest.validate import ValidStream
from loki_ingest.wire import DETECTED_LEVEL, NS_PER_SECOND

#: Limits of Jackson's default StreamReadConstraints (2.15+; the name length since 2.16),
#: which Athena's JSON SerDe and Trino's json functions use: a line beyond them is stored as
#: text instead, a label or metadata name beyond them only in the exact base64 lists.
MAX_JSON_DEPTH = 500
MAX_JSON_NUMBER_CHARS = 1000
MAX_JSON_NAME_CHARS = 50_000

_JSON_WHITESPACE = " \t\r\n"  # RFC 8259 "ws"
_CONTROL_BYTES = bytes(range(32))  # must be escaped inside JSON strings (RFC 8259)
_EMPTY_OBJECT = b"{}"


class _NotStrict(ValueError):
    pass


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _NotStrict("duplicate key")
    for key in obj:
        if len(key) > MAX_JSON_NAME_CHARS // 2 and _java_chars(key) > MAX_JSON_NAME_CHARS:
            raise _NotStrict("name too long")
    return obj


def _java_chars(text: str) -> int:
    """Length in UTF-16 code units, which is how Jackson counts."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _strict_number(text: str) -> Any:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _NotStrict("number too long")
    value = float(text)
    if math.isinf(value):
        raise _NotStrict("number out of range")
    return value


def _strict_int(text: str) -> Any:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _NotStrict("number too long")
    return int(text)


def _reject_constant(name: str) -> Any:
    raise _NotStrict(name)


# The C scanner: scan_once(text, index) -> (value, end); refuses NaN/Infinity, duplicate keys,
# numbers that overflow a double or exceed Jackson's length limit.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(  # type: ignore[attr-defined]
    object_pairs_hook=_strict_object,
    parse_float=_strict_number,
    parse_int=_strict_int,
    parse_constant=_reject_constant,
).scan_once


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"{": 1, "[": 1, "}": -1, "]": -1}


def _depth(body: str) -> int:
    """The nesting depth of a valid JSON text: brackets outside strings, counted at C speed."""
    brackets = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", body))
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def json_object_span(line: str) -> tuple[int, int] | None:
    """[start, end) of the JSON object that is the whole line but JSON whitespace, when the
    line can be stored as format "json"; else None."""
    start = 0
    end = len(line)
    if line[:1] != "{" or line[-1:] != "}":
        start = end - len(line.lstrip(_JSON_WHITESPACE))  # C speed, whatever the whitespace
        end = len(line.rstrip(_JSON_WHITESPACE))
        if line[start : start + 1] != "{" or line[end - 1 : end] != "}":
            return None
    body = line[start:end] if start or end != len(line) else line
    if "\n" in body or "\r" in body:
        return None  # raw newlines inside would split the NDJSON line
    try:
        obj, stop = _scan_once(body, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if stop != len(body) or type(obj) is not dict:
        return None
    # Cheapest test first: a one-character search runs at memchr speed, a longer one does not.
    if "\\" in body and ("\\ud" in body or "\\uD" in body) and has_lone_surrogate(obj):
        return None  # a lone surrogate escape is valid RFC 8259 syntax but not valid Unicode
    if (
        len(body) > 2 * MAX_JSON_DEPTH
        and body.count("{") + body.count("[") > MAX_JSON_DEPTH
        and _depth(body) > MAX_JSON_DEPTH
    ):
        return None
    return start, end


def _string(text: str) -> bytes:
    """A valid-Unicode string as a JSON string literal (UTF-8, minimal escaping)."""
    return encode_basestring(text).encode()


def _message(line: str, line_bytes: bytes) -> bytes:
    """{"message": line} as JSON. A line without control characters only needs quotes and
    backslashes escaped, which bytes.replace does several times faster than the json module;
    translate() finds control characters faster than a regex scan."""
    if len(line_bytes.translate(None, _CONTROL_BYTES)) == len(line_bytes):
        if b'"' in line_bytes or b"\\" in line_bytes:
            line_bytes = line_bytes.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        return b'{"message":"' + line_bytes + b'"}'
    return b'{"message":' + _string(line) + b"}"


def _name_too_long(name: str) -> bool:
    """A name longer than Jackson reads (only in the base64 lists then; one test per pair
    costs a len() unless the name is long)."""
    return len(name) > MAX_JSON_NAME_CHARS // 2 and _java_chars(_readable(name)) > MAX_JSON_NAME_CHARS


def _readable(text: str) -> str:
    """A model string as valid Unicode: bytes that are not UTF-8 become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return exact_bytes(text).decode("utf-8", "replace")
    return text


def _b64(text: str) -> bytes:
    return b64encode(exact_bytes(text))


def _pairs(pairs: Metadata, *, unique_names: bool) -> tuple[bytes, bytes | None]:
    """(readable JSON object, exact base64 pair list or None when the object is exact).

    The object is exact when every name and value is valid Unicode and (for metadata) no
    name repeats; otherwise it keeps the last value per readable name, and the list has them all.
    """
    if not pairs:
        return _EMPTY_OBJECT, None
    try:
        body = ",".join(f"{encode_basestring(n)}:{encode_basestring(v)}" for n, v in pairs).encode()
        exact = (unique_names or len({n for n, _ in pairs}) == len(pairs)) and not any(
            _name_too_long(n) for n, _ in pairs
        )
    except UnicodeEncodeError:
        exact = False
    if exact:
        return b"{" + body + b"}", None
    readable = {_readable(n): _readable(v) for n, v in pairs if not _name_too_long(n)}
    shown = ",".join(f"{encode_basestring(n)}:{encode_basestring(v)}" for n, v in readable.items()).encode()
    listed = b",".join(b'["' + _b64(n) + b'","' + _b64(v) + b'"]' for n, v in pairs)
    return b"{" + shown + b"}", b"[" + listed + b"]"


def _metadata_pairs(metadata: EntryMetadata) -> tuple[bytes, bytes | None]:
    """_pairs of an entry's metadata. An OTLP entry's shared tail (model.TailedMetadata) is
    rendered once for all the entries that share it; the bytes are those of _pairs over all
    the entry's pairs, which is what an entry whose tail cannot simply be spliced in gets."""
    if type(metadata) is tuple:
        return _pairs(metadata, unique_names=False)
    assert type(metadata) is TailedMetadata
    spliced = _spliced(metadata, _rendered_tail(metadata.shared))
    if spliced is None:
        return _pairs(metadata.pairs(), unique_names=False)
    return spliced, None


def _rendered_tail(shared: SharedTail) -> _RenderedTail:
    cached = shared.cache
    if type(cached) is not _RenderedTail:
        pairs = shared.pairs()
        body, listed = _pairs(pairs, unique_names=False)
        cached = shared.cache = _RenderedTail(body[1:-1] if listed is None else None, {n for n, _ in pairs})
    return cached


def _splice_ok(metadata: TailedMetadata, tail: _RenderedTail) -> bool:
    """Whether the entry's metadata object can be the tail as rendered once with the entry's own
    and added pairs around it: the tail is exact alone, and no own or added name repeats, names a
    tail pair, is too long for Jackson, or (with its value) is not valid Unicode. Decided without
    rendering, so shared_units can ask it per entry before the records are built."""
    if tail.inner is None:
        return False
    names = tail.names
    seen: set[str] = set()
    for part in (metadata.own, metadata.added):
        for name, value in part:
            if name in names or name in seen or _name_too_long(name) or not (_unicode(name) and _unicode(value)):
                return False
            seen.add(name)
    return True


def _unicode(text: str) -> bool:
    """Valid Unicode: UTF-8 encodes it (a lone surrogate, our stand-in for a byte that is not
    UTF-8, does not)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _spliced(metadata: TailedMetadata, tail: _RenderedTail) -> bytes | None:
    """The entry's metadata object with the tail spliced in as rendered once; None when that
    would not be exact (_splice_ok)."""
    tail_inner = tail.inner
    if tail_inner is None or not _splice_ok(metadata, tail):
        return None
    inner = []
    for part in (metadata.own, None, metadata.added):
        if part is None:
            inner.append(tail_inner)
        elif part:
            body, listed = _pairs(part, unique_names=True)
            assert listed is None  # _splice_ok checked every name and value
            inner.append(body[1:-1])
    return b"{" + b",".join(part for part in inner if part) + b"}"


def work_units(streams: Sequence[ValidStream], *, lines_charged: bool = False) -> float:
    """What building the records costs beyond what decoding charged (shared_units, and the
    strict parse of every line that may be a JSON object: Costs.JSON_LINE_TOKEN per "," ":"
    "[" and "{", as every value but the first follows a "," every member has a ":" and every
    array or object opens, unless `lines_charged`: the pre-pass charged every line's tokens
    already, which is the case unless it stopped at malformed bytes). Charged before the first
    record is built, so a push over the budget is refused before delivery."""
    tokens = 0
    for stream in streams if not lines_charged else ():
        for _, line, _ in stream.entries:
            if "{" in line and _may_be_object(line):
                tokens += line.count(",") + line.count(":") + line.count("[") + line.count("{") + 1
    return shared_units(streams) + tokens * Costs.JSON_LINE_TOKEN


def _may_be_object(line: str) -> bool:
    if line[:1] == "{" and line[-1:] == "}":
        return True
    stripped = line.strip(_JSON_WHITESPACE)
    return stripped[:1] == "{" and stripped[-1:] == "}"


def shared_units(streams: Iterable[ValidStream]) -> float:
    """What rendering costs beyond what decoding charged: an entry whose shared tail cannot be
    spliced in renders every shared pair again (Costs.OTLP_SHARED_PAIR each). Charged before
    the first record is built, so a push over the budget is refused before any delivery."""
    pairs = 0
    for stream in streams:
        if not stream.entries or type(stream.entries[0][2]) is not TailedMetadata:
            continue  # a Loki stream: no shared tail
        for _, _, metadata in stream.entries:
            assert type(metadata) is TailedMetadata
            if metadata.shared.count and not _splice_ok(metadata, _rendered_tail(metadata.shared)):
                pairs += metadata.shared.count
    return pairs * Costs.OTLP_SHARED_PAIR


class _RenderedTail:
    """A shared tail's rendered pairs (the JSON object's inside; None when not exact alone)
    and its names."""

    __slots__ = ("inner", "names")

    def __init__(self, inner: bytes | None, names: set[str]) -> None:
        self.inner = inner
        self.names = names


def entry_id(labels_prefix: bytes, timestamp: int, line_bytes: bytes) -> bytes:
    """128 bits of sha256(canonical labels, timestamp, line), as 32 hex characters."""
    return hexlify(sha256(b"%b%d\n%b" % (labels_prefix, timestamp, line_bytes)).digest()[:16])


# One formatting operation per record (the line-independent parts are precomputed).
_RECORD = b'%b%09dZ","timestamp_ns":"%d","stream":%b,"record":%b,"metadata":%b,"id":"%b","format":"%b"%b}\n'


class Built:
    __slots__ = ("lines", "payload_bytes")

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.payload_bytes = 0


def _line_parts(line: str) -> tuple[bytes, bytes, bytes, bytes]:
    """(exact line bytes, format, record value, extra fields) in the natural form."""
    try:
        line_bytes = line.encode()
    except UnicodeEncodeError:
        line_bytes = exact_bytes(line)
        readable = b'{"message":' + _string(line_bytes.decode("utf-8", "replace")) + b"}"
        return line_bytes, b"base64", readable, b',"line_base64":"' + b64encode(line_bytes) + b'"'
    span = json_object_span(line)
    if span is None:
        return line_bytes, b"text", _message(line, line_bytes), b""
    start, end = span
    if start == 0 and end == len(line):
        return line_bytes, b"json", line_bytes, b""
    extra = b""
    if start:
        extra += b',"line_prefix":' + _string(line[:start])
    if end != len(line):
        extra += b',"line_suffix":' + _string(line[end:])
    return line_bytes, b"json", line[start:end].encode(), extra


def records(
    streams: Iterable[ValidStream], rejections: Rejections, max_record_bytes: int, *, tenant: str | None = None
) -> Iterator[bytes]:
    """The NDJSON line of every entry, one at a time (the sink packs and sends them as they
    come, so a push's records are never all in memory at once), with the push's tenant when it
    has one. The readable forms give way before a record could exceed `max_record_bytes`; an
    entry that still would not fit goes to `rejections` (only possible with limits beyond
    worst_case_record_bytes)."""
    tenant_extra = b',"tenant":' + _string(tenant) if tenant else b""
    tenant_prefix = tenant.encode() + b"\n" if tenant else b""  # two tenants' entries never share an id
    last_second: int | None = None
    second_prefix = b""
    for stream in streams:
        labels_json, labels_b64 = _pairs(stream.labels, unique_names=True)
        labels_extra = (b',"stream_base64":' + labels_b64 if labels_b64 is not None else b"") + tenant_extra
        # Canonical labels always start with "{", so a tenant line before them cannot collide.
        labels_prefix = tenant_prefix + exact_bytes(stream.canonical) + b"\n"
        for timestamp, line, metadata in stream.entries:
            seconds, nanos = divmod(timestamp, NS_PER_SECOND)
            if seconds != last_second:
                last_second = seconds
                second_prefix = b'{"timestamp":"' + iso_seconds(seconds).encode()
            line_bytes, fmt, body, extra = _line_parts(line)
            meta_json, meta_b64 = _metadata_pairs(metadata)
            if meta_b64 is not None:
                extra += b',"metadata_base64":' + meta_b64
            record_id = entry_id(labels_prefix, timestamp, line_bytes)
            record = _RECORD % (
                second_prefix,
                nanos,
                timestamp,
                labels_json,
                body,
                meta_json,
                record_id,
                fmt,
                extra + labels_extra,
            )
            if len(record) > max_record_bytes:
                compact = _compact(
                    second_prefix,
                    nanos,
                    timestamp,
                    stream,
                    line_bytes,
                    metadata,
                    record_id,
                    max_record_bytes,
                    tenant_extra,
                )
                if compact is None:
                    rejections.add(
                        stream.canonical,
                        f"entry for stream '{stream.canonical}' does not fit in one {max_record_bytes}-byte record",
                        kind="record_too_large",
                    )
                    continue
                record = compact
            yield record


def build(
    streams: Iterable[ValidStream], rejections: Rejections, max_record_bytes: int, *, tenant: str | None = None
) -> Built:
    """Every record of `records` in one list (tests and the benchmarks)."""
    built = Built()
    built.lines = list(records(streams, rejections, max_record_bytes, tenant=tenant))
    built.payload_bytes = sum(map(len, built.lines))
    return built


def _compact(
    second_prefix: bytes,
    nanos: int,
    timestamp: int,
    stream: ValidStream,
    line_bytes: bytes,
    entry_metadata: EntryMetadata,
    record_id: bytes,
    max_record_bytes: int,
    tenant_extra: bytes,
) -> bytes | None:
    """The entry with its line as base64 and `record` {}; then, if needed, with `stream` and
    `metadata` {} too, their exact pairs in the base64 lists. None if even that is too big."""
    metadata = entry_metadata if type(entry_metadata) is tuple else tuple(entry_metadata)
    line_extra = b',"line_base64":"' + b64encode(line_bytes) + b'"'
    labels_json, labels_b64 = _pairs(stream.labels, unique_names=True)
    meta_json, meta_b64 = _pairs(metadata, unique_names=False)
    pair_extra = b""
    if meta_b64 is not None:
        pair_extra += b',"metadata_base64":' + meta_b64
    if labels_b64 is not None:
        pair_extra += b',"stream_base64":' + labels_b64
    record = _RECORD % (
        second_prefix,
        nanos,
        timestamp,
        labels_json,
        _EMPTY_OBJECT,
        meta_json,
        record_id,
        b"base64",
        line_extra + pair_extra + tenant_extra,
    )
    if len(record) <= max_record_bytes:
        return record
    every_pair = b',"metadata_base64":' + _base64_pairs(metadata) + b',"stream_base64":' + _base64_pairs(stream.labels)
    record = _RECORD % (
        second_prefix,
        nanos,
        timestamp,
        _EMPTY_OBJECT,
        _EMPTY_OBJECT,
        _EMPTY_OBJECT,
        record_id,
        b"base64",
        line_extra + every_pair + tenant_extra,
    )
    return record if len(record) <= max_record_bytes else None


def _base64_pairs(pairs: Metadata) -> bytes:
    return b"[" + b",".join(b'["' + _b64(n) + b'","' + _b64(v) + b'"]' for n, v in pairs) + b"]"


def _b64_len(size: int) -> int:
    return 4 * -(-size // 3)


#: Bytes of a record in its most compact form apart from the line and the pairs: timestamps
#: at their longest, the field names, an id, the empty objects and lists, and the longest tenant.
RECORD_FIXED_BYTES = len(
    _RECORD
    % (
        b'{"timestamp":"' + b"0001-01-01T00:00:00.",
        999_999_999,
        -62_135_596_800_000_000_000,  # 0001-01-01 in nanoseconds: the longest a protobuf time gets
        _EMPTY_OBJECT,
        _EMPTY_OBJECT,
        _EMPTY_OBJECT,
        b"0" * 32,
        b"base64",
        b',"line_base64":"","metadata_base64":[],"stream_base64":[],"tenant":"' + b"x" * 150 + b'"',
    )
)


def worst_case_record_bytes(
    *,
    max_line_bytes: int,
    max_label_pairs: int,
    max_label_name_bytes: int,
    max_label_value_bytes: int,
    max_metadata_entries: int,
    max_metadata_bytes: int,
) -> int:
    """The largest compact record an entry within these limits can need."""
    pair = len(b'["",""],')
    labels = max_label_pairs * (pair + _b64_len(max_label_name_bytes) + _b64_len(max_label_value_bytes))
    # Metadata: at most `entries` pairs sharing `bytes` bytes; base64 of n bytes is at most
    # 4n/3 + 8/3, so each pair adds at most 6 bytes of rounding.
    metadata = max_metadata_entries * (pair + 6) + -(-4 * max_metadata_bytes // 3)
    # OTLP's detected_level pair is added after validation, as Loki adds it, so no limit counts
    # it: its value is a level word or a copy of a label or metadata value.
    level = pair + _b64_len(len(DETECTED_LEVEL)) + _b64_len(max(max_label_value_bytes, max_metadata_bytes))
    return RECORD_FIXED_BYTES + _b64_len(max_line_bytes) + labels + metadata + level


def max_line_bytes_alone(max_record_bytes: int) -> int:
    """The largest line whose base64 form fits one record with no labels and no metadata."""
    return max(0, (max_record_bytes - RECORD_FIXED_BYTES) // 4 * 3)


def max_line_bytes_that_fit(limits: Limits, max_record_bytes: int) -> int:
    """The largest max_line_bytes with which every entry within the other limits fits one
    record of `max_record_bytes` (at least 0)."""
    rest = worst_case_record_bytes(
        max_line_bytes=0,
        max_label_pairs=limits.max_label_names + 1,  # service_name is not counted (Loki)
        max_label_name_bytes=limits.max_label_name_bytes,
        max_label_value_bytes=limits.max_label_value_bytes,
        max_metadata_entries=limits.max_metadata_entries,
        max_metadata_bytes=limits.max_metadata_bytes,
    )
    return max(0, (max_record_bytes - rest) // 4 * 3)

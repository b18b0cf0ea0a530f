"""Protobuf wire-format reader for logproto.PushRequest (loki pkg/push/push.proto).

    PushRequest      1 streams: repeated StreamAdapter (LEN)   2 format: string (ignored)
    StreamAdapter    1 labels: string  2 entries: repeated EntryAdapter  3 hash: uint64 (ignored)
    EntryAdapter     1 timestamp: google.protobuf.Timestamp  2 line: string
                     3 structuredMetadata: repeated LabelPairAdapter  4 parsed (checked, not kept)
    LabelPairAdapter 1 name  2 value
    Timestamp        1 seconds: int64  2 nanos: int32

Rules are those of Loki's hand-written Unmarshal (docs/loki-protocol.md#protobuf-bodies): every
key is a varint (a non-minimal spelling such as 0x92 0x00 for field 2 is field 2); a known
field with the wrong wire type, field number 0 or above 2^29 - 1, a truncated or 11-byte
varint, a key or length spelled in more than 5 bytes (google.protobuf refuses them; Go takes
up to 10), a length running past its message, or a timestamp outside [0001-01-01, 10000-01-01)
is an error; a varint's bits past 64 are dropped, and an int32 is the low 32 bits of its
varint, as in Go and google.protobuf; unknown fields are skipped (each one was charged to the
push's work budget before decoding, decoding/prepass.py), groups only when each ends with its
own field number and they nest at most MAX_GROUP_DEPTH deep; singular fields repeated on the wire keep the last value (a
repeated timestamp replaces the earlier one whole, as Loki's StdTimeUnmarshal does, where
google.protobuf would merge the two); repeated fields accumulate in order. Lines are kept
byte-exact: invalid UTF-8 survives as surrogate escapes (see records/render.py).
"""

from __future__ import annotations

from loki_ingest.decoding.labels import parse as parse_labels
from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.ingest.limits import UNLIMITED, Limits
from loki_ingest.ingest.model import MISSING_TIMESTAMP, NO_METADATA, Entry, LabelPairs, Stream
from loki_ingest.wire import MAX_LABELS_STRING_BYTES, Bytes

_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253_402_300_800  # 10000-01-01T00:00:00Z (exclusive)
_U64 = 1 << 64
_U64_MASK = _U64 - 1
#: The largest field number protobuf allows (google.protobuf refuses larger ones).
MAX_FIELD_NUMBER = (1 << 29) - 1
#: Groups nested deeper than this are refused. Loki's gogo code has no limit; google.protobuf
#: refuses about 100 levels less the depth of the message they are in (the deepest here is 4).
MAX_GROUP_DEPTH = 64

WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_SGROUP, WIRE_EGROUP, WIRE_I32 = 0, 1, 2, 3, 4, 5
_WIRE_NAMES = {0: "VARINT", 1: "I64", 2: "LEN", 3: "SGROUP", 4: "EGROUP", 5: "I32"}


# --- wire-format readers, also used by otlp.py ------------------------------------------------
# `where` names the message or part being read; it leads the error message.


def wire_error(where: str, why: str) -> DecodeError:
    return DecodeError(f"invalid protobuf {where}: {why}", reason="invalid_protobuf")


def read_varint(buf: Bytes, i: int, end: int, where: str) -> tuple[int, int]:
    result = 0
    shift = 0
    while i < end:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            # Bits past 64 (only a 10th byte can carry them) are dropped, as Go and
            # google.protobuf drop them.
            return result & _U64_MASK, i
        shift += 7
        if shift >= 70:
            raise wire_error(where, "varint longer than 10 bytes")
    raise wire_error(where, "truncated varint")


def read_length(buf: Bytes, i: int, end: int, where: str) -> tuple[int, int]:
    """A LEN field's payload bounds [start, stop)."""
    if i < end and buf[i] < 0x80:
        stop = i + 1 + buf[i]
        i += 1
    else:
        start = i
        size, i = read_varint(buf, i, end, where)
        if i - start > 5:
            raise wire_error(where, "length spelled in more than 5 bytes")
        stop = i + size
    if stop > end:
        raise wire_error(where, "length-delimited field runs past the end of its message")
    return i, stop


def skip_field(buf: Bytes, i: int, end: int, field: int, wire: int, where: str) -> int:
    if wire == WIRE_VARINT:
        return read_varint(buf, i, end, where)[1]
    if wire == WIRE_LEN:
        return read_length(buf, i, end, where)[1]
    if wire == WIRE_I64:
        i += 8
    elif wire == WIRE_I32:
        i += 4
    elif wire == WIRE_SGROUP:
        # Skip to the end-group tag that closes this group, without recursion. Each group must
        # end with its own field number (google.protobuf refuses anything else; the gogo code
        # Loki uses does not check, but no client sends groups: push.proto is proto3).
        open_groups = [field]
        while open_groups:
            if i >= end:
                raise wire_error(where, f"group {field} has no end-group tag")
            inner_field, inner_wire, i = read_key(buf, i, end, where, zero_ok=True)
            if inner_wire == WIRE_EGROUP:
                if open_groups.pop() != inner_field:
                    raise wire_error(where, f"group {field} closed by the end-group tag of field {inner_field}")
            elif inner_wire == WIRE_SGROUP:
                if len(open_groups) >= MAX_GROUP_DEPTH:
                    raise wire_error(where, f"groups nested deeper than {MAX_GROUP_DEPTH}")
                open_groups.append(inner_field)
            else:
                i = skip_field(buf, i, end, inner_field, inner_wire, where)
        return i
    else:
        raise wire_error(where, f"illegal wire type {wire} for field {field}")
    if i > end:
        raise wire_error(where, "truncated fixed-width field")
    return i


def read_key(buf: Bytes, i: int, end: int, where: str, *, zero_ok: bool = False) -> tuple[int, int, int]:
    """(field number, wire type, next index) of the key at `i`: a varint, however it is spelled.
    Field number 0 is an error except inside a group being skipped (`zero_ok`), where Go's and
    google.protobuf's skipping both let it pass."""
    if buf[i] < 0x80:
        key = buf[i]
        i += 1
    else:
        start = i
        key, i = read_varint(buf, i, end, where)
        if i - start > 5:
            raise wire_error(where, "key spelled in more than 5 bytes")
        if key >> 3 > MAX_FIELD_NUMBER:
            raise wire_error(where, f"field number {key >> 3} above {MAX_FIELD_NUMBER}")
    field = key >> 3
    if field == 0 and not zero_ok:
        raise wire_error(where, "field number 0")
    return field, key & 7, i


def wrong_wire(where: str, field: int, wire: int) -> DecodeError:
    return wire_error(where, f"wrong wire type {_WIRE_NAMES.get(wire, wire)} for field {field}")


def _text(buf: Bytes, start: int, stop: int) -> str:
    return bytes(buf[start:stop]).decode("utf-8", "surrogateescape")


def decode_push_request(buf: Bytes, limits: Limits = UNLIMITED) -> list[Stream]:
    """The streams of a PushRequest (its elements were charged to the work budget before)."""
    streams: list[Stream] = []
    labels_cache: dict[str, LabelPairs] = {}
    end = len(buf)
    i = 0
    while i < end:
        field, wire, i = read_key(buf, i, end, "PushRequest")
        if field == 1:
            if wire != WIRE_LEN:
                raise wrong_wire("PushRequest", field, wire)
            start, stop = read_length(buf, i, end, "PushRequest.streams")
            streams.append(_stream(buf, start, stop, len(streams), labels_cache, limits))
            i = stop
        elif field == 2 and wire != WIRE_LEN:
            raise wrong_wire("PushRequest", field, wire)
        else:
            i = skip_field(buf, i, end, field, wire, "PushRequest")
    return streams


def _stream(
    buf: Bytes,
    i: int,
    end: int,
    index: int,
    labels_cache: dict[str, LabelPairs],
    limits: Limits,
) -> Stream:
    where = f"PushRequest stream {index}"
    label_text = ""
    entries: list[Entry] = []
    while i < end:
        field, wire, i = read_key(buf, i, end, where)
        if field == 2:
            if wire != WIRE_LEN:
                raise wrong_wire(where, field, wire)
            start, stop = read_length(buf, i, end, where)
            entries.append(_entry(buf, start, stop, where, limits.keep_metadata))
            i = stop
        elif field == 1:
            if wire != WIRE_LEN:
                raise wrong_wire(where, field, wire)
            start, stop = read_length(buf, i, end, where)
            if stop - start > MAX_LABELS_STRING_BYTES:
                raise PayloadTooLarge(f"{where}: labels string exceeds 16 MiB", reason="labels_too_large")
            label_text = _text(buf, start, stop)
            i = stop
        elif field == 3 and wire != WIRE_VARINT:
            raise wrong_wire(where, field, wire)
        else:
            i = skip_field(buf, i, end, field, wire, where)
    labels = labels_cache.get(label_text)
    if labels is None:
        labels = labels_cache[label_text] = parse_labels(label_text, limits.keep_labels, limits.label_token_chars)
    return Stream(list(labels), entries)


def _entry(buf: Bytes, i: int, end: int, where: str, keep_metadata: int) -> Entry:
    timestamp = MISSING_TIMESTAMP
    line = ""
    metadata: list[tuple[str, str]] | None = None
    while i < end:
        key = buf[i]
        if key == 0x12:  # line, the hot field, in its usual one-byte spelling
            start, i = read_length(buf, i + 1, end, where)
            line = _text(buf, start, i)
            continue
        if key == 0x0A:  # timestamp
            start, i = read_length(buf, i + 1, end, where)
            timestamp = _timestamp(buf, start, i, where)
            continue
        # Every key is a varint: the one-byte spellings above are only a shortcut.
        field, wire, i = read_key(buf, i, end, where)
        if field > 4:
            i = skip_field(buf, i, end, field, wire, where)
            continue
        if wire != WIRE_LEN:
            raise wrong_wire(f"{where} entry", field, wire)
        start, i = read_length(buf, i, end, where)
        if field == 2:
            line = _text(buf, start, i)
        elif field == 1:
            timestamp = _timestamp(buf, start, i, where)
        else:
            # structuredMetadata (3), and parsed (4), which Loki decodes too and which is
            # checked the same way but not kept.
            pair = _label_pair(buf, start, i, where)
            if field == 3:
                if metadata is None:
                    metadata = []
                if len(metadata) < keep_metadata:
                    metadata.append(pair)
    return (timestamp, line, tuple(metadata) if metadata else NO_METADATA)


def _two_fields(buf: Bytes, i: int, end: int, where: str, wire: int) -> tuple[int | bytes, int | bytes]:
    """Fields 1 and 2 of a small message whose two fields share one wire type (Timestamp:
    varints; LabelPairAdapter: strings). Absent fields are 0 / b""; a field repeated on the
    wire keeps its last value; other fields are skipped."""
    values: list[int | bytes] = [0, 0] if wire == WIRE_VARINT else [b"", b""]
    while i < end:
        field, got, i = read_key(buf, i, end, where)
        if field not in (1, 2):
            i = skip_field(buf, i, end, field, got, where)
        elif got != wire:
            raise wrong_wire(where, field, got)
        elif wire == WIRE_VARINT:
            values[field - 1], i = read_varint(buf, i, end, where)
        else:
            start, i = read_length(buf, i, end, where)
            values[field - 1] = bytes(buf[start:i])
    return values[0], values[1]


def _signed(value: int | bytes) -> int:
    """An int64 from its varint (already cut to 64 bits)."""
    assert isinstance(value, int)
    return value - _U64 if value >= 1 << 63 else value


def _int32(value: int | bytes) -> int:
    """An int32: the low 32 bits of its varint, as Go and google.protobuf read it."""
    assert isinstance(value, int)
    if value < 1 << 31:
        return value
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _timestamp(buf: Bytes, i: int, end: int, where: str) -> int:
    raw_seconds, raw_nanos = _two_fields(buf, i, end, f"{where} timestamp", WIRE_VARINT)
    seconds, nanos = _signed(raw_seconds), _int32(raw_nanos)
    if not 0 <= nanos < 1_000_000_000:
        raise wire_error(where, f"timestamp nanos {nanos} outside [0, 1e9)")
    if not _MIN_SECONDS <= seconds < _MAX_SECONDS:
        raise wire_error(where, f"timestamp seconds {seconds} outside years 0001-9999")
    return seconds * 1_000_000_000 + nanos


def _label_pair(buf: Bytes, i: int, end: int, where: str) -> tuple[str, str]:
    name, value = _two_fields(buf, i, end, f"{where} structured metadata", WIRE_LEN)
    assert isinstance(name, bytes) and isinstance(value, bytes)
    return name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape")

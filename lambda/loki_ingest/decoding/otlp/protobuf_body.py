"""Binary OTLP: an ExportLogsServiceRequest in protobuf -> streams (mapping.py does the mapping).

Wire format (opentelemetry-proto: collector/logs/v1/logs_service.proto, logs/v1/logs.proto,
common/v1/common.proto, resource/v1/resource.proto); the numbers are what this reader uses,
every other field is skipped (see mapping.py's docstring for the full table and the rules).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping

from loki_ingest.decoding.logproto import (
    MAX_FIELD_NUMBER,
    WIRE_I64,
    WIRE_LEN,
    WIRE_VARINT,
    read_key,
    read_length,
    read_varint,
    skip_field,
    wire_error,
    wrong_wire,
)
from loki_ingest.decoding.otlp.anyvalue import AnyValue, Attributes, KvList
from loki_ingest.decoding.otlp.mapping import (
    MAX_DEPTH,
    REQUEST,
    Collector,
    LogRecord,
    resource_stream,
    scope_metadata,
    too_large,
)
from loki_ingest.ingest.budget import Budget
from loki_ingest.ingest.model import Stream
from loki_ingest.wire import Bytes

_FIXED64 = struct.Struct("<Q")
_FIXED32 = struct.Struct("<I")
_DOUBLE = struct.Struct("<d")


def _fields(buf: Bytes, i: int, end: int, where: str, known: Mapping[int, int]) -> Iterator[tuple[int, int, int]]:
    """Each field of a message whose number is in `known` (number -> wire type), as
    (number, a, b): [a, b) is a LEN or fixed-width payload, or a is a varint's value and b
    where it ends. Other fields are skipped; a known field with another wire type is an error."""
    while i < end:
        field, wire, i = read_key(buf, i, end, where)
        expected = known.get(field)
        if expected is None:
            i = skip_field(buf, i, end, field, wire, where)
        elif wire != expected:
            raise wrong_wire(where, field, wire)
        elif wire == WIRE_LEN:
            start, i = read_length(buf, i, end, where)
            yield field, start, i
        elif wire == WIRE_VARINT:
            value, i = read_varint(buf, i, end, where)
            yield field, value, i
        else:
            size = 8 if wire == WIRE_I64 else 4
            if i + size > end:
                raise wire_error(where, "truncated fixed-width field")
            yield field, i, i + size
            i += size


def _signed(value: int, bits: int) -> int:
    """Two's complement of the low `bits` bits of a varint (int64, or an enum's int32)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class _Protobuf:
    """Reads one ExportLogsServiceRequest. `view` slices without copying."""

    __slots__ = ("buf", "view")

    def __init__(self, buf: Bytes) -> None:
        self.buf = buf
        self.view = memoryview(buf)

    def text(self, start: int, stop: int) -> str:
        return str(self.view[start:stop], "utf-8", "surrogateescape")

    def request(self, now_ns: int, budget: int, work: Budget | None) -> list[Stream]:
        sink = Collector(budget, now_ns, work)
        streams: list[Stream] = []
        for _, start, stop in _fields(self.buf, 0, len(self.buf), REQUEST, {1: WIRE_LEN}):
            streams.append(self.resource_logs(start, stop, f"{REQUEST} resource_logs {len(streams)}", sink))
        return streams

    def resource_logs(self, i: int, end: int, where: str, sink: Collector) -> Stream:
        # Two passes over the fields, allocating nothing for the records: the resource may
        # come after its scope_logs on the wire, and is needed before them.
        known = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN}
        attributes: Attributes = []
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 1:  # sent twice, its attributes accumulate (message fields merge)
                resource_where = f"{where} resource"
                for _, a, b in _fields(self.buf, start, stop, resource_where, {1: WIRE_LEN}):
                    attributes.append(self.key_value(a, b, resource_where, 0))
        labels, resource_metadata = resource_stream(attributes, sink.flat)
        entries = sink.start_resource(resource_metadata)
        index = 0
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                self.scope_logs(start, stop, f"{where} scope_logs {index}", sink)
                index += 1
        return Stream(labels, entries)

    def scope_logs(self, i: int, end: int, where: str, sink: Collector) -> None:
        name = version = ""
        attributes: Attributes = []
        dropped = records = 0
        most = sink.most_records()
        known = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN}
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                records += 1
                if records > most:
                    raise too_large()  # refused before any record is decoded
            elif field == 1:
                scope_where = f"{where} scope"
                for inner, a, b in _fields(self.buf, start, stop, scope_where, _SCOPE_FIELDS):
                    if inner == 1:
                        name = self.text(a, b)
                    elif inner == 2:
                        version = self.text(a, b)
                    elif inner == 3:
                        attributes.append(self.key_value(a, b, scope_where, 0))
                    else:
                        dropped = a & 0xFFFFFFFF
        sink.start_scope(scope_metadata(name, version, attributes, dropped, sink.flat))
        record_where = f"{where} log_records"
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                sink.add(self.log_record(start, stop, record_where))

    def log_record(self, i: int, end: int, where: str) -> LogRecord:
        """The hot loop: keys are dispatched whole (number and wire type), so a field this
        reader uses that arrives with another wire type falls through to the error below."""
        buf = self.buf
        record = LogRecord()
        while i < end:
            key = buf[i]
            if key < 0x80:
                i += 1
            else:
                key, i = read_varint(buf, i, end, where)
            if key == 0x2A:  # 5 body (LEN)
                start, i = read_length(buf, i, end, where)
                record.body = self.any_value(start, i, where, 0)
            elif key in (0x09, 0x59):  # 1 time_unix_nano, 11 observed_time_unix_nano (fixed64)
                if i + 8 > end:
                    raise wire_error(where, "truncated fixed-width field")
                (value,) = _FIXED64.unpack_from(buf, i)
                i += 8
                if key == 0x09:
                    record.time = value
                else:
                    record.observed = value
            elif key == 0x10:  # 2 severity_number (an enum: int32)
                value, i = read_varint(buf, i, end, where)
                record.severity_number = _signed(value, 32)
            elif key == 0x1A:  # 3 severity_text
                start, i = read_length(buf, i, end, where)
                record.severity_text = self.text(start, i)
            elif key == 0x32:  # 6 attributes
                start, i = read_length(buf, i, end, where)
                if record.attributes is None:
                    record.attributes = []
                record.attributes.append(self.key_value(start, i, where, 0))
            elif key == 0x38:  # 7 dropped_attributes_count (uint32)
                value, i = read_varint(buf, i, end, where)
                record.dropped = value & 0xFFFFFFFF
            elif key == 0x45:  # 8 flags (fixed32)
                if i + 4 > end:
                    raise wire_error(where, "truncated fixed-width field")
                (record.flags,) = _FIXED32.unpack_from(buf, i)
                i += 4
            elif key in (0x4A, 0x52):  # 9 trace_id, 10 span_id (bytes)
                start, i = read_length(buf, i, end, where)
                # pdata refuses ids of any other length, so Loki answers 400 for the request.
                size = 16 if key == 0x4A else 8
                if i - start not in (0, size):
                    raise wire_error(where, f"{'trace_id' if size == 16 else 'span_id'} must be {size} bytes")
                if key == 0x4A:
                    record.trace_id = bytes(self.view[start:i])
                else:
                    record.span_id = bytes(self.view[start:i])
            else:
                field, wire = key >> 3, key & 7
                if not 0 < field <= MAX_FIELD_NUMBER:
                    raise wire_error(where, f"field number {field} outside 1..{MAX_FIELD_NUMBER}")
                if field in _LOG_RECORD_FIELDS:
                    raise wrong_wire(where, field, wire)
                i = skip_field(buf, i, end, field, wire, where)
        return record

    def key_value(self, i: int, end: int, where: str, depth: int) -> tuple[str, AnyValue]:
        buf = self.buf
        if i < end and buf[i] == 0x0A:  # the usual shape, key then value, read without the loop
            key_start, key_stop = read_length(buf, i + 1, end, where)
            if key_stop < end and buf[key_stop] == 0x12:
                value_start, value_stop = read_length(buf, key_stop + 1, end, where)
                if value_stop == end:
                    return self.text(key_start, key_stop), self.any_value(value_start, end, where, depth)
        key = ""
        value: AnyValue = None
        for field, start, stop in _fields(buf, i, end, where, {1: WIRE_LEN, 2: WIRE_LEN}):
            if field == 1:
                key = self.text(start, stop)
            else:
                value = self.any_value(start, stop, where, depth)
        return key, value

    def any_value(self, i: int, end: int, where: str, depth: int) -> AnyValue:
        if depth >= MAX_DEPTH:
            raise wire_error(where, f"AnyValue nested deeper than {MAX_DEPTH} levels")
        buf = self.buf
        if i < end:  # one string or integer member, the usual values, read without the loop
            key = buf[i]
            if key == 0x0A:
                start, stop = read_length(buf, i + 1, end, where)
                if stop == end:
                    return self.text(start, end)
            elif key == 0x18:
                number, stop = read_varint(buf, i + 1, end, where)
                if stop == end:
                    return _signed(number, 64)
        value: AnyValue = None
        for field, a, b in _fields(self.buf, i, end, where, _ANY_VALUE_FIELDS):
            if field == 1:
                value = self.text(a, b)
            elif field == 2:
                value = a != 0
            elif field == 3:
                value = _signed(a, 64)
            elif field == 4:
                (value,) = _DOUBLE.unpack_from(self.buf, a)
            elif field == 7:
                value = bytes(self.view[a:b])
            elif field == 5:
                value = [
                    self.any_value(start, stop, where, depth + 1)
                    for _, start, stop in _fields(self.buf, a, b, where, {1: WIRE_LEN})
                ]
            else:
                value = KvList(
                    self.key_value(start, stop, where, depth + 1)
                    for _, start, stop in _fields(self.buf, a, b, where, {1: WIRE_LEN})
                )
        return value


_SCOPE_FIELDS = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN, 4: WIRE_VARINT}
_ANY_VALUE_FIELDS = {1: WIRE_LEN, 2: WIRE_VARINT, 3: WIRE_VARINT, 4: WIRE_I64, 5: WIRE_LEN, 6: WIRE_LEN, 7: WIRE_LEN}
_LOG_RECORD_FIELDS = frozenset({1, 2, 3, 5, 6, 7, 8, 9, 10, 11})


def decode_protobuf(buf: Bytes, *, now_ns: int, max_expanded_bytes: int, work: Budget | None = None) -> list[Stream]:
    """Streams from a binary ExportLogsServiceRequest; one stream per ResourceLogs. `work` is
    charged what scanning lines for their level costs (mapping.Collector)."""
    return _Protobuf(buf).request(now_ns, max_expanded_bytes, work)

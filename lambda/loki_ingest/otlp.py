"""OTLP/HTTP logs: an ExportLogsServiceRequest (binary protobuf or OTLP JSON) -> streams,
mapped the way Loki 3 maps OTLP by default; and the OTLP answers (ExportLogsServiceResponse,
google.rpc.Status) in either encoding.

The mapping is Loki's `otlpToLokiPushRequest` (grafana/loki pkg/loghttp/push/otlp.go) with
its default configuration (docs/loki-protocol.md#otlp-logs has the table and the links):

* stream labels: the resource attributes in INDEX_LABELS, names normalised (dots and any other
  character outside [A-Za-z0-9_] become "_"); `service_name="unknown_service"` when no
  service name is sent (after Loki's service-name discovery);
* structured metadata, in Loki's order: the log attributes, observed_timestamp (when both
  times are set), severity_number, severity_text, dropped_attributes_count, flags, trace_id,
  span_id, then the other resource attributes, then the scope attributes, scope_name,
  scope_version, scope_dropped_attributes_count;
* the line: the body rendered as a string (pdata's `Value.AsString`, see `as_string`);
* the time: time_unix_nano, else observed_time_unix_nano, else the time of receipt.

Wire format (opentelemetry-proto: collector/logs/v1/logs_service.proto, logs/v1/logs.proto,
common/v1/common.proto, resource/v1/resource.proto); the numbers are what this reader uses,
every other field is skipped:

    ExportLogsServiceRequest 1 resource_logs: repeated ResourceLogs
    ResourceLogs             1 resource: Resource  2 scope_logs: repeated ScopeLogs
    Resource                 1 attributes: repeated KeyValue
    ScopeLogs                1 scope: InstrumentationScope  2 log_records: repeated LogRecord
    InstrumentationScope     1 name  2 version  3 attributes: repeated KeyValue  4 dropped_attributes_count
    LogRecord                1 time_unix_nano: fixed64  11 observed_time_unix_nano: fixed64
                             2 severity_number: enum  3 severity_text  5 body: AnyValue
                             6 attributes: repeated KeyValue  7 dropped_attributes_count: uint32
                             8 flags: fixed32  9 trace_id: bytes(16)  10 span_id: bytes(8)
    KeyValue                 1 key  2 value: AnyValue
    AnyValue (oneof)         1 string  2 bool  3 int64  4 double  5 ArrayValue  6 KeyValueList  7 bytes
    ArrayValue / KeyValueList  1 values: repeated AnyValue / KeyValue

Protobuf rules (https://protobuf.dev/programming-guides/encoding/#last-one-wins): a singular
field sent twice keeps the last value, a message field sent twice is merged (resource and
scope attributes accumulate), the last oneof member wins; a field this reader uses with the
wrong wire type is an error, as in the generated Go code Loki decodes with. JSON follows the
OTLP/HTTP JSON encoding (lowerCamelCase names, hex trace and span ids, 64-bit integers as
strings or numbers, enums as integers) and accepts the snake_case names too, as the
collector's pdata does. Strings keep the exact bytes sent (model.py's text invariant).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, TypeAlias, cast

from .errors import DecodeError, PayloadTooLarge
from .jsondoc import parse as parse_json
from .model import Entry, LabelPairs, Metadata, Stream, exact_bytes, exact_text
from .protobuf import (
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
from .wire import INT64_MAX, Bytes

#: Loki's default `distributor.otlp.default_resource_attributes_as_index_labels`
#: (pkg/loghttp/push/otlp_config.go): these resource attributes become stream labels.
INDEX_LABELS = frozenset(
    {
        "service.name",
        "service.namespace",
        "service.instance.id",
        "deployment.environment",
        "deployment.environment.name",
        "cloud.region",
        "cloud.availability_zone",
        "k8s.cluster.name",
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.container.name",
        "container.name",
        "k8s.replicaset.name",
        "k8s.deployment.name",
        "k8s.statefulset.name",
        "k8s.daemonset.name",
        "k8s.cronjob.name",
        "k8s.job.name",
    }
)

#: Loki's default `validation.discover-service-name` (pkg/validation/limits.go): without a
#: service.name, the first index label with one of these names gives service_name.
DISCOVER_SERVICE_NAME = frozenset(
    {
        "service",
        "app",
        "application",
        "app_name",
        "name",
        "app_kubernetes_io_name",
        "container",
        "container_name",
        "k8s_container_name",
        "component",
        "workload",
        "job",
        "k8s_job_name",
    }
)
SERVICE_NAME_ATTRIBUTE = "service.name"
UNKNOWN_SERVICE = "unknown_service"  # Loki's ServiceUnknown

#: AnyValue nesting (arrays and kvlists inside each other) deeper than this is refused: Go
#: recurses freely, Python's stack does not.
MAX_DEPTH = 64

#: What one record costs against the expansion budget on top of its line and metadata, so a
#: request of millions of empty records cannot build millions of entries.
ENTRY_OVERHEAD_BYTES = 64

JSON_MEDIA_TYPE = "application/json"
PROTOBUF_MEDIA_TYPE = "application/x-protobuf"

_U64 = 1 << 64
_REQUEST = "ExportLogsServiceRequest"


class KvList(list[tuple[str, "AnyValue"]]):
    """An AnyValue kvlist_value: (key, value) pairs in wire order, duplicates kept. A plain
    list is an array_value."""

    __slots__ = ()


#: A decoded AnyValue: None is the empty value, bytes is bytes_value.
AnyValue: TypeAlias = str | bool | int | float | bytes | list["AnyValue"] | KvList | None
Attributes: TypeAlias = list[tuple[str, AnyValue]]


# --- the mapping (shared by both encodings) ---------------------------------------------------


_INVALID_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


@lru_cache(maxsize=4096)
def normalize_label(name: str) -> str:
    """prometheus/otlptranslator NormalizeLabel, which Loki applies to every attribute name:
    characters outside [a-zA-Z0-9_] become "_" (each byte that is not UTF-8 too, as Go's
    regexp sees it), a leading digit gets "key_", a single leading "_" gets "key"."""
    if not name:
        return name
    name = _INVALID_LABEL_CHARS.sub("_", name)
    if name[0].isdigit():
        return "key_" + name
    if name[0] == "_" and name[:2] != "__":
        return "key" + name
    return name


def flatten(key: str, value: AnyValue, prefix: str = "") -> list[tuple[str, str]]:
    """Loki's attributeToLabels: a kvlist value is flattened into one pair per leaf, names
    joined with "_" (`a: {b: 1}` -> `a_b="1"`); any other value is one pair."""
    name = normalize_label(f"{prefix}_{key}" if prefix else key)
    if type(value) is KvList:
        pairs: list[tuple[str, str]] = []
        for inner_key, inner in value:
            pairs.extend(flatten(inner_key, inner, name))
        return pairs
    return [(name, as_string(value))]


def resource_stream(attributes: Attributes) -> tuple[LabelPairs, Metadata]:
    """(stream labels, structured metadata) of a resource: Loki's loop over the resource
    attributes with the default index-label list and service-name discovery."""
    labels: dict[str, str] = {}
    metadata: list[tuple[str, str]] = []
    has_service_name = False
    for key, value in attributes:  # pcommon.Map.Get: the first attribute with that key
        if key == SERVICE_NAME_ATTRIBUTE:
            has_service_name = as_string(value) != ""
            break
    for key, value in attributes:
        pairs = flatten(key, value)
        if key not in INDEX_LABELS:
            metadata.extend(pairs)
            continue
        for name, text in pairs:
            labels[name] = text
            if not has_service_name and name in DISCOVER_SERVICE_NAME:
                labels["service_name"] = text
                has_service_name = True
    if not has_service_name:
        labels["service_name"] = UNKNOWN_SERVICE
    # Loki drops empty-valued labels when it parses the stream's label string.
    return [(name, text) for name, text in labels.items() if text], tuple(metadata)


def scope_metadata(name: str, version: str, attributes: Attributes, dropped: int) -> list[tuple[str, str]]:
    metadata = [pair for key, value in attributes for pair in flatten(key, value)]
    if name:
        metadata.append(("scope_name", name))
    if version:
        metadata.append(("scope_version", version))
    if dropped:
        metadata.append(("scope_dropped_attributes_count", str(dropped)))
    return metadata


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        "OTLP request expands past the decompressed size limit (each record carries its "
        "resource and scope attributes); send smaller batches",
        reason="decompressed_too_large",
    )


def _size(metadata: Metadata | list[tuple[str, str]]) -> int:
    return sum(len(name) + len(value) for name, value in metadata)


def _int64(value: int) -> int:
    """Go's int64(uint64): fixed64 times past 2262 wrap around, as in Loki."""
    return value - _U64 if value > INT64_MAX else value


class _Record:
    """One LogRecord's fields, as decoded (defaults are proto3's zero values)."""

    __slots__ = (
        "attributes",
        "body",
        "dropped",
        "flags",
        "observed",
        "severity_number",
        "severity_text",
        "span_id",
        "time",
        "trace_id",
    )

    def __init__(self) -> None:
        self.time = self.observed = self.severity_number = self.dropped = self.flags = 0
        self.severity_text = ""
        self.body: AnyValue = None
        self.attributes: Attributes | None = None
        self.trace_id = self.span_id = b""


class _Sink:
    """Collects the entries of a request and enforces its expansion budget. Every resource,
    scope and record costs ENTRY_OVERHEAD_BYTES, and every record its line and its structured
    metadata (resource and scope attributes are copied into every entry), against the
    decompressed-size cap: a request is refused (413) as soon as it would build more."""

    __slots__ = ("entries", "left", "now_ns", "resource", "resource_size", "tail", "tail_size")

    def __init__(self, left: int, now_ns: int) -> None:
        self.left = left
        self.now_ns = now_ns
        self.entries: list[Entry] = []
        self.resource: Metadata = ()
        self.resource_size = self.tail_size = 0
        self.tail: Metadata = ()

    def charge(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _too_large()

    def start_resource(self, metadata: Metadata) -> list[Entry]:
        self.charge(ENTRY_OVERHEAD_BYTES)
        self.entries = []
        self.resource = metadata
        self.resource_size = _size(metadata) + ENTRY_OVERHEAD_BYTES
        return self.entries

    def most_records(self) -> int:
        """How many records of the current resource the budget can still hold, at the least
        each one costs: a scope with more is refused before any is decoded."""
        return self.left // self.resource_size

    def start_scope(self, scope: list[tuple[str, str]]) -> None:
        self.charge(ENTRY_OVERHEAD_BYTES)
        self.tail = self.resource + tuple(scope)
        self.tail_size = self.resource_size + _size(scope)

    def add(self, record: _Record) -> None:
        """Loki's otlpLogToPushEntry, plus the resource and scope metadata."""
        metadata: list[tuple[str, str]] = []
        append = metadata.append
        if record.attributes:
            for key, value in record.attributes:
                if isinstance(value, str):
                    append((normalize_label(key), value))
                else:
                    metadata.extend(flatten(key, value))
        time_ns, observed = record.time, record.observed
        if time_ns and observed:
            append(("observed_timestamp", str(_int64(observed))))
        if record.severity_number:
            append(("severity_number", str(record.severity_number)))
        if record.severity_text:
            append(("severity_text", record.severity_text))
        if record.dropped:
            append(("dropped_attributes_count", str(record.dropped)))
        if record.flags:
            append(("flags", str(record.flags)))
        # An all-zero id is "empty" (pdata TraceID.IsEmpty); ids are lower-case hex.
        if record.trace_id.strip(b"\0"):
            append(("trace_id", record.trace_id.hex()))
        if record.span_id.strip(b"\0"):
            append(("span_id", record.span_id.hex()))
        body = record.body
        line = body if isinstance(body, str) else as_string(body)
        size = len(line) + self.tail_size
        if metadata:
            for name, value in metadata:
                size += len(name) + len(value)
            full = (*metadata, *self.tail)
        else:
            full = self.tail
        self.charge(size)
        timestamp = _int64(time_ns or observed) if time_ns or observed else self.now_ns
        self.entries.append((timestamp, line, full))


# --- AnyValue rendering: pdata's Value.AsString, which Loki uses for lines and values ------------


class _Unsupported(Exception):
    """NaN or an infinity inside an array or kvlist: Go's json.Marshal fails, AsString gives ""."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def as_string(value: AnyValue) -> str:
    """The string Loki stores for a value (pcommon.Value.AsString): strings as sent, booleans
    `true`/`false`, integers in decimal, doubles as Go's encoding/json writes them, bytes in
    standard base64, arrays and kvlists as compact JSON (kvlist keys sorted, the last of
    duplicate keys kept), the empty value as ""."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return _go_float(value)
        # pdata's float64AsString: "json: unsupported value: " + FormatFloat(f, 'g', -1, 64).
        return "json: unsupported value: " + ("NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    try:
        return _go_json(value)
    except _Unsupported:
        return ""  # json.Marshal's error is ignored and its nil output is the string


def _go_float(value: float) -> str:
    """A finite float64 the way Go's encoding/json (and pdata's float64AsString) writes it:
    the shortest digits that round-trip, in plain notation, except for magnitudes below 1e-6
    or from 1e21 up, which use an exponent (`1e-7`, `1.5e+300`), as ES6 number-to-string does."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent_text = repr(abs(value)).partition("e")  # repr: the shortest digits
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent_text) if exponent_text else 0)  # value = 0.<digits> * 10**point
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    digits = significant.rstrip("0")
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        exponent = point - 1
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e-{-exponent}" if exponent < 0 else f"{sign}{head}e+{exponent:02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_quote(text: str) -> str:
    """A JSON string the way Go's encoding/json writes it with HTML escaping off: \\b \\f \\n
    \\r \\t short escapes, other control characters as \\u00XX, U+2028/U+2029 escaped, and each
    byte that is not UTF-8 as \\ufffd."""
    quoted: str = encode_basestring(text)
    if not quoted.isascii():
        quoted = quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        quoted = _LONE_SURROGATE.sub(r"\\ufffd", quoted)
    return quoted


def _go_json(value: AnyValue) -> str:
    """pcommon.Value.AsRaw() marshalled by Go's encoding/json (see `as_string` for the one
    deliberate difference: <, > and & are not HTML-escaped)."""
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, KvList):
        merged: dict[str, AnyValue] = {}
        for key, item in value:  # Map.AsRaw: a later duplicate key replaces an earlier one
            merged[key] = item
        ordered = sorted(merged.items(), key=lambda pair: exact_bytes(pair[0]))  # Go sorts map keys
        return "{" + ",".join(f"{_go_quote(key)}:{_go_json(item)}" for key, item in ordered) + "}"
    if isinstance(value, list):  # an array_value: a KvList, a list too, was handled above
        return "[" + ",".join(_go_json(cast(AnyValue, item)) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unsupported
        return _go_float(value)
    if isinstance(value, bytes):
        return '"' + base64.b64encode(value).decode("ascii") + '"'  # []byte marshals as base64
    return as_string(value)  # bool, int


# --- binary protobuf -------------------------------------------------------------------------------


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

    def request(self, now_ns: int, budget: int) -> list[Stream]:
        sink = _Sink(budget, now_ns)
        streams: list[Stream] = []
        for _, start, stop in _fields(self.buf, 0, len(self.buf), _REQUEST, {1: WIRE_LEN}):
            streams.append(self.resource_logs(start, stop, f"{_REQUEST} resource_logs {len(streams)}", sink))
        return streams

    def resource_logs(self, i: int, end: int, where: str, sink: _Sink) -> Stream:
        # Two passes over the fields, allocating nothing for the records: the resource may
        # come after its scope_logs on the wire, and is needed before them.
        known = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN}
        attributes: Attributes = []
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 1:  # sent twice, its attributes accumulate (message fields merge)
                resource_where = f"{where} resource"
                for _, a, b in _fields(self.buf, start, stop, resource_where, {1: WIRE_LEN}):
                    attributes.append(self.key_value(a, b, resource_where, 0))
        labels, resource_metadata = resource_stream(attributes)
        entries = sink.start_resource(resource_metadata)
        index = 0
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                self.scope_logs(start, stop, f"{where} scope_logs {index}", sink)
                index += 1
        return Stream(labels, entries)

    def scope_logs(self, i: int, end: int, where: str, sink: _Sink) -> None:
        name = version = ""
        attributes: Attributes = []
        dropped = records = 0
        most = sink.most_records()
        known = {1: WIRE_LEN, 2: WIRE_LEN, 3: WIRE_LEN}
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                records += 1
                if records > most:
                    raise _too_large()  # refused before any record is decoded
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
        sink.start_scope(scope_metadata(name, version, attributes, dropped))
        record_where = f"{where} log_records"
        for field, start, stop in _fields(self.buf, i, end, where, known):
            if field == 2:
                sink.add(self.log_record(start, stop, record_where))

    def log_record(self, i: int, end: int, where: str) -> _Record:
        """The hot loop: keys are dispatched whole (number and wire type), so a field this
        reader uses that arrives with another wire type falls through to the error below."""
        buf = self.buf
        record = _Record()
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
                if field == 0:
                    raise wire_error(where, "field number 0")
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


def decode_protobuf(buf: Bytes, *, now_ns: int, max_expanded_bytes: int) -> list[Stream]:
    """Streams from a binary ExportLogsServiceRequest; one stream per ResourceLogs."""
    return _Protobuf(buf).request(now_ns, max_expanded_bytes)


# --- OTLP JSON -------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)
_DIGITS = re.compile(r"-?[0-9]+\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{level}{suffix}": base + step
    for base, level in ((1, "TRACE"), (5, "DEBUG"), (9, "INFO"), (13, "WARN"), (17, "ERROR"), (21, "FATAL"))
    for step, suffix in enumerate(("", "2", "3", "4"))
} | {"SEVERITY_NUMBER_UNSPECIFIED": 0}


class _Invalid(Exception):
    """A JSON value of the wrong kind. Each enclosing level adds its place on the way out, so
    no location string is built for the documents that are fine."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.path: list[str] = []

    def at(self, place: str) -> _Invalid:
        self.path.append(place)
        return self


def _shown(value: object) -> str:
    """A short description of an unexpected JSON value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return json.dumps(value)[:40]


class _Json:
    """Reads one OTLP JSON document. Every string is put in the model's text form when the
    body holds a surrogate escape (the only way JSON can carry text that is not Unicode).
    Null means the field's default, as in proto3 JSON."""

    __slots__ = ("exact",)

    def __init__(self, exact: bool) -> None:
        self.exact = exact

    @staticmethod
    def field(obj: Mapping[str, Any], name: str, snake: str) -> Any:
        """A field by its lowerCamelCase name, else by its proto name (pdata reads both)."""
        value = obj.get(name)
        return obj.get(snake) if value is None else value

    @staticmethod
    def object(value: Any, name: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if type(value) is not dict:
            raise _Invalid(f"{name} must be an object, got {_shown(value)}")
        return value

    @staticmethod
    def array(value: Any, name: str) -> list[Any]:
        if value is None:
            return []
        if type(value) is not list:
            raise _Invalid(f"{name} must be an array, got {_shown(value)}")
        return value

    def string(self, value: Any, name: str) -> str:
        if value is None:
            return ""
        if type(value) is not str:
            raise _Invalid(f"{name} must be a string, got {_shown(value)}")
        return exact_text(value) if self.exact else value

    @staticmethod
    def integer(value: Any, bits: int, name: str, *, signed: bool = False) -> int:
        """A proto3 JSON integer: a number or a decimal string (64-bit ones are sent as strings)."""
        if value is None:
            return 0
        if type(value) is int:
            number = value
        elif type(value) is str and _DIGITS.match(value):
            number = int(value)
        else:
            raise _Invalid(f"{name} must be an integer, got {_shown(value)}")
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not low <= number <= high:
            raise _Invalid(f"{name} {number} is out of range")
        return number

    @staticmethod
    def double(value: Any) -> float:
        """A number, or a string holding one or NaN, Infinity, -Infinity (proto3 JSON)."""
        if type(value) in (int, float):
            try:
                return float(value)
            except OverflowError:
                pass
        elif type(value) is str:
            if value in _SPECIAL_DOUBLES:
                return _SPECIAL_DOUBLES[value]
            if _NUMBER.match(value):
                return float(value)
        raise _Invalid(f"doubleValue must be a number, got {_shown(value)}")

    @staticmethod
    def bytes_value(value: Any) -> bytes:
        """proto3 JSON bytes: standard or URL-safe base64, padding optional."""
        if type(value) is str:
            text = value.replace("-", "+").replace("_", "/")
            try:
                return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            except (binascii.Error, ValueError):
                pass
        raise _Invalid(f"bytesValue must be base64, got {_shown(value)}")

    @staticmethod
    def record_id(value: Any, size: int, name: str) -> bytes:
        """traceId / spanId: case-insensitive hex (the OTLP/HTTP JSON encoding), exactly `size`
        bytes or empty; pdata refuses any other length, so Loki answers 400."""
        if value is None or value == "":
            return b""
        if type(value) is not str or len(value) != 2 * size or not _HEX.match(value):
            raise _Invalid(f"{name} must be {2 * size} hex digits, got {_shown(value)}")
        return bytes.fromhex(value)

    def key_values(self, value: Any, depth: int) -> Attributes:
        pairs: Attributes = []
        for index, item in enumerate(self.array(value, "attributes")):
            obj = self.object(item, "attribute")
            key = self.string(obj.get("key"), "key")
            try:
                pairs.append((key, self.any_value(obj.get("value"), depth)))
            except _Invalid as exc:
                raise exc.at(f"attribute {index} {key[:64]!r}") from None
        return pairs

    def any_value(self, value: Any, depth: int) -> AnyValue:
        if depth >= MAX_DEPTH:
            raise _Invalid(f"AnyValue nested deeper than {MAX_DEPTH} levels")
        result: AnyValue = None
        for name, item in self.object(value, "value").items():  # the last oneof member wins
            kind = _ANY_VALUE_NAMES.get(name)
            if item is None or kind is None:
                continue
            if kind == "string":
                result = self.string(item, name)
            elif kind == "bool":
                if type(item) is not bool:
                    raise _Invalid(f"boolValue must be true or false, got {_shown(item)}")
                result = item
            elif kind == "int":
                result = self.integer(item, 64, name, signed=True)
            elif kind == "double":
                result = self.double(item)
            elif kind == "bytes":
                result = self.bytes_value(item)
            elif kind == "array":
                values = self.array(self.object(item, name).get("values"), "arrayValue values")
                result = [self.any_value(element, depth + 1) for element in values]
            else:
                result = KvList(self.key_values(self.object(item, name).get("values"), depth + 1))
        return result

    def request(self, doc: Any, now_ns: int, budget: int) -> list[Stream]:
        sink = _Sink(budget, now_ns)
        streams: list[Stream] = []
        top = self.object(doc, _REQUEST)
        for index, item in enumerate(self.array(self.field(top, "resourceLogs", "resource_logs"), "resourceLogs")):
            try:
                streams.append(self.resource_logs(item, sink))
            except _Invalid as exc:
                raise exc.at(f"resourceLogs {index}") from None
        return streams

    def resource_logs(self, value: Any, sink: _Sink) -> Stream:
        obj = self.object(value, "resourceLogs item")
        resource = self.object(obj.get("resource"), "resource")
        try:
            labels, resource_metadata = resource_stream(self.key_values(resource.get("attributes"), 0))
        except _Invalid as exc:
            raise exc.at("resource") from None
        entries = sink.start_resource(resource_metadata)
        for index, scope_logs in enumerate(self.array(self.field(obj, "scopeLogs", "scope_logs"), "scopeLogs")):
            try:
                self.scope_logs(scope_logs, sink)
            except _Invalid as exc:
                raise exc.at(f"scopeLogs {index}") from None
        return Stream(labels, entries)

    def scope_logs(self, value: Any, sink: _Sink) -> None:
        obj = self.object(value, "scopeLogs item")
        scope = self.object(obj.get("scope"), "scope")
        try:
            dropped = self.field(scope, "droppedAttributesCount", "dropped_attributes_count")
            metadata = scope_metadata(
                self.string(scope.get("name"), "name"),
                self.string(scope.get("version"), "version"),
                self.key_values(scope.get("attributes"), 0),
                self.integer(dropped, 32, "droppedAttributesCount"),
            )
        except _Invalid as exc:
            raise exc.at("scope") from None
        records = self.array(self.field(obj, "logRecords", "log_records"), "logRecords")
        if len(records) > sink.most_records():
            raise _too_large()  # refused before any record is decoded
        sink.start_scope(metadata)
        for index, item in enumerate(records):
            try:
                record = self.log_record(item)
            except _Invalid as exc:
                raise exc.at(f"logRecords {index}") from None
            sink.add(record)

    def log_record(self, value: Any) -> _Record:
        obj = self.object(value, "logRecords item")
        field = self.field
        record = _Record()
        body = obj.get("body")
        if type(body) is dict and len(body) == 1 and type(body.get("stringValue")) is str:
            record.body = self.string(body["stringValue"], "stringValue")  # the usual body
        elif body is not None:
            record.body = self.any_value(body, 0)
        record.time = self.integer(field(obj, "timeUnixNano", "time_unix_nano"), 64, "timeUnixNano")
        record.observed = self.integer(
            field(obj, "observedTimeUnixNano", "observed_time_unix_nano"), 64, "observedTimeUnixNano"
        )
        severity = field(obj, "severityNumber", "severity_number")
        if type(severity) is str and severity in _SEVERITY_NAMES:
            record.severity_number = _SEVERITY_NAMES[severity]  # pdata also takes the enum's name
        else:
            record.severity_number = self.integer(severity, 32, "severityNumber", signed=True)
        record.severity_text = self.string(field(obj, "severityText", "severity_text"), "severityText")
        attributes = obj.get("attributes")
        if attributes:
            record.attributes = self.key_values(attributes, 0)
        record.dropped = self.integer(
            field(obj, "droppedAttributesCount", "dropped_attributes_count"), 32, "droppedAttributesCount"
        )
        record.flags = self.integer(obj.get("flags"), 32, "flags")
        record.trace_id = self.record_id(field(obj, "traceId", "trace_id"), 16, "traceId")
        record.span_id = self.record_id(field(obj, "spanId", "span_id"), 8, "spanId")
        return record


_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ANY_VALUE_NAMES = {
    **dict.fromkeys(("stringValue", "string_value"), "string"),
    **dict.fromkeys(("boolValue", "bool_value"), "bool"),
    **dict.fromkeys(("intValue", "int_value"), "int"),
    **dict.fromkeys(("doubleValue", "double_value"), "double"),
    **dict.fromkeys(("bytesValue", "bytes_value"), "bytes"),
    **dict.fromkeys(("arrayValue", "array_value"), "array"),
    **dict.fromkeys(("kvlistValue", "kvlist_value"), "kvlist"),
}


def decode_json(body: Bytes, *, now_ns: int, max_expanded_bytes: int) -> list[Stream]:
    """Streams from an OTLP JSON ExportLogsServiceRequest; one stream per resourceLogs item."""
    doc, exact = parse_json(body, _JSON, "OTLP JSON body", reason="invalid_otlp")
    try:
        return _Json(exact).request(doc, now_ns, max_expanded_bytes)
    except _Invalid as exc:
        place = " ".join(reversed(exc.path))
        raise DecodeError(f"invalid OTLP JSON body ({place or _REQUEST}): {exc.why}", reason="invalid_otlp") from None


# --- answers ---------------------------------------------------------------------------------------


def _pb_tag(field: int, wire: int) -> bytes:
    return _pb_varint((field << 3) | wire)


def _pb_varint(value: int) -> bytes:
    value &= _U64 - 1
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _pb_len(field: int, payload: bytes) -> bytes:
    return _pb_tag(field, WIRE_LEN) + _pb_varint(len(payload)) + payload


def export_response(rejected: int, message: str, *, as_json: bool) -> bytes:
    """ExportLogsServiceResponse. partial_success (1: rejected_log_records int64,
    2: error_message) is set only when entries were rejected: the OTLP/HTTP specification
    requires it unset on full success."""
    if as_json:
        doc: dict[str, Any] = {}
        if rejected:
            doc["partialSuccess"] = {"rejectedLogRecords": str(rejected), "errorMessage": message}  # int64 -> string
        return json.dumps(doc, separators=(",", ":")).encode()
    if not rejected:
        return b""
    partial = _pb_tag(1, WIRE_VARINT) + _pb_varint(rejected) + (_pb_len(2, message.encode()) if message else b"")
    return _pb_len(1, partial)


#: HTTP status -> google.rpc.Code, as the collector's OTLP/HTTP receiver maps them
#: (opentelemetry-collector internal/httphelper NewStatusFromMsgAndHTTPCode).
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 12, 429: 8, 502: 14, 503: 14, 504: 14}
_GRPC_UNKNOWN = 2
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


def status(http_status: int, message: str, *, as_json: bool) -> bytes:
    """google.rpc.Status (1: code, 2: message, 3: details: repeated Any), the body the OTLP/HTTP
    specification requires for every 4xx and 5xx. A 400 carries a google.rpc.BadRequest
    detail (1: field_violations, each 2: description), as the specification recommends."""
    code = _GRPC_CODES.get(http_status, _GRPC_UNKNOWN)
    if as_json:
        doc: dict[str, Any] = {"code": code, "message": message}
        if http_status == 400:
            doc["details"] = [{"@type": _BAD_REQUEST_TYPE, "fieldViolations": [{"description": message}]}]
        return json.dumps(doc, separators=(",", ":")).encode()
    encoded = _pb_tag(1, WIRE_VARINT) + _pb_varint(code) + _pb_len(2, message.encode("utf-8", "surrogateescape"))
    if http_status == 400:
        violation = _pb_len(2, message.encode("utf-8", "surrogateescape"))
        detail = _pb_len(1, _BAD_REQUEST_TYPE.encode()) + _pb_len(2, _pb_len(1, violation))
        encoded += _pb_len(3, detail)
    return encoded


Decoder: TypeAlias = Callable[..., list[Stream]]
#: Media type -> decoder (the OTLP/HTTP specification's two encodings).
DECODERS: dict[str, Decoder] = {PROTOBUF_MEDIA_TYPE: decode_protobuf, JSON_MEDIA_TYPE: decode_json}

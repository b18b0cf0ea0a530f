"""OTLP logs -> streams, mapped the way Loki 3 maps OTLP by default. The two decoders
(protobuf_body.py, json_body.py) read the wire formats; this module turns what they read into
streams and entries.

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
* the time: time_unix_nano, else observed_time_unix_nano, else the time of receipt plus the
  record's index among the request's records with neither (0, 1, 2, ... ns in request order):
  Loki calls time.Now() per record, so records that differ only in attributes keep distinct ids;
* then, as Loki's distributor adds it to every validated entry, `detected_level` (levels.py),
  last and not counted against the structured-metadata limits.

Resource and scope metadata are held once (ingest/model.py's SharedTail) and every entry of
the scope refers to them: a request of many records and a large resource costs the resource
once, not once per record. Validation and the stored records are those of copied metadata.

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
collector's pdata does. Strings keep the exact bytes sent (ingest/model.py's text invariant).
"""

from __future__ import annotations

import re
from functools import lru_cache

from loki_ingest.decoding.otlp import levels
from loki_ingest.decoding.otlp.anyvalue import AnyValue, Attributes, KvList, as_string
from loki_ingest.errors import PayloadTooLarge
from loki_ingest.ingest.budget import Budget
from loki_ingest.ingest.model import Entry, LabelPairs, Metadata, SharedPairs, SharedTail, TailedMetadata
from loki_ingest.wire import INT64_MAX

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

#: The message every error in a request names first.
REQUEST = "ExportLogsServiceRequest"


_U64 = 1 << 64


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


class FlatRoom:
    """The bytes flattened names and values may still take in one request: the expansion
    budget, checked before each leaf's name is built, since a long kvlist key is copied into
    the name of every leaf under it (a 1 MB body could otherwise build gigabytes of names)."""

    __slots__ = ("left",)

    def __init__(self, left: int | float) -> None:
        self.left = left

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise too_large()


UNBOUNDED = FlatRoom(float("inf"))


def flatten(key: str, value: AnyValue, prefix: str = "", room: FlatRoom = UNBOUNDED) -> list[tuple[str, str]]:
    """Loki's attributeToLabels: a kvlist value is flattened into one pair per leaf, names
    joined with "_" (`a: {b: 1}` -> `a_b="1"`); any other value is one pair."""
    room.spend(len(prefix) + 1 + len(key))
    name = normalize_label(f"{prefix}_{key}" if prefix else key)
    if type(value) is KvList:
        pairs: list[tuple[str, str]] = []
        for inner_key, inner in value:
            pairs.extend(flatten(inner_key, inner, name, room))
        return pairs
    return [(name, as_string(value))]


def resource_stream(attributes: Attributes, room: FlatRoom = UNBOUNDED) -> tuple[LabelPairs, Metadata]:
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
        pairs = flatten(key, value, room=room)
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


def scope_metadata(
    name: str, version: str, attributes: Attributes, dropped: int, room: FlatRoom = UNBOUNDED
) -> list[tuple[str, str]]:
    metadata = [pair for key, value in attributes for pair in flatten(key, value, room=room)]
    if name:
        metadata.append(("scope_name", name))
    if version:
        metadata.append(("scope_version", version))
    if dropped:
        metadata.append(("scope_dropped_attributes_count", str(dropped)))
    return metadata


def too_large() -> PayloadTooLarge:
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


class LogRecord:
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


class _Levels:
    """What level detection needs of a shared tail, computed once per resource and scope: the
    first value of each level field (levels.first_values) and the tail with an existing
    detected_level normalised (Loki normalises that pair in place), built only if one needs it."""

    __slots__ = ("fields", "normalized", "tail")

    def __init__(self, tail: SharedTail, resource_fields: dict[str, str], scope: Metadata) -> None:
        self.tail = tail
        # The resource's fields are read once per resource, not once per scope.
        self.fields = {**levels.first_values(scope), **resource_fields} if scope else resource_fields
        self.normalized: SharedTail | None = None

    def with_normalized_level(self) -> SharedTail:
        if self.normalized is None:
            parts = list(self.tail.parts)
            for index, part in enumerate(parts):
                for at, (name, value) in enumerate(part.pairs):
                    if name == levels.DETECTED_LEVEL:
                        pairs = list(part.pairs)
                        pairs[at] = (name, levels.normalize(value))
                        parts[index] = SharedPairs(tuple(pairs))
                        break
                else:
                    continue
                break
            self.normalized = SharedTail(*parts)
        return self.normalized


class Collector:
    """Collects the entries of a request and enforces its expansion budget. Every resource,
    scope and record costs ENTRY_OVERHEAD_BYTES, and every record its line and its structured
    metadata (the resource and scope attributes count once per record, as they are stored with
    every record), against the decompressed-size cap: a request is refused (413) as soon as it
    would build more.

    The resource's and the scope's metadata are held once (model.SharedTail) and every entry
    refers to them; each entry gets Loki's detected_level (levels.py) after its own pairs and
    that tail. A record without a time gets the receipt time plus its index among such records
    in the request, as Loki reads the clock once per record."""

    __slots__ = (
        "entries",
        "flat",
        "left",
        "levels",
        "now_ns",
        "resource",
        "resource_fields",
        "resource_size",
        "tail",
        "tail_size",
        "untimed",
        "work",
    )

    def __init__(self, left: int, now_ns: int, work: Budget | None = None) -> None:
        self.work = work  # the push's work budget: scanning a line for its level is charged
        self.left = left
        self.flat = FlatRoom(left)
        self.now_ns = now_ns
        self.untimed = 0
        self.entries: list[Entry] = []
        self.resource = SharedPairs(())
        self.resource_size = self.tail_size = 0
        self.tail = SharedTail()
        self.resource_fields: dict[str, str] = {}
        self.levels = _Levels(self.tail, {}, ())

    def charge(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise too_large()

    def start_resource(self, metadata: Metadata) -> list[Entry]:
        self.charge(ENTRY_OVERHEAD_BYTES)
        self.entries = []
        self.resource = SharedPairs(metadata)
        self.resource_fields = levels.first_values(metadata)
        self.resource_size = _size(metadata) + ENTRY_OVERHEAD_BYTES
        return self.entries

    def most_records(self) -> int:
        """How many records of the current resource the budget can still hold, at the least
        each one costs: a scope with more is refused before any is decoded."""
        return self.left // self.resource_size

    def start_scope(self, scope: list[tuple[str, str]]) -> None:
        self.charge(ENTRY_OVERHEAD_BYTES)
        pairs = tuple(scope)
        self.tail = SharedTail(self.resource, SharedPairs(pairs)) if pairs else SharedTail(self.resource)
        self.tail_size = self.resource_size + _size(scope)
        self.levels = _Levels(self.tail, self.resource_fields, pairs)

    def add(self, record: LogRecord) -> None:
        """Loki's otlpLogToPushEntry, then its distributor's detected_level."""
        metadata: list[tuple[str, str]] = []
        append = metadata.append
        if record.attributes:
            for key, value in record.attributes:
                if isinstance(value, str):
                    append((normalize_label(key), value))
                else:
                    metadata.extend(flatten(key, value, room=self.flat))
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
        for name, value in metadata:
            size += len(name) + len(value)
        self.charge(size)
        if time_ns or observed:
            timestamp = _int64(time_ns or observed)
        else:
            timestamp = self.now_ns + self.untimed
            self.untimed += 1
        own = tuple(metadata)
        tail = self.tail
        added: Metadata = ()
        level = self.detected_level(own, line)
        if level is None:  # the entry has its own detected_level: normalised where it is
            for at, (name, value) in enumerate(own):
                if name == levels.DETECTED_LEVEL:
                    own = (*own[:at], (name, levels.normalize(value)), *own[at + 1 :])
                    break
            else:
                tail = self.levels.with_normalized_level()
        elif level:
            added = ((levels.DETECTED_LEVEL, level),)
        self.entries.append((timestamp, line, TailedMetadata(own, tail, added)))

    def detected_level(self, own: Metadata, line: str) -> str | None:
        """Loki's extractLogLevel for this entry: None when it has a detected_level already,
        "" when none is added. OTLP stream labels never hold a level field (they are the
        INDEX_LABELS and service_name), so only the metadata is read."""
        fields = self.levels.fields
        if own:
            mine = levels.first_values(own)
            if mine:
                fields = {**fields, **mine}
        if levels.DETECTED_LEVEL in fields:
            return None
        level = levels.from_fields({}, fields)
        if level is not None:
            return level
        return levels.from_line(line) if self.work is None else levels.from_line(line, self.work.charge)

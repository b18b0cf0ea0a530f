"""The pushes of issue 21 (hostile shapes within the wire caps, and the default Promtail/Alloy
batches), built by hand so each is exactly the shape measured there. Shared by the fuzz tests
(tests/fuzz/test_work_budget.py) and the measurements: bench/limits.py runs every one, and
bench/shapes.py builds its per-element pushes from these builders where it can.

Every builder returns a Push: the route, the body as sent, its Content-Type and
Content-Encoding, and how many entries it carries when it is valid.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import NamedTuple

from tests.support.logproto import snappy_block
from tests.support.wire import varint

MIB = 1 << 20
#: The default MAX_DECOMPRESSED_BYTES: the hostile shapes fill it.
CAP = 16 * MIB
NOW_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
LOKI = "/loki/api/v1/push"
OTLP = "/otlp/v1/logs"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class Push(NamedTuple):
    path: str
    body: bytes
    content_type: str
    content_encoding: str | None
    entries: int = 0  # entries a valid push carries (0: not meant to be accepted)


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def _repeat_to(unit: bytes, size: int) -> bytes:
    return unit * (size // len(unit))


# --- OTLP: empty attributes and values cost nothing in the size accounting --------------------


def otlp_empty_record_attributes(size: int = CAP) -> Push:
    """One log record with `size`/2 empty KeyValue attributes (0x32 0x00 each)."""
    record = _repeat_to(b"\x32\x00", size - 64)
    body = ld(1, ld(2, ld(2, record)))  # ResourceLogs.scope_logs.log_records
    return Push(OTLP, gzip.compress(body, 9), PROTOBUF, "gzip")


def otlp_empty_record_attributes_json(size: int = CAP) -> Push:
    """The JSON form: one record whose "attributes" is a list of `size`/3 empty objects."""
    count = (size - 128) // 3
    body = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[' + b"{}," * (count - 1) + b"{}]}]}]}]}"
    return Push(OTLP, gzip.compress(body, 9), JSON, "gzip")


def otlp_empty_resource_attributes(attributes: int = 1_000_000, records: int = 100) -> Push:
    """A million empty resource attributes, and a hundred one-attribute records: each record
    would copy the resource's attributes."""
    resource = ld(1, b"\x0a\x00" * attributes)  # Resource.attributes, each an empty KeyValue
    record = ld(2, ld(5, ld(1, b"x")) + ld(6, ld(1, b"k") + ld(2, ld(1, b"v"))))
    body = ld(1, resource + ld(2, record * records))
    return Push(OTLP, gzip.compress(body, 9), PROTOBUF, "gzip")


def otlp_empty_array_values(size: int = CAP) -> Push:
    """One record whose body is an array of `size`/2 empty AnyValues (0x0a 0x00 each)."""
    array = _repeat_to(b"\x0a\x00", size - 64)
    body = ld(1, ld(2, ld(2, ld(5, ld(5, array)))))  # LogRecord.body.array_value.values
    return Push(OTLP, gzip.compress(body, 9), PROTOBUF, "gzip")


def otlp_records_with_attributes(records: int = 27_413, attributes: int = 119) -> Push:
    """Valid records each with `attributes` one-letter attributes (empty values): 16 MiB."""
    attribute = ld(6, ld(1, b"a"))
    record = b"\x09" + (NOW_NS).to_bytes(8, "little") + ld(5, ld(1, b"x")) + attribute * attributes
    body = ld(1, ld(2, ld(2, record) * records))
    return Push(OTLP, gzip.compress(body, 9), PROTOBUF, "gzip", records)


# --- Loki protobuf ---------------------------------------------------------------------------------


def timestamp(ns: int) -> bytes:
    """A google.protobuf.Timestamp field (field 1) of `ns` nanoseconds since the epoch."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return ld(1, b"\x08" + varint(seconds) + (b"\x10" + varint(nanos) if nanos else b""))


def loki_entries_with_metadata(entries: int = 25_653, pairs: int = 128) -> Push:
    """Valid entries, all alike: a 1-byte line and `pairs` metadata pairs named "a" (the
    default limit is 128), 16 MiB in all; gzip around the snappy block makes it a few KB."""
    entry = ld(2, timestamp(NOW_NS) + ld(2, b"x") + ld(3, ld(1, b"a")) * pairs)
    body = ld(1, ld(1, b'{app="x"}') + entry * entries)
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip", entries)


def loki_empty_metadata_pairs(size: int = CAP) -> Push:
    """One entry with `size`/2 empty metadata pairs (0x1a 0x00 each)."""
    entry = timestamp(NOW_NS) + ld(2, b"x") + _repeat_to(b"\x1a\x00", size - 64)
    body = ld(1, ld(1, b'{app="x"}') + ld(2, entry))
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


# --- Loki JSON -------------------------------------------------------------------------------------


def json_unused_values(size: int = CAP) -> Push:
    """`{"x":[{},{},...],"streams":[]}`: millions of values the decoder never looks at."""
    count = (size - 64) // 3
    body = b'{"x":[' + b"{}," * (count - 1) + b'{}],"streams":[]}'
    return Push(LOKI, gzip.compress(body, 9), JSON, "gzip")


def json_lone_surrogate_and_values(size: int = CAP) -> Push:
    """One lone-surrogate escape and millions of (empty) entries: the text-form walk over the
    whole document ran before the entry cap."""
    count = (size - 128) // 3
    body = b'{"streams":[{"stream":{"a":"\\ud800"},"values":[' + b"[]," * (count - 1) + b"[]]}]}"
    return Push(LOKI, gzip.compress(body, 9), JSON, "gzip")


def json_duplicate_label_keys(size: int = CAP) -> Push:
    """A label object with millions of repetitions of one key."""
    count = (size - 128) // 6
    labels = b'"a":1,' * (count - 1) + b'"a":1'
    body = b'{"streams":[{"stream":{' + labels + b'},"values":[["' + str(NOW_NS).encode() + b'","x"]]}]}'
    return Push(LOKI, gzip.compress(body, 9), JSON, "gzip")


# --- review of the budget: leaf fields repeated, depth, quadratic scans, shared pairs ------------


def _loki_entry_with(fields: bytes) -> Push:
    body = ld(1, ld(1, b'{app="x"}') + ld(2, timestamp(NOW_NS) + ld(2, b"x") + fields))
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def loki_repeated_line_field(size: int = CAP) -> Push:
    """One entry whose line field (`12 00`, empty) repeats millions of times: each is read."""
    return _loki_entry_with(_repeat_to(b"\x12\x00", size - 64))


def loki_repeated_timestamp_seconds(size: int = CAP) -> Push:
    """One entry whose timestamp's seconds field (`08 00`) repeats millions of times."""
    timestamp = ld(1, _repeat_to(b"\x08\x00", size - 64))
    body = ld(1, ld(1, b'{app="x"}') + ld(2, timestamp + ld(2, b"x")))
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def loki_repeated_pair_name(size: int = CAP) -> Push:
    """One metadata pair whose name field (`0a 00`) repeats millions of times."""
    return _loki_entry_with(ld(3, _repeat_to(b"\x0a\x00", size - 64) + ld(2, b"v")))


def loki_repeated_stream_labels(size: int = CAP) -> Push:
    """One stream whose labels field (`0a 00`, empty) repeats millions of times."""
    entry = ld(2, timestamp(NOW_NS) + ld(2, b"x"))
    body = ld(1, _repeat_to(b"\x0a\x00", size - 64) + ld(1, b'{app="x"}') + entry)
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def loki_repeated_stream_hash(size: int = CAP) -> Push:
    """One stream whose (ignored) hash field (`18 00`) repeats millions of times."""
    entry = ld(2, timestamp(NOW_NS) + ld(2, b"x"))
    body = ld(1, ld(1, b'{app="x"}') + _repeat_to(b"\x18\x00", size - 64) + entry)
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def _otlp_record_with(fields: bytes) -> Push:
    record = b"\x09" + NOW_NS.to_bytes(8, "little") + ld(5, ld(1, b"x")) + fields
    return Push(OTLP, gzip.compress(ld(1, ld(2, ld(2, record))), 9), PROTOBUF, "gzip")


def otlp_repeated_severity(size: int = CAP) -> Push:
    """One record whose severity_number (`10 00`) repeats millions of times."""
    return _otlp_record_with(_repeat_to(b"\x10\x00", size - 64))


def otlp_repeated_trace_id(size: int = CAP) -> Push:
    """One record whose trace_id (`4a 00`, empty) repeats millions of times."""
    return _otlp_record_with(_repeat_to(b"\x4a\x00", size - 64))


def otlp_repeated_attribute_key(size: int = CAP) -> Push:
    """One attribute whose key (`0a 00`) repeats millions of times."""
    return _otlp_record_with(ld(6, _repeat_to(b"\x0a\x00", size - 64)))


def otlp_deep_kvlists(depth: int = 42, size: int = CAP) -> Push:
    """Millions of empty KeyValues inside a kvlist nested `depth` levels (3 messages a level):
    below the walk's old depth cap, where nothing was charged."""
    inner = _repeat_to(b"\x0a\x00", size - 16 * depth - 64)  # KeyValueList.values, empty
    for _ in range(depth):
        inner = ld(1, ld(2, ld(6, inner)))  # KeyValue.value -> AnyValue.kvlist_value -> KeyValueList
    return _otlp_record_with(ld(6, ld(2, ld(6, inner))))


def json_unterminated_escaped_quotes(size: int = CAP) -> Push:
    """`"` then `\\",` repeated and never closed: a backtracking string pattern retries from
    every quote (quadratic)."""
    body = b'"' + _repeat_to(b'\\",', size // 2) + _repeat_to(b",", size // 2 - 8)
    return Push(LOKI, gzip.compress(body, 9), JSON, "gzip")


def otlp_shared_pairs_not_spliced(attributes: int = 120, records: int = 40_000) -> Push:
    """Resource attributes with one name repeated (so the rendered tail cannot be spliced in)
    and many records: each record renders every shared pair again (120 pairs, within Loki's 128
    per entry, x 40,000 records is 4.8M pair renders and only 12 MB of expansion)."""
    resource = ld(1, ld(1, ld(1, b"k") + ld(2, ld(1, b"v"))) * attributes)
    record = ld(2, b"\x09" + NOW_NS.to_bytes(8, "little") + ld(5, ld(1, b"x")))
    body = ld(1, resource + ld(2, record * records))
    return Push(OTLP, gzip.compress(body, 9), PROTOBUF, "gzip")


# --- line content parsed token by token: level scans (OTLP) and the JSON-object check -----------

_LINE = 256 * 1024 - 64


def _otlp_lines(lines: list[bytes]) -> Push:
    records = b"".join(
        ld(2, b"\x09" + (NOW_NS + i).to_bytes(8, "little") + ld(5, ld(1, line))) for i, line in enumerate(lines)
    )
    return Push(OTLP, gzip.compress(ld(1, ld(2, records)), 9), PROTOBUF, "gzip")


def otlp_logfmt_lines_with_a_level_key(lines: int = 60) -> Push:
    """256 KiB lines of one-letter logfmt keys ending in level=info: scanned key by key."""
    return _otlp_lines([_repeat_to(b"a ", _LINE) + b"level=info"] * lines)


def otlp_json_lines_with_a_level_key(lines: int = 60) -> Push:
    """256 KiB JSON-object lines of empty objects with a "level" key: parsed twice per line."""
    return _otlp_lines([b'{"a":[' + _repeat_to(b"{},", _LINE) + b'{}],"level":"x"}'] * lines)


def loki_json_object_lines(lines: int = 60) -> Push:
    """256 KiB JSON-object lines of empty objects: each strictly parsed before it is stored."""
    line = b'{"a":[' + _repeat_to(b"{},", _LINE) + b"{}]}"
    entries = b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, line)) for i in range(lines))
    return Push(LOKI, gzip.compress(snappy_block(ld(1, ld(1, b'{app="x"}') + entries)), 9), PROTOBUF, "gzip")


def loki_labels_to_escape(streams: int = 520) -> Push:
    """Streams of 15 labels whose values are 2,040 DEL characters: the canonical form quotes
    each character on its own (Go's strconv.Quote escapes it)."""
    labels = "{" + ", ".join(f'l{i}="' + "\x7f" * 2040 + '"' for i in range(15)) + "}"
    body = b"".join(
        ld(1, ld(1, labels.encode() + b" " * n) + ld(2, timestamp(NOW_NS) + ld(2, b"x"))) for n in range(streams)
    )
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def _brackets(prefix: bytes) -> bytes:
    """A 256 KiB JSON-object line that is nearly all brackets (`[[[...]]],` repeated): few
    "," and ":" but hundreds of thousands of values for the strict parse to step through."""
    unit = b"[" * 20 + b"]" * 20 + b","
    return prefix + b'"a":[' + _repeat_to(unit, _LINE - 40) + b"[]]}"


def otlp_bracket_lines_with_a_level_key(lines: int = 63) -> Push:
    """Review 4: bracket lines with a "level" key, parsed for the level and again to be stored."""
    return _otlp_lines([_brackets(b'{"level":"x",')] * lines)


def loki_bracket_object_lines(lines: int = 60) -> Push:
    """Review 4: the same lines in a Loki push, each strictly parsed before it is stored."""
    line = _brackets(b"{")
    entries = b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, line)) for i in range(lines))
    return Push(LOKI, gzip.compress(snappy_block(ld(1, ld(1, b'{app="x"}') + entries)), 9), PROTOBUF, "gzip")


#: A varint at its longest (10 bytes; the value 2^63) and a key spelled in 10 bytes.
_LONG_VALUE = b"\xff" * 9 + b"\x01"
_LONG_SEVERITY_KEY = bytes([0x90]) + b"\x80" * 8 + b"\x00"  # field 2 (severity_number), varint


def otlp_ten_byte_varints(size: int = CAP) -> Push:
    """Review 4: one record whose severity_number repeats with 10-byte keys and values: each
    byte of them is a Python step, in the walk and in the decoder."""
    record = b"\x09" + NOW_NS.to_bytes(8, "little") + _repeat_to(_LONG_SEVERITY_KEY + _LONG_VALUE, size - 64)
    return Push(OTLP, gzip.compress(ld(1, ld(2, ld(2, record))), 9), PROTOBUF, "gzip")


def loki_ten_byte_timestamp_seconds(size: int = CAP) -> Push:
    """Review 4: one entry whose timestamp's seconds field repeats with 10-byte values."""
    return _loki_entry_with(ld(1, _repeat_to(b"\x08" + _LONG_VALUE, size - 64)))


def loki_entries_then_object_lines(entries: int = 290_000, lines: int = 30) -> Push:
    """Review 4: entries whose decoding fits the budget, then lines whose strict parse does
    not: refused only after decoding, unless the pre-pass charges the lines too."""
    tiny = b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, b"x")) for i in range(entries))
    line = b'{"a":[' + _repeat_to(b"0,", 240_000) + b"0]}"
    objects = b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, line)) for i in range(lines))
    body = ld(1, ld(1, b'{app="x"}') + tiny + objects)
    return Push(LOKI, gzip.compress(snappy_block(body), 9), PROTOBUF, "gzip")


def loki_one_endless_varint(size: int = CAP) -> Push:
    """Review 4: an unknown varint field (15) whose value never ends: 16 MiB of 0x80. Malformed
    (400), and the walk must not step through all of it to say so."""
    return Push(LOKI, gzip.compress(snappy_block(b"\x78" + b"\x80" * (size - 16) + b"\x00"), 9), PROTOBUF, "gzip")


def loki_repeated_parsed_field(size: int = CAP) -> Push:
    """Review 5: an entry's `parsed` field (4, which the decoder reads pair by pair as it does
    structured metadata) full of empty names (`0a 00`): the walk must charge it too."""
    return _loki_entry_with(ld(4, _repeat_to(b"\x0a\x00", size - 128)))


def otlp_flattened_long_prefix(key_bytes: int = 1_000_000, leaves: int = 1200) -> Push:
    """Review 5: a kvlist attribute with a 1 MB key and 1,200 leaves of distinct keys: each
    leaf's flattened name copies the key (1.2 GB of names from a 1 MB body)."""
    inner = b"".join(ld(1, ld(1, b"%d" % j) + ld(2, ld(1, b"v"))) for j in range(leaves))
    return _otlp_record_with(ld(6, ld(1, b"k" * key_bytes) + ld(2, ld(6, inner))))


# --- the default Promtail / Alloy batch: 1 MiB of line bytes -----------------------------------------


def client_batch(line_bytes: int, encoding: str) -> Push:
    """A default-configured Promtail/Alloy batch (batch_size 1 MiB of line bytes) of
    `line_bytes`-byte lines in one stream, as snappy protobuf or as JSON."""
    return batch_of([f"{i:0{line_bytes}x}"[-line_bytes:] for i in range(MIB // line_bytes)], encoding)


def json_object_line(i: int) -> str:
    """A JSON-object log line of thirty small number fields: about the most structure per
    byte a real logger writes (each `,` `:` `{` is charged by the budget's pre-pass)."""
    return json.dumps({"seq": i, **{f"k{j}": j for j in range(29)}}, separators=(",", ":"))


def json_object_batch(encoding: str, line_bytes: int = MIB) -> Push:
    """A 1 MiB Promtail/Alloy batch of `json_object_line`s."""
    lines: list[str] = []
    while sum(map(len, lines)) < line_bytes:
        lines.append(json_object_line(len(lines)))
    return batch_of(lines, encoding)


def batch_of(lines: list[str], encoding: str) -> Push:
    """`lines` in one stream at NOW_NS + their index, as snappy protobuf or as gzipped JSON."""
    if encoding == "protobuf":
        entries = b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, line.encode())) for i, line in enumerate(lines))
        return Push(LOKI, snappy_block(ld(1, ld(1, b'{job="batch"}') + entries)), PROTOBUF, None, len(lines))
    doc = {
        "streams": [{"stream": {"job": "batch"}, "values": [[str(NOW_NS + i), line] for i, line in enumerate(lines)]}]
    }
    return Push(LOKI, gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), 6), JSON, "gzip", len(lines))


#: The hostile shapes of issue 21 by name, each with what it should get once every element is
#: charged against the work budget.
HOSTILE: dict[str, Callable[[], Push]] = {
    "otlp-empty-record-attributes": otlp_empty_record_attributes,
    "otlp-empty-record-attributes-json": otlp_empty_record_attributes_json,
    "otlp-empty-resource-attributes": otlp_empty_resource_attributes,
    "otlp-empty-array-values": otlp_empty_array_values,
    "otlp-27413-records-x-119-attributes": otlp_records_with_attributes,
    "loki-25653-entries-x-128-metadata": loki_entries_with_metadata,
    "loki-empty-metadata-pairs": loki_empty_metadata_pairs,
    "json-unused-values": json_unused_values,
    "json-lone-surrogate-and-values": json_lone_surrogate_and_values,
    "json-duplicate-label-keys": json_duplicate_label_keys,
    "loki-repeated-line-field": loki_repeated_line_field,
    "loki-repeated-timestamp-seconds": loki_repeated_timestamp_seconds,
    "loki-repeated-pair-name": loki_repeated_pair_name,
    "loki-repeated-stream-labels": loki_repeated_stream_labels,
    "loki-repeated-stream-hash": loki_repeated_stream_hash,
    "otlp-repeated-severity": otlp_repeated_severity,
    "otlp-repeated-trace-id": otlp_repeated_trace_id,
    "otlp-repeated-attribute-key": otlp_repeated_attribute_key,
    "otlp-deep-kvlists": otlp_deep_kvlists,
    "otlp-shared-pairs-not-spliced": otlp_shared_pairs_not_spliced,
    "otlp-logfmt-lines-with-a-level-key": otlp_logfmt_lines_with_a_level_key,
    "otlp-json-lines-with-a-level-key": otlp_json_lines_with_a_level_key,
    "loki-json-object-lines": loki_json_object_lines,
    "loki-labels-to-escape": loki_labels_to_escape,
    "otlp-bracket-lines-with-a-level-key": otlp_bracket_lines_with_a_level_key,
    "loki-bracket-object-lines": loki_bracket_object_lines,
    "otlp-ten-byte-varints": otlp_ten_byte_varints,
    "loki-ten-byte-timestamp-seconds": loki_ten_byte_timestamp_seconds,
    "loki-entries-then-object-lines": loki_entries_then_object_lines,
    "loki-repeated-parsed-field": loki_repeated_parsed_field,
    "otlp-flattened-long-prefix": otlp_flattened_long_prefix,
}

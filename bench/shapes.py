"""Pushes made of one kind of element, n of them: what bench/elements.py measures per element and
bench/limits.py scales to the work budget. The hostile pushes of issue 21 and their wire helpers
live in tests/support/hostile.py; the shapes that are one of those at another size call it.

Every builder returns a Built: the Push (route, body as sent, Content-Type, Content-Encoding)
and how many elements of the measured kind it holds.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable
from typing import NamedTuple

import cramjam
from tests.support import hostile
from tests.support.hostile import JSON, LOKI, NOW_NS, OTLP, PROTOBUF, Push, ld, timestamp
from tests.support.logproto import snappy_block
from tests.support.wire import varint

LEGACY = "/api/prom/push"
TS = str(NOW_NS).encode()


class Built(NamedTuple):
    push: Push
    elements: int


Builder = Callable[[int], Built]


class Shape(NamedTuple):
    decoder: str  # the decoder (or Content-Encoding) whose element it is
    element: str
    build: Builder
    n: int  # elements in the larger push of bench/elements.py (the smaller has n // 4)
    note: str = ""


def decoder_of(push: Push) -> str:
    """The decoder a push goes through: loki-json-v1, loki-json-legacy, loki-protobuf, otlp-protobuf, otlp-json."""
    json = push.content_type == JSON
    if push.path == OTLP:
        return "otlp-json" if json else "otlp-protobuf"
    if push.path == LEGACY:
        return "loki-json-legacy"
    return "loki-json-v1" if json else "loki-protobuf"


def decompressed_size(push: Push) -> int:
    """Bytes the decoder sees after Content-Encoding (and snappy, for Loki protobuf)."""
    data = push.body
    if push.content_encoding == "gzip":
        data = gzip.decompress(data)
    elif push.content_encoding == "deflate":
        data = zlib.decompress(data, -15)
    if push.content_type == PROTOBUF and push.path != OTLP:
        data = bytes(cramjam.snappy.decompress_raw(data))
    return len(data)


def exact(make: Callable[[int], Push]) -> Builder:
    """A builder whose push holds exactly the n elements asked for."""
    return lambda n: Built(make(n), n)


def gz(path: str, raw: bytes, content_type: str = JSON) -> Push:
    return Push(path, gzip.compress(raw, 6), content_type, "gzip")


def loki_pb(raw: bytes, *, gzipped: bool = False) -> Push:
    block = snappy_block(raw)
    return Push(LOKI, gzip.compress(block, 6) if gzipped else block, PROTOBUF, "gzip" if gzipped else None)


# --- Loki JSON ---------------------------------------------------------------------------------------


def v1(values: Iterable[bytes], labels: bytes = b'{"app":"x"}') -> bytes:
    return b'{"streams":[{"stream":' + labels + b',"values":[' + b",".join(values) + b"]}]}"


def json_entries(n: int) -> Push:
    return gz(LOKI, v1(b'["%d","x"]' % (NOW_NS + i) for i in range(n)))


def json_streams(n: int) -> Push:
    streams = b",".join(b'{"stream":{"s":"%07d"},"values":[["%s","x"]]}' % (i, TS) for i in range(n))
    return gz(LOKI, b'{"streams":[' + streams + b"]}")


def json_metadata(n: int) -> Built:
    meta = b"{" + b",".join(b'"m%03d":"v"' % i for i in range(128)) + b"}"
    return Built(gz(LOKI, v1(b'["%d","x",%s]' % (NOW_NS + i, meta) for i in range(n // 128))), n // 128 * 128)


def json_unused(unit: bytes) -> Callable[[int], Push]:
    return lambda n: gz(LOKI, b'{"x":[' + b",".join([unit] * n) + b'],"streams":[]}')


def json_unused_keys(n: int) -> Push:
    return gz(LOKI, b'{"x":{' + b",".join(b'"k%07d":0' % i for i in range(n)) + b'},"streams":[]}')


def json_label_keys(n: int) -> Push:
    labels = b"{" + b",".join(b'"l%07d":"v"' % i for i in range(n)) + b"}"
    return gz(LOKI, v1([b'["%s","x"]' % TS], labels))


def legacy_entries(n: int) -> Push:
    entries = b",".join(b'{"ts":"2026-01-01T00:00:00.%09dZ","line":"x"}' % (i % 10**9) for i in range(n))
    return gz(LEGACY, b'{"streams":[{"labels":"{app=\\"x\\"}","entries":[' + entries + b"]}]}")


def legacy_streams(n: int) -> Push:
    streams = b",".join(
        b'{"labels":"{s=\\"%07d\\"}","entries":[{"ts":"2026-01-01T00:00:00Z","line":"x"}]}' % i for i in range(n)
    )
    return gz(LEGACY, b'{"streams":[' + streams + b"]}")


# --- Loki protobuf -----------------------------------------------------------------------------------


def pb_stream(labels: bytes, entries: bytes) -> bytes:
    return ld(1, ld(1, labels) + entries)


def pb_entries(n: int) -> Push:
    return loki_pb(pb_stream(b'{app="x"}', b"".join(ld(2, timestamp(NOW_NS + i) + ld(2, b"x")) for i in range(n))))


def pb_streams(n: int) -> Push:
    entry = ld(2, timestamp(NOW_NS) + ld(2, b"x"))
    return loki_pb(b"".join(pb_stream(b'{s="%07d"}' % i, entry) for i in range(n)))


def pb_metadata(n: int) -> Built:
    return Built(hostile.loki_entries_with_metadata(n // 128, 128), n // 128 * 128)


def pb_unknown_fields(n: int) -> Push:
    return loki_pb(pb_stream(b'{app="x"}', ld(2, timestamp(NOW_NS) + ld(2, b"x"))) + b"\x78\x00" * n, gzipped=True)


def pb_label_pairs(item: bytes) -> Callable[[int], Push]:
    entry = ld(2, timestamp(NOW_NS) + ld(2, b"x"))
    return lambda n: loki_pb(pb_stream(b"{" + item * n + b'z="1"}', entry), gzipped=True)


# --- OTLP --------------------------------------------------------------------------------------------


def otlp_request(records: bytes, resource: bytes = b"") -> bytes:
    return ld(1, (ld(1, resource) if resource else b"") + ld(2, records))


def otlp_record(extra: bytes = b"", ns: int = NOW_NS) -> bytes:
    return ld(2, b"\x09" + ns.to_bytes(8, "little") + ld(5, ld(1, b"x")) + extra)


def otlp_records(n: int) -> Push:
    return gz(OTLP, otlp_request(b"".join(otlp_record(ns=NOW_NS + i) for i in range(n))), PROTOBUF)


def otlp_attributes(n: int) -> Built:
    return Built(hostile.otlp_records_with_attributes(n // 119, 119), n // 119 * 119)


def otlp_resource_attributes(n: int) -> Built:
    resource = b"".join(ld(1, ld(1, b"r%03d" % i) + ld(2, ld(1, b"v"))) for i in range(100))
    return Built(gz(OTLP, otlp_request(otlp_record() * (n // 100), resource), PROTOBUF), n // 100 * 100)


def otlp_int_values(n: int) -> Push:
    return gz(OTLP, otlp_request(ld(2, ld(5, ld(5, ld(1, b"\x18\x01") * n)))), PROTOBUF)


def otlp_streams(n: int) -> Push:
    one = ld(1, ld(1, ld(1, ld(1, b"service.name") + ld(2, ld(1, b"s")))) + ld(2, otlp_record()))
    return gz(OTLP, one * n, PROTOBUF)


def otlp_unknown_fields(n: int) -> Push:
    return gz(OTLP, otlp_request(otlp_record(b"\x78\x00" * n)), PROTOBUF)


def otlp_json(records: Iterable[bytes], resource: bytes = b"[]") -> bytes:
    head = b'{"resourceLogs":[{"resource":{"attributes":' + resource + b'},"scopeLogs":[{"logRecords":['
    return head + b",".join(records) + b"]}]}]}"


def otlpj_records(n: int) -> Push:
    return gz(OTLP, otlp_json(b'{"timeUnixNano":"%d","body":{"stringValue":"x"}}' % (NOW_NS + i) for i in range(n)))


def otlpj_attributes(n: int) -> Built:
    attributes = b",".join([b'{"key":"a","value":{"stringValue":"v"}}'] * 119)
    record = b'{"timeUnixNano":"%s","body":{"stringValue":"x"},"attributes":[%s]}' % (TS, attributes)
    return Built(gz(OTLP, otlp_json([record] * (n // 119))), n // 119 * 119)


def otlpj_values(item: bytes) -> Callable[[int], Push]:
    def build(n: int) -> Push:
        values = b",".join([item] * n)
        return gz(OTLP, otlp_json([b'{"timeUnixNano":"%s","body":{"arrayValue":{"values":[%s]}}}' % (TS, values)]))

    return build


# --- Content-Encoding ---------------------------------------------------------------------------------


def gzip_members(n: int) -> Built:
    raw = v1(b'["%d","x"]' % (NOW_NS + i) for i in range(n * 8 // 28 + 1))
    members = [raw[i : i + 8] for i in range(0, len(raw), 8)]
    return Built(Push(LOKI, b"".join(gzip.compress(m, 1) for m in members), JSON, "gzip"), len(members))


def deflate_bytes(n: int) -> Built:
    raw = v1([b'["%s","%s"]' % (TS, b"y" * 200_000)] * (n // 200_000))  # n decompressed bytes of lines
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Built(Push(LOKI, compressor.compress(raw) + compressor.flush(), JSON, "deflate"), len(raw))


def snappy_elements(kind: str) -> Builder:
    """A Loki protobuf push whose snappy block is made of one kind of element: 1-byte literals,
    4-byte copies or 64-byte copies; the lines are 200 KB of a repeated 4-byte pattern."""
    out_per = {"literal-1": 1, "copy-4": 4, "copy-64": 64}[kind]
    line = b"abcd" * 50_000

    def build(n: int) -> Built:
        lines = max(1, n * out_per // len(line))
        entry = timestamp(NOW_NS) + varint(2 << 3 | 2) + varint(len(line))
        entry_key = varint(2 << 3 | 2) + varint(len(entry) + len(line))
        prefix = ld(1, b'{app="x"}')
        pieces: list[bytes] = []
        raw = bytearray()
        elements = 0

        def literal(data: bytes) -> None:
            raw.extend(data)
            for start in range(0, len(data), 60):
                chunk = data[start : start + 60]
                pieces.append(bytes([(len(chunk) - 1) << 2]) + chunk)

        literal(varint(1 << 3 | 2) + varint(len(prefix) + lines * (len(entry_key) + len(entry) + len(line))) + prefix)
        for _ in range(lines):
            literal(entry_key + entry)
            if kind == "literal-1":
                pieces.extend(b"\x00" + bytes([byte]) for byte in line)
                elements += len(line)
            else:
                literal(line[:4])
                rest = len(line) - 4
                if kind == "copy-4":
                    pieces.append(b"\x01\x04" * (rest // 4))  # copy, length 4, offset 4
                    elements += rest // 4
                else:
                    pieces.append(b"\xfe\x04\x00" * (rest // 64))  # copy, length 64, offset 4
                    elements += rest // 64
                    if rest % 64:
                        pieces.append(bytes([((rest % 64 - 1) << 2) | 2, 4, 0]))
                raw.extend(line[4:])
                continue
            raw.extend(line)
        return Built(Push(LOKI, varint(len(raw)) + b"".join(pieces), PROTOBUF, None), elements)

    return build


def _sized(make: Callable[[int], Push], per: int, overhead: int) -> Builder:
    """A hostile.py builder that takes a decompressed size, asked for n elements of `per` bytes."""
    return exact(lambda n: make(n * per + overhead))


SHAPES: list[Shape] = [
    Shape("loki-json-v1", "entry", exact(json_entries), 400_000, '["ts","x"]'),
    Shape("loki-json-v1", "stream", exact(json_streams), 40_000, "one entry each, distinct labels"),
    Shape("loki-json-v1", "metadata pair", json_metadata, 512_000, "128 per entry"),
    Shape("loki-json-v1", "label key", exact(json_label_keys), 400_000, "one label object (stream refused)"),
    Shape("loki-json-v1", "JSON value {}", _sized(hostile.json_unused_values, 3, 64), 2_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value []", exact(json_unused(b"[]")), 2_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value 0", exact(json_unused(b"0")), 4_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value 1.5", exact(json_unused(b"1.5")), 2_000_000, "unused key"),
    Shape("loki-json-v1", 'JSON value ""', exact(json_unused(b'""')), 2_000_000, "unused key"),
    Shape("loki-json-v1", "object key", exact(json_unused_keys), 1_000_000, "unused object"),
    Shape("loki-json-v1", "gzip member", gzip_members, 200_000, "8 bytes each"),
    Shape("loki-json-v1", "deflate byte", deflate_bytes, 16_000_000, "200 KB lines"),
    Shape("loki-json-legacy", "entry", exact(legacy_entries), 300_000, '{"ts":RFC 3339,"line":"x"}'),
    Shape("loki-json-legacy", "stream", exact(legacy_streams), 40_000, "labels string each"),
    Shape("loki-protobuf", "entry", exact(pb_entries), 800_000, "1-byte line"),
    Shape("loki-protobuf", "stream", exact(pb_streams), 100_000, "distinct label strings"),
    Shape("loki-protobuf", "metadata pair", pb_metadata, 1_024_000, "128 per entry, empty values"),
    Shape(
        "loki-protobuf",
        "metadata pair (empty)",
        _sized(hostile.loki_empty_metadata_pairs, 2, 64),
        4_000_000,
        "one entry (refused)",
    ),
    Shape("loki-protobuf", "unknown field", exact(pb_unknown_fields), 900_000, "2-byte varints"),
    Shape("loki-protobuf", "label pair", exact(pb_label_pairs(b'a="b", ')), 1_000_000, "one stream (refused)"),
    Shape("loki-protobuf", "label pair (empty value)", exact(pb_label_pairs(b'a="", ')), 1_000_000, "dropped"),
    Shape("loki-protobuf", "label pair (escaped value)", exact(pb_label_pairs(b'a="\\n", ')), 1_000_000, "one stream"),
    Shape("loki-protobuf", "snappy element (1-byte literal)", snappy_elements("literal-1"), 2_000_000, ""),
    Shape("loki-protobuf", "snappy element (4-byte copy)", snappy_elements("copy-4"), 2_000_000, ""),
    Shape("loki-protobuf", "snappy element (64-byte copy)", snappy_elements("copy-64"), 250_000, ""),
    Shape("otlp-protobuf", "record", exact(otlp_records), 300_000, "time + string body"),
    Shape("otlp-protobuf", "attribute", otlp_attributes, 238_000, "119 per record, empty values"),
    Shape(
        "otlp-protobuf",
        "attribute (empty)",
        _sized(hostile.otlp_empty_record_attributes, 2, 64),
        2_000_000,
        "one record (refused)",
    ),
    Shape("otlp-protobuf", "resource attribute x record", otlp_resource_attributes, 400_000, "100 per resource"),
    Shape("otlp-protobuf", "AnyValue (int)", exact(otlp_int_values), 2_000_000, "array body"),
    Shape("otlp-protobuf", "AnyValue (empty)", _sized(hostile.otlp_empty_array_values, 2, 64), 4_000_000, "array"),
    Shape("otlp-protobuf", "resource_logs", exact(otlp_streams), 40_000, "one record each"),
    Shape("otlp-protobuf", "unknown field", exact(otlp_unknown_fields), 900_000, "in a record"),
    Shape("otlp-json", "record", exact(otlpj_records), 200_000, ""),
    Shape("otlp-json", "attribute", otlpj_attributes, 238_000, "119 per record"),
    Shape(
        "otlp-json",
        "attribute (empty)",
        _sized(hostile.otlp_empty_record_attributes_json, 3, 128),
        2_000_000,
        "one record (refused)",
    ),
    Shape("otlp-json", "AnyValue (int)", exact(otlpj_values(b'{"intValue":"1"}')), 1_000_000, "array body"),
    Shape("otlp-json", "AnyValue (empty)", exact(otlpj_values(b"{}")), 2_000_000, "array body"),
]

"""What each decoded element costs the push path: the figures a work budget is built from (issue 21).

For every decoder and element kind (JSON value, object key, label token, metadata pair, entry,
stream, attribute, AnyValue, unknown protobuf field, gzip member, snappy element) one push is
built where that element dominates, at two sizes (n / 4 and n elements). Each goes through the
whole current push path (base64 event -> auth -> decode -> validate -> records -> packing into
Firehose batches, with a Firehose that accepts everything instantly) in a fresh interpreter,
with the caps raised so nothing stops it early. The difference between the two sizes gives:

* CPU microseconds per element and per decompressed byte (time.process_time, the median of
  `--repeats` runs of the push in that interpreter, so other processes on the machine cost it
  nothing), for the whole path and for decoding alone;
* peak Python memory per element (tracemalloc, in another fresh interpreter), and peak RSS
  growth per element (VmHWM over the first run, without tracemalloc).

Then the costliest shapes at 16 MiB decompressed with the default settings (what a client can
send today), including the pushes of the issue, and prototype pre-passes: how fast elements can
be counted before any decoding, which decides whether an over-budget push can be refused in
0.5 s while an in-budget one may take 3 s.

    python -m bench.elements [--quick] [--repeats 3] [--only SUBSTRING ...] [--skip-worst] [--skip-prepass]
                             [--output build/elements.json]

This module measures; it builds no budget. The pre-pass functions here are prototypes.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20
NOW_NS = 1_767_225_600_000_000_000
TS = str(NOW_NS).encode()
LOKI, LEGACY, OTLP = "/loki/api/v1/push", "/api/prom/push", "/otlp/v1/logs"
PROTOBUF, JSON = "application/x-protobuf", "application/json"

#: The caps raised for the per-element runs (the hostile runs keep the defaults).
UNCAPPED = {
    "max_body_bytes": 1 << 30,
    "max_decompressed_bytes": 1 << 30,
    "max_streams_per_push": 10_000_000,
    "max_entries_per_push": 100_000_000,
}


# --- wire helpers ------------------------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ld(field: int, payload: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def pb_timestamp(ns: int = NOW_NS) -> bytes:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return ld(1, b"\x08" + varint(seconds) + (b"\x10" + varint(nanos) if nanos else b""))


def snappy(raw: bytes) -> bytes:
    import cramjam

    return bytes(cramjam.snappy.compress_raw(raw))


def unsnappy(data: bytes) -> bytes:
    import cramjam

    return bytes(cramjam.snappy.decompress_raw(data))


@dataclass(frozen=True)
class Body:
    path: str
    data: bytes
    content_type: str
    encoding: str | None
    decompressed: int  # bytes the decoder sees after Content-Encoding (and snappy)
    elements: int = 0  # elements of the measured kind, when not the number asked for


def counted(body: Body, elements: int) -> Body:
    return dataclasses.replace(body, elements=elements)


def loki_pb(raw: bytes, *, gz: bool = False) -> Body:
    block = snappy(raw)
    return Body(LOKI, gzip.compress(block, 6) if gz else block, PROTOBUF, "gzip" if gz else None, len(raw))


def gz(path: str, raw: bytes, content_type: str = JSON) -> Body:
    return Body(path, gzip.compress(raw, 6), content_type, "gzip", len(raw))


def otlp_pb(raw: bytes) -> Body:
    return gz(OTLP, raw, PROTOBUF)


# --- shapes: n elements of one kind ---------------------------------------------------------------------


def v1(values: Iterable[bytes], labels: bytes = b'{"app":"x"}', extra: bytes = b"") -> bytes:
    return b'{"streams":[{"stream":' + labels + b',"values":[' + b",".join(values) + b"]}]" + extra + b"}"


def json_entries(n: int) -> Body:
    return gz(LOKI, v1(b'["%d","x"]' % (NOW_NS + i) for i in range(n)))


def json_streams(n: int) -> Body:
    streams = b",".join(b'{"stream":{"s":"%07d"},"values":[["%s","x"]]}' % (i, TS) for i in range(n))
    return gz(LOKI, b'{"streams":[' + streams + b"]}")


def json_metadata(n: int) -> Body:
    meta = b"{" + b",".join(b'"m%03d":"v"' % i for i in range(128)) + b"}"
    return counted(gz(LOKI, v1(b'["%d","x",%s]' % (NOW_NS + i, meta) for i in range(n // 128))), n // 128 * 128)


def json_unused(unit: bytes) -> Callable[[int], Body]:
    def build(n: int) -> Body:
        return gz(LOKI, b'{"x":[' + b",".join([unit] * n) + b'],"streams":[]}')

    return build


def json_unused_keys(n: int) -> Body:
    return gz(LOKI, b'{"x":{' + b",".join(b'"k%07d":0' % i for i in range(n)) + b'},"streams":[]}')


def json_label_keys(n: int) -> Body:
    labels = b"{" + b",".join(b'"l%07d":"v"' % i for i in range(n)) + b"}"
    return gz(LOKI, v1([b'["%s","x"]' % TS], labels))


def legacy_entries(n: int) -> Body:
    entries = b",".join(b'{"ts":"2026-01-01T00:00:00.%09dZ","line":"x"}' % (i % 10**9) for i in range(n))
    return gz(LEGACY, b'{"streams":[{"labels":"{app=\\"x\\"}","entries":[' + entries + b"]}]}")


def legacy_streams(n: int) -> Body:
    streams = b",".join(
        b'{"labels":"{s=\\"%07d\\"}","entries":[{"ts":"2026-01-01T00:00:00Z","line":"x"}]}' % i for i in range(n)
    )
    return gz(LEGACY, b'{"streams":[' + streams + b"]}")


def pb_stream(labels: bytes, entries: bytes) -> bytes:
    return ld(1, ld(1, labels) + entries)


def pb_entries(n: int) -> Body:
    return loki_pb(pb_stream(b'{app="x"}', b"".join(ld(2, pb_timestamp(NOW_NS + i) + ld(2, b"x")) for i in range(n))))


def pb_streams(n: int) -> Body:
    entry = ld(2, pb_timestamp() + ld(2, b"x"))
    return loki_pb(b"".join(pb_stream(b'{s="%07d"}' % i, entry) for i in range(n)))


def pb_metadata(n: int) -> Body:
    entry = ld(2, pb_timestamp() + ld(2, b"x") + ld(3, ld(1, b"a") + ld(2, b"v")) * 128)
    return counted(loki_pb(pb_stream(b'{app="x"}', entry * (n // 128)), gz=True), n // 128 * 128)


def pb_empty_metadata(n: int) -> Body:
    return loki_pb(pb_stream(b'{app="x"}', ld(2, pb_timestamp() + ld(2, b"x") + b"\x1a\x00" * n)), gz=True)


def pb_unknown_fields(n: int) -> Body:
    return loki_pb(pb_stream(b'{app="x"}', ld(2, pb_timestamp() + ld(2, b"x"))) + b"\x78\x00" * n, gz=True)


def pb_label_pairs(item: bytes) -> Callable[[int], Body]:
    def build(n: int) -> Body:
        return loki_pb(pb_stream(b"{" + item * n + b'z="1"}', ld(2, pb_timestamp() + ld(2, b"x"))), gz=True)

    return build


def otlp_request(records: bytes, resource: bytes = b"") -> bytes:
    return ld(1, (ld(1, resource) if resource else b"") + ld(2, records))


def otlp_record(extra: bytes = b"", ns: int = NOW_NS) -> bytes:
    return ld(2, b"\x09" + ns.to_bytes(8, "little") + ld(5, ld(1, b"x")) + extra)


def otlp_records(n: int) -> Body:
    return otlp_pb(otlp_request(b"".join(otlp_record(ns=NOW_NS + i) for i in range(n))))


def otlp_attributes(n: int) -> Body:
    record = otlp_record(ld(6, ld(1, b"a") + ld(2, ld(1, b"v"))) * 119)
    return counted(otlp_pb(otlp_request(record * (n // 119))), n // 119 * 119)


def otlp_empty_attributes(n: int) -> Body:
    return otlp_pb(otlp_request(otlp_record(b"\x32\x00" * n)))


def otlp_resource_attributes(n: int) -> Body:
    resource = b"".join(ld(1, ld(1, b"r%03d" % i) + ld(2, ld(1, b"v"))) for i in range(100))
    return counted(otlp_pb(otlp_request(otlp_record() * (n // 100), resource)), n // 100 * 100)


def otlp_any_values(item: bytes) -> Callable[[int], Body]:
    def build(n: int) -> Body:
        return otlp_pb(otlp_request(ld(2, ld(5, ld(5, item * n)))))

    return build


def otlp_streams(n: int) -> Body:
    one = ld(1, ld(1, ld(1, ld(1, b"service.name") + ld(2, ld(1, b"s")))) + ld(2, otlp_record()))
    return otlp_pb(one * n)


def otlp_unknown_fields(n: int) -> Body:
    return otlp_pb(otlp_request(otlp_record(b"\x78\x00" * n)))


def otlp_json(records: Iterable[bytes], resource: bytes = b"[]") -> bytes:
    return (
        b'{"resourceLogs":[{"resource":{"attributes":'
        + resource
        + b'},"scopeLogs":[{"logRecords":['
        + b",".join(records)
        + b"]}]}]}"
    )


def otlpj_records(n: int) -> Body:
    return gz(OTLP, otlp_json(b'{"timeUnixNano":"%d","body":{"stringValue":"x"}}' % (NOW_NS + i) for i in range(n)))


def otlpj_attributes(n: int) -> Body:
    attributes = b",".join([b'{"key":"a","value":{"stringValue":"v"}}'] * 119)
    record = b'{"timeUnixNano":"%s","body":{"stringValue":"x"},"attributes":[%s]}' % (TS, attributes)
    return counted(gz(OTLP, otlp_json([record] * (n // 119))), n // 119 * 119)


def otlpj_empty_attributes(n: int) -> Body:
    return gz(OTLP, otlp_json([b'{"timeUnixNano":"%s","attributes":[%s]}' % (TS, b",".join([b"{}"] * n))]))


def otlpj_any_values(item: bytes) -> Callable[[int], Body]:
    def build(n: int) -> Body:
        values = b",".join([item] * n)
        return gz(OTLP, otlp_json([b'{"timeUnixNano":"%s","body":{"arrayValue":{"values":[%s]}}}' % (TS, values)]))

    return build


def gzip_members(n: int) -> Body:
    raw = v1(b'["%d","x"]' % (NOW_NS + i) for i in range(n * 8 // 28 + 1))
    members = [raw[i : i + 8] for i in range(0, len(raw), 8)]
    return Body(LOKI, b"".join(gzip.compress(m, 1) for m in members), JSON, "gzip", len(raw), len(members))


def deflate_bytes(n: int) -> Body:
    raw = v1([b'["%s","%s"]' % (TS, b"y" * 200_000)] * (n // 200_000))  # n decompressed bytes of lines
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Body(LOKI, compressor.compress(raw) + compressor.flush(), JSON, "deflate", len(raw), len(raw))


def snappy_elements(kind: str) -> Callable[[int], Body]:
    """A protobuf push whose snappy block is made of one kind of element: 1-byte literals,
    4-byte copies (2 input bytes each) or 64-byte copies (3 input bytes each); the lines are
    200 KB of a repeated 4-byte pattern (under the 256 KB line limit)."""
    out_per = {"literal-1": 1, "copy-4": 4, "copy-64": 64}[kind]

    def build(n: int) -> Body:
        line_len = 200_000
        lines = max(1, n * out_per // line_len)
        prefix = ld(1, b'{app="x"}')  # the stream's framing is spelled as literals below
        pieces: list[bytes] = []
        raw = bytearray()
        elements = 0  # of the measured kind

        def literal(data: bytes) -> None:
            raw.extend(data)
            for start in range(0, len(data), 60):
                chunk = data[start : start + 60]
                pieces.append(bytes([(len(chunk) - 1) << 2]) + chunk)

        line = b"abcd" * (line_len // 4)
        entry = pb_timestamp() + varint(2 << 3 | 2) + varint(len(line))
        entry_key = varint(2 << 3 | 2) + varint(len(entry) + len(line))
        stream_body_len = len(prefix) + lines * (len(entry_key) + len(entry) + len(line))
        literal(varint(1 << 3 | 2) + varint(stream_body_len) + prefix)
        for _ in range(lines):
            literal(entry_key + entry)
            if kind == "literal-1":
                pieces.extend(b"\x00" + bytes([byte]) for byte in line)
                raw.extend(line)
                elements += len(line)
                continue
            literal(line[:4])
            rest = len(line) - 4
            if kind == "copy-4":
                pieces.append(b"\x01\x04" * (rest // 4))  # copy, length 4, offset 4
                elements += rest // 4
            else:
                pieces.append(b"\xfe\x04\x00" * (rest // 64))  # copy, length 64, offset 4
                elements += rest // 64
                tail = rest % 64
                if tail:
                    pieces.append(bytes([((tail - 1) << 2) | 2, 4, 0]))
            raw.extend(line[4:])
        block = varint(len(raw)) + b"".join(pieces)
        return Body(LOKI, block, PROTOBUF, None, len(raw), elements)

    return build


@dataclass(frozen=True)
class Shape:
    decoder: str
    element: str
    build: Callable[[int], Body]
    n: int  # elements in the larger push (the smaller has n // 4)
    note: str = ""


SHAPES: list[Shape] = [
    Shape("loki-json-v1", "entry", json_entries, 400_000, '["ts","x"]'),
    Shape("loki-json-v1", "stream", json_streams, 40_000, "one entry each, distinct labels"),
    Shape("loki-json-v1", "metadata pair", json_metadata, 512_000, "128 per entry"),
    Shape("loki-json-v1", "label key", json_label_keys, 400_000, "one label object (stream refused)"),
    Shape("loki-json-v1", "JSON value {}", json_unused(b"{}"), 2_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value []", json_unused(b"[]"), 2_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value 0", json_unused(b"0"), 4_000_000, "unused key"),
    Shape("loki-json-v1", "JSON value 1.5", json_unused(b"1.5"), 2_000_000, "unused key"),
    Shape("loki-json-v1", 'JSON value ""', json_unused(b'""'), 2_000_000, "unused key"),
    Shape("loki-json-v1", "object key", json_unused_keys, 1_000_000, "unused object"),
    Shape("loki-json-legacy", "entry", legacy_entries, 300_000, '{"ts":RFC 3339,"line":"x"}'),
    Shape("loki-json-legacy", "stream", legacy_streams, 40_000, "labels string each"),
    Shape("loki-protobuf", "entry", pb_entries, 800_000, "1-byte line"),
    Shape("loki-protobuf", "stream", pb_streams, 100_000, "distinct label strings"),
    Shape("loki-protobuf", "metadata pair", pb_metadata, 1_024_000, "128 per entry"),
    Shape("loki-protobuf", "metadata pair (empty)", pb_empty_metadata, 4_000_000, "one entry (refused)"),
    Shape("loki-protobuf", "unknown field", pb_unknown_fields, 900_000, "2-byte varints"),
    Shape("labels", "label pair", pb_label_pairs(b'a="b", '), 1_000_000, "one stream (refused)"),
    Shape("labels", "label pair (empty value)", pb_label_pairs(b'a="", '), 1_000_000, "dropped by the regex"),
    Shape("labels", "label pair (escaped value)", pb_label_pairs(b'a="\\n", '), 1_000_000, "one stream"),
    Shape("otlp-protobuf", "entry (record)", otlp_records, 300_000, "time + string body"),
    Shape("otlp-protobuf", "attribute", otlp_attributes, 238_000, "119 per record"),
    Shape("otlp-protobuf", "attribute (empty)", otlp_empty_attributes, 2_000_000, "one record (refused)"),
    Shape("otlp-protobuf", "resource attribute x record", otlp_resource_attributes, 400_000, "100 per resource"),
    Shape("otlp-protobuf", "AnyValue (int)", otlp_any_values(ld(1, b"\x18\x01")), 2_000_000, "array body"),
    Shape("otlp-protobuf", "AnyValue (empty)", otlp_any_values(b"\x0a\x00"), 4_000_000, "array body"),
    Shape("otlp-protobuf", "stream", otlp_streams, 40_000, "resource_logs"),
    Shape("otlp-protobuf", "unknown field", otlp_unknown_fields, 900_000, "in a record"),
    Shape("otlp-json", "entry (record)", otlpj_records, 200_000, ""),
    Shape("otlp-json", "attribute", otlpj_attributes, 238_000, "119 per record"),
    Shape("otlp-json", "attribute (empty)", otlpj_empty_attributes, 2_000_000, "one record (refused)"),
    Shape("otlp-json", "AnyValue (int)", otlpj_any_values(b'{"intValue":"1"}'), 1_000_000, "array body"),
    Shape("otlp-json", "AnyValue (empty)", otlpj_any_values(b"{}"), 2_000_000, "array body"),
    Shape("gzip", "gzip member", gzip_members, 200_000, "8 bytes each"),
    Shape("deflate", "byte", deflate_bytes, 16_000_000, "200 KB lines"),
    Shape("snappy", "snappy element (1-byte literal)", snappy_elements("literal-1"), 2_000_000, ""),
    Shape("snappy", "snappy element (4-byte copy)", snappy_elements("copy-4"), 2_000_000, ""),
    Shape("snappy", "snappy element (64-byte copy)", snappy_elements("copy-64"), 250_000, ""),
]


# --- one push in a fresh interpreter -----------------------------------------------------------------

CHILD = r"""
import base64, json, statistics, sys, time, tracemalloc
from bench.run import bench_app
from loki_ingest.delivery.sink import FixedDeadline
from tests.conftest import event

mode, body_path, path, content_type, encoding, repeats, uncapped = sys.argv[1:8]
data = open(body_path, "rb").read()
overrides = json.loads(uncapped)
app = bench_app(**overrides)
push = event(path=path, body=data, content_type=content_type, content_encoding=encoding or None)

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

def rss():
    import os
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def decode_only():
    from loki_ingest.decoding.push import decode_push
    from loki_ingest.ingest.model import Limits
    s = app.settings
    dialect = {"/loki/api/v1/push": "v1", "/api/prom/push": "legacy", "/otlp/v1/logs": "otlp"}[path]
    limits = Limits(s.max_streams_per_push, s.max_entries_per_push, keep_labels=s.max_label_names + 2,
                    keep_metadata=s.max_metadata_entries + 1,
                    label_token_chars=4 * max(s.max_label_name_bytes, s.max_label_value_bytes) + 2)
    try:
        decode_push(data, dialect=dialect, content_type=content_type, content_encoding=encoding or None,
                    max_decompressed_bytes=s.max_decompressed_bytes, limits=limits)
        return 0
    except Exception as exc:
        return getattr(exc, "status", 500)

def run():
    if mode == "decode":
        return {"statusCode": decode_only(), "body": ""}
    return app.handle_event(push, FixedDeadline(time.monotonic() + 3600))

def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := the current RSS
    except OSError:
        pass

out = {}
if mode == "memory":
    tracemalloc.start()
    result = run()
    out["python_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
else:
    times = []
    for index in range(int(repeats)):
        if index == 0:  # the peak RSS of the first run, without tracemalloc's own overhead
            reset_hwm()
            base = rss()
        cpu = time.process_time()
        result = run()
        times.append(time.process_time() - cpu)
        if index == 0:
            out["rss_growth"] = hwm() - base
    out["cpu_s"] = statistics.median(times)
    out["cpu_runs"] = times
out["status"] = result["statusCode"]
out["answer"] = str(result["body"])[:160]
print(json.dumps(out))
"""


def run_child(body: Body, mode: str, repeats: int, overrides: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".body") as handle:
        handle.write(body.data)
        handle.flush()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                mode,
                handle.name,
                body.path,
                body.content_type,
                body.encoding or "",
                str(repeats),
                json.dumps(overrides),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            env={"PYTHONPATH": f"{ROOT}:{ROOT / 'lambda'}", "PATH": "/usr/bin:/bin"},
        )
    if result.returncode != 0:
        raise RuntimeError(f"child failed: {result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def measure_shape(shape: Shape, repeats: int, quick: bool) -> dict[str, Any]:
    n2 = shape.n // (4 if quick else 1)
    n1 = n2 // 4
    small, large = shape.build(n1), shape.build(n2)
    n1, n2 = small.elements or n1, large.elements or n2
    fig: dict[str, dict[str, Any]] = {}
    for label, body in (("small", small), ("large", large)):
        full = run_child(body, "cpu", repeats, UNCAPPED)
        decode = run_child(body, "decode", repeats, UNCAPPED)
        memory = run_child(body, "memory", 1, UNCAPPED)
        fig[label] = {"full": full, "decode": decode, "memory": memory, "bytes": body.decompressed}
    elements = n2 - n1
    extra_bytes = fig["large"]["bytes"] - fig["small"]["bytes"]

    def per(key: str, mode: str) -> float:
        return float(fig["large"][mode][key] - fig["small"][mode][key]) / elements

    cpu_us = per("cpu_s", "full") * 1e6
    return {
        "decoder": shape.decoder,
        "element": shape.element,
        "note": shape.note,
        "n": [n1, n2],
        "status": fig["large"]["full"]["status"],
        "bytes_per_element": round(extra_bytes / elements, 2),
        "cpu_us_per_element": round(cpu_us, 3),
        "decode_us_per_element": round(per("cpu_s", "decode") * 1e6, 3),
        "cpu_us_per_byte": round(cpu_us * elements / extra_bytes, 4) if extra_bytes else None,
        "python_bytes_per_element": round(per("python_peak", "memory"), 1),
        "rss_bytes_per_element": round(per("rss_growth", "full"), 1),
        "large_cpu_s": round(fig["large"]["full"]["cpu_s"], 3),
        "large_python_peak_mb": round(fig["large"]["memory"]["python_peak"] / 1e6, 1),
        "large_decompressed_mib": round(fig["large"]["bytes"] / MIB, 2),
    }


# --- the costliest shapes at 16 MiB, with the default settings --------------------------------------


def worst_shapes() -> dict[str, Callable[[], Body]]:
    from tests.support import hostile

    from bench import bounds

    def from_push(make: Callable[[], Any]) -> Callable[[], Body]:
        def build() -> Body:
            push = make()
            return Body(push.path, push.body, push.content_type, push.content_encoding, decompressed_size(push))

        return build

    shapes: dict[str, Callable[[], Body]] = {f"issue: {n}": from_push(f) for n, f in hostile.HOSTILE.items()}
    shapes.update({f"bounds: {name}": _bounds_shape(name) for name in bounds.SHAPES})
    size = 16 * MIB - 4096
    shapes.update(
        {
            # Found here: elements no cap counted, each a Python call in the JSON parser's hooks.
            "json: unused ints [0,0,...]": lambda: json_unused(b"0")(size // 2),
            "json: unused floats [1.5,...]": lambda: json_unused(b"1.5")(size // 4),
            "json: entries x 128 metadata pairs": lambda: json_metadata(size // 1440 * 128),
            "otlp-json: AnyValue ints": lambda: otlpj_any_values(b'{"intValue":"1"}')(size // 17),
            "otlp-protobuf: AnyValue ints": lambda: otlp_any_values(ld(1, b"\x18\x01"))(size // 4),
            "otlp-protobuf: 100 resource attributes x records": lambda: otlp_resource_attributes(
                (size // 13) // 100 * 100
            ),
            "protobuf: label pairs, one stream": lambda: pb_label_pairs(b'a="b", ')(size // 7),
            "protobuf: unknown fields (skip cap)": lambda: pb_unknown_fields(999_000),
            "gzip: 8-byte members in 4.4 MB": lambda: gzip_members(150_000),
            "snappy: 4-byte copies in 4.4 MB": lambda: snappy_elements("copy-4")(2_200_000),
        }
    )
    return shapes


def _bounds_shape(name: str) -> Callable[[], Body]:
    """A shape of bench/bounds.py at the largest size the default caps accept."""

    def build() -> Body:
        from bench import bounds

        data, content_type, encoding = bounds.body_for(name, bounds.AT_CAPS[name])
        raw = gzip.decompress(data) if encoding == "gzip" else data
        size = len(raw) if content_type == JSON else len(unsnappy(raw))
        return Body(LOKI, data, content_type, encoding, size)

    return build


def decompressed_size(push: Any) -> int:
    data = push.body
    if push.content_encoding == "gzip":
        data = gzip.decompress(data)
    if push.content_type == PROTOBUF and push.path != OTLP:
        return len(unsnappy(data))
    return len(data)


def measure_worst(repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name, build in worst_shapes().items():
        body = build()
        cpu = run_child(body, "cpu", repeats, {})
        memory = run_child(body, "memory", 1, {})
        rows.append(
            {
                "shape": name,
                "wire_bytes": len(body.data),
                "decompressed_mib": round(body.decompressed / MIB, 2),
                "status": cpu["status"],
                "cpu_s": round(cpu["cpu_s"], 2),
                "rss_growth_mb": round(cpu["rss_growth"] / 1e6),
                "python_peak_mb": round(memory["python_peak"] / 1e6),
                "answer": cpu["answer"][:100],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


# --- prototype pre-passes: count elements before decoding ---------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


def json_upper_bound(data: bytes) -> int:
    """Values and keys of a JSON text, at most: one per `,` `[` `{` `:` (those inside strings
    too, which makes it an upper bound), plus one. Five C-speed passes."""
    return data.count(b",") + data.count(b"[") + data.count(b"{") + data.count(b":") + 1


def json_strings(data: bytes) -> int:
    """Strings in a JSON text (exact up to escaped quotes, which the second count removes)."""
    return (data.count(b'"') - data.count(b'\\"')) // 2


def json_exact(data: bytes) -> int:
    """Values and keys outside strings: strings replaced by "" first (one regex pass whose cost
    grows with the number of strings)."""
    return json_upper_bound(_JSON_STRING.sub(b'""', data))


def protobuf_walk(buf: bytes, limit: int) -> int:
    """Fields of a PushRequest, recursing into streams, entries and metadata pairs, stopping
    at `limit`: a minimal Python walk of keys and lengths (no strings, no objects)."""
    count = 0
    stack = [(0, len(buf), 0)]  # (start, end, depth): 0 request, 1 stream, 2 entry
    while stack:
        i, end, depth = stack.pop()
        while i < end:
            key = buf[i]
            i += 1
            if key >= 0x80:
                shift, key = 7, key & 0x7F
                while True:
                    byte = buf[i]
                    i += 1
                    key |= (byte & 0x7F) << shift
                    if byte < 0x80:
                        break
                    shift += 7
            wire = key & 7
            count += 1
            if count > limit:
                return count
            if wire == 2:
                size = buf[i]
                i += 1
                if size >= 0x80:
                    size &= 0x7F
                    shift = 7
                    while True:
                        byte = buf[i]
                        i += 1
                        size |= (byte & 0x7F) << shift
                        if byte < 0x80:
                            break
                        shift += 7
                field = key >> 3
                if (depth == 0 and field == 1) or (depth == 1 and field == 2):
                    stack.append((i, i + size, depth + 1))
                i += size
            elif wire == 0:
                while buf[i] >= 0x80:
                    i += 1
                i += 1
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
    return count


def snappy_tag_walk(data: bytes) -> int:
    """Elements of a snappy block, walking the tags without producing output: the cheapest
    pre-pass snappy allows (the protobuf inside can only be read once decompressed)."""
    i = 0
    while data[i] >= 0x80:  # the length preamble
        i += 1
    i += 1
    count, end = 0, len(data)
    while i < end:
        tag = data[i]
        kind = tag & 3
        if kind == 0:
            if tag < 240:
                i += (tag >> 2) + 2
            else:
                extra = (tag >> 2) - 59
                i += extra + int.from_bytes(data[i + 1 : i + 1 + extra], "little") + 2
        else:
            i += (0, 2, 3, 5)[kind]
        count += 1
    return count


def protobuf_pairs_by_count(buf: bytes) -> int:
    """An upper bound on short fields at C speed: the count of one key byte (0x1a, a metadata
    pair) anywhere, lines included. Shown to compare with the walk, not as a design."""
    return buf.count(b"\x1a")


def measure_prepass() -> list[dict[str, Any]]:
    from bench.workloads import stytch_lines

    size = 16 * MIB
    lines = stytch_lines(1000)
    stytch = v1(b'["%d",%s]' % (NOW_NS + i, json.dumps(lines[i % 1000]).encode()) for i in range(size // 1100))
    csv = v1(b'["%d","%s"]' % (NOW_NS + i, b"a," * 100_000) for i in range(size // 200_020))
    texts = {
        "stytch-like 16 MiB": stytch,
        "200 KB lines of 'a,'": csv,
        "[{},{},...]": b'{"x":[' + b"{}," * (size // 3) + b'{}],"streams":[]}',
        '["","",...]': b'{"x":[' + b'"",' * (size // 3) + b'""],"streams":[]}',
        "[0,0,...]": b'{"x":[' + b"0," * (size // 2) + b'0],"streams":[]}',
        "tiny entries": v1(b'["%d","x"]' % (NOW_NS + i) for i in range(size // 28)),
    }
    rows: list[dict[str, Any]] = []
    for name, text in texts.items():
        row: dict[str, Any] = {"pre-pass": "json", "input": name, "mib": round(len(text) / MIB, 1)}
        for label, fn in (("upper_bound", json_upper_bound), ("strings", json_strings), ("exact", json_exact)):
            seconds, value = _median_cpu(fn, text)
            row[f"{label}_ms"] = round(seconds * 1000, 1)
            row[label] = value
        rows.append(row)
        print(json.dumps(row), flush=True)
    protobufs = {
        "8.4M empty metadata pairs": pb_stream(b'{app="x"}', ld(2, b"\x1a\x00" * (size // 2 - 64))),
        "1M entries of 1-byte lines": pb_stream(b'{app="x"}', ld(2, pb_timestamp() + ld(2, b"x")) * 1_000_000),
        "25,653 entries x 128 pairs": pb_stream(
            b'{app="x"}', ld(2, pb_timestamp() + ld(2, b"x") + ld(3, ld(1, b"a")) * 128) * 25_653
        ),
    }
    for name, raw in protobufs.items():
        row = {"pre-pass": "protobuf walk", "input": name, "mib": round(len(raw) / MIB, 1)}
        seconds, count = _median_cpu(protobuf_walk, raw, 1 << 62)
        row.update(
            {"walk_ms": round(seconds * 1000, 1), "fields": count, "ns_per_field": round(seconds / count * 1e9, 1)}
        )
        seconds, _ = _median_cpu(protobuf_walk, raw, 1_000_000)
        row["walk_to_1M_fields_ms"] = round(seconds * 1000, 1)
        seconds, value = _median_cpu(protobuf_pairs_by_count, raw)
        row.update({"count_0x1a_ms": round(seconds * 1000, 1), "count_0x1a": value})
        rows.append(row)
        print(json.dumps(row), flush=True)
    from loki_ingest.decoding import snappy as decoder

    stytch_pb = pb_stream(
        b'{service_name="stytch"}',
        b"".join(ld(2, pb_timestamp(NOW_NS + i) + ld(2, lines[i % 1000].encode())) for i in range(size // 1100)),
    )
    for name, block in (
        ("stytch-like protobuf, 14.5 MiB", snappy(stytch_pb)),
        ("2.2M 4-byte copies", snappy_elements("copy-4")(2_200_000).data),
    ):
        decode_s, _ = _median_cpu(decoder.decompress, block, 1 << 30)
        walk_s, elements = _median_cpu(snappy_tag_walk, block)
        rows.append(
            {
                "pre-pass": "snappy tag walk",
                "input": name,
                "block_mib": round(len(block) / MIB, 2),
                "elements": elements,
                "decode_ms": round(decode_s * 1000, 1),
                "tag_walk_ms": round(walk_s * 1000, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    labels = "{" + 'a="b", ' * (size // 7) + "}"
    seconds, value = _median_cpu(labels.count, "=")
    rows.append(
        {"pre-pass": "labels", "input": '16 MiB of a="b"', "count_ms": round(seconds * 1000, 1), "pairs": value}
    )
    print(json.dumps(rows[-1]), flush=True)
    return rows


def _median_cpu(fn: Callable[..., Any], *args: Any, repeats: int = 3) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.process_time()
        value = fn(*args)
        times.append(time.process_time() - start)
    return statistics.median(times), value


# --- report --------------------------------------------------------------------------------------------


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| decoder | element | B/elem | CPU µs/elem (path) | decode µs/elem | CPU µs/B | Python B/elem | "
        "RSS B/elem | status |\n|---|---|---|---|---|---|---|---|---|"
    )
    body = [
        f"| {r['decoder']} | {r['element']} | {r['bytes_per_element']} | {r['cpu_us_per_element']} | "
        f"{r['decode_us_per_element']} | {r['cpu_us_per_byte']} | {r['python_bytes_per_element']} | "
        f"{r['rss_bytes_per_element']} | {r['status']} |"
        for r in rows
    ]
    return "\n".join([head, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a quarter of the sizes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="shapes whose decoder/element contain this")
    parser.add_argument("--skip-elements", action="store_true")
    parser.add_argument("--skip-worst", action="store_true")
    parser.add_argument("--skip-prepass", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "build" / "elements.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {"python": sys.version.split()[0]}
    if not args.skip_elements:
        rows = []
        for shape in SHAPES:
            label = f"{shape.decoder} {shape.element}"
            if args.only and not any(part in label for part in args.only):
                continue
            rows.append(measure_shape(shape, args.repeats, args.quick))
            print(json.dumps(rows[-1]), flush=True)
        results["elements"] = rows
        print(table(rows))
    if not args.skip_worst:
        results["worst"] = measure_worst(args.repeats)
    if not args.skip_prepass:
        results["prepass"] = measure_prepass()
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()

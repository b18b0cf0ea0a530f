"""Handler CPU per push (every body format, as ratios to json.loads of the same body), where the
time of a ~5 MB push goes next to the floors it cannot beat, and the snappy and protobuf decoders."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Callable
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from bench.harness import MIB, bench_app, bench_settings, median, median_pair

if TYPE_CHECKING:
    from loki_ingest.handler import App
    from loki_ingest.ingest.model import Stream

# --- handler CPU per push -------------------------------------------------------------------


def otlp_request(lines: list[str]) -> Any:
    """The lines as an OpenTelemetry SDK exports them: one resource (service and SDK attributes),
    one scope, and per record its time, observed time, severity, trace context and two code
    attributes, all of which become structured metadata."""
    from tests.support.otlp import record, request, resource_logs, scope_logs

    from bench.workloads import BASE_NS

    trace_id, span_id = bytes(range(1, 17)), bytes(range(1, 9))
    resource = {
        "service.name": "stytch",
        "deployment.environment.name": "bench",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": "1.45.2",
    }
    records = [
        record(
            line,
            {"code.function.name": "handle_event", "code.line.number": 42},
            time_unix_nano=BASE_NS + i * 1_000_000,
            observed_time_unix_nano=BASE_NS + i * 1_000_000 + 1000,
            severity_number=9,
            severity_text="INFO",
            trace_id=trace_id,
            span_id=span_id,
            flags=1,
        )
        for i, line in enumerate(lines)
    ]
    return request(resource_logs(resource, scope_logs(records, name="stytch.events", version="1.0")))


FORMATS = ("json", "gzip", "protobuf", "otlp-protobuf", "otlp-json")


def push_event(fmt: str, lines: list[str], body: bytes, otlp: Any) -> dict[str, Any]:
    """The function URL event that carries these lines in one body format."""
    from tests.conftest import event
    from tests.support.logproto import EntrySpec, protobuf_push
    from tests.support.otlp import to_json

    from bench.workloads import BASE_NS

    if fmt == "json":
        return event(body=body)
    if fmt == "gzip":
        return event(body=gzip.compress(body, 6), content_encoding="gzip")
    if fmt == "otlp-protobuf":
        return event(path="/otlp/v1/logs", body=otlp.SerializeToString(), content_type="application/x-protobuf")
    if fmt == "otlp-json":
        return event(path="/otlp/v1/logs", body=to_json(otlp))
    entries: list[EntrySpec] = [(BASE_NS + i * 1_000_000, line, []) for i, line in enumerate(lines)]
    return event(
        body=protobuf_push([('{env="bench", service_name="stytch"}', entries)]), content_type="application/x-protobuf"
    )


def handler_row(app: App, push: dict[str, Any], lines: list[str], body: bytes, repeats: int) -> dict[str, Any]:
    """The handler's median CPU for one push, as a ratio to json.loads of its v1 JSON body."""
    from loki_ingest.delivery.sink import FixedDeadline

    def call() -> dict[str, Any]:
        return app.handle_event(push, FixedDeadline(time.monotonic() + 60))

    result = call()
    assert result["statusCode"] == 200, result
    handler_s, loads_s = median_pair(call, lambda: json.loads(body), repeats)
    return {
        "entries": len(lines),
        "body_bytes": len(body),
        "request_bytes": len(base64.b64decode(push["body"]) if push["isBase64Encoded"] else push["body"].encode()),
        "handler_ms": round(handler_s * 1000, 3),
        "json_loads_ms": round(loads_s * 1000, 3),
        "ratio": round(handler_s / loads_s, 2),
        "mb_per_s": round(len(body) / handler_s / 1e6, 1),
        "entries_per_s": round(len(lines) / handler_s),
    }


def handler_cpu(quick: bool) -> list[dict[str, Any]]:
    from bench.workloads import lines_for_bytes, stytch_lines, text_lines, v1_body

    # An SDK's OTLP JSON carries ~350 bytes per record more than a Loki push: the ~5 MB push
    # is 6.8 MB as OTLP JSON, over the 6 MB function URL limit, so the limit is raised here
    # to compare CPU at the same lines (a real exporter sends it gzip-compressed).
    app = bench_app(max_body_bytes=16 * MIB)
    rows = []
    sizes: list[tuple[str, Callable[[str], list[str]]]] = [
        ("10", lambda kind: (stytch_lines if kind == "json" else text_lines)(10)),
        ("1,000", lambda kind: (stytch_lines if kind == "json" else text_lines)(1000)),
        ("~5 MB", lambda kind: lines_for_bytes(5 * MIB - 200 * 1024, kind=kind)),
    ]
    for kind in ("json", "text"):
        for size_name, make in sizes:
            lines = make(kind)
            body = v1_body(lines)
            otlp = otlp_request(lines)
            for fmt in FORMATS:
                big = size_name == "~5 MB"
                slow = fmt in ("protobuf", "otlp-protobuf", "otlp-json")
                repeats = 3 if quick else (5 if big and slow else 9 if big else 41)
                row = handler_row(app, push_event(fmt, lines, body, otlp), lines, body, repeats)
                rows.append({"lines": kind, "push": size_name, "format": fmt, **row})
    return rows


def components(quick: bool) -> dict[str, Any]:
    """Where the time of a ~5 MB JSON push goes, next to the floors it cannot beat."""
    from bench.workloads import lines_for_bytes

    repeats = 3 if quick else 9
    return {
        kind: component_times(kind, lines_for_bytes(5 * MIB - 200 * 1024, kind=kind), repeats)
        for kind in ("json", "text")
    }


def component_times(kind: str, lines: list[str], repeats: int) -> dict[str, float]:
    """Median ms of each stage of one push's lines, the floors, and the floors' ratio to json.loads."""
    from bench.workloads import v1_body
    from loki_ingest.decoding.push import decode_push
    from loki_ingest.delivery.firehose import MAX_RECORD_BYTES, pack
    from loki_ingest.ingest.limits import Limits
    from loki_ingest.ingest.model import Rejections
    from loki_ingest.ingest.validate import validate
    from loki_ingest.records import render as records

    limits = Limits.from_settings(bench_settings())
    body = v1_body(lines)

    def decode() -> list[Stream]:
        return decode_push(
            body,
            dialect="v1",
            content_type="application/json",
            content_encoding=None,
            limits=Limits(max_decompressed_bytes=64 * MIB),
        )

    streams = decode()
    valid = validate(streams, limits, Rejections())
    built = records.build(valid, Rejections(), MAX_RECORD_BYTES)
    scan = records._scan_once
    encoded = [line.encode() for line in lines]
    loads = median(lambda: json.loads(body), repeats)
    parts = {
        "json_loads_body": loads,
        "decode": median(decode, repeats),
        "validate": median(lambda: validate(streams, limits, Rejections()), repeats),
        "records": median(lambda: records.build(valid, Rejections(), MAX_RECORD_BYTES), repeats),
        "pack": median(lambda: pack(built.lines), repeats),
        # Floors: work no implementation can skip.
        "floor_validate_each_line": median(lambda: [scan(line, 0) for line in lines], repeats)
        if kind == "json"
        else 0.0,
        "floor_escape_each_line": median(
            lambda: [e.replace(b"\\", b"\\\\").replace(b'"', b'\\"') for e in encoded], repeats
        )
        if kind == "text"
        else 0.0,
        "floor_hash_each_line": median(lambda: [sha256(e).digest() for e in encoded], repeats),
    }
    floor = loads + parts["floor_validate_each_line"] + parts["floor_escape_each_line"] + parts["floor_hash_each_line"]
    out = {name: round(seconds * 1000, 2) for name, seconds in parts.items()}
    out["floor_ratio"] = round(floor / loads, 2)
    return out


# --- snappy and protobuf decoding ------------------------------------------------------------


def snappy_speed(quick: bool) -> dict[str, Any]:
    import cramjam
    from tests.support.logproto import encode_push

    from bench.workloads import BASE_NS, stytch_lines
    from loki_ingest.decoding import logproto as protobuf
    from loki_ingest.decoding import snappy
    from loki_ingest.decoding.otlp.protobuf_body import decode_protobuf

    data = "\n".join(stytch_lines(2000)).encode()[: 1 << 20]
    block = bytes(cramjam.snappy.compress_raw(data))
    assert bytes(snappy.decompress(block, 1 << 30)) == data
    repeats = 5 if quick else 21
    ours, theirs = median_pair(
        lambda: snappy.decompress(block, 1 << 30), lambda: cramjam.snappy.decompress_raw(block), repeats
    )
    walk = median(lambda: _walk_only(block), repeats)
    walk_append = median(lambda: _walk_only(block, emit=True), repeats)
    lines = stytch_lines(1000)
    message = encode_push([('{env="bench"}', [(BASE_NS + i, line, []) for i, line in enumerate(lines)])])
    proto = median(lambda: protobuf.decode_push_request(message), repeats)
    otlp_message = otlp_request(lines).SerializeToString()
    otlp_decode = median(lambda: decode_protobuf(otlp_message, now_ns=BASE_NS, max_expanded_bytes=1 << 30), repeats)
    return {
        "block_bytes": len(data),
        "compressed_bytes": len(block),
        "ours_mb_per_s": round(len(data) / ours / 1e6, 1),
        "cramjam_mb_per_s": round(len(data) / theirs / 1e6, 1),
        "ratio_to_cramjam": f"1/{theirs and ours / theirs:.1f}",
        "walk_only_floor_ratio": f"1/{walk / theirs:.1f}",
        "walk_and_one_append_floor_ratio": f"1/{walk_append / theirs:.1f}",
        "protobuf_decode_mb_per_s": round(len(message) / proto / 1e6, 1),
        "otlp_protobuf_decode_mb_per_s": round(len(otlp_message) / otlp_decode / 1e6, 1),
    }


def _walk_only(block: bytes, emit: bool = False) -> int:
    """Visit every element header and nothing else: the least any pure-Python decoder does.
    With emit, also append one prebuilt piece per element (no bytes moved): the least a
    decoder that produces anything per element does."""
    pieces: list[bytes] = []
    append = pieces.append if emit else None
    i, end = 0, len(block)
    while block[i] & 0x80:
        i += 1
    i += 1
    while i < end:
        tag = block[i]
        kind = tag & 3
        if kind == 2:
            i += 3
        elif kind == 0:
            if tag < 240:
                i += (tag >> 2) + 2
            else:
                extra = (tag >> 2) - 59
                i += 1 + extra + int.from_bytes(block[i + 1 : i + 1 + extra], "little") + 1
        elif kind == 1:
            i += 2
        else:
            i += 5
        if append is not None:
            append(b"x")
    return i

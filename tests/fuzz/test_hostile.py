"""Compression bombs (with measured peak memory) and extreme inputs: each gets a defined
outcome, and nothing else in the push is lost. The outcomes are documented in the README
("Limits and edge cases")."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.pushes import billed_bytes
from loki_ingest.delivery.firehose import MAX_RECORD_BYTES
from loki_ingest.ingest.limits import Limits
from loki_ingest.records import reader
from loki_ingest.records.render import max_line_bytes_that_fit
from loki_ingest.settings import ConfigError, Settings
from tests.conftest import NOW_NS, ROOT, Harness, event, record_figures, v1_body
from tests.support.logproto import encode_push, protobuf_push, snappy_block
from tests.support.otlp import parse_status
from tests.support.wire import varint

pytestmark = pytest.mark.fuzz

MIB = 1 << 20
DEFAULT_CAP = Settings.defaults().max_decompressed_bytes


def zero_bomb(size: int, wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = b"\0" * MIB
    return b"".join(compressor.compress(chunk) for _ in range(size // MIB)) + compressor.flush()


def snappy_run_bomb(output: int) -> bytes:
    """A valid snappy block: one literal, then 64-byte copies at offset 1 (3 bytes each)."""
    copies, rest = divmod(output - 1, 64)
    preamble = bytearray()
    n = output
    while True:
        byte = n & 0x7F
        n >>= 7
        preamble.append(byte | (0x80 if n else 0))
        if not n:
            break
    element = bytes([(63 << 2) | 2, 1, 0])
    tail = bytes([((rest - 1) << 2) | 2, 1, 0]) if rest else b""
    return bytes(preamble) + b"\x00a" + element * copies + tail


MEASURE = textwrap.dedent(
    """
    import json, sys, time, tracemalloc
    sys.path[:0] = [{root!r}]
    from tests.conftest import new_app, event
    from loki_ingest.delivery.sink import FixedDeadline

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    body = open(sys.argv[1], "rb").read()
    push = event(path=sys.argv[4], body=body, content_type=sys.argv[2], content_encoding=sys.argv[3] or None)
    app = new_app()
    before = hwm()
    tracemalloc.start()
    started = time.perf_counter()
    result = app.handle_event(push, FixedDeadline(time.monotonic() + 15))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({{"status": result["statusCode"], "body": result["body"], "python_peak": peak,
                      "rss_growth": hwm() - before, "seconds": round(elapsed, 3)}}))
    """
).format(root=str(ROOT))


def measure(
    tmp_path: Path, body: bytes, content_type: str, encoding: str | None, route: str = "/loki/api/v1/push"
) -> dict[str, object]:
    path = tmp_path / "body.bin"
    path.write_bytes(body)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), content_type, encoding or "", route],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


BOMBS = [
    pytest.param(lambda: zero_bomb(1024 * MIB, 31), "application/json", "gzip", id="gzip-1GiB-of-zeros"),
    pytest.param(lambda: zero_bomb(1024 * MIB, -15), "application/json", "deflate", id="deflate-1GiB-of-zeros"),
    pytest.param(lambda: zero_bomb(1024 * MIB, 15), "application/json", "deflate", id="zlib-1GiB-of-zeros"),
    pytest.param(lambda: snappy_run_bomb(96 * MIB), "application/x-protobuf", None, id="snappy-96MiB-run"),
    pytest.param(lambda: b"\xff\xff\xff\xff\x0f\x00a", "application/x-protobuf", None, id="snappy-4GiB-preamble"),
    pytest.param(lambda: zero_bomb(1024 * MIB, 31), "application/x-protobuf", "gzip", id="gzip-around-protobuf"),
]


@pytest.mark.parametrize(("make", "content_type", "encoding"), BOMBS)
def test_compression_bombs_are_413_with_bounded_peak_memory(
    tmp_path: Path, make: Callable[[], bytes], content_type: str, encoding: str | None
) -> None:
    body = make()
    assert len(body) < 6 * MIB  # fits in one function URL request
    figures = measure(tmp_path, body, content_type, encoding)
    record_figures(f"bomb {encoding or 'snappy'}", {"bytes_in": len(body), **figures, "body": None})
    assert figures["status"] == 413, figures
    assert "limit" in str(figures["body"])
    # Never much more than the cap, however large the bomb would inflate.
    assert int(str(figures["python_peak"])) <= DEFAULT_CAP + 8 * MIB
    assert int(str(figures["rss_growth"])) <= 2 * DEFAULT_CAP + 32 * MIB


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def otlp_fan_out(records: int, metadata_bytes: int) -> bytes:
    """An ExportLogsServiceRequest whose resource carries `metadata_bytes` of attributes and
    `records` empty log records (2 bytes each on the wire): every record would copy them."""
    attribute = ld(1, b"blob") + ld(2, ld(1, b"x" * metadata_bytes))  # KeyValue{key, AnyValue{string}}
    resource = ld(1, ld(1, attribute))  # ResourceLogs.resource.attributes
    scope = ld(2, b"\x12\x00" * records)  # ResourceLogs.scope_logs.log_records, each empty
    return ld(1, resource + scope)


OTLP_BOMBS = [
    pytest.param(lambda: otlp_fan_out(2_500_000, 60_000), None, id="60KB-of-attributes-times-2.5M-records"),
    pytest.param(lambda: gzip.compress(otlp_fan_out(5_000_000, 0)), "gzip", id="gzip-5M-empty-records"),
]


@pytest.mark.parametrize(("make", "encoding"), OTLP_BOMBS)
def test_otlp_requests_that_fan_out_are_413_with_bounded_peak_memory(
    tmp_path: Path, make: Callable[[], bytes], encoding: str | None
) -> None:
    """Resource attributes are copied into every record's metadata: the work budget charges
    every record (and every shared attribute per record) before decoding, so the request is
    refused before any of it is built."""
    body = make()
    assert len(body) < 6 * MIB
    figures = measure(tmp_path, body, "application/x-protobuf", encoding, route="/otlp/v1/logs")
    record_figures(f"otlp fan-out {encoding or 'identity'}", {"bytes_in": len(body), **figures, "body": None})
    assert figures["status"] == 413, figures
    status, _ = parse_status(base64.b64decode(str(figures["body"])), as_json=False)  # google.rpc.Status
    assert "smaller pushes" in status.message
    assert int(str(figures["python_peak"])) <= 3 * DEFAULT_CAP


def test_a_snappy_block_that_lies_about_its_length_is_400_not_more_memory(tmp_path: Path) -> None:
    lie = bytearray(snappy_run_bomb(96 * MIB))
    lie[:4] = b"\x80\x80\x80\x08"  # claims 16 MiB; the elements would produce 96 MiB
    figures = measure(tmp_path, bytes(lie), "application/x-protobuf", None)
    assert figures["status"] == 400 and "past the declared length" in str(figures["body"])
    assert int(str(figures["python_peak"])) <= 16 * MIB + 8 * MIB


# --- extremes ------------------------------------------------------------------------------------


def test_a_huge_label_set_rejects_only_that_stream(harness: Harness) -> None:
    labels = {f"label_{i}": "v" for i in range(10_000)}
    body = v1_body([(labels, [[str(NOW_NS), "big"]]), ({"app": "ok"}, [[str(NOW_NS), "kept"]])])
    status, answer = harness.json(event(body=body))
    assert status == 400 and "has at least 17 label names; limit 15" in answer["errors"][0]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["kept"]


def test_labels_over_16_mib_are_413(harness: Harness) -> None:
    labels = '{a="' + "x" * (17 * MIB) + '"}'
    body = gzip.compress(json.dumps({"streams": [{"labels": labels, "entries": []}]}).encode())
    assert harness(event(path="/api/prom/push", body=body, content_encoding="gzip"))["statusCode"] == 413


def test_a_1_mb_line_is_rejected_by_default_and_the_rest_delivered(harness: Harness) -> None:
    body = v1_body([({"app": "x"}, [[str(NOW_NS), "x" * MIB], [str(NOW_NS + 1), "small"]])])
    status, answer = harness.json(event(body=body))
    assert status == 400 and answer["count"] == 1 and "max entry size '262144'" in answer["errors"][0]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["small"]


def test_a_line_limit_that_cannot_fit_one_record_is_a_configuration_error(make_app: Callable[..., Harness]) -> None:
    fits = max_line_bytes_that_fit(Limits.from_settings(Settings.defaults()), MAX_RECORD_BYTES)
    assert 500_000 < fits < MAX_RECORD_BYTES * 3 // 4  # the labels, metadata, level and tenant take their room
    with pytest.raises(ConfigError, match=f"at most {fits} with these limits"):
        make_app(max_line_bytes=fits + 1)
    make_app(max_line_bytes=fits)


def test_a_line_at_the_largest_limit_that_fits_is_delivered_whole_whatever_its_bytes(
    make_app: Callable[..., Harness],
) -> None:
    limit = max_line_bytes_that_fit(Limits.from_settings(Settings.defaults()), MAX_RECORD_BYTES)
    app = make_app(max_line_bytes=limit)
    lines = ["y" * limit, "\x01" * limit]  # plain, and escaping to 6x (stored as base64)
    body = v1_body([({"app": "x"}, [[str(NOW_NS + i), line] for i, line in enumerate(lines)])])
    status, answer = app.json(event(body=body))
    assert (status, answer["count"]) == (200, 2)
    assert [reader.original_line(line).decode() for line in app.firehose.lines()] == lines
    assert all(len(data) <= MAX_RECORD_BYTES for batch in app.firehose.calls for data in batch)
    status, answer = app.json(event(body=v1_body([({"app": "x"}, [[str(NOW_NS), "y" * (limit + 1)]])])))
    assert status == 400 and f"max entry size '{limit}'" in answer["errors"][0]


def test_an_otlp_record_at_every_limit_with_a_copied_level_fits_one_record(make_app: Callable[..., Harness]) -> None:
    """detected_level is added after validation (as in Loki), so no limit counts it: a level
    attribute that is no known word is copied whole, beside metadata already at its limit."""
    defaults = Settings.defaults()
    limit = max_line_bytes_that_fit(Limits.from_settings(defaults), MAX_RECORD_BYTES)
    app = make_app(max_line_bytes=limit)
    level = "\x01" * (defaults.max_metadata_bytes - len("level") - 64)  # escapes 6x; not a level word
    record = {
        "timeUnixNano": str(NOW_NS),
        "body": {"stringValue": "\x01" * limit},
        "attributes": [{"key": "level", "value": {"stringValue": level}}],
    }
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}).encode()
    result = app(event(path="/otlp/v1/logs", body=body, content_type="application/json"))
    assert result["statusCode"] == 200, result["body"][:300]
    (stored,) = app.firehose.lines()
    assert reader.original_line(stored).decode() == "\x01" * limit
    assert dict(reader.original_metadata(stored))[b"detected_level"] == level.encode()
    assert all(len(data) <= MAX_RECORD_BYTES for batch in app.firehose.calls for data in batch)


def test_50k_tiny_entries_at_the_cap_are_packed_into_few_records(harness: Harness) -> None:
    values = [[str(NOW_NS + i), "t"] for i in range(50_000)]
    status, answer = harness.json(event(body=gzip.compress(v1_body([({"app": "x"}, values)])), content_encoding="gzip"))
    assert (status, answer["count"]) == (200, 50_000)
    records = [data for batch in harness.firehose.calls for data in batch]
    assert sum(r.count(b"\n") for r in records) == 50_000
    # A few large records, not 50,000 one-line ones: Firehose bills each record rounded up
    # to 5 KB, so the bill stays within 1% of the payload, in ceil(bytes / 4 MiB) calls.
    total = sum(map(len, records))
    assert billed_bytes([len(r) for r in records]) <= total * 1.01
    assert len(harness.firehose.calls) == -(-total // (4 * MIB))


@pytest.mark.parametrize(("streams", "status"), [(10_000, 200), (100_000, 413)])
def test_many_streams_in_one_push_within_the_work_budget(harness: Harness, streams: int, status: int) -> None:
    pushed = [({"app": f"s{i}"}, [[str(NOW_NS + i), f"line {i}"]]) for i in range(streams)]
    answer = harness.json(event(body=gzip.compress(v1_body(pushed)), content_encoding="gzip"))
    assert answer[0] == status
    assert len(harness.firehose.records()) == (streams if status == 200 else 0)


def test_deeply_nested_json_lines_are_stored_as_text(harness: Harness) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    nested_object = '{"a":' * 40_000 + "1" + "}" * 40_000  # 240 KB: under the 256 KB line limit
    body = v1_body([({"app": "x"}, [[str(NOW_NS), nested], [str(NOW_NS + 1), nested_object]])])
    assert harness.json(event(body=body)) == (200, {"status": "success", "count": 2})
    records = harness.firehose.records()
    assert [r["record"]["message"] for r in records] == [nested, nested_object]


def test_deeply_nested_json_bodies_are_400(harness: Harness) -> None:
    body = b'{"streams":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    status, answer = harness.json(event(body=body))
    assert status == 400 and answer["message"]


def test_invalid_utf8_json_body_is_400(harness: Harness) -> None:
    body = v1_body([({"app": "x"}, [[str(NOW_NS), "ok"]])]).replace(b"ok", b"\xff\xfe")
    result = harness(event(body=body, content_encoding=None))
    assert result["statusCode"] == 400 and "UTF-8" in result["body"]


def test_invalid_utf8_protobuf_line_is_kept_byte_exact(harness: Harness) -> None:
    raw = bytearray(encode_push([('{app="x"}', [(NOW_NS, "AAAA", [])])]))
    raw[raw.index(b"AAAA") : raw.index(b"AAAA") + 4] = b"\xff\xfe\x00A"
    push = event(body=snappy_block(bytes(raw)), content_type="application/x-protobuf")
    assert harness.json(push) == (200, {"status": "success", "count": 1})
    (line,) = harness.firehose.lines()
    assert reader.original_line(line) == b"\xff\xfe\x00A"


def test_an_enormous_authorization_header_is_401(harness: Harness) -> None:
    result = harness(event(body=b"{}", auth="Basic " + "A" * MIB))
    assert result["statusCode"] == 401


def test_a_body_over_the_function_url_limit_is_413(harness: Harness) -> None:
    body = protobuf_push([('{app="x"}', [(NOW_NS, "z" * (7 * MIB), [])])])
    result = harness(event(body=body + b"\0" * (7 * MIB), content_type="application/x-protobuf"))
    assert result["statusCode"] == 413


def test_a_stream_with_a_million_labels_is_refused_and_the_rest_delivered(harness: Harness) -> None:
    huge = "{" + ", ".join(f'l{i}="v"' for i in range(1_000_000)) + "}"
    body = protobuf_push([(huge, [(NOW_NS, "lost", [])]), ('{app="ok"}', [(NOW_NS, "kept", [])])])
    status, answer = harness.json(event(body=body, content_type="application/x-protobuf"))
    assert status == 400 and answer["count"] == 1 and "label names; limit 15" in answer["errors"][0]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["kept"]


def test_an_entry_with_100000_metadata_pairs_is_refused_and_the_rest_delivered(harness: Harness) -> None:
    pairs = [("m", "v")] * 100_000
    body = protobuf_push([('{app="x"}', [(NOW_NS, "lost", pairs), (NOW_NS + 1, "kept", [])])])
    status, answer = harness.json(event(body=body, content_type="application/x-protobuf"))
    assert status == 400 and answer["count"] == 1 and "too many structured metadata" in answer["errors"][0]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["kept"]


def test_the_answer_to_a_refused_stream_with_megabytes_of_labels_stays_small(harness: Harness) -> None:
    # A function URL answers at most 6 MB; a bigger 400 would reach the client as a 502 and be retried.
    body = gzip.compress(
        v1_body([({"a": "v" * 7_000_000}, [[str(NOW_NS), "x"]]), ({"ok": "1"}, [[str(NOW_NS), "good"]])])
    )
    result = harness(event(body=body, content_encoding="gzip"))
    assert result["statusCode"] == 400 and len(result["body"]) < 8 * 1024
    assert "label value too long" in json.loads(result["body"])["errors"][0]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["good"]

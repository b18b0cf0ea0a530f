"""Property: whatever a client pushes and gets a 2xx for lands in S3 as strict JSON records from
which the exact original lines, labels and metadata are read back (docs/record-format.md).

Arbitrary bytes for protobuf pushes (lines, label values, metadata names and values), any
Unicode including lone surrogates for JSON pushes, through handler() with real boto3 clients
into the emulator's Firehose and S3. The objects are then read by two independent readers:
the project's own (loki_ingest.records.reader) and DuckDB's JSON reader. Runs on Python 3.11 and 3.12.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loki_ingest.records import reader
from tests.conftest import NOW_NS, event, record_figures
from tests.integration.conftest import Harness, Stack
from tests.support.logproto import snappy_block
from tests.support.wire import push_request

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("LOKI_ROUNDTRIP_EXAMPLES", "120"))
CASES = {"protobuf": 0, "json": 0, "entries": 0}
LANDED: list[bytes] = []  # every stored line, for the DuckDB pass at the end

NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n != "run")
#: Any Unicode, lone surrogates included, with the characters that trip encoders made frequent.
TRICKY = ["\ud800", "\udbff", "\udc00", "\udcff", "\udc80", "\x00", "\x01", "\n", "\r", '"', "\\", "\u2028", "é", "😀"]
ANY_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.lists(st.sampled_from(TRICKY) | st.characters(), max_size=20).map("".join),
)


def go_quoted(value: bytes) -> bytes:
    """A Prometheus label value in Go string syntax: every byte that is not printable ASCII as \\xNN."""
    out = bytearray(b'"')
    for byte in value:
        if byte in (0x22, 0x5C):
            out += b"\\" + bytes([byte])
        elif 0x20 <= byte < 0x7F:
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    return bytes(out + b'"')


protobuf_streams = st.lists(
    st.tuples(
        st.dictionaries(NAMES, st.binary(min_size=1, max_size=12), min_size=1, max_size=3),
        st.lists(
            st.tuples(
                st.binary(max_size=300),
                st.lists(st.tuples(st.binary(max_size=8), st.binary(max_size=8)), max_size=3),
            ),
            min_size=1,
            max_size=4,
        ),
    ),
    min_size=1,
    max_size=3,
)

json_streams = st.lists(
    st.tuples(
        st.dictionaries(NAMES, ANY_TEXT.filter(bool), min_size=1, max_size=3),
        st.lists(
            st.tuples(ANY_TEXT, st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3)),
            min_size=1,
            max_size=4,
        ),
    ),
    min_size=1,
    max_size=3,
)


class Landing:
    """The stored lines of one push, found by its run label (only new objects are read)."""

    def __init__(self, stack: Stack) -> None:
        self.s3 = stack.s3()
        self.bucket = stack.bucket
        self.seen: set[str] = set()

    def lines_of(self, run: str) -> list[bytes]:
        found: list[bytes] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                if obj["Key"] in self.seen:
                    continue
                self.seen.add(obj["Key"])
                data = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                found.extend(reader.stored_lines(data))
        LANDED.extend(found)
        return [line for line in found if dict(reader.original_labels(line)).get(b"run") == run.encode()]


@pytest.fixture
def landing(stack: Stack) -> Landing:
    return Landing(stack)


def wire_meaning(value: Any) -> Any:
    """A value as a JSON reader sees it after json.dumps (tuples as lists, then back)."""
    labels, line, metadata = json.loads(json.dumps(value))
    return [tuple(p) for p in labels], line, [tuple(p) for p in metadata]


def check_landed(stored: list[bytes], sent: dict[int, tuple[Any, Any, list[tuple[Any, Any]]]], decode: Any) -> None:
    """Each sent entry (by timestamp) is exactly one stored line that reads back exactly."""
    assert len(stored) == len(sent)
    for line in stored:
        doc = reader.parse(line)  # strict JSON, UTF-8, no duplicate keys, no lone surrogates
        labels, text, metadata = sent[int(doc["timestamp_ns"])]
        assert decode(reader.original_line(line)) == text
        assert [(decode(n), decode(v)) for n, v in reader.original_labels(line)] == labels
        assert [(decode(n), decode(v)) for n, v in reader.original_metadata(line)] == metadata


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(streams=protobuf_streams)
def test_any_protobuf_push_reads_back_byte_for_byte(
    make_harness: Callable[..., Harness], landing: Landing, streams: list[Any]
) -> None:
    harness = make_harness()
    run = uuid.uuid4().hex
    sent: dict[int, tuple[Any, Any, list[tuple[Any, Any]]]] = {}
    wire_streams = []
    ts = NOW_NS
    for labels, entries in streams:
        pairs = {**labels, "run": run.encode()}
        label_text = b"{" + b", ".join(n.encode() + b"=" + go_quoted(v) for n, v in pairs.items()) + b"}"
        wire_entries = []
        for line, metadata in entries:
            ts += 1
            wire_entries.append((ts, line, metadata))
            sent[ts] = (sorted((n.encode(), v) for n, v in pairs.items()), line, metadata)
        wire_streams.append((label_text, wire_entries))
    body = snappy_block(push_request(wire_streams))
    result = harness(event(body=body, content_type="application/x-protobuf"))
    assert result["statusCode"] == 200, result["body"]
    assert json.loads(result["body"])["count"] == len(sent)
    check_landed(landing.lines_of(run), sent, lambda raw: raw)
    CASES["protobuf"] += 1
    CASES["entries"] += len(sent)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(streams=json_streams)
def test_any_json_push_reads_back_exactly_lone_surrogates_included(
    make_harness: Callable[..., Harness], landing: Landing, streams: list[Any]
) -> None:
    harness = make_harness()
    run = uuid.uuid4().hex
    sent: dict[int, tuple[Any, Any, list[tuple[Any, Any]]]] = {}
    doc_streams = []
    ts = NOW_NS
    for labels, entries in streams:
        values = []
        for line, metadata in entries:
            ts += 1
            values.append([str(ts), line, metadata])
            expected_labels = sorted({**labels, "run": run}.items(), key=lambda p: p[0].encode())
            sent[ts] = (expected_labels, line, list(metadata.items()))
        doc_streams.append({"stream": {**labels, "run": run}, "values": values})
    body = json.dumps({"streams": doc_streams}).encode()  # ensure_ascii: surrogates as \ud800 escapes
    # What the JSON text means is what was sent: adjacent "\ud800\udc00" escapes are one character.
    sent = {ts: wire_meaning(entry) for ts, entry in sent.items()}
    result = harness(event(body=body))
    assert result["statusCode"] == 200, result["body"]
    check_landed(landing.lines_of(run), sent, lambda raw: raw.decode("utf-8", "surrogatepass"))
    CASES["json"] += 1
    CASES["entries"] += len(sent)


def test_duckdb_reads_every_landed_object_the_same_way(tmp_path: Path) -> None:
    """An independent JSON engine parses every stored line strictly and sees the same fields."""
    import duckdb

    assert CASES["protobuf"] >= EXAMPLES and CASES["json"] >= EXAMPLES, "run with the round-trip tests above"
    path = tmp_path / "landed.json"
    path.write_bytes(b"".join(LANDED))
    rows = (
        duckdb.connect()
        .sql(
            f"SELECT timestamp_ns, id, format, json(record) FROM read_json('{path}', format='newline_delimited', "
            "columns={timestamp_ns: 'VARCHAR', id: 'VARCHAR', format: 'VARCHAR', record: 'JSON'})"
        )
        .fetchall()
    )
    ours = [reader.parse(line) for line in LANDED]
    assert len(rows) == len(ours) >= CASES["entries"]
    for (timestamp_ns, record_id, fmt, record), doc in zip(rows, ours, strict=True):
        assert (timestamp_ns, record_id, fmt) == (doc["timestamp_ns"], doc["id"], doc["format"])
        assert json.loads(record) == doc["record"]
    record_figures("round trip", {**CASES, "stored_lines_read_by_duckdb": len(rows)})

"""The NDJSON record format, and that the raw line can always be recovered exactly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.model import Rejections
from loki_ingest.records import build
from loki_ingest.validate import ValidStream

LABELS = (("env", "prod"), ("service_name", "stytch"))
CANONICAL = '{env="prod", service_name="stytch"}'


def records_for(*entries: tuple[int, str, tuple[tuple[str, str], ...]], labels: Any = LABELS) -> list[bytes]:
    stream = ValidStream(labels, CANONICAL if labels is LABELS else str(labels), list(entries))
    rejections = Rejections()
    built = build([stream], rejections, 1_024_000)
    assert not rejections
    return built.lines


def test_exact_record_format_for_a_json_object_line() -> None:
    line = '{"event_id":"event-test-1","status":"success","http_status_code":200}'
    (record,) = records_for((1767225600123456789, line, ()))
    assert record.endswith(b"\n") and record.count(b"\n") == 1
    doc = json.loads(record)
    assert list(doc) == ["timestamp", "timestamp_ns", "stream", "record", "metadata", "id"]
    assert doc["timestamp"] == "2026-01-01T00:00:00.123456789Z"
    assert doc["timestamp_ns"] == "1767225600123456789"
    assert doc["stream"] == {"env": "prod", "service_name": "stytch"}
    assert doc["record"] == {"event_id": "event-test-1", "status": "success", "http_status_code": 200}
    assert doc["metadata"] == {}
    assert len(doc["id"]) == 32 and int(doc["id"], 16) >= 0
    # The JSON line is spliced verbatim: its exact bytes are in the file.
    assert b'"record":' + line.encode() + b',"metadata"' in record


def raw_line(doc: dict[str, Any], record: bytes) -> bytes:
    """How a reader recovers the exact original line (documented in the README)."""
    if "line_base64" in doc:
        return base64.b64decode(doc["line_base64"])
    if "line" in doc:
        return str(doc["line"]).encode()
    if set(doc["record"]) == {"message"} and b'"record":{"message":' in record:
        return str(doc["record"]["message"]).encode()
    start = record.index(b'"record":') + len(b'"record":')
    end = record.rindex(b',"metadata":')
    return record[start:end]


LINES = [
    pytest.param("plain text", {"message": "plain text"}, id="text"),
    pytest.param("", {"message": ""}, id="empty"),
    pytest.param('quote " backslash \\ tab \t', {"message": 'quote " backslash \\ tab \t'}, id="escapes"),
    pytest.param("ünïcødé 😀", {"message": "ünïcødé 😀"}, id="unicode"),
    pytest.param("[1,2,3]", {"message": "[1,2,3]"}, id="json-array-is-text"),
    pytest.param('"just a string"', {"message": '"just a string"'}, id="json-string-is-text"),
    pytest.param('{"a":NaN}', {"message": '{"a":NaN}'}, id="nan-is-not-json"),
    pytest.param('{"a":1} trailing', {"message": '{"a":1} trailing'}, id="trailing-text"),
    pytest.param('{"a":1}{"b":2}', {"message": '{"a":1}{"b":2}'}, id="two-objects"),
    pytest.param('{"a": [1, {"b": null}], "c": "é"}', {"a": [1, {"b": None}], "c": "é"}, id="nested-object"),
    pytest.param('  {"a":1}\t', {"a": 1}, id="whitespace-padded-object"),
    pytest.param('{"a":1,"a":2}', {"a": 2}, id="duplicate-keys-kept-in-text"),
    pytest.param('{"a":1}\n', {"a": 1}, id="object-with-trailing-newline"),
    pytest.param('{\n  "pretty": true\r\n}', {"pretty": True}, id="pretty-printed-object"),
    pytest.param("line\nbreak", {"message": "line\nbreak"}, id="multiline-text"),
    pytest.param('{"a":' * 5000 + "1" + "}" * 5000, None, id="deep-nesting-is-text"),
    pytest.param('{"big":' + "9" * 5000 + "}", None, id="huge-number"),
]


@pytest.mark.parametrize(("line", "expected_record"), LINES)
def test_every_line_kind_is_valid_ndjson_and_recoverable(line: str, expected_record: Any) -> None:
    (record,) = records_for((1, line, ()))
    assert record.count(b"\n") == 1, "a record must be exactly one NDJSON line"
    doc = json.loads(record)
    if expected_record is not None:
        assert doc["record"] == expected_record
    assert raw_line(doc, record) == line.encode()


@pytest.mark.parametrize(
    ("line", "readable"),
    [
        pytest.param("bad \udcff\udcfe bytes", "bad \ufffd\ufffd bytes", id="invalid-utf8-from-protobuf"),
        pytest.param("lone \ud800 surrogate", "lone \ufffd\ufffd\ufffd surrogate", id="lone-surrogate-from-json"),
    ],
)
def test_lines_that_are_not_unicode_keep_exact_bytes_in_line_base64(line: str, readable: str) -> None:
    (record,) = records_for((1, line, ()))
    record.decode("utf-8")  # the file stays valid UTF-8
    doc = json.loads(record)
    assert doc["record"] == {"message": readable}
    try:
        original = line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        original = line.encode("utf-8", "surrogatepass")
    assert base64.b64decode(doc["line_base64"]) == original


def test_metadata_is_kept_in_order_with_every_pair() -> None:
    (record,) = records_for((1, "x", (("trace_id", "abc"), ("user", "é\n"), ("trace_id", "dup"))))
    assert b'"metadata":{"trace_id":"abc","user":"\xc3\xa9\\n","trace_id":"dup"}' in record


@pytest.mark.parametrize(
    ("timestamp", "iso"),
    [
        (0, "1970-01-01T00:00:00.000000000Z"),
        (1, "1970-01-01T00:00:00.000000001Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (1767225600123456789, "2026-01-01T00:00:00.123456789Z"),
        (253402300799_999999999, "9999-12-31T23:59:59.999999999Z"),
        (-62135596800_000000000, "0001-01-01T00:00:00.000000000Z"),
    ],
)
def test_timestamps_keep_all_nine_fractional_digits(timestamp: int, iso: str) -> None:
    (record,) = records_for((timestamp, "x", ()))
    doc = json.loads(record)
    assert doc["timestamp"] == iso
    assert doc["timestamp_ns"] == str(timestamp)


def test_id_is_stable_and_depends_on_labels_timestamp_and_line() -> None:
    base = records_for((1, "x", ()))[0]
    again = records_for((1, "x", ()))[0]
    other_ts = records_for((2, "x", ()))[0]
    other_line = records_for((1, "y", ()))[0]
    other_labels = records_for((1, "x", ()), labels=(("env", "dev"),))[0]
    with_metadata = records_for((1, "x", (("k", "v"),)))[0]
    ids = [json.loads(r)["id"] for r in (base, again, other_ts, other_line, other_labels, with_metadata)]
    assert ids[0] == ids[1] == ids[5]
    assert len({ids[0], ids[2], ids[3], ids[4]}) == 4


def test_a_record_over_the_firehose_limit_is_rejected_not_split() -> None:
    stream = ValidStream(LABELS, CANONICAL, [(1, "\x00" * 200_000, ()), (2, "fine", ())])
    rejections = Rejections()
    built = build([stream], rejections, 1_024_000)
    assert len(built.lines) == 1 and b"fine" in built.lines[0]
    (rejection,) = rejections.items
    assert "1024000-byte record limit" in rejection.reason


def test_labels_are_serialised_as_an_object() -> None:
    (record,) = records_for((1, "x", ()), labels=(("a.b", "é"), ("q", '"')))
    assert json.loads(record)["stream"] == {"a.b": "é", "q": '"'}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_line_gives_one_valid_json_record_with_the_line_recoverable(line: str) -> None:
    (record,) = records_for((42, line, ()))
    assert record.count(b"\n") == 1
    doc = json.loads(record)
    try:
        expected = line.encode()
    except UnicodeEncodeError:
        return  # covered by the line_base64 test
    assert raw_line(doc, record) == expected


def test_label_values_that_are_not_unicode_are_escaped_not_dropped() -> None:
    (record,) = records_for((1, "x", ()), labels=(("a", "\ud800"),))
    record.decode("utf-8")
    assert json.loads(record)["stream"] == {"a": "\ud800"}


def test_a_non_unicode_line_keeps_its_metadata() -> None:
    (record,) = records_for((1, "bad \udcff", (("trace_id", "t\u00e9"),)))
    doc = json.loads(record)
    assert doc["metadata"] == {"trace_id": "t\u00e9"}
    assert base64.b64decode(doc["line_base64"]) == b"bad \xff"

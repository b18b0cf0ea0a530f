"""The NDJSON record format: every stored line is strict JSON, and the reader gives back
exactly what was pushed (docs/record-format.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.ingest.model import Rejections, exact_text
from loki_ingest.ingest.validate import ValidStream
from loki_ingest.records import reader
from loki_ingest.records.render import build, max_line_bytes_that_fit, worst_case_record_bytes
from loki_ingest.settings import Settings

LABELS = (("env", "prod"), ("service_name", "stytch"))
CANONICAL = '{env="prod", service_name="stytch"}'
RECORD_LIMIT = 1_024_000


def records_for(
    *entries: tuple[int, str, tuple[tuple[str, str], ...]], labels: Any = LABELS, limit: int = RECORD_LIMIT
) -> list[bytes]:
    stream = ValidStream(labels, CANONICAL if labels is LABELS else str(labels), list(entries))
    rejections = Rejections()
    built = build([stream], rejections, limit)
    assert not rejections
    for line in built.lines:
        reader.parse(line)  # every stored line keeps the invariant
        assert len(line) <= limit
    return built.lines


def test_exact_record_format_for_a_json_object_line() -> None:
    line = '{"event_id":"event-test-1","status":"success","http_status_code":200}'
    (record,) = records_for((1767225600123456789, line, ()))
    assert record.endswith(b"\n") and record.count(b"\n") == 1
    doc = json.loads(record)
    assert list(doc) == ["timestamp", "timestamp_ns", "stream", "record", "metadata", "id", "format"]
    assert doc["timestamp"] == "2026-01-01T00:00:00.123456789Z"
    assert doc["timestamp_ns"] == "1767225600123456789"
    assert doc["stream"] == {"env": "prod", "service_name": "stytch"}
    assert doc["record"] == {"event_id": "event-test-1", "status": "success", "http_status_code": 200}
    assert doc["metadata"] == {}
    assert len(doc["id"]) == 32 and int(doc["id"], 16) >= 0
    assert doc["format"] == "json"
    # The JSON line is spliced verbatim: its exact bytes are in the file.
    assert b'"record":' + line.encode() + b',"metadata"' in record


LINES = [
    # (line, format, record as a JSON reader sees it, extra fields)
    pytest.param("plain text", "text", {"message": "plain text"}, {}, id="text"),
    pytest.param("", "text", {"message": ""}, {}, id="empty"),
    pytest.param('quote " backslash \\ tab \t', "text", {"message": 'quote " backslash \\ tab \t'}, {}, id="escapes"),
    pytest.param("ünïcødé 😀 \u2028", "text", {"message": "ünïcødé 😀 \u2028"}, {}, id="unicode"),
    pytest.param("[1,2,3]", "text", {"message": "[1,2,3]"}, {}, id="json-array-is-text"),
    pytest.param('"just a string"', "text", {"message": '"just a string"'}, {}, id="json-string-is-text"),
    pytest.param('{"a":NaN}', "text", {"message": '{"a":NaN}'}, {}, id="nan-is-not-json"),
    pytest.param('{"a":1} trailing', "text", {"message": '{"a":1} trailing'}, {}, id="trailing-text"),
    pytest.param('{"a":1}{"b":2}', "text", {"message": '{"a":1}{"b":2}'}, {}, id="two-objects"),
    pytest.param('{"a": [1, {"b": null}], "c": "é"}', "json", {"a": [1, {"b": None}], "c": "é"}, {}, id="nested"),
    pytest.param(
        '  {"a":1}\t', "json", {"a": 1}, {"line_prefix": "  ", "line_suffix": "\t"}, id="json-whitespace-kept-aside"
    ),
    pytest.param('{"a":1}\n', "json", {"a": 1}, {"line_suffix": "\n"}, id="object-with-trailing-newline"),
    pytest.param('{"a":1,"a":2}', "text", {"message": '{"a":1,"a":2}'}, {}, id="duplicate-keys-are-text"),
    pytest.param('{\n  "pretty": true\r\n}', "text", {"message": '{\n  "pretty": true\r\n}'}, {}, id="pretty-is-text"),
    pytest.param("line\nbreak", "text", {"message": "line\nbreak"}, {}, id="multiline-text"),
    pytest.param('{"a":' * 5000 + "1" + "}" * 5000, "text", None, {}, id="deep-nesting-is-text"),
    pytest.param('{"a":' * 600 + "1" + "}" * 600, "text", None, {}, id="deeper-than-jackson-reads-is-text"),
    pytest.param('{"a":' * 400 + "1" + "}" * 400, "json", None, {}, id="deep-but-readable-is-json"),
    pytest.param('{"big":' + "9" * 5000 + "}", "text", None, {}, id="huge-integer-is-text"),
    pytest.param('{"big":' + "9" * 1001 + "}", "text", None, {}, id="integer-longer-than-jackson-reads-is-text"),
    pytest.param('{"big":' + "9" * 1000 + "}", "json", None, {}, id="integer-jackson-reads-is-json"),
    # The defects of issue 10, each stored as strict JSON and read back exactly.
    pytest.param('\x0c{"a":1}', "text", {"message": '\x0c{"a":1}'}, {}, id="form-feed-is-not-json-whitespace"),
    pytest.param('\u00a0{"a":1}', "text", {"message": '\u00a0{"a":1}'}, {}, id="nbsp-is-not-json-whitespace"),
    pytest.param('{"a":1}\x1c', "text", {"message": '{"a":1}\x1c'}, {}, id="file-separator"),
    pytest.param('{"a":1}\x1f', "text", {"message": '{"a":1}\x1f'}, {}, id="unit-separator"),
    pytest.param('\x85{"a":1}', "text", {"message": '\x85{"a":1}'}, {}, id="next-line"),
    pytest.param('{"a":1}\u2028', "text", {"message": '{"a":1}\u2028'}, {}, id="line-separator"),
    pytest.param('{"a":1e999}\r', "text", {"message": '{"a":1e999}\r'}, {}, id="overflowing-number-is-not-infinity"),
    pytest.param('{"a":-1e999}', "text", {"message": '{"a":-1e999}'}, {}, id="negative-overflow"),
    pytest.param('{"c":"\\ud800"}\n', "text", {"message": '{"c":"\\ud800"}\n'}, {}, id="lone-surrogate-escape"),
    pytest.param('{"c":"\\udc00x"}', "text", {"message": '{"c":"\\udc00x"}'}, {}, id="lone-low-surrogate-escape"),
    pytest.param('{"c":"\\ud83d\\ude00"}', "json", {"c": "😀"}, {}, id="surrogate-pair-escape-is-fine"),
    pytest.param('{"c":"\\\\ud800"}', "json", {"c": "\\ud800"}, {}, id="escaped-backslash-is-fine"),
]


@pytest.mark.parametrize(("line", "fmt", "expected_record", "extra"), LINES)
def test_every_line_is_strict_json_and_read_back_exactly(
    line: str, fmt: str, expected_record: Any, extra: dict[str, str]
) -> None:
    (record,) = records_for((1, line, ()))
    doc = reader.parse(record)
    assert doc["format"] == fmt
    if expected_record is not None:
        assert doc["record"] == expected_record
    for name, value in extra.items():
        assert doc[name] == value
    assert reader.original_line(record) == line.encode()


def test_a_json_line_and_the_text_of_its_message_are_told_apart() -> None:
    (as_json,) = records_for((1, '{"message":"hello"}', ()))
    (as_text,) = records_for((1, "hello", ()))
    assert json.loads(as_json)["record"] == json.loads(as_text)["record"] == {"message": "hello"}
    assert (json.loads(as_json)["format"], json.loads(as_text)["format"]) == ("json", "text")
    assert reader.original_line(as_json) == b'{"message":"hello"}'
    assert reader.original_line(as_text) == b"hello"


@pytest.mark.parametrize(
    ("sent", "line", "readable"),
    [
        pytest.param(b"bad \xff\xfe bytes", "bad \udcff\udcfe bytes", "bad \ufffd\ufffd bytes", id="invalid-utf8"),
        pytest.param(
            "lone \ud800 surrogate".encode("utf-8", "surrogatepass"),
            exact_text("lone \ud800 surrogate"),
            "lone \ufffd\ufffd\ufffd surrogate",
            id="lone-surrogate-from-json",
        ),
    ],
)
def test_lines_that_are_not_unicode_keep_exact_bytes_in_line_base64(sent: bytes, line: str, readable: str) -> None:
    (record,) = records_for((1, line, ()))
    doc = reader.parse(record)
    assert (doc["format"], doc["record"]) == ("base64", {"message": readable})
    assert reader.original_line(record) == sent


def test_metadata_with_repeated_names_keeps_every_pair_without_duplicate_keys() -> None:
    pairs = (("trace_id", "abc"), ("user", "é\n"), ("trace_id", "dup"))
    (record,) = records_for((1, "x", pairs))
    doc = reader.parse(record)  # no duplicate keys
    assert doc["metadata"] == {"trace_id": "dup", "user": "é\n"}
    assert reader.original_metadata(record) == [(n.encode(), v.encode()) for n, v in pairs]


def test_unique_metadata_is_exact_in_the_object_itself() -> None:
    pairs = (("trace_id", "abc"), ("user", "é\n"))
    (record,) = records_for((1, "x", pairs))
    assert "metadata_base64" not in json.loads(record)
    assert reader.original_metadata(record) == [(n.encode(), v.encode()) for n, v in pairs]


def test_labels_and_metadata_that_are_not_unicode_are_kept_exactly() -> None:
    labels = (("a", "x\udcff"), ("b", "ok"))  # protobuf bytes b"x\xff"
    metadata = (("k\udcfe", "v\udc80"), ("k\udcfd", "v"))
    (record,) = records_for((1, "line", metadata), labels=labels)
    doc = reader.parse(record)
    assert doc["stream"] == {"a": "x\ufffd", "b": "ok"}
    assert reader.original_labels(record) == [(b"a", b"x\xff"), (b"b", b"ok")]
    assert reader.original_metadata(record) == [(b"k\xfe", b"v\x80"), (b"k\xfd", b"v")]
    # Two names that differ only in invalid bytes must not collide into a duplicate key.
    assert doc["metadata"] == {"k\ufffd": "v"}


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


@pytest.mark.parametrize(
    ("line", "fmt"),
    [
        pytest.param("\x01" * 200_000, "base64", id="200k-control-characters-escape-past-a-record"),
        pytest.param('"' * 600_000, "base64", id="600k-quotes-escape-past-a-record"),
        pytest.param("\udcff" * 90_000, "base64", id="90k-invalid-bytes"),
        pytest.param("x" * 650_000, "text", id="650k-plain"),
    ],
)
def test_a_line_within_the_limits_always_fits_one_record(line: str, fmt: str) -> None:
    (record,) = records_for((1, line, ()))
    assert json.loads(record)["format"] == fmt
    assert reader.original_line(record) == line.encode("utf-8", "surrogateescape")


def test_when_nothing_readable_fits_the_stream_and_metadata_go_base64_only() -> None:
    labels = tuple((f"l{i:02d}", "\x01" * 2048) for i in range(16))
    metadata = tuple((f"m{i:03d}", "\x01" * 500) for i in range(128))
    line = "\x01" * 600_000
    (record,) = records_for((1, line, metadata), labels=labels)
    doc = reader.parse(record)
    assert (doc["stream"], doc["record"], doc["metadata"]) == ({}, {}, {})
    assert reader.original_line(record) == line.encode()
    assert reader.original_labels(record) == [(n.encode(), v.encode()) for n, v in labels]
    assert reader.original_metadata(record) == [(n.encode(), v.encode()) for n, v in metadata]


def test_the_worst_case_entry_within_the_default_limits_fits_one_record() -> None:
    settings = Settings.defaults()
    fits = max_line_bytes_that_fit(settings, RECORD_LIMIT)
    assert fits >= settings.max_line_bytes
    worst = worst_case_record_bytes(
        max_line_bytes=fits,
        max_label_pairs=settings.max_label_names + 1,
        max_label_name_bytes=settings.max_label_name_bytes,
        max_label_value_bytes=settings.max_label_value_bytes,
        max_metadata_entries=settings.max_metadata_entries,
        max_metadata_bytes=settings.max_metadata_bytes,
    )
    assert worst <= RECORD_LIMIT < worst + 4
    # Build that entry for real: every name and value at its limit, all escaping 6x.
    names = [f"n{i:02d}" + "\x01" * (settings.max_label_name_bytes - 3) for i in range(settings.max_label_names + 1)]
    labels = tuple(sorted((n, "\x01" * settings.max_label_value_bytes) for n in names))
    share = settings.max_metadata_bytes // settings.max_metadata_entries
    metadata = tuple((f"{i:03d}", "\x02" * (share - 3)) for i in range(settings.max_metadata_entries))
    # The longest timestamp a push can carry (protobuf, 0001-01-01) and the longest tenant.
    year_one = -62_135_596_800_000_000_000
    stream = ValidStream(labels, str(labels), [(year_one, "\udcff" * fits, metadata)])
    rejections = Rejections()
    (record,) = build([stream], rejections, RECORD_LIMIT, tenant="t" * 150).lines
    assert not rejections and len(record) <= RECORD_LIMIT
    assert reader.parse(record)["timestamp"] == "0001-01-01T00:00:00.000000000Z"


def test_an_entry_that_cannot_fit_even_compacted_is_rejected_not_split() -> None:
    stream = ValidStream(LABELS, CANONICAL, [(1, "x" * 2000, ()), (2, "fine", ())])
    rejections = Rejections()
    built = build([stream], rejections, 1000)
    assert len(built.lines) == 1 and b"fine" in built.lines[0]
    (rejection,) = rejections.items
    assert "does not fit in one 1000-byte record" in rejection.reason


@settings(max_examples=400, deadline=None)
@given(
    st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4),
)
def test_any_line_and_metadata_give_one_strict_record_read_back_exactly(
    line: str, metadata: list[tuple[str, str]]
) -> None:
    model_line = exact_text(line)
    model_metadata = tuple((exact_text(n), exact_text(v)) for n, v in metadata)
    (record,) = records_for((42, model_line, model_metadata))
    assert record.count(b"\n") == 1
    assert reader.original_line(record) == model_line.encode("utf-8", "surrogateescape")
    assert reader.original_metadata(record) == [
        (n.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape")) for n, v in model_metadata
    ]


def test_the_same_entry_from_two_tenants_gets_two_ids() -> None:
    stream = ValidStream(LABELS, CANONICAL, [(1, "x", ())])
    ids = set()
    for tenant in (None, "team-a", "team-b"):
        (line,) = build([stream], Rejections(), RECORD_LIMIT, tenant=tenant).lines
        ids.add(json.loads(line)["id"])
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("line", "fmt"),
    [
        pytest.param('{"a":"' + "[" * 600 + '"}', "json", id="brackets-inside-strings-do-not-count"),
        pytest.param('{"a":"\\"' + "[" * 600 + '"}', "json", id="brackets-after-an-escaped-quote"),
        pytest.param('{"a":' + "[" * 499 + "]" * 499 + "}", "json", id="500-levels"),
        pytest.param('{"a":' + "[" * 500 + "]" * 500 + "}", "text", id="501-levels"),
        pytest.param('{"' + "k" * 50_000 + '":1}', "json", id="50000-character-key"),
        pytest.param('{"' + "k" * 50_001 + '":1}', "text", id="50001-character-key"),
        pytest.param('{"' + "\U0001f600" * 25_001 + '":1}', "text", id="key-over-50000-utf16-units"),
    ],
)
def test_json_lines_beyond_jacksons_limits_are_stored_as_text(line: str, fmt: str) -> None:
    (record,) = records_for((1, line, ()))
    assert json.loads(record)["format"] == fmt
    assert reader.original_line(record) == line.encode()


def test_names_longer_than_jackson_reads_are_only_in_the_base64_lists() -> None:
    long_name = "m" * 50_001
    labels = (("a", "b"), ("l" * 50_001, "v"))
    (record,) = records_for((1, "x", ((long_name, "1"), ("short", "2"))), labels=labels)
    doc = json.loads(record)
    assert doc["stream"] == {"a": "b"} and doc["metadata"] == {"short": "2"}
    assert reader.original_labels(record) == [(n.encode(), v.encode()) for n, v in labels]
    assert reader.original_metadata(record) == [(long_name.encode(), b"1"), (b"short", b"2")]

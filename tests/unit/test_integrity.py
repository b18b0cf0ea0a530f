"""Every acknowledged entry lands as a strict JSON record from which the exact original is read
back; a push that can never succeed is refused up front (issue 10's defects, through handler())."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from loki_ingest.records import reader
from tests.conftest import NOW_NS, Harness, event
from tests.support.logproto import snappy_block
from tests.support.wire import push_request


def push_json(harness: Harness, lines: list[str], **streams: Any) -> tuple[int, dict[str, Any], list[bytes]]:
    values = [[str(NOW_NS + i), line] for i, line in enumerate(lines)]
    body = json.dumps({"streams": [{"stream": {"app": "t", **streams}, "values": values}]}).encode()
    status, answer = harness.json(event(body=body))
    return status, answer, harness.firehose.lines()


def push_protobuf(harness: Harness, raw: bytes) -> tuple[int, dict[str, Any], list[bytes]]:
    status, answer = harness.json(event(body=snappy_block(raw), content_type="application/x-protobuf"))
    return status, answer, harness.firehose.lines()


JSON_LINES = [
    pytest.param('\x0c{"a":1}', id="form-feed-before-an-object"),
    pytest.param('\u00a0{"a":1}', id="nbsp-before-an-object"),
    pytest.param('{"a":1}\x1c', id="file-separator-after-an-object"),
    pytest.param('\x1d{"a":1}\x1e', id="group-and-record-separators"),
    pytest.param('{"a":1}\x1f', id="unit-separator"),
    pytest.param('\x85{"a":1}', id="next-line-character"),
    pytest.param('{"a":1}\u2028', id="line-separator"),
    pytest.param('{"a":1e999}\r', id="number-that-overflows-to-infinity"),
    pytest.param('{"c":"\\ud800"}\n', id="lone-surrogate-escape-inside-the-line"),
    pytest.param("\ud800 raw lone surrogate", id="lone-surrogate-in-the-line-itself"),
    pytest.param("x\udcffy", id="lone-low-surrogate-in-the-line"),
    pytest.param('{"a":' * 990 + "1" + "}" * 990 + "\n", id="object-nested-990-deep"),
    pytest.param('{"message":"hello"}', id="json-line-that-looks-like-a-text-record"),
    pytest.param("hello", id="text-line"),
    pytest.param("\x01" * 200_000, id="200k-control-characters"),
]


@pytest.mark.parametrize("line", JSON_LINES)
def test_a_json_push_is_acknowledged_only_as_strict_records_read_back_exactly(harness: Harness, line: str) -> None:
    status, answer, stored = push_json(harness, [line])
    assert (status, answer) == (200, {"status": "success", "count": 1})
    (record,) = stored
    reader.parse(record)  # strict RFC 8259: UTF-8, no duplicate keys, no NaN/Infinity, no lone surrogates
    assert reader.original_line(record).decode("utf-8", "surrogatepass") == line


def test_the_json_line_and_the_text_line_are_distinguishable(harness: Harness) -> None:
    _, _, stored = push_json(harness, ['{"message":"hello"}', "hello"])
    assert [reader.original_line(r) for r in stored] == [b'{"message":"hello"}', b"hello"]
    assert [json.loads(r)["format"] for r in stored] == ["json", "text"]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"\xff" * 90_000, id="90000-invalid-bytes-count-as-90000"),
        pytest.param(b"\x01" * 200_000, id="200000-control-bytes"),
        pytest.param(b"ok \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80", id="invalid-sequences"),
        pytest.param(b"\xff" * 262_144, id="at-the-line-limit"),
    ],
)
def test_a_protobuf_line_of_any_bytes_within_the_limit_is_accepted_and_exact(harness: Harness, line: bytes) -> None:
    status, answer, stored = push_protobuf(harness, push_request([(b'{app="t"}', [(NOW_NS, line, [])])]))
    assert (status, answer) == (200, {"status": "success", "count": 1})
    (record,) = stored
    assert reader.original_line(record) == line


def test_line_size_is_counted_in_bytes_as_sent(harness: Harness) -> None:
    status, answer, _ = push_protobuf(harness, push_request([(b'{app="t"}', [(NOW_NS, b"\xff" * 262_145, [])])]))
    assert status == 400 and answer["rejected"] == 1
    assert "length '262145' bytes" in answer["errors"][0]


def test_protobuf_labels_and_metadata_that_are_not_utf8_are_kept_exactly(harness: Harness) -> None:
    raw = push_request(
        [
            (
                b'{app="t", raw="a\xffb", escaped="\\xfe"}',
                [(NOW_NS, b"line", [(b"k\xff", b"v\xfe"), (b"dup", b"1"), (b"dup", b"2")])],
            )
        ]
    )
    status, _, stored = push_protobuf(harness, raw)
    assert status == 200
    (record,) = stored
    doc = reader.parse(record)
    assert doc["stream"] == {"app": "t", "escaped": "\ufffd", "raw": "a\ufffdb"}
    assert reader.original_labels(record) == [(b"app", b"t"), (b"escaped", b"\xfe"), (b"raw", b"a\xffb")]
    assert reader.original_metadata(record) == [(b"k\xff", b"v\xfe"), (b"dup", b"1"), (b"dup", b"2")]


def test_json_labels_and_metadata_with_lone_surrogates_are_kept_exactly(harness: Harness) -> None:
    body = (
        b'{"streams":[{"stream":{"app":"t","s":"\\udcff"},'
        b'"values":[["1767225600000000000","x",{"m":"\\ud800","n":"ok"}]]}]}'
    )
    status, _ = harness.json(event(body=body))
    assert status == 200
    (record,) = harness.firehose.lines()
    reader.parse(record)
    labels = dict(reader.original_labels(record))
    assert labels[b"s"].decode("utf-8", "surrogatepass") == "\udcff"
    assert [(n, v.decode("utf-8", "surrogatepass")) for n, v in reader.original_metadata(record)] == [
        (b"m", "\ud800"),
        (b"n", "ok"),
    ]


# --- pushes that can never succeed are refused before the work ----------------------------------


def gzip_json(values: int, streams: int = 1) -> bytes:
    doc = {
        "streams": [
            {"stream": {"s": str(s)}, "values": [[str(NOW_NS + i), "x"] for i in range(values)]} for s in range(streams)
        ]
    }
    return gzip.compress(json.dumps(doc).encode())


#: A small work budget, so that pushes of a few thousand elements cross it.
SMALL_BUDGET = 20_000

OVER_BUDGET = [
    pytest.param(lambda: event(body=gzip_json(5_000), content_encoding="gzip"), id="json-entries"),
    pytest.param(lambda: event(body=gzip_json(1, 1_000), content_encoding="gzip"), id="json-streams"),
    pytest.param(
        lambda: event(
            body=snappy_block(push_request([(b'{a="b"}', [(NOW_NS + i, b"x", []) for i in range(5_000)])])),
            content_type="application/x-protobuf",
        ),
        id="protobuf-entries-in-one-stream",
    ),
    pytest.param(
        lambda: event(
            body=snappy_block(push_request([(b'{a="%d"}' % i, [(NOW_NS, b"x", [])]) for i in range(1_000)])),
            content_type="application/x-protobuf",
        ),
        id="protobuf-streams",
    ),
    pytest.param(
        lambda: event(
            body=snappy_block(push_request([(b'{a="b"}', [(NOW_NS, b"x", [(b"k", b"")] * 10_000)])])),
            content_type="application/x-protobuf",
        ),
        id="protobuf-metadata-pairs",
    ),
]


@pytest.mark.parametrize("make_event", OVER_BUDGET)
def test_a_push_over_the_work_budget_is_413_with_how_to_split_it_and_nothing_is_delivered(
    make_app: Callable[..., Harness], make_event: Callable[[], dict[str, Any]]
) -> None:
    harness = make_app(work_budget_units=SMALL_BUDGET)
    status, answer = harness.json(make_event())
    assert status == 413
    assert "WORK_BUDGET_UNITS" in answer["message"] and "smaller pushes" in answer["message"]
    assert harness.firehose.calls == []


def test_a_push_within_the_work_budget_is_accepted(make_app: Callable[..., Harness]) -> None:
    harness = make_app(work_budget_units=SMALL_BUDGET)
    status, answer = harness.json(event(body=gzip_json(10, 10), content_encoding="gzip"))
    assert (status, answer["count"]) == (200, 100)

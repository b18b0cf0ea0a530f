"""v1 and legacy JSON decoding, case by case against Loki's rules (docs/loki-protocol.md#json-bodies)."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from loki_ingest.decoding.lokijson import decode_legacy, decode_v1, parse_rfc3339
from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.ingest.model import MISSING_TIMESTAMP

TS = "1570818238000000000"


def v1(streams: object) -> bytes:
    return json.dumps({"streams": streams}).encode()


ACCEPTED = [
    pytest.param(
        v1([{"stream": {"foo": "bar2"}, "values": [[TS, "fizzbuzz"]]}]),
        [([("foo", "bar2")], [(1570818238000000000, "fizzbuzz", ())])],
        id="canonical",
    ),
    pytest.param(
        v1([{"stream": {"foo": "bar2"}, "values": [[TS, "with metadata", {"trace_id": "0242ac120002"}]]}]),
        [([("foo", "bar2")], [(1570818238000000000, "with metadata", (("trace_id", "0242ac120002"),))])],
        id="structured-metadata",
    ),
    pytest.param(
        json.dumps({"streams": [{"stream": {"a": "b"}, "values": []}], "extra": 1}).encode(),
        [([("a", "b")], [])],
        id="unknown-top-level-keys-ignored",
    ),
    pytest.param(b'{"streams": null}', [], id="null-streams-is-empty"),
    pytest.param(b"{}", [], id="missing-streams-is-empty"),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[TS, "x"]], "other": True}]),
        [([("a", "b")], [(1570818238000000000, "x", ())])],
        id="unknown-stream-keys-ignored",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"n":123,"f":1.50,"t":true,"z":null},"values":[["1","x"]]}]}',
        [([("n", "123"), ("f", "1.50"), ("t", "true"), ("z", "null")], [(1, "x", ())])],
        id="non-string-label-values-kept-as-raw-text",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":-0,"b":12345678901234567890123,"c":1E+2,"d":-7},"values":[["1","x"]]}]}',
        [([("a", "-0"), ("b", "12345678901234567890123"), ("c", "1E+2"), ("d", "-7")], [(1, "x", ())])],
        id="number-label-values-keep-their-exact-source-text",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"1","a":"2"},"values":[["1","x"]]}]}',
        [([("a", "1"), ("a", "2")], [(1, "x", ())])],
        id="repeated-label-names-kept-for-validation-to-refuse",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"m":"1","m":"2"}]]}]}',
        [([("a", "b")], [(1, "x", (("m", "1"), ("m", "2")))])],
        id="repeated-metadata-names-keep-every-value",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"m":"\\ud800","m":"2"}]]}]}',
        [([("a", "b")], [(1, "x", (("m", "\udced\udca0\udc80"), ("m", "2")))])],
        id="repeated-metadata-names-with-a-lone-surrogate",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"values":[["1","x"]],"other":1,"other":2}]}',
        [([("a", "b")], [(1, "x", ())])],
        id="repeated-unknown-keys-ignored",
    ),
    pytest.param(
        v1([{"stream": {"a": "", "b": "c"}, "values": [[TS, "x"]]}]),
        [([("b", "c")], [(1570818238000000000, "x", ())])],
        id="empty-label-values-dropped",
    ),
    pytest.param(
        v1([{"values": [[TS, "x"]]}]),
        [([], [(1570818238000000000, "x", ())])],
        id="missing-stream-is-empty-label-set",
    ),
    pytest.param(v1([{"stream": {"a": "b"}, "values": None}]), [([("a", "b")], [])], id="null-values"),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [None, [TS, "x"], None]}]),
        [([("a", "b")], [(1570818238000000000, "x", ())])],
        id="null-entries-skipped",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[TS, "x", {}, "ignored", 5]]}]),
        [([("a", "b")], [(1570818238000000000, "x", ())])],
        id="elements-after-third-ignored",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [["0", "zero"], ["-5", "negative"]]}]),
        [([("a", "b")], [(0, "zero", ()), (-5, "negative", ())])],
        id="zero-and-negative-timestamps",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [["9223372036854775807", "max"]]}]),
        [([("a", "b")], [(9223372036854775807, "max", ())])],
        id="int64-max-timestamp",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[TS]]}]),
        [([("a", "b")], [(1570818238000000000, "", ())])],
        id="short-entry-has-empty-line",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[]]}]),
        [([("a", "b")], [(MISSING_TIMESTAMP, "", ())])],
        id="empty-entry-has-no-timestamp",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"values":[["1","tab\\there \\u00e9 \\ud83d\\ude00",{"m":"multi\\nline"}]]}]}',
        [([("a", "b")], [(1, "tab\there é 😀", (("m", "multi\nline"),))])],
        id="escapes-decoded",
    ),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[TS, ""]]}]),
        [([("a", "b")], [(1570818238000000000, "", ())])],
        id="empty-line",
    ),
    pytest.param(
        v1([{"stream": {"a": "1"}, "values": [[TS, "x"]]}, {"stream": {"a": "1"}, "values": [[TS, "y"]]}]),
        [([("a", "1")], [(1570818238000000000, "x", ())]), ([("a", "1")], [(1570818238000000000, "y", ())])],
        id="same-labels-twice",
    ),
    pytest.param(
        b'{"streams":[]}  \n',
        [],
        id="trailing-whitespace",
    ),
]


@pytest.mark.parametrize(("body", "expected"), ACCEPTED)
def test_v1_accepts_what_loki_accepts(body: bytes, expected: list[tuple[object, object]]) -> None:
    streams = decode_v1(body)
    assert [(s.labels, s.entries) for s in streams] == expected


REJECTED = [
    pytest.param(b"", "invalid JSON", id="empty-body"),
    pytest.param(b"[]", "must be an object", id="top-level-array"),
    pytest.param(b'"streams"', "must be an object", id="top-level-string"),
    pytest.param(b'{"streams": {}}', "must be an array", id="streams-not-array"),
    pytest.param(v1(["x"]), "stream 0: must be an object", id="stream-not-object"),
    pytest.param(v1([{"stream": None, "values": []}]), "must be an object of labels", id="null-labels"),
    pytest.param(v1([{"stream": ["a"], "values": []}]), "must be an object of labels", id="array-labels"),
    pytest.param(b'{"streams":[{"stream":{"a":None},"values":[]}]}', "invalid JSON", id="bare-None-token"),
    pytest.param(v1([{"stream": {"a.b": "c"}, "values": []}]), "invalid label name", id="dotted-label-name"),
    pytest.param(v1([{"stream": {"a-b": "c"}, "values": []}]), "invalid label name", id="dashed-label-name"),
    pytest.param(v1([{"stream": {"1a": "c"}, "values": []}]), "invalid label name", id="digit-first-label-name"),
    pytest.param(v1([{"stream": {"é": "c"}, "values": []}]), "invalid label name", id="non-ascii-label-name"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": {}}]), '"values" must be an array', id="values-object"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": ["x"]}]), "must be an array [timestamp", id="entry-string"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[1570818238, "x"]]}]), "must be a string", id="ts-number"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["", "x"]]}]), "not an integer", id="ts-empty"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["01", "x"]]}]), "not an integer", id="ts-leading-zero"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["+1", "x"]]}]), "not an integer", id="ts-plus"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[" 1", "x"]]}]), "not an integer", id="ts-space"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["1.5", "x"]]}]), "not an integer", id="ts-decimal"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["1e9", "x"]]}]), "not an integer", id="ts-exponent"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [["١٢٣", "x"]]}]), "not an integer", id="ts-unicode-digits"),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [["9223372036854775808", "x"]]}]), "overflows int64", id="ts-overflow"
    ),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[TS, {"a": 1}]]}]), "line must be a string", id="line-object"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[TS, 5]]}]), "line must be a string", id="line-number"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[TS, None]]}]), "line must be a string", id="line-null"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[TS, "x", None]]}]), "structured metadata", id="metadata-null"),
    pytest.param(v1([{"stream": {"a": "b"}, "values": [[TS, "x", ["a"]]]}]), "structured metadata", id="metadata-list"),
    pytest.param(
        v1([{"stream": {"a": "b"}, "values": [[TS, "x", {"n": 1}]]}]), "must be a string", id="metadata-number-value"
    ),
    pytest.param(b'{"streams":[]} {"streams":[]}', "Extra data", id="second-document-not-ignored"),
    pytest.param(b'{"streams":[],"streams":[]}', 'key "streams" appears more than once', id="repeated-streams"),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"values":[["1","x"]],"values":[]}]}',
        'stream 0: key "values" appears more than once',
        id="repeated-values",
    ),
    pytest.param(
        b'{"streams":[{"stream":{"a":"b"},"stream":{"c":"d"},"values":[]}]}',
        'key "stream" appears more than once',
        id="repeated-stream",
    ),
    pytest.param(v1([{"stream": {"a": [1, 2]}, "values": []}]), "label 'a' must be a string", id="array-label-value"),
    pytest.param(v1([{"stream": {"a": {"b": 1}}, "values": []}]), "got an object", id="object-label-value"),
    pytest.param(b'{"streams":[{"values":[["1", NaN]]}]}', "invalid JSON", id="nan-token"),
    pytest.param(b'\xff{"streams":[]}', "not valid UTF-8", id="invalid-utf8"),
    pytest.param(b'{"streams":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid JSON", id="deep-nesting"),
]


@pytest.mark.parametrize(("body", "message"), REJECTED)
def test_v1_rejects_malformed_bodies_with_400(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_v1(body)
    assert info.value.status == 400
    assert message in info.value.message


def test_legacy_json_decodes_label_strings_and_rfc3339() -> None:
    body = json.dumps(
        {
            "streams": [
                {
                    "labels": '{test="test", foo="bar"}',
                    "entries": [
                        {
                            "ts": "2019-09-13T18:32:22.380001319Z",
                            "line": "super line",
                            "structuredMetadata": {"a": "1", "b": "2"},
                        },
                        {"ts": "2019-09-13T20:32:22.5+02:00", "line": "offset"},
                    ],
                }
            ]
        }
    ).encode()
    (stream,) = decode_legacy(body)
    assert stream.labels == [("test", "test"), ("foo", "bar")]
    assert stream.entries == [
        (1568399542380001319, "super line", (("a", "1"), ("b", "2"))),
        (1568399542500000000, "offset", ()),
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param({"streams": [{"labels": "{a=b}", "entries": []}]}, "couldn't parse labels", id="bad-labels"),
        pytest.param({"streams": [{"labels": 5, "entries": []}]}, '"labels" must be a string', id="labels-number"),
        pytest.param({"streams": [{"labels": "{}", "entries": [{"ts": 5}]}]}, "RFC 3339", id="ts-number"),
        pytest.param({"streams": [{"labels": "{}", "entries": [{"ts": "yesterday"}]}]}, "RFC 3339", id="ts-word"),
        pytest.param(
            {"streams": [{"labels": "{}", "entries": [{"ts": "2019-02-31T00:00:00Z"}]}]}, "range", id="feb-31"
        ),
        pytest.param({"streams": [{"labels": "{}", "entries": ["x"]}]}, "must be an object", id="entry-string"),
        pytest.param(
            {"streams": [{"labels": "{}", "entries": [{"ts": "2019-09-13T18:32:22Z", "line": 1}]}]},
            "must be a string",
            id="line-number",
        ),
    ],
)
def test_legacy_rejects_malformed_bodies_with_400(doc: object, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_legacy(json.dumps(doc).encode())
    assert message in info.value.message


def test_legacy_labels_over_16_mib_are_413() -> None:
    labels = '{a="' + "x" * (1 << 24) + '"}'
    with pytest.raises(PayloadTooLarge):
        decode_legacy(json.dumps({"streams": [{"labels": labels, "entries": []}]}).encode())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T23:59:59.5Z", -500_000_000),
        ("2026-01-01t00:00:00z", 1_767_225_600_000_000_000),
    ],
)
def test_rfc3339_keeps_nanoseconds_exactly(text: str, expected: int) -> None:
    assert parse_rfc3339(text, "test") == expected


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(b'{"streams":[{"labels":"{}","entries":[],"entries":[]}]}', id="repeated-entries"),
        pytest.param(b'{"streams":[{"labels":"{a=\\"b\\"}","labels":"{}","entries":[]}]}', id="repeated-labels"),
        pytest.param(
            b'{"streams":[{"labels":"{}","entries":[{"ts":"2020-01-01T00:00:00Z","line":"a","line":"b"}]}]}',
            id="repeated-line",
        ),
        pytest.param(
            b'{"streams":[{"labels":"{}","entries":[{"line":"a","structuredMetadata":[{"name":"n","name":"m"}]}]}]}',
            id="repeated-metadata-item-name",
        ),
    ],
)
def test_legacy_refuses_a_repeated_key_that_would_drop_a_value(doc: bytes) -> None:
    with pytest.raises(DecodeError, match="appears more than once"):
        decode_legacy(doc)


def test_null_entries_are_skipped_as_loki_skips_them() -> None:
    values = [None] * 10 + [[TS, "x"]] * 5
    assert len(decode_v1(v1([{"stream": {"a": "b"}, "values": values}]))[0].entries) == 5


def test_an_array_of_small_numbers_in_a_label_value_costs_no_object_per_number() -> None:
    # Refused anyway (arrays are not label values); the parse must not cost ~60 bytes a digit.
    body = b'{"streams":[{"stream":{"a":[' + b"1," * 500_000 + b'1]},"values":[]}]}'
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError, match="must be a string"):
            decode_v1(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(body)

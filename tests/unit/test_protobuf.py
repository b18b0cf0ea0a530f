"""The protobuf PushRequest reader, against hand-made wire bytes and the reference
`protobuf` library (messages built in code from Loki's push.proto)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding import prepass
from loki_ingest.decoding.labels import canonical
from loki_ingest.decoding.logproto import decode_push_request
from loki_ingest.decoding.snappy import decompress
from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.model import MISSING_TIMESTAMP
from tests.support.logproto import encode_push, protobuf_push
from tests.support.wire import varint


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def ld(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def ts(seconds: int, nanos: int = 0) -> bytes:
    body = (key(1, 0) + varint(seconds) if seconds else b"") + (key(2, 0) + varint(nanos) if nanos else b"")
    return ld(1, body)


def entry(*fields: bytes) -> bytes:
    return ld(2, b"".join(fields))


def stream(labels: str, *entries: bytes) -> bytes:
    return ld(1, ld(1, labels.encode()) + b"".join(entries))


V1 = bytes.fromhex(
    "0a33 0a0c7b666f6f3d2262617232227d 1223 0a0608be9183ed05 120866697a7a62757a7a 1a0f0a056e616d6531120676616c756531"
)


def test_decodes_the_documented_vector_v1() -> None:
    (only,) = decode_push_request(V1)
    assert only.labels == [("foo", "bar2")]
    assert only.entries == [(1570818238_000000000, "fizzbuzz", (("name1", "value1"),))]


def test_reference_library_encodes_v1_byte_for_byte() -> None:
    assert encode_push([('{foo="bar2"}', [(1570818238_000000000, "fizzbuzz", [("name1", "value1")])])]) == V1


def test_decodes_the_documented_timestamp_with_exact_nanoseconds() -> None:
    body = stream('{a="b"}', entry(ld(1, bytes.fromhex("0880e2cfaa0610959aef3a")), ld(2, b"x")))
    (only,) = decode_push_request(body)
    assert only.entries[0][0] == 1_700_000_000_123_456_789


CASES = [
    pytest.param(
        stream('{a="b"}', entry(ts(5), ld(2, b"x")), entry(ts(6), ld(2, b"y"))),
        [(5_000_000_000, "x", ()), (6_000_000_000, "y", ())],
        id="repeated-entries-accumulate",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(1), ts(2), ld(2, b"first"), ld(2, b"last"))),
        [(2_000_000_000, "last", ())],
        id="singular-fields-last-wins",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(1), ld(2, b"x"), ld(3, ld(1, b"k1") + ld(2, b"v1")), ld(3, ld(1, b"k2")))),
        [(1_000_000_000, "x", (("k1", "v1"), ("k2", "")))],
        id="structured-metadata-accumulates",
    ),
    pytest.param(
        stream(
            '{a="b"}',
            entry(
                ts(1),
                key(9, 0) + varint(300),
                key(10, 1) + b"12345678",
                key(11, 5) + b"1234",
                ld(12, b"unknown"),
                key(13, 3) + key(1, 0) + varint(1) + key(13, 4),
                ld(4, ld(1, b"parsed")),
                ld(2, b"x"),
            ),
        ),
        [(1_000_000_000, "x", ())],
        id="unknown-fields-and-groups-skipped",
    ),
    pytest.param(
        stream('{a="b"}', entry(ld(2, b"no timestamp"))),
        [(MISSING_TIMESTAMP, "no timestamp", ())],
        id="missing-timestamp",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(-1, 500), ld(2, b"x"))),
        [(-999_999_500, "x", ())],
        id="negative-seconds-ten-byte-varint",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(1), ld(2, b"bad \xff\xfe utf8"))),
        [(1_000_000_000, "bad \udcff\udcfe utf8", ())],
        id="invalid-utf8-kept-byte-exact",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(253402300799, 999999999), ld(2, b"x"))),
        [(253402300799_999999999, "x", ())],
        id="largest-timestamp",
    ),
    pytest.param(
        stream('{a="b"}', entry(ts(-62135596800), ld(2, b"x"))),
        [(-62135596800_000000000, "x", ())],
        id="smallest-timestamp",
    ),
]


@pytest.mark.parametrize(("body", "entries"), CASES)
def test_wire_format_rules(body: bytes, entries: list[tuple[int, str, tuple[tuple[str, str], ...]]]) -> None:
    (only,) = decode_push_request(body)
    assert only.entries == entries


def test_stream_fields_hash_and_push_format_are_ignored() -> None:
    body = ld(1, key(3, 0) + varint(12345) + ld(1, b'{a="b"}')) + ld(2, b"loki")
    (only,) = decode_push_request(body)
    assert only.labels == [("a", "b")]


CORRUPT = [
    pytest.param(key(1, 0) + varint(5), "wrong wire type VARINT for field 1", id="streams-as-varint"),
    pytest.param(ld(1, key(1, 0) + varint(5)), "wrong wire type", id="labels-as-varint"),
    pytest.param(ld(1, key(2, 0) + varint(5)), "wrong wire type", id="entries-as-varint"),
    pytest.param(ld(1, key(3, 2) + varint(0)), "wrong wire type", id="hash-as-len"),
    pytest.param(stream("{}", entry(key(1, 0) + varint(1))), "wrong wire type", id="timestamp-as-varint"),
    pytest.param(stream("{}", entry(key(2, 0) + varint(1))), "wrong wire type", id="line-as-varint"),
    pytest.param(stream("{}", entry(ld(1, key(1, 2) + varint(0)))), "wrong wire type", id="seconds-as-len"),
    pytest.param(stream("{}", entry(ld(3, key(1, 0) + varint(0)))), "wrong wire type", id="metadata-name-as-varint"),
    pytest.param(key(2, 0) + varint(1), "wrong wire type", id="format-as-varint"),
    pytest.param(key(0, 0) + varint(1), "field number 0", id="field-zero"),
    pytest.param(key(5, 6) + b"x", "illegal wire type", id="wire-type-6"),
    pytest.param(key(5, 4), "illegal wire type", id="stray-end-group"),
    pytest.param(key(5, 3) * 200_000, "nested deeper than 64", id="groups-200000-deep-unclosed"),
    pytest.param(key(5, 3) * 65 + key(5, 4) * 65, "nested deeper than 64", id="groups-65-deep"),
    pytest.param(key(5, 3) + key(1, 0) + varint(1), "no end-group tag", id="group-unclosed"),
    pytest.param(key(5, 3) + key(6, 4), "closed by the end-group tag of field 6", id="group-closed-by-another-field"),
    pytest.param(varint(1 << 32 | 2) + b"\x00", "field number 536870912 above", id="field-number-2-to-the-29"),
    pytest.param(b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x01\x00", "more than 5 bytes", id="ten-byte-key"),
    pytest.param(b"\x8a\x80\x80\x80\x80\x00\x00", "key spelled in more than 5 bytes", id="six-byte-key"),
    pytest.param(b"\x0a\x80\x80\x80\x80\x80\x00", "length spelled in more than 5 bytes", id="six-byte-length"),
    pytest.param(b"\x0a", "truncated varint", id="truncated-length"),
    pytest.param(b"\x0a\x05\x0a\x01", "past the end", id="truncated-message"),
    pytest.param(key(5, 0) + b"\xff\xff", "truncated varint", id="truncated-varint"),
    pytest.param(key(5, 0) + b"\xff" * 10 + b"\x01", "longer than 10 bytes", id="overlong-varint"),
    pytest.param(key(5, 1) + b"1234", "truncated fixed-width", id="truncated-fixed64"),
    pytest.param(key(5, 5) + b"12", "truncated fixed-width", id="truncated-fixed32"),
    pytest.param(stream("{}", entry(ts(1, 1_000_000_000))), "nanos", id="nanos-too-big"),
    pytest.param(stream("{}", entry(ts(1, -1))), "nanos", id="nanos-negative"),
    pytest.param(stream("{}", entry(ts(253402300800))), "seconds", id="year-10000"),
    pytest.param(stream("{}", entry(ts(-62135596801))), "seconds", id="before-year-1"),
    pytest.param(stream("{a=b}"), "couldn't parse labels", id="unparseable-labels"),
]


@pytest.mark.parametrize(("body", "message"), CORRUPT)
def test_corrupt_messages_are_400(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_push_request(body)
    assert info.value.status == 400
    assert message in info.value.message


def test_labels_over_16_mib_are_413() -> None:
    with pytest.raises(PayloadTooLarge):
        decode_push_request(ld(1, ld(1, b"{" + b" " * (1 << 24) + b"}")))


# --- property tests against the reference encoder ------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12)
label_sets = st.dictionaries(names, values, max_size=4)
entries = st.lists(
    st.tuples(
        st.integers(min_value=-62135596800 * 10**9, max_value=253402300799 * 10**9 + 999_999_999),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
        st.lists(st.tuples(names, st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)), max_size=3),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(label_sets, entries), max_size=4))
def test_random_push_requests_from_the_reference_encoder_decode_to_the_same_model(
    streams: list[tuple[dict[str, str], list[tuple[int, str, list[tuple[str, str]]]]]],
) -> None:
    specs = [(canonical(sorted(labels.items())), list(es)) for labels, es in streams]
    body = protobuf_push(specs)
    decoded = decode_push_request(decompress(body, 1 << 24))
    assert [(dict(s.labels), s.entries) for s in decoded] == [
        (labels, [(t, line, tuple(md)) for t, line, md in es]) for labels, es in streams
    ]


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_raise_our_decode_errors(data: bytes) -> None:
    with contextlib.suppress(DecodeError, PayloadTooLarge):
        decode_push_request(data)


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_truncating_a_valid_message_anywhere_never_crashes(draw: st.DataObject) -> None:
    body = encode_push([('{app="x", env="y"}', [(1, "line one", [("k", "v")]), (2, "two", [])])])
    cut = draw.draw(st.integers(min_value=0, max_value=len(body) - 1))
    with contextlib.suppress(DecodeError):
        decode_push_request(body[:cut])


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(key(5, 3) * 64 + key(5, 4) * 64, id="64-deep"),
        pytest.param(key(5, 3) + key(6, 3) + key(6, 4) + key(5, 4), id="nested-with-their-own-end-tags"),
        pytest.param(key(5, 3) + ld(1, b"x") + key(7, 5) + b"abcd" + key(5, 4), id="fields-inside"),
    ],
)
def test_groups_that_close_with_their_own_end_tags_are_skipped(group: bytes) -> None:
    body = group + stream('{a="b"}', entry(ld(2, b"x")))
    assert [s.labels for s in decode_push_request(body)] == [[("a", "b")]]


@pytest.mark.parametrize(
    ("padding", "fields"),
    [
        pytest.param(key(15, 0) + b"\x00", 1, id="top-level-varints"),
        pytest.param(key(15, 3) + key(15, 4), 2, id="empty-groups"),  # a group's end tag counts too
        pytest.param(key(3, 0) + b"\x00", 1, id="ignored-hash-fields"),
    ],
)
def test_every_skipped_field_is_charged_to_the_work_budget_before_decoding(padding: bytes, fields: int) -> None:
    """No cap counts skipped fields any more: the pre-pass charges each (decoding/prepass.py)."""
    body = stream('{a="b"}', entry(ld(2, b"x")))
    if padding[:1] == key(3, 0):  # the hash field belongs inside a stream
        padded = ld(1, ld(1, b'{a="b"}') + padding * 100_000 + ld(2, ld(2, b"x")))
    else:
        padded = padding * 100_000 + body
    assert len(decode_push_request(padded)) == 1
    charged, plain = Budget(float("inf")), Budget(float("inf"))
    prepass.charge_protobuf(padded, charged, prepass.LOKI_PUSH, "PushRequest")
    prepass.charge_protobuf(body, plain, prepass.LOKI_PUSH, "PushRequest")
    assert charged.spent - plain.spent >= 100_000 * fields * Costs.PB_FIELD


def test_metadata_pairs_past_the_keep_limit_are_checked_but_not_kept() -> None:
    pair = ld(3, ld(1, b"n") + ld(2, b"v"))
    body = stream("{}", entry(ld(2, b"x") + pair * 1000))
    limits = Limits(keep_metadata=4)
    assert decode_push_request(body, limits)[0].entries[0][2] == (("n", "v"),) * 4
    with pytest.raises(DecodeError, match="wrong wire type"):
        decode_push_request(stream("{}", entry(pair * 1000 + ld(3, key(1, 0) + varint(0)))), limits)


def test_label_pairs_past_the_keep_limit_are_not_kept() -> None:
    labels = "{" + ", ".join(f'l{i}="v"' for i in range(100)) + "}"
    decoded = decode_push_request(stream(labels, entry(ld(2, b"x"))), Limits(keep_labels=17))
    assert decoded[0].labels == [(f"l{i}", "v") for i in range(17)]

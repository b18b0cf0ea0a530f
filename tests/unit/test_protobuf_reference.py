"""The PushRequest reader against google.protobuf (the reference implementation), on random
encodings of every spelling the wire format allows: non-minimal keys and lengths, 10-byte
varints with bits past 64, unknown fields of every wire type in every message, repeated
singular fields, fields in any order, groups, truncation and corruption.

Where both accept, the decoded streams are equal (an entry's time being its last timestamp
field, which Loki reads whole where google.protobuf merges the fields of all of them). Where
google.protobuf refuses, the reader
refuses too (400), except for the one deliberate difference Loki makes: strings are not
checked for UTF-8 (lines keep their bytes). Where the reader refuses and google.protobuf
accepts, it is for one of Loki's own rules (docs/loki-protocol.md#protobuf-bodies): a known
field with the wrong wire type (google.protobuf keeps it as an unknown field), a timestamp
outside years 0001-9999, groups nested deeper than 64, or a label string that does not parse.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.message import DecodeError as GoogleDecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.labels import canonical
from loki_ingest.decoding.labels import parse as parse_labels
from loki_ingest.decoding.logproto import decode_push_request
from loki_ingest.errors import DecodeError
from loki_ingest.ingest.model import MISSING_TIMESTAMP, Stream
from tests.support.logproto import PushRequest
from tests.support.wire import varint

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_800  # years 0001 up to 10000 (exclusive)

#: Our refusals that google.protobuf does not make, each one of Loki's rules (module docstring).
LOKI_RULES = ("wrong wire type", "timestamp", "nested deeper than", "couldn't parse labels")

# A field spec: (number, wire, value). VARINT: an int below 2**64; I64/I32/LEN: bytes;
# LEN may also hold a nested message (a list of field specs); SGROUP: the fields inside.
Field = tuple[int, int, Any]


@st.composite
def spelled_varint(draw: st.DrawFn, value: int, *, overflow_bits: bool = False, longest: int = 10) -> bytes:
    """`value` as a varint, minimal or padded with continuation bytes up to `longest` bytes
    (keys and lengths: 5, as google.protobuf reads them); with `overflow_bits`, a 10-byte
    spelling may carry bits past 64 in its last byte (dropped)."""
    out = bytearray(varint(value))
    pad = draw(st.integers(0, max(0, longest - len(out)))) if draw(st.booleans()) else 0
    if pad:
        out[-1] |= 0x80
        out += b"\x80" * (pad - 1) + b"\x00"
    if overflow_bits and len(out) == 10 and draw(st.booleans()):
        out[-1] |= draw(st.integers(1, 63)) << 1
    return bytes(out)


@st.composite
def encoded(draw: st.DrawFn, fields: list[Field]) -> bytes:
    out = bytearray()
    for number, wire, value in fields:
        out += draw(spelled_varint(number << 3 | wire, longest=5))
        if wire == VARINT:
            out += draw(spelled_varint(value, overflow_bits=True))
        elif wire == LEN:
            payload = draw(encoded(value)) if isinstance(value, list) else value
            out += draw(spelled_varint(len(payload), longest=5)) + payload
        elif wire == SGROUP:
            out += draw(encoded(value)) + draw(spelled_varint(number << 3 | EGROUP, longest=5))
        else:
            out += value
    return bytes(out)


text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=6).map(str.encode)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True)
label_strings = st.dictionaries(names, st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=5))


@st.composite
def unknown_field(draw: st.DrawFn, depth: int = 0) -> Field:
    number = draw(st.one_of(st.integers(5, 40), st.integers(5, (1 << 29) - 1)))
    wire = draw(st.sampled_from([VARINT, I64, LEN, I32] + ([SGROUP] if depth < 2 else [])))
    if wire == VARINT:
        return number, wire, draw(st.integers(0, (1 << 64) - 1))
    if wire in (I64, I32):
        return number, wire, draw(st.binary(min_size=8 if wire == I64 else 4, max_size=8 if wire == I64 else 4))
    if wire == LEN:
        return number, wire, draw(st.binary(max_size=6))
    return number, wire, draw(st.lists(unknown_field(depth + 1), max_size=2))


@st.composite
def message(draw: st.DrawFn, known: list[Field]) -> list[Field]:
    """The known fields and some unknown ones, in any order."""
    fields = known + draw(st.lists(unknown_field(), max_size=2))
    return draw(st.permutations(fields))


@st.composite
def timestamp(draw: st.DrawFn, *, full: bool) -> list[Field]:
    """A Timestamp in years 0001-9999. `full` sends both fields (a second timestamp in an
    entry then replaces the first whole, in Loki and in google.protobuf's merge alike)."""
    seconds = draw(st.integers(MIN_SECONDS, MAX_SECONDS - 1))
    nanos = draw(st.integers(0, 999_999_999))
    # An int32 is the low 32 bits of its varint: garbage above them is dropped.
    nanos_wire = nanos | (draw(st.integers(0, (1 << 32) - 1)) << 32 if draw(st.booleans()) else 0)
    fields: list[Field] = []
    if full or seconds or draw(st.booleans()):
        fields.append((1, VARINT, seconds % (1 << 64)))
    if full or nanos or draw(st.booleans()):
        fields.append((2, VARINT, nanos_wire))
    if not full and draw(st.booleans()):  # a repeated scalar: the last one counts
        fields.insert(0, (1, VARINT, draw(st.integers(0, (1 << 64) - 1))))
    return draw(message(fields))


@st.composite
def label_pair(draw: st.DrawFn) -> list[Field]:
    fields: list[Field] = [(1, LEN, v) for v in draw(st.lists(text, max_size=2))]
    fields += [(2, LEN, v) for v in draw(st.lists(text, max_size=2))]
    return draw(message(fields))


@st.composite
def entry(draw: st.DrawFn) -> list[Field]:
    stamps = draw(st.integers(0, 2))
    fields: list[Field] = [(1, LEN, draw(timestamp(full=stamps > 1))) for _ in range(stamps)]
    fields += [(2, LEN, line) for line in draw(st.lists(text, max_size=2))]
    fields += [(3, LEN, pair) for pair in draw(st.lists(label_pair(), max_size=3))]
    fields += [(4, LEN, pair) for pair in draw(st.lists(label_pair(), max_size=1))]
    # Repeated fields keep their relative order; singular ones may come in any order.
    return _keep_repeated_order(draw(message(fields)), fields, (3, 4))


@st.composite
def stream(draw: st.DrawFn) -> list[Field]:
    fields: list[Field] = [
        (1, LEN, canonical(sorted(labels.items())).encode()) for labels in draw(st.lists(label_strings, max_size=2))
    ]
    fields += [(2, LEN, e) for e in draw(st.lists(entry(), max_size=3))]
    fields += [(3, VARINT, h) for h in draw(st.lists(st.integers(0, (1 << 64) - 1), max_size=2))]
    return _keep_repeated_order(draw(message(fields)), fields, (2,))


@st.composite
def push_request(draw: st.DrawFn) -> list[Field]:
    fields: list[Field] = [(1, LEN, s) for s in draw(st.lists(stream(), max_size=3))]
    fields += [(2, LEN, f) for f in draw(st.lists(text, max_size=1))]
    return _keep_repeated_order(draw(message(fields)), fields, (1,))


def _keep_repeated_order(shuffled: list[Field], original: list[Field], repeated: tuple[int, ...]) -> list[Field]:
    """`shuffled` with the occurrences of each repeated field put back in their original order
    (the order of repeated fields is data; where they sit among other fields is not)."""
    queues = {number: [f for f in original if f[0] == number] for number in repeated}
    return [queues[f[0]].pop(0) if f[0] in queues else f for f in shuffled]


def _last_timestamp_reader() -> Any:
    """PushRequest as proto2 with EntryAdapter.timestamp as optional bytes: google.protobuf then
    gives the last timestamp field of each entry whole, which is what Loki reads (a message
    field sent twice is merged by google.protobuf instead)."""
    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="last_timestamp.proto", package="last", syntax="proto2")
    for name, number, ftype, label, type_name in (
        ("PushRequest", 1, f.TYPE_MESSAGE, f.LABEL_REPEATED, ".last.Stream"),
        ("Stream", 2, f.TYPE_MESSAGE, f.LABEL_REPEATED, ".last.Entry"),
        ("Entry", 1, f.TYPE_BYTES, f.LABEL_OPTIONAL, ""),
    ):
        message = proto.message_type.add(name=name)
        field = message.field.add(name="child", number=number, type=ftype, label=label)
        if type_name:
            field.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("last.PushRequest"))


LastTimestamp = _last_timestamp_reader()


def reference(buf: bytes) -> list[Stream] | str:
    """google.protobuf's reading as our model, or its error message. Each entry's time is its
    last timestamp field, as Loki reads it (module docstring)."""
    request = PushRequest()
    try:
        request.ParseFromString(buf)
    except GoogleDecodeError as exc:
        return str(exc)
    stamps = LastTimestamp.FromString(buf)
    streams = []
    for s, s_stamps in zip(request.streams, stamps.child, strict=True):
        entries = []
        for e, e_stamp in zip(s.entries, s_stamps.child, strict=True):
            stamp = MISSING_TIMESTAMP
            if e_stamp.HasField("child"):
                last = timestamp_pb2.Timestamp.FromString(e_stamp.child)
                stamp = last.seconds * 10**9 + last.nanos
            entries.append((stamp, e.line, tuple((p.name, p.value) for p in e.structuredMetadata)))
        try:
            labels = parse_labels(s.labels)
        except DecodeError as exc:
            return f"labels: {exc.message}"
        streams.append(Stream(labels, entries))
    return streams


def ours(buf: bytes) -> list[Stream] | DecodeError:
    try:
        return decode_push_request(buf)
    except DecodeError as exc:
        return exc


def assert_agree(buf: bytes) -> None:
    expected, got = reference(buf), ours(buf)
    if isinstance(expected, str):
        if "UTF-8" not in expected:  # the one deliberate difference (module docstring)
            assert isinstance(got, DecodeError), f"google.protobuf refuses ({expected}), we accepted {got!r}"
            assert got.status == 400
    elif isinstance(got, DecodeError):
        assert any(rule in got.message for rule in LOKI_RULES), f"we refused a valid message: {got.message}"
    else:
        assert got == expected


# `make soak` sets LOKI_FUZZ_EXAMPLES higher and LOKI_FUZZ_RANDOM=1 for a randomized search.
SETTINGS = settings(
    max_examples=int(os.environ.get("LOKI_FUZZ_EXAMPLES", "200")),
    deadline=None,
    derandomize=not os.environ.get("LOKI_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(st.data())
def test_random_spellings_decode_as_google_protobuf_decodes_them(data: st.DataObject) -> None:
    buf = data.draw(encoded(data.draw(push_request())))
    expected = reference(buf)
    assert not isinstance(expected, str) or "UTF-8" in expected, expected  # the generator spells valid messages
    assert_agree(buf)


@SETTINGS
@given(st.data())
def test_truncated_encodings_are_refused_exactly_when_google_protobuf_refuses_them(data: st.DataObject) -> None:
    buf = data.draw(encoded(data.draw(push_request())))
    assert_agree(buf[: data.draw(st.integers(0, len(buf)))])


@SETTINGS
@given(st.data())
def test_corrupted_encodings_are_refused_whenever_google_protobuf_refuses_them(data: st.DataObject) -> None:
    buf = bytearray(data.draw(encoded(data.draw(push_request()))))
    for _ in range(data.draw(st.integers(1, 3))):
        if buf:
            buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    assert_agree(bytes(buf))


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def ld(number: int, payload: bytes) -> bytes:
    return key(number, LEN) + varint(len(payload)) + payload


ENTRY = ld(1, key(1, VARINT) + varint(5)) + ld(2, b"line")


@pytest.mark.parametrize(
    "injected",
    [
        pytest.param(key(0, VARINT) + b"\x01", id="field-number-0"),
        pytest.param(varint(1 << 32 | VARINT) + b"\x01", id="field-number-2-to-the-29"),
        pytest.param(key(9, 6), id="wire-type-6"),
        pytest.param(key(9, 7), id="wire-type-7"),
        pytest.param(key(9, EGROUP), id="stray-end-group"),
        pytest.param(key(9, SGROUP) + key(10, EGROUP), id="group-closed-by-another-field"),
        pytest.param(key(9, SGROUP), id="unclosed-group"),
        pytest.param(key(9, SGROUP) * 101 + key(9, EGROUP) * 101, id="groups-101-deep"),
        pytest.param(key(9, VARINT) + b"\xff" * 10 + b"\x01", id="11-byte-varint"),
        pytest.param(key(9, LEN) + b"\x85\x00ab", id="non-minimal-length-past-the-end"),
        pytest.param(b"\xca\x80\x80\x80\x80\x00\x00", id="six-byte-key"),
        pytest.param(key(9, LEN) + b"\x80\x80\x80\x80\x80\x00", id="six-byte-length"),
        pytest.param(key(9, I64) + b"1234567", id="truncated-fixed64"),
    ],
)
@pytest.mark.parametrize("where", ["request", "stream", "entry", "timestamp", "metadata", "parsed"])
def test_what_google_protobuf_refuses_is_refused_at_every_level(injected: bytes, where: str) -> None:
    timestamp = key(1, VARINT) + varint(5)
    pair = ld(1, b"n") + ld(2, b"v")
    if where == "timestamp":
        timestamp += injected
    entry = ld(1, timestamp) + ld(2, b"line")
    entry += ld(3, pair + injected) if where == "metadata" else ld(4, pair + injected) if where == "parsed" else b""
    entry += injected if where == "entry" else b""
    stream = ld(1, b'{a="b"}') + ld(2, entry) + (injected if where == "stream" else b"")
    buf = ld(1, stream) + (injected if where == "request" else b"")
    assert isinstance(reference(buf), str)
    got = ours(buf)
    assert isinstance(got, DecodeError) and got.status == 400


def test_a_repeated_timestamp_replaces_the_first_as_in_loki_where_google_protobuf_merges() -> None:
    """The deliberate difference from google.protobuf's merge: Loki's StdTimeUnmarshal sets the
    whole time from the last timestamp field."""
    entry = ld(1, key(1, VARINT) + varint(5) + key(2, VARINT) + varint(3)) + ld(1, key(1, VARINT) + varint(6))
    buf = ld(1, ld(2, entry))
    merged = PushRequest.FromString(buf).streams[0].entries[0].timestamp
    assert (merged.seconds, merged.nanos) == (6, 3)
    expected = reference(buf)  # google.protobuf reading the last timestamp field whole
    assert not isinstance(expected, str) and expected[0].entries[0][0] == 6_000_000_000
    got = ours(buf)
    assert not isinstance(got, DecodeError) and got[0].entries[0][0] == 6_000_000_000


def test_invalid_utf8_is_kept_where_google_protobuf_refuses_it() -> None:
    buf = ld(1, ld(2, ld(2, b"\xff\xfe")))
    assert "UTF-8" in str(reference(buf))
    got = ours(buf)
    assert not isinstance(got, DecodeError) and got[0].entries[0][1] == "\udcff\udcfe"

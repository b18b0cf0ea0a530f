"""OTLP records (issue 21): records without a time get distinct receipt times, every record gets
Loki's detected_level, and resource and scope metadata are held once per resource and scope
while validating and storing exactly as if every entry carried its own copy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.otlp import levels
from loki_ingest.decoding.otlp.json_body import decode_json
from loki_ingest.decoding.otlp.protobuf_body import decode_protobuf
from loki_ingest.ingest.budget import Costs
from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.model import Rejections, SharedPairs, SharedTail, Stream, TailedMetadata
from loki_ingest.ingest.validate import ValidStream, validate
from loki_ingest.records.render import _metadata_pairs, _pairs, build, shared_units, work_units
from tests.conftest import NOW_NS
from tests.support.otlp import ExportLogsServiceRequest, record, request, resource_logs, scope_logs, to_json
from tests.support.wire import varint

RECEIVED_NS = NOW_NS - 5_000
both = pytest.mark.parametrize("encoding", ["protobuf", "json"])


def decode(message: ExportLogsServiceRequest | bytes, encoding: str) -> list[Stream]:
    if encoding == "protobuf":
        body = message if isinstance(message, bytes) else message.SerializeToString()
        return decode_protobuf(body, now_ns=RECEIVED_NS, max_expanded_bytes=1 << 30)
    assert not isinstance(message, bytes)
    return decode_json(to_json(message), now_ns=RECEIVED_NS, max_expanded_bytes=1 << 30)


def entries(streams: list[Stream]) -> list[tuple[int, str, Any]]:
    return [entry for stream in streams for entry in stream.entries]


# --- distinct receipt times -----------------------------------------------------------------------------

UNTIMED = [
    pytest.param([{}, {}], [0, 1], id="two-untimed-records"),
    pytest.param([{}, {"time_unix_nano": NOW_NS}, {}], [0, NOW_NS, 1], id="timed-records-take-no-index"),
    pytest.param([{"observed_time_unix_nano": NOW_NS}, {}], [NOW_NS, 0], id="observed-time-is-a-time"),
    pytest.param([{}, {}, {}, {}], [0, 1, 2, 3], id="request-order"),
]


@both
@pytest.mark.parametrize(("fields", "expected"), UNTIMED)
def test_records_without_a_time_get_the_receipt_time_plus_their_index_among_such_records(
    encoding: str, fields: list[dict[str, int]], expected: list[int]
) -> None:
    message = request(
        resource_logs({"service.name": "s"}, [record("same", {"n": str(i)}, **f) for i, f in enumerate(fields)])
    )
    got = [timestamp for timestamp, _, _ in entries(decode(message, encoding))]
    assert got == [value if value >= NOW_NS else RECEIVED_NS + value for value in expected]


@both
def test_the_index_runs_across_scopes_and_resources_in_request_order(encoding: str) -> None:
    message = request(
        resource_logs({"service.name": "a"}, scope_logs([record("1")], name="x"), scope_logs([record("2")], name="y")),
        resource_logs({"service.name": "b"}, [record("3"), record("4", time_unix_nano=NOW_NS), record("5")]),
    )
    got = [(line, timestamp - RECEIVED_NS) for timestamp, line, _ in entries(decode(message, encoding))]
    assert got == [("1", 0), ("2", 1), ("3", 2), ("4", NOW_NS - RECEIVED_NS), ("5", 3)]


# --- detected_level ---------------------------------------------------------------------------------------


def added(metadata: Any) -> tuple[tuple[str, str], ...]:
    assert type(metadata) is TailedMetadata
    return metadata.added


LEVELS = [
    # severity_number ranges (OTLP), 0 is not sent, so the line decides
    pytest.param({"severity_number": 1}, "x", "trace", id="severity-1-trace"),
    pytest.param({"severity_number": 8}, "x", "debug", id="severity-8-debug"),
    pytest.param({"severity_number": 11}, "x", "info", id="severity-11-info"),
    pytest.param({"severity_number": 16}, "x", "warn", id="severity-16-warn"),
    pytest.param({"severity_number": 20}, "x", "error", id="severity-20-error"),
    pytest.param({"severity_number": 24}, "x", "fatal", id="severity-24-fatal"),
    pytest.param({"severity_number": 25}, "x", "unknown", id="severity-25-unknown"),
    pytest.param({"severity_number": -3}, "x", "trace", id="negative-severity-is-below-4-as-in-go"),
    # a level field in the metadata wins over severity_number, normalised
    pytest.param({"severity_number": 17, "severity_text": "INFO"}, "x", "info", id="severity-text-wins"),
    pytest.param({"severity_text": "Warning"}, "x", "warn", id="severity-text-normalised"),
    pytest.param({"severity_text": "Notice"}, "x", "Notice", id="unknown-words-kept-as-sent"),
    pytest.param({"attrs": {"lvl": "dbg", "level": "ERR"}}, "x", "error", id="field-list-order-not-metadata-order"),
    pytest.param({"attrs": {"severity_number": "seven"}}, "x", "info", id="severity-number-not-an-integer"),
    pytest.param({"attrs": {"level": ""}, "severity_number": 17}, "x", None, id="an-empty-level-field-adds-nothing"),
    # the line
    pytest.param({}, '{"level":"warn","msg":"m"}', "warn", id="json-level"),
    pytest.param({}, '{"ctx":{"severity":"ERROR"}}', "error", id="json-one-level-down"),
    pytest.param({}, '{"a":{"b":{"level":"error"}}}', "unknown", id="json-two-levels-down-is-too-deep"),
    pytest.param({}, "ts=1 LeVeL=debug msg=x", "debug", id="logfmt-key-any-case"),
    pytest.param({}, 'lvl=info level="error"', "error", id="logfmt-earliest-field-name-wins"),
    pytest.param({}, "a=b level=nonsense", "unknown", id="logfmt-unknown-value-falls-back-to-keywords"),
    pytest.param({}, "GET /x [ERROR] boom", "error", id="keyword-error"),
    pytest.param({}, "an information message with an error", "info", id="keywords-info-first"),
    pytest.param({}, "disk WARNING", "warn", id="keyword-warning"),
    pytest.param({}, "plain line", "unknown", id="nothing-found-is-unknown"),
]


@both
@pytest.mark.parametrize(("fields", "line", "level"), LEVELS)
def test_detected_level_is_derived_the_way_loki_does(
    encoding: str, fields: dict[str, Any], line: str, level: str | None
) -> None:
    fields = dict(fields)
    attrs = fields.pop("attrs", {})
    message = request(resource_logs({"service.name": "s"}, [record(line, attrs, time_unix_nano=NOW_NS, **fields)]))
    ((_, _, metadata),) = entries(decode(message, encoding))
    assert added(metadata) == ((("detected_level", level),) if level is not None else ())
    if level is not None:
        assert list(metadata)[-1] == ("detected_level", level)  # appended last, as Loki does


@both
def test_resource_and_scope_attributes_count_as_metadata_for_the_level(encoding: str) -> None:
    message = request(
        resource_logs(
            {"service.name": "s", "level": "warn"},
            scope_logs([record("x", time_unix_nano=NOW_NS)], attrs={"severity": "error"}),
            scope_logs([record("x", {"level": "debug"}, time_unix_nano=NOW_NS)]),
        )
    )
    assert [added(m) for _, _, m in entries(decode(message, encoding))] == [
        (("detected_level", "warn"),),  # "level" comes before "severity" in Loki's list
        (("detected_level", "debug"),),  # the record's own pair comes first in the metadata
    ]


@both
@pytest.mark.parametrize(
    ("attrs", "resource", "expected"),
    [
        pytest.param({"detected_level": "WARNING"}, {}, [("detected_level", "warn")], id="own-normalised"),
        pytest.param({}, {"detected_level": "Err"}, [("detected_level", "error")], id="resource-normalised"),
        pytest.param({"detected_level": "custom"}, {}, [("detected_level", "custom")], id="unknown-kept"),
    ],
)
def test_an_existing_detected_level_is_normalised_and_not_added_again(
    encoding: str, attrs: dict[str, str], resource: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    message = request(
        resource_logs({"service.name": "s", **resource}, [record("x", attrs, time_unix_nano=NOW_NS, severity_number=9)])
    )
    ((_, _, metadata),) = entries(decode(message, encoding))
    assert [pair for pair in metadata if pair[0] == "detected_level"] == expected


def test_detected_level_is_not_counted_against_the_metadata_limits() -> None:
    """Loki's distributor adds it after validating the entry."""
    message = request(resource_logs({"service.name": "s"}, [record("x", {"a": "1", "b": "2"}, time_unix_nano=NOW_NS)]))
    streams = decode(message, "protobuf")
    rejections = Rejections()
    limits = Limits(max_metadata_entries=2, max_metadata_bytes=4)
    (valid,) = validate(streams, limits, rejections, now_ns=NOW_NS)
    assert not rejections
    assert list(valid.entries[0][2]) == [("a", "1"), ("b", "2"), ("detected_level", "unknown")]


# --- shared resource and scope metadata -----------------------------------------------------------------


def test_entries_of_a_scope_share_one_tail_and_scopes_share_their_resource() -> None:
    message = request(
        resource_logs(
            {"service.name": "s", "host.name": "h"},
            scope_logs([record("1"), record("2")], name="a"),
            scope_logs([record("3")], name="b"),
        )
    )
    (stream,) = decode(message, "protobuf")
    first, second, third = (metadata for _, _, metadata in stream.entries)
    assert type(first) is TailedMetadata and type(second) is TailedMetadata and type(third) is TailedMetadata
    assert first.shared is second.shared
    assert first.shared.parts[0] is third.shared.parts[0]  # the resource's pairs, held once
    assert list(third) == [("host_name", "h"), ("scope_name", "b"), ("detected_level", "unknown")]


def raw_kv(key: bytes, value: bytes) -> bytes:
    def ld(field: int, payload: bytes) -> bytes:
        return varint(field << 3 | 2) + varint(len(payload)) + payload

    return ld(1, key) + ld(2, ld(1, value))


def raw_request(
    resource: list[tuple[bytes, bytes]], scope: list[tuple[bytes, bytes]], own: list[list[tuple[bytes, bytes]]]
) -> bytes:
    """A protobuf request with byte-exact attribute names and values (invalid UTF-8 too)."""

    def ld(field: int, payload: bytes) -> bytes:
        return varint(field << 3 | 2) + varint(len(payload)) + payload

    stamp = b"\x09" + NOW_NS.to_bytes(8, "little")
    records = b"".join(
        ld(2, stamp + ld(5, ld(1, b"line %d" % i)) + b"".join(ld(6, raw_kv(k, v)) for k, v in pairs))
        for i, pairs in enumerate(own)
    )
    scope_msg = ld(1, b"".join(ld(3, raw_kv(k, v)) for k, v in scope)) if scope else b""
    resource_msg = ld(1, b"".join(ld(1, raw_kv(k, v)) for k, v in [(b"service.name", b"s"), *resource]))
    return ld(1, resource_msg + ld(2, scope_msg + records))


SHARED_CASES = [
    pytest.param([(b"host.name", b"h")], [], [[(b"a", b"1")], []], id="plain"),
    pytest.param([(b"k", b"1"), (b"k", b"2")], [], [[(b"a", b"1")]], id="names-repeat-in-the-resource"),
    pytest.param([(b"k", b"1")], [(b"k", b"2")], [[]], id="scope-repeats-a-resource-name"),
    pytest.param([(b"k", b"1")], [], [[(b"k", b"own")], [(b"j", b"x")]], id="record-repeats-a-resource-name"),
    pytest.param([(b"bad", b"\xff\xfe")], [], [[(b"a", b"1")]], id="invalid-utf8-value-in-the-tail"),
    pytest.param([(b"h", b"1")], [], [[(b"n\xc3", b"v")]], id="invalid-utf8-name-of-the-record"),
    pytest.param([(b"detected_level", b"ERROR")], [], [[], [(b"detected_level", b"x")]], id="detected-level-sent"),
    pytest.param([(b"x", b"y" * 40)], [(b"z", b"w" * 40)], [[(b"a", b"1")]], id="over-the-byte-limit"),
    pytest.param([(b"r%d" % i, b"v") for i in range(6)], [], [[(b"a", b"1")]], id="over-the-entry-limit"),
    pytest.param([(b"r%d" % i, b"") for i in range(3)], [], [[(b"", b"")], []], id="empty-names-and-values"),
]


@pytest.mark.parametrize(("resource", "scope", "own"), SHARED_CASES)
def test_shared_metadata_validates_and_renders_exactly_as_copied_metadata(
    resource: list[tuple[bytes, bytes]], scope: list[tuple[bytes, bytes]], own: list[list[tuple[bytes, bytes]]]
) -> None:
    """The records and the refusals are those of the same entries with every pair copied into
    a plain tuple (what each entry held before sharing), counting detected_level out as Loki does."""
    streams = decode(raw_request(resource, scope, own), "protobuf")
    copied = []
    for stream in streams:
        plain = []
        for timestamp, line, metadata in stream.entries:
            assert type(metadata) is TailedMetadata
            plain.append((timestamp, line, (*metadata.own, *metadata.shared.pairs())))
        copied.append(Stream(stream.labels, plain))
    limits = Limits(max_metadata_entries=5, max_metadata_bytes=60)
    shared_rejections, copied_rejections = Rejections(), Rejections()
    shared_valid = validate(streams, limits, shared_rejections, now_ns=NOW_NS)
    copied_valid = validate(copied, limits, copied_rejections, now_ns=NOW_NS)
    assert shared_rejections.items == copied_rejections.items
    # Stored: the copied entries with the detected_level each shared one carries appended.
    with_level = []
    for stream, copy in zip(shared_valid, copied_valid, strict=True):
        levels_added = [metadata.added for _, _, metadata in stream.entries if type(metadata) is TailedMetadata]
        entries_with_level = [
            (t, line, (*m, *extra)) for (t, line, m), extra in zip(copy.entries, levels_added, strict=True)
        ]
        with_level.append(copy._replace(entries=entries_with_level))
    shared_built = build(shared_valid, Rejections(), 1_000_000)
    copied_built = build(with_level, Rejections(), 1_000_000)
    assert shared_built.lines == copied_built.lines
    assert shared_built.lines or shared_rejections  # the case stores or refuses something


@pytest.mark.parametrize(("resource", "scope", "own"), SHARED_CASES)
def test_rendering_the_shared_pairs_again_per_record_is_charged_before_rendering(
    resource: list[tuple[bytes, bytes]], scope: list[tuple[bytes, bytes]], own: list[list[tuple[bytes, bytes]]]
) -> None:
    """A record whose metadata cannot be stored as one plain object (it has metadata_base64)
    renders the shared pairs again: the budget is charged those pairs for each such record."""
    valid = validate(decode(raw_request(resource, scope, own), "protobuf"), Limits(), Rejections(), now_ns=NOW_NS)
    entries = [metadata for stream in valid for _, _, metadata in stream.entries]
    lines = build(valid, Rejections(), 1_000_000).lines
    assert len(lines) == len(entries)
    again = sum(
        metadata.shared.count
        for metadata, line in zip(entries, lines, strict=True)
        if type(metadata) is TailedMetadata and "metadata_base64" in json.loads(line)
    )
    assert shared_units(valid) == again * Costs.OTLP_SHARED_PAIR


# Names that collide, a lone surrogate (a byte that is not UTF-8), a name too long for Jackson.
_PAIR_TEXT = st.sampled_from(["a", "b", "é", "\udc80", "", "x" * 50_001])
_PAIRS = st.lists(st.tuples(_PAIR_TEXT, _PAIR_TEXT), max_size=3).map(tuple)


@given(own=_PAIRS, resource=_PAIRS, scope=_PAIRS, added=_PAIRS)
@settings(max_examples=300, deadline=None)
def test_spliced_metadata_is_byte_identical_to_rendering_every_pair(
    own: tuple[tuple[str, str], ...],
    resource: tuple[tuple[str, str], ...],
    scope: tuple[tuple[str, str], ...],
    added: tuple[tuple[str, str], ...],
) -> None:
    """The shared tail rendered once and spliced between the own and added pairs gives the bytes
    of rendering all the pairs, and shared_units charges exactly the entries that cannot splice."""
    metadata = TailedMetadata(own, SharedTail(SharedPairs(resource), SharedPairs(scope)), added)
    assert _metadata_pairs(metadata) == _pairs(metadata.pairs(), unique_names=False)
    valid = [ValidStream((("service_name", "x"),), '{service_name="x"}', [(1, "line", metadata)])]
    rendered_again = _pairs(metadata.pairs(), unique_names=False)[1] is not None
    assert shared_units(valid) == (len(resource) + len(scope)) * Costs.OTLP_SHARED_PAIR * rendered_again


# --- the line rules on their own ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('  {"Level": "TRACE"}  ', "trace"),
        ('{"level": 3, "lvl": "dbg"}', "debug"),  # only string values count
        ('{"msg": "x", "level": "fatal"} trailing', "unknown"),  # not one JSON object
        ('{"msg": "[WARN] disk"}', "warn"),  # JSON without a level field: the keyword scan
        ('level="quoted \\"info\\""', "info"),  # an unknown logfmt value: keywords find "info"
        ("k=v level=critical", "critical"),
        ('bad"key=1 level=error', "unknown"),  # logfmt stops at the syntax error
        ("debug: starting", "debug"),
    ],
)
def test_level_from_the_line(line: str, level: str) -> None:
    assert levels.from_line(line) == level


# --- the level scans: skipped when no level field can be there, charged when they run -----------

_WORDS = ["level", "LEVEL", "Lvl", "severity_text", "SeverityText", "log.level", "a", "info", "ERROR", "x y"]
_PUNCT = [" ", "=", '"', "\\", "\t", "{", "}", ":", ",", "\\u0065"]


def _reference_logfmt_level(line: str) -> str:
    """The scan without the pre-check: every key compared, as Loki's decoder does."""
    best, position = "", len(levels.LEVEL_FIELDS)
    for key, value in levels._logfmt(line):
        for index, hint in enumerate(levels.LEVEL_FIELDS[:position]):
            if key.casefold() == hint.casefold():
                best, position = value, index
                break
        if position == 0:
            break
    return best


@given(st.lists(st.sampled_from(_WORDS + _PUNCT), max_size=24).map("".join))
@settings(max_examples=600, deadline=None)
def test_the_level_pre_checks_never_change_the_level_found(line: str) -> None:
    charged: list[float] = []
    assert levels._logfmt_level(line, charged.append) == _reference_logfmt_level(line)
    assert levels.from_line(line) == levels.from_line(line, charged.append)


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        pytest.param("a " * 1000 + "level=info", 1001, id="logfmt-with-a-level-key"),
        pytest.param("a\x01" * 1000 + "LEVEL=info", 1001, id="control-characters-separate-too"),
        pytest.param('{"a":[' + "1," * 1000 + '1],"level":"x"}', 1002, id="json-with-a-level-key"),
        pytest.param('{"level":"x","a":[' + "[[]]," * 1000 + "0]}", 3000, id="json-brackets-count-as-tokens"),
        pytest.param("lvl=" + "v" * 100_000, 100_000 * Costs.LINE_CHAR / Costs.LINE_TOKEN, id="one-long-value"),
    ],
)
def test_a_line_scanned_for_its_level_is_charged_per_token(line: str, tokens: int) -> None:
    charged: list[float] = []
    levels.from_line(line, charged.append)
    assert sum(charged) >= tokens * Costs.LINE_TOKEN


def test_logfmt_keys_compare_as_go_folds_case() -> None:
    """strings.EqualFold folds U+017F (long s) to "s"."""
    assert levels.from_line("\u017feverity=error msg") == "error"
    assert levels.from_line("LEVEL=warn") == "warn"


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("a " * 1000 + "k=v", id="logfmt-without-a-level-key"),
        pytest.param('{"a":[' + "1," * 1000 + "1]}", id="json-without-a-level-key"),
        pytest.param("plain text " * 100, id="text"),
    ],
)
def test_a_line_that_cannot_hold_a_level_field_is_not_scanned_or_charged(line: str) -> None:
    charged: list[float] = []
    levels.from_line(line, charged.append)
    assert charged == []


def test_building_records_charges_every_line_that_may_be_a_json_object() -> None:
    line = ' {"a":[' + "1," * 1000 + "1]} "
    valid = validate(decode(raw_request([], [], [[]]), "protobuf"), Limits(), Rejections(), now_ns=NOW_NS)
    (stream,) = valid
    stream.entries[:] = [(t, line, m) for t, _, m in stream.entries]
    assert work_units(valid) >= 1001 * Costs.JSON_LINE_TOKEN
    stream.entries[:] = [(t, '{"a":[' + "[[]]," * 1000 + "0]}", m) for t, _, m in stream.entries]
    assert work_units(valid) >= 3000 * Costs.JSON_LINE_TOKEN  # a bracket is a token too
    # A JSON body whose strings' structure the pre-pass charged has paid for its lines already.
    assert work_units(valid, lines_charged=True) == shared_units(valid)

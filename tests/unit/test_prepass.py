"""The work budget's pre-pass (decoding/prepass.py): every element a decoder would build is
charged before it is built, a body over the budget is refused, and bytes inside strings or
payloads are not mistaken for elements when that would refuse a push that fits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding import prepass
from loki_ingest.decoding.logproto import decode_push_request
from loki_ingest.errors import PayloadTooLarge
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.ingest.limits import Limits
from tests.support.wire import field, push_request, varint

NOW_NS = 1_767_225_600_000_000_000


def charged_protobuf(body: bytes, schema: prepass.Schema = prepass.LOKI_PUSH, root: str = "PushRequest") -> float:
    budget = Budget(float("inf"))
    prepass.charge_protobuf(body, budget, schema, root)
    return budget.spent


def charged_json(body: bytes, limit: float = float("inf")) -> float:
    budget = Budget(limit)
    prepass.charge_json(body, budget, group_keys=(b'"stream"',), group_cost=Costs.STREAM)
    return budget.spent


pairs = st.lists(st.tuples(st.binary(max_size=4), st.binary(max_size=4)), max_size=4)
entries = st.lists(st.tuples(st.integers(0, 2**62), st.binary(max_size=8), pairs), max_size=6)
streams = st.lists(st.tuples(st.just(b'{a="b"}'), entries), max_size=4)


@settings(max_examples=300, deadline=None)
@given(streams)
def test_every_stream_entry_and_metadata_pair_the_decoder_builds_is_charged(pushed: list) -> None:  # type: ignore[type-arg]
    body = push_request(pushed)
    decoded = decode_push_request(body)
    floor = (
        Costs.STREAM * len(decoded)
        + Costs.PB_ENTRY * sum(len(s.entries) for s in decoded)
        + Costs.PB_METADATA_PAIR * sum(len(e[2]) for s in decoded for e in s.entries)
        + Costs.BYTE * len(body)
    )
    assert charged_protobuf(body) >= floor - 1e-6


def non_minimal(key: int) -> bytes:
    """A key spelled in two bytes (a valid varint with a redundant continuation byte)."""
    return bytes([key | 0x80, 0x00])


def test_a_non_minimal_key_is_charged_as_the_same_field() -> None:
    entry = field(1, varint(8) + varint(1)) + field(2, b"x")
    minimal = field(1, field(2, entry))
    # A stream whose entries key is non-minimal: 0x92 0x00 is field 2, wire type LEN.
    stream = non_minimal(0x12) + varint(len(entry)) + entry
    spelled = field(1, stream)
    assert charged_protobuf(spelled) == pytest.approx(charged_protobuf(minimal) + Costs.BYTE)  # one byte longer


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x0a\xff\xff\xff\xff\x0f", id="length-past-the-end"),
        pytest.param(b"\x0a", id="truncated-length"),
        pytest.param(b"\x8a", id="truncated-key"),
        pytest.param(b"\x0b" * 1000, id="start-groups"),
        pytest.param(b"\x0f\x0a\x00", id="wire-type-7"),
        pytest.param(b"\x0a\x02\x12\x05", id="child-longer-than-parent"),
    ],
)
def test_a_malformed_body_is_left_to_the_decoder(body: bytes) -> None:
    assert charged_protobuf(body) >= Costs.BYTE * len(body)


def test_nesting_deeper_than_the_walk_goes_is_still_charged_and_bounded() -> None:
    value = b""
    for _ in range(5_000):  # AnyValue{array_value{values: [...]}}
        value = field(5, field(1, value))
    record = field(5, value)
    body = field(1, field(2, field(2, record)))
    units = charged_protobuf(body, prepass.OTLP_LOGS, "ExportLogsServiceRequest")
    assert units >= Costs.OTLP_RECORD + Costs.OTLP_VALUE * 100


@pytest.mark.parametrize(
    ("attribute", "count"),
    [
        pytest.param(b"", 10_000, id="empty-attributes"),
        pytest.param(field(1, b"k") + field(2, field(1, b"v")), 1_000, id="string-attributes"),
    ],
)
def test_otlp_attributes_are_charged_even_when_empty(attribute: bytes, count: int) -> None:
    record = field(6, attribute) * count
    body = field(1, field(2, field(2, record)))
    units = charged_protobuf(body, prepass.OTLP_LOGS, "ExportLogsServiceRequest")
    assert units >= count * Costs.OTLP_ATTRIBUTE + Costs.OTLP_RECORD


LOKI_ENTRY = field(1, field(1, varint(1)) + field(2, b"x"))
OTLP_RECORD = field(5, field(1, b"x"))


def loki(stream: bytes) -> bytes:
    return field(1, stream)


def otlp(record: bytes) -> bytes:
    return field(1, field(2, field(2, record)))


#: A field repeated N times where the decoder reads (or skips) every occurrence: each one costs
#: a Python step, so each must be charged, however small (`12 00` is an empty line).
REPEATED = [
    pytest.param(lambda r: loki(field(2, LOKI_ENTRY + b"\x12\x00" * r)), "loki", id="loki-line"),
    pytest.param(lambda r: loki(field(2, field(1, b"\x08\x00" * r) + field(2, b"x"))), "loki", id="loki-seconds"),
    pytest.param(lambda r: loki(field(2, LOKI_ENTRY + field(3, b"\x0a\x00" * r))), "loki", id="loki-pair-name"),
    pytest.param(lambda r: loki(b"\x0a\x00" * r + field(2, LOKI_ENTRY)), "loki", id="loki-stream-labels"),
    pytest.param(lambda r: loki(b"\x18\x00" * r + field(2, LOKI_ENTRY)), "loki", id="loki-stream-hash"),
    pytest.param(lambda r: otlp(OTLP_RECORD + b"\x10\x00" * r), "otlp", id="otlp-severity"),
    pytest.param(lambda r: otlp(OTLP_RECORD + b"\x4a\x00" * r), "otlp", id="otlp-trace-id"),
    pytest.param(lambda r: otlp(OTLP_RECORD + field(6, b"\x0a\x00" * r)), "otlp", id="otlp-attribute-key"),
    pytest.param(lambda r: otlp(field(5, b"\x0a\x00" * r)), "otlp", id="otlp-body-string"),
    pytest.param(lambda r: field(1, field(2, field(1, b"\x0a\x00" * r))), "otlp", id="otlp-scope-name"),
]


@pytest.mark.parametrize(("build", "schema"), REPEATED)
def test_every_occurrence_of_a_repeated_leaf_field_is_charged(build, schema: str) -> None:  # type: ignore[no-untyped-def]
    root = ("PushRequest", prepass.LOKI_PUSH) if schema == "loki" else ("ExportLogsServiceRequest", prepass.OTLP_LOGS)
    once, many = (charged_protobuf(build(r), root[1], root[0]) for r in (1, 10_001))
    assert many - once >= 10_000 * Costs.PB_FIELD


def test_kvlists_nested_as_deep_as_the_decoder_goes_are_charged_inside() -> None:
    """42 levels of kvlists are 126 messages below a record: everything in them is charged."""
    inner = b"\x0a\x00" * 10_000  # empty KeyValues
    for _ in range(63):  # the decoders accept 64 levels of AnyValue
        inner = field(1, field(2, field(6, inner)))
    units = charged_protobuf(otlp(field(6, field(2, field(6, inner)))), prepass.OTLP_LOGS, "ExportLogsServiceRequest")
    assert units >= 10_000 * Costs.OTLP_ATTRIBUTE


def test_a_protobuf_body_over_the_budget_is_refused() -> None:
    body = push_request([(b'{a="b"}', [(NOW_NS + i, b"x", []) for i in range(2_000)])])
    with pytest.raises(PayloadTooLarge, match="smaller pushes") as raised:
        prepass.charge_protobuf(body, Budget(10_000), prepass.LOKI_PUSH, "PushRequest")
    assert raised.value.reason == "over_work_budget"


def v1(values: list[list[str]]) -> bytes:
    return json.dumps({"streams": [{"stream": {"app": "x"}, "values": values}]}).encode()


def test_json_entries_are_charged_per_structural_byte() -> None:
    body = v1([[str(NOW_NS + i), "x"] for i in range(1_000)])
    per_entry = 3 * Costs.JSON_OPEN_OR_COMMA + 2 * Costs.JSON_STRING
    assert charged_json(body) >= 1_000 * per_entry


def test_commas_inside_strings_do_not_refuse_a_push_that_fits() -> None:
    line = "a," * 100_000  # 100,000 commas the upper bound counts, inside one string
    body = v1([[str(NOW_NS), line]])
    upper = charged_json(body)
    assert upper > 100_000 * Costs.JSON_OPEN_OR_COMMA
    exact = charged_json(body, limit=upper / 2)  # the exact count, not a 413
    assert exact < 1_000 + Costs.BYTE * len(body)


def test_many_strings_over_the_budget_are_refused_without_the_exact_count() -> None:
    body = v1([[str(NOW_NS + i), ""] for i in range(50_000)])
    with pytest.raises(PayloadTooLarge, match="WORK_BUDGET_UNITS"):
        charged_json(body, limit=50_000)


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        pytest.param('{"a":"b\\"c,d:e"}', (0, 1, 1, 2), id="escaped-quote"),
        pytest.param('{"a":"\\\\","b":["x,y"]}', (1, 2, 2, 4), id="escaped-backslash"),
        pytest.param('{"a":"b"', (0, 1, 1, 2), id="truncated"),
        pytest.param('["x", "unterminated', (1, 1, 0, 2), id="unterminated-string"),
        pytest.param('"' + '\\",' * 1000, (0, 0, 0, 1), id="escaped-quotes-never-closed"),
        pytest.param('"' + '\\"' * 1000 + "\\", (0, 0, 0, 1), id="never-closed-ending-in-a-backslash"),
    ],
)
def test_the_exact_json_count_reads_structure_outside_strings_only(text: str, outside: tuple[int, ...]) -> None:
    commas, opens, colons, strings = outside
    body = text.encode()
    exact = prepass.json_exact(body)
    expected = Costs.JSON_OPEN_OR_COMMA * (commas + opens) + Costs.JSON_COLON * colons + Costs.JSON_STRING * strings
    assert exact == pytest.approx(expected)
    assert exact <= prepass.json_upper(body) + 1e-9


# --- review 4: lines, long varints ----------------------------------------------------------------


def loki_line(line: bytes) -> bytes:
    return push_request([(b'{a="b"}', [(NOW_NS, line, [])])])


def otlp_line(line: bytes) -> bytes:
    return field(1, field(2, field(2, field(5, field(1, line)))))


def otlp_charged(body: bytes) -> float:
    return charged_protobuf(body, prepass.OTLP_LOGS, "ExportLogsServiceRequest")


@pytest.mark.parametrize(
    ("wrap", "charge"), [(loki_line, charged_protobuf), (otlp_line, otlp_charged)], ids=["loki", "otlp"]
)
@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        pytest.param(b'{"a":[' + b"[[]]," * 1000 + b"0]}", 1 + 2 + 2000 + 1000 + 1, id="brackets"),
        pytest.param(b'  {"a":1,"b":2}', 1 + 1 + 2 + 1, id="object-after-whitespace"),
        pytest.param(b"text, with: [tokens] but no brace" * 100, 0, id="text-is-not-charged"),
    ],
)
def test_a_line_that_may_be_a_json_object_is_charged_per_token_in_the_pre_pass(
    wrap: object, charge: object, line: bytes, tokens: int
) -> None:
    """Storing a JSON-object line parses it token by token: "," ":" "[" "{" are each charged,
    by the pre-pass, so a push whose lines are over the budget is refused before decoding."""
    assert callable(wrap) and callable(charge)
    plain = charge(wrap(b"x" * len(line)))  # the same bytes, no token
    assert charge(wrap(line)) - plain == pytest.approx(Costs.JSON_LINE_TOKEN * tokens)


def test_a_varint_spelled_long_is_charged_per_byte() -> None:
    short = field(1, field(2, field(1, b"\x08\x01")))  # Timestamp.seconds = 1
    long = field(1, field(2, field(1, b"\x08" + b"\x81" + b"\x80" * 8 + b"\x00")))  # the same, 10 bytes
    # Nine bytes longer, five of them past a varint's fifth byte.
    assert charged_protobuf(long) - charged_protobuf(short) == pytest.approx(
        9 * Costs.BYTE + 5 * Costs.PB_LONG_VARINT_BYTE
    )


def test_a_varint_longer_than_ten_bytes_stops_the_walk_at_its_tenth_byte() -> None:
    body = b"\x78" + b"\x80" * 100_000 + b"\x00"  # field 15, a varint that never ends
    budget = Budget(float("inf"))
    prepass.charge_protobuf(body, budget, prepass.LOKI_PUSH, "PushRequest")
    assert budget.spent == pytest.approx(Costs.BYTE * len(body) + Costs.PB_OTHER_FIELD)
    assert not budget.lines_charged  # the decoder refuses it; nothing after it was walked


class _OverTheUpperBound(Budget):
    """A budget the JSON charge's upper bound does not fit, whatever it is: the exact path."""

    def would_exceed(self, units: float) -> bool:
        self.asked = getattr(self, "asked", 0) + 1
        return self.asked == 1 or super().would_exceed(units)


def exact_charge(body: bytes) -> Budget:
    """The JSON charge through its exact path."""
    budget = _OverTheUpperBound(float("inf"))
    prepass.charge_json(body, budget, group_keys=(b'"stream"',), group_cost=Costs.STREAM)
    return budget


def test_the_exact_json_path_charges_the_tokens_of_lines_that_may_be_objects() -> None:
    objects = v1([[str(NOW_NS), '{"a":[' + "[]," * 1000 + "0]}"]])
    text = v1([[str(NOW_NS), "a,[b]:" * 1000]])
    assert exact_charge(objects).lines_charged
    extra = exact_charge(objects).spent - exact_charge(v1([[str(NOW_NS), "{}"]])).spent
    assert extra >= Costs.JSON_LINE_TOKEN * 2000
    assert exact_charge(text).spent < 100 + Costs.BYTE * len(text)


_LINE_PARTS = st.sampled_from(["{", "}", "[", "]", ",", ":", '"', "\\", " ", "\t", "\n", "a", "é", "\u2028", "0"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_LINE_PARTS, max_size=30).map("".join), min_size=1, max_size=5), st.booleans())
def test_the_json_pre_pass_charges_at_least_what_building_the_records_would(lines: list[str], ascii_only: bool) -> None:
    """Whatever a line holds and however the body escapes it, the tokens the pre-pass charges
    (either path) cover the tokens records/render.py would charge after decoding."""
    from loki_ingest.decoding.lokijson import decode_v1
    from loki_ingest.ingest.model import Rejections
    from loki_ingest.ingest.validate import validate
    from loki_ingest.records.render import work_units

    body = json.dumps(
        {"streams": [{"stream": {"a": "b"}, "values": [[str(NOW_NS + i), line] for i, line in enumerate(lines)]}]},
        ensure_ascii=ascii_only,
    ).encode()
    after = work_units(validate(decode_v1(body), Limits(), Rejections(), now_ns=NOW_NS))
    for budget in (exact_charge(body), Budget(float("inf"))):
        if type(budget) is Budget:
            prepass.charge_json(body, budget, group_keys=(b'"stream"',), group_cost=Costs.STREAM)
        base = Costs.BYTE * len(body) + Costs.STREAM + prepass.json_exact(body)
        assert budget.lines_charged
        assert budget.spent - base >= after - 1e-6

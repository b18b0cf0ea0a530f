"""Count a decompressed body's elements before decoding it, and charge them to the push's work
budget (ingest/budget.py), so that a push over the budget is refused in milliseconds rather
than after the seconds and the memory that decoding it would take.

* JSON: the structural bytes, counted by `bytes.count` (C speed, ~25 ms for 16 MiB). Every JSON
  value or member but the first is preceded by one of `[ { ,` and every member has a `:`, so
  the count bounds the elements from above; it also counts those bytes inside strings, so when
  that bound is over the budget the strings are cut out (one regex pass) and the structure
  counted exactly. That pass is skipped when even a lower bound on the strings is over.
* Protobuf: a walk over the field keys and lengths of the message tree (a schema per message:
  which fields are elements and what each costs), which reads no payload and builds nothing.
  It stops charging at the first malformed byte: the decoder then says what is wrong (400).
* Lines: the JSON tokens (`, : [ {`) of every line that may be stored as a JSON object, counted
  at C speed here rather than after decoding, so a push whose lines are over the budget is
  refused before it is decoded (Budget.lines_charged).

These are pure functions of the bytes and a Budget; they never raise anything but the budget's
413.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from loki_ingest.decoding.otlp.mapping import MAX_DEPTH
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.wire import Bytes

# --- JSON ---------------------------------------------------------------------------------------

#: A JSON string, or an unterminated one (even ending in a lone backslash) up to the end: every
#: match from a quote succeeds, so the scan is linear whatever the bytes. A pattern that can
#: fail there (`"` then `\",` repeated, never closed) is retried from every quote: quadratic,
#: tens of seconds for 16 MiB.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)

#: A string whose text may start with "{" after JSON whitespace (a line that may be a JSON
#: object), each character raw or escaped, to its end as _STRING finds it. A match may also
#: start at an escaped quote inside another string: that counts more tokens, never fewer.
_OBJECT_STRING = re.compile(
    rb'"(?: |\\[tnr]|\\u00(?:20|09|0[aAdD]))*+(?:\{|\\u007[bB])(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL
)


def charge_json(
    data: Bytes, budget: Budget, *, group_keys: tuple[bytes, ...], group_cost: float, scale: float = 1.0
) -> None:
    """Charge a JSON body: its bytes, its structure and its strings (times `scale`, for a
    decoder that does more per element), plus `group_cost` for each occurrence of a key in
    `group_keys` (a stream, a resource_logs), which costs more than its structure shows."""
    count = data.count
    fixed = Costs.BYTE * len(data) + sum(count(key) for key in group_keys) * group_cost
    upper = fixed + json_upper(data) * scale
    if not budget.would_exceed(upper):
        budget.charge(upper)
        budget.lines_charged = True
        return
    # An escaped quote is always after a backslash, so this many strings at least; each but the
    # first is preceded by a structural byte outside any string.
    strings_at_least = (count(b'"') - count(b'\\"')) // 2
    lower = fixed + (strings_at_least - 1) * (Costs.JSON_STRING + Costs.JSON_OPEN_OR_COMMA) * scale
    if budget.would_exceed(lower):
        budget.charge(lower)  # raises
    outside, strings = _STRING.subn(b"", data)
    # The tokens of every string that may be a JSON-object line, which building the records
    # parses: charged now, so that work is never found over the budget after decoding.
    objects = _OBJECT_STRING.findall(data)
    lines = _tokens(b"".join(objects)) + len(objects)  # records/render.py work_units: tokens + 1
    budget.charge(fixed + _structure(outside, strings) * scale + lines * Costs.JSON_LINE_TOKEN)
    budget.lines_charged = True


def json_upper(data: Bytes) -> float:
    """The structure's units, counting structural bytes inside strings too (an upper bound)."""
    count = data.count
    return (
        Costs.JSON_OPEN_OR_COMMA * (count(b",") + count(b"[") + count(b"{"))
        + Costs.JSON_COLON * count(b":")
        + Costs.JSON_STRING * ((count(b'"') + 1) // 2)  # an unterminated string counts too
        + Costs.JSON_LINE_TOKEN * count(b"\\u")  # a token a line spells as an escape (\u005b)
    )


def json_exact(data: Bytes) -> float:
    """The structure's units, with the strings cut out first."""
    outside, strings = _STRING.subn(b"", data)
    return _structure(outside, strings)


def _structure(outside: Bytes, strings: int) -> float:
    count = outside.count
    return (
        Costs.JSON_OPEN_OR_COMMA * (count(b",") + count(b"[") + count(b"{"))
        + Costs.JSON_COLON * count(b":")
        + Costs.JSON_STRING * strings
    )


def _tokens(data: Bytes) -> int:
    """The bytes that start a JSON token a line's strict parse steps through: , : [ { (or an
    escape that may spell one)."""
    count = data.count
    return count(b",") + count(b":") + count(b"[") + count(b"{") + count(b"\\u")


# --- protobuf -------------------------------------------------------------------------------------


class Field(NamedTuple):
    """A field the walk knows: the message it holds (None: a scalar, string or bytes field, not
    walked into), what each occurrence costs, and what each payload byte costs on top."""

    message: str | None = None
    cost: float = Costs.PB_FIELD
    per_byte: float = 0.0
    line: bool = False  # a log line: stored as a JSON object when it is one (line_units)


Schema = Mapping[str, Mapping[int, Field]]

#: A scalar, string or bytes field: reading (or overwriting) one costs a Python step whatever
#: its size, so every occurrence is charged, even the 2-byte `12 00` repeated a million times.
_LEAF = Field()

#: A log line: a leaf whose JSON tokens are charged too when it may be a JSON object.
_LINE = Field(line=True)

#: Loki's PushRequest (pkg/push/push.proto): streams, entries, their timestamps and metadata
#: pairs are walked into, so every field the decoder reads is charged once.
LOKI_PUSH: Schema = {
    "PushRequest": {1: Field("Stream", Costs.STREAM)},
    "Stream": {1: Field(None, Costs.PB_FIELD, Costs.LABEL_BYTE), 2: Field("Entry", Costs.PB_ENTRY), 3: _LEAF},
    "Entry": {
        1: Field("Timestamp"),
        2: _LINE,
        3: Field("LabelPairAdapter", Costs.PB_METADATA_PAIR),
        4: Field("LabelPairAdapter", Costs.PB_METADATA_PAIR),  # parsed: decoded (checked) as field 3 is
    },
    "Timestamp": {1: _LEAF, 2: _LEAF},
    "LabelPairAdapter": {1: _LEAF, 2: _LEAF},
}

_KEY_VALUE = Field("KeyValue", Costs.OTLP_ATTRIBUTE)
_ANY_VALUE = Field("AnyValue", Costs.OTLP_VALUE)

#: OTLP's ExportLogsServiceRequest (opentelemetry-proto, logs/v1 and common/v1): every record,
#: attribute and AnyValue (empty or not), and every scalar in them, is an element.
OTLP_LOGS: Schema = {
    "ExportLogsServiceRequest": {1: Field("ResourceLogs", Costs.OTLP_GROUP)},
    "ResourceLogs": {1: Field("Resource"), 2: Field("ScopeLogs", Costs.OTLP_GROUP), 3: _LEAF},
    "Resource": {1: _KEY_VALUE, 2: _LEAF},
    "ScopeLogs": {1: Field("InstrumentationScope"), 2: Field("LogRecord", Costs.OTLP_RECORD), 3: _LEAF},
    "InstrumentationScope": {1: _LEAF, 2: _LEAF, 3: _KEY_VALUE, 4: _LEAF},
    "LogRecord": {
        **dict.fromkeys((1, 2, 3, 7, 8, 9, 10, 11, 12), _LEAF),
        5: Field("Body", Costs.OTLP_VALUE),
        6: _KEY_VALUE,
    },
    # A record's body: an AnyValue whose string is the line.
    "Body": {
        1: _LINE,
        **dict.fromkeys((2, 3, 4, 7), _LEAF),
        5: Field("ArrayValue"),
        6: Field("KeyValueList"),
    },
    "KeyValue": {1: _LEAF, 2: _ANY_VALUE},
    "AnyValue": {
        **dict.fromkeys((1, 2, 3, 4, 7), _LEAF),
        5: Field("ArrayValue"),
        6: Field("KeyValueList"),
    },
    "ArrayValue": {1: _ANY_VALUE},
    "KeyValueList": {1: _KEY_VALUE},
}

#: The walk's stack: deep enough for everything the decoders decode (an AnyValue nested
#: MAX_DEPTH levels is at most 3 messages per level below a LogRecord, 4 messages down). A
#: subtree below it is charged as if it were all 2-byte fields, so depth hides nothing.
_MAX_DEPTH = 8 + 3 * MAX_DEPTH


#: Continuation bytes of a varint that the field's own cost covers: up to 5 bytes (any 32-bit
#: value, a timestamp's seconds or nanos) is what the element costs were measured with.
_VARINT_FREE = 4


class _Message(NamedTuple):
    """A schema message compiled for the walk: its LEN fields by key value (field << 3 | 2) ->
    (cost, cost per payload byte, the message it holds or None, whether it is a line), and the
    cost of each of its other fields by number."""

    fields: dict[int, tuple[float, float, _Message | None, bool]]
    scalars: dict[int, float]


_COMPILED: dict[int, dict[str, _Message]] = {}


def _compile(schema: Schema) -> dict[str, _Message]:
    compiled = _COMPILED.get(id(schema))
    if compiled is None:
        compiled = {name: _Message({}, {n: spec.cost for n, spec in fields.items()}) for name, fields in schema.items()}
        for name, fields in schema.items():
            for number, spec in fields.items():
                child = compiled[spec.message] if spec.message is not None else None
                compiled[name].fields[number << 3 | 2] = (spec.cost, spec.per_byte, child, spec.line)
        _COMPILED[id(schema)] = compiled
    return compiled


def charge_protobuf(data: Bytes, budget: Budget, schema: Schema, root: str) -> None:
    """Charge a protobuf body: its bytes, then every field occurrence the walk meets (`schema`'s
    cost for a field it knows, of any wire type; PB_OTHER_FIELD for any other field), every
    varint byte past a varint's fifth (Python steps through them one by one), and the JSON
    tokens of every line with a "{" in it (line_units), so building the records adds nothing
    to charge after decoding."""
    units = Costs.BYTE * len(data)
    varint = Costs.PB_LONG_VARINT_BYTE
    token = Costs.JSON_LINE_TOKEN
    count = data.count
    left = budget.limit - budget.spent
    other = Costs.PB_OTHER_FIELD
    below_cap = other / 2  # per byte of a subtree past _MAX_DEPTH: at most one field per 2 bytes
    message = _compile(schema)[root]
    table = message.fields
    stack: list[tuple[_Message, int]] = []
    end = len(data)
    i = 0
    complete = False
    while True:
        if i >= end:
            if not stack or i > end:
                complete = not stack and i == end
                break
            message, end = stack.pop()
            table = message.fields
            continue
        if units > left:
            break
        # The key: a varint (a non-minimal spelling is the same key).
        key = data[i]
        i += 1
        if key >= 0x80:
            start = i
            key, i = _varint(data, i, end, key)
            if i < 0:
                break
            if i - start > _VARINT_FREE:
                units += varint * (i - start - _VARINT_FREE)
        wire = key & 7
        if wire == 2:
            size = data[i] if i < end else 0x80
            i += 1
            if size >= 0x80:
                start = i
                size, i = _varint(data, i, end, size)
                if i < 0:
                    break
                if i - start > _VARINT_FREE:
                    units += varint * (i - start - _VARINT_FREE)
            stop = i + size
            if stop > end:
                break
            spec = table.get(key)
            if spec is None:
                units += other
                i = stop
                continue
            cost, per_byte, child, line = spec
            units += cost + per_byte * size
            if child is None:
                if line and size > 1 and data.find(b"{", i, stop) >= 0:  # "{}" at least
                    units += token * (
                        count(b",", i, stop) + count(b":", i, stop) + count(b"[", i, stop) + count(b"{", i, stop) + 1
                    )
                i = stop
            elif len(stack) < _MAX_DEPTH:
                stack.append((message, end))
                message, table, end = child, child.fields, stop
            else:
                units += below_cap * size
                i = stop
            continue
        units += message.scalars.get(key >> 3, other)
        if wire == 0:
            start = i
            while i < end and data[i] >= 0x80 and i - start < 10:
                i += 1
            if i - start == 10:  # longer than any varint: the decoder refuses it (400)
                break
            if i - start > _VARINT_FREE:
                units += varint * (i - start - _VARINT_FREE)
            i += 1
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire not in (3, 4):  # group markers have no payload; what they hold is walked on
            break
    budget.charge(units)
    # A walk stopped early (malformed bytes) did not see every line: render charges them.
    budget.lines_charged = complete


def _varint(data: Bytes, i: int, end: int, first: int) -> tuple[int, int]:
    """The rest of a varint whose first byte (>= 0x80) was `first`; (0, -1) when truncated."""
    result = first & 0x7F
    shift = 7
    while i < end and shift < 70:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & ((1 << 64) - 1), i
        shift += 7
    return 0, -1

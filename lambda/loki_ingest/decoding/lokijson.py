"""JSON push bodies: v1 (`/loki/api/v1/push`) and legacy (`/api/prom/push`).

Rules follow Loki's decoders (docs/loki-protocol.md#json-bodies): any type error is a 400 for the
whole request, because Loki fails the whole unmarshal. One deliberate difference: bytes
after the top-level object are rejected instead of ignored, since silently ignoring a
second concatenated document would lose its entries.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
from typing import Any

from loki_ingest.decoding.jsondoc import parse as parse_json
from loki_ingest.decoding.labels import LEGACY_NAME
from loki_ingest.decoding.labels import parse as parse_labels
from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.ingest.limits import UNLIMITED, Limits
from loki_ingest.ingest.model import MISSING_TIMESTAMP, NO_METADATA, Entry, LabelPairs, Metadata, Stream, exact_text
from loki_ingest.wire import INT64_MAX, INT64_MIN, MAX_LABELS_STRING_BYTES, Bytes


def _invalid(message: str) -> DecodeError:
    return DecodeError(message, reason="invalid_json_push")


class _RawNumber(str):
    """A JSON number kept as its source text (Loki takes label values as raw tokens)."""

    __slots__ = ()


def _integer(text: str) -> int | _RawNumber:
    # An int when str() gives the source text back (and CPython shares the small ones, so an
    # array of digits costs no object per element); "-0" and long ones stay text.
    return int(text) if len(text) < 19 and text != "-0" else _RawNumber(text)


class _Duplicates(dict[str, Any]):
    """An object with a repeated key: the dict keeps the last value, `pairs` keeps them all,
    so no value is dropped silently (where a key must be unique the push is refused)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    return obj if len(obj) == len(pairs) else _Duplicates(pairs)


def _items(obj: dict[str, Any]) -> Any:
    """Every (key, value) of a decoded object, repeated keys included."""
    return obj.pairs if type(obj) is _Duplicates else obj.items()


def _unique(obj: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    if type(obj) is _Duplicates:
        names = [name for name, _ in obj.pairs]
        for key in keys:
            if names.count(key) > 1:
                raise _invalid(f'{where}: key "{key}" appears more than once')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_int=_integer, parse_float=_RawNumber, parse_constant=_reject_constant
)

_TS = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_INT64_MAX_TEXT = str(INT64_MAX)


def _load(body: Bytes) -> Any:
    doc, surrogates = parse_json(body, _DECODER, "JSON body", reason="invalid_json_push")
    if surrogates:
        _exact_strings(doc)
    return doc


def _exact_strings(doc: Any) -> None:
    """Rewrite every string of a decoded document in the model's text form, in place
    (iteratively: the document may be nested as deep as the parser allowed)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = [(exact_text(k), exact_text(v) if type(v) is str else v) for k, v in _items(node)]
            node.clear()
            node.update(items)
            if type(node) is _Duplicates:
                node.pairs = items
            stack.extend(value for _, value in items if isinstance(value, dict | list))
        elif type(node) is list:
            for index, value in enumerate(node):
                if type(value) is str:
                    node[index] = exact_text(value)
                elif isinstance(value, dict | list):
                    stack.append(value)


def _top(doc: Any) -> list[Any]:
    """The "streams" array (its elements were charged to the work budget before parsing)."""
    if not isinstance(doc, dict):
        raise _invalid('JSON body must be an object with a "streams" array')
    _unique(doc, ("streams",), "JSON body")
    streams = doc.get("streams")
    if streams is None:
        return []
    if not isinstance(streams, list):
        raise _invalid('"streams" must be an array')
    return streams


def parse_timestamp(value: Any, where: str) -> int:
    """A v1 timestamp: a JSON string holding base-10 int64 Unix nanoseconds."""
    if type(value) is not str:
        raise _invalid(f"{where}: timestamp must be a string of Unix nanoseconds, got {_kind(value)}")
    # Fast path: 1..19 ASCII digits with no leading zero.
    if value.isascii() and value.isdigit() and len(value) < 19 and (value[0] != "0" or len(value) == 1):
        return int(value)
    if not _TS.match(value) or not value.isascii():
        raise _invalid(f"{where}: timestamp {value[:40]!r} is not an integer number of nanoseconds")
    # More than 20 significant digits is past int64 (and int() of over 4,300 digits raises).
    if len(value.lstrip("+-").lstrip("0")) > 20 or not INT64_MIN <= int(value) <= INT64_MAX:
        raise _invalid(f"{where}: timestamp {value[:40]!r} overflows int64 nanoseconds")
    return int(value)


#: How an error names a JSON value's type; the first match wins (bool before int, which it
#: subclasses; a raw number before str, which it subclasses).
_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (_RawNumber, "a number"),
    (str, "a string"),
    (bool, "a boolean"),
    (int, "a number"),
    (dict, "an object"),
    (list, "an array"),
)


def _kind(value: Any) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def _metadata(value: Any, where: str, keep: int) -> Metadata:
    # A repeated name keeps every value (records/render.py stores repeated names exactly).
    if not isinstance(value, dict):
        raise _invalid(f"{where}: structured metadata must be an object of strings, got {_kind(value)}")
    if not value:
        return NO_METADATA
    pairs = tuple(_items(value))
    for name, item in pairs:
        if type(item) is not str:
            raise _invalid(f"{where}: structured metadata {name!r} must be a string, got {_kind(item)}")
    return pairs if len(pairs) <= keep else pairs[:keep]  # Limits.keep_metadata


def _label_value(value: Any, name: str, where: str) -> str:
    # Loki keeps a non-string label value as its raw JSON text (123 -> "123"). Arrays and
    # objects are refused instead: their source text is not recoverable from the parsed value.
    if isinstance(value, str):
        return str(value)  # a raw number's text too
    if value is None or isinstance(value, int):  # bool is an int
        return json.dumps(value)
    raise _invalid(f"{where}: label {name!r} must be a string (or a number, boolean or null), got {_kind(value)}")


def _v1_labels(value: Any, where: str, keep: int) -> LabelPairs:
    if not isinstance(value, dict):
        raise _invalid(f'{where}: "stream" must be an object of labels, got {_kind(value)}')
    pairs: LabelPairs = []
    # A repeated name gives repeated pairs, which validation refuses ("duplicate label name").
    for name, item in _items(value):
        if not LEGACY_NAME.match(name):
            # Loki re-serialises JSON labels unquoted and re-parses them, so only
            # legacy names survive (docs/loki-protocol.md#json-bodies).
            raise _invalid(f"{where}: invalid label name {name[:100]!r} (must match [A-Za-z_][A-Za-z0-9_]*)")
        text = _label_value(item, name, where)
        if text and len(pairs) < keep:  # Limits.keep_labels
            pairs.append((name, text))
    return pairs


def decode_v1(body: Bytes, limits: Limits = UNLIMITED, budget: Budget | None = None) -> list[Stream]:
    streams: list[Stream] = []
    for s_index, raw in enumerate(_top(_load(body))):
        where = f"stream {s_index}"
        if not isinstance(raw, dict):
            raise _invalid(f"{where}: must be an object, got {_kind(raw)}")
        _unique(raw, ("stream", "values"), where)
        labels = _v1_labels(raw["stream"], where, limits.keep_labels) if "stream" in raw else []
        values = raw.get("values")
        if values is None:
            streams.append(Stream(labels, []))
            continue
        if type(values) is not list:
            raise _invalid(f'{where}: "values" must be an array, got {_kind(values)}')
        streams.append(Stream(labels, _v1_entries(values, where, limits.keep_metadata)))
    return streams


def _v1_entries(values: list[Any], where: str, keep_metadata: int) -> list[Entry]:
    entries: list[Entry] = []
    append = entries.append
    for e_index, value in enumerate(values):
        if type(value) is not list:
            if value is None:
                continue  # Loki skips null elements
            raise _invalid(f"{where} entry {e_index}: must be an array [timestamp, line, metadata?]")
        size = len(value)
        if size >= 2:
            ts, line = value[0], value[1]
            # Hot path: exactly [ts, line] with a plain positive int64 timestamp (current
            # times in nanoseconds have 19 digits; same-length digit strings compare numerically).
            if (
                type(ts) is str
                and type(line) is str
                and size == 2
                and ts.isascii()
                and ts.isdigit()
                and (len(ts) < 19 or (len(ts) == 19 and ts <= _INT64_MAX_TEXT))
                and (ts[0] != "0" or len(ts) == 1)
            ):
                append((int(ts), line, NO_METADATA))
                continue
        entry_where = f"{where} entry {e_index}"
        timestamp = parse_timestamp(value[0], entry_where) if size >= 1 else MISSING_TIMESTAMP
        line = value[1] if size >= 2 else ""
        if type(line) is not str:
            raise _invalid(f"{entry_where}: line must be a string, got {_kind(line)}")
        metadata = _metadata(value[2], entry_where, keep_metadata) if size >= 3 else NO_METADATA
        append((timestamp, line, metadata))  # elements after the 3rd are ignored, as in Loki
    return entries


# RFC 3339 as Go's time.Time JSON decoding accepts it (nanosecond fraction allowed).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


def parse_rfc3339(value: Any, where: str) -> int:
    if type(value) is not str:
        raise _invalid(f'{where}: "ts" must be an RFC 3339 string, got {_kind(value)}')
    match = _RFC3339.match(value)
    if not match:
        raise _invalid(f'{where}: "ts" {value[:40]!r} is not an RFC 3339 timestamp')
    year, month, day, hour, minute, second, frac, _zulu, sign, off_h, off_m = match.groups()
    fields = (int(year), int(month), int(day), int(hour), int(minute), int(second))
    if not (1 <= fields[1] <= 12 and 1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60 and fields[5] < 60):
        raise _invalid(f'{where}: "ts" {value[:40]!r} is out of range')
    try:
        seconds = calendar.timegm((*fields, 0, 0, 0))
        datetime.date(fields[0], fields[1], fields[2])  # rejects Feb 31; timegm would roll over
    except (ValueError, OverflowError):
        raise _invalid(f'{where}: "ts" {value[:40]!r} is out of range') from None
    if sign:
        offset = int(off_h) * 3600 + int(off_m) * 60
        seconds -= offset if sign == "+" else -offset
    nanos = int((frac or "").ljust(9, "0") or "0")
    result = seconds * 1_000_000_000 + nanos
    if not INT64_MIN <= result <= INT64_MAX:
        raise _invalid(f'{where}: "ts" {value[:40]!r} is outside the int64 nanosecond range')
    return result


def decode_legacy(body: Bytes, limits: Limits = UNLIMITED, budget: Budget | None = None) -> list[Stream]:
    streams: list[Stream] = []
    parsed: dict[str, LabelPairs] = {}
    for s_index, raw in enumerate(_top(_load(body))):
        where = f"stream {s_index}"
        if not isinstance(raw, dict):
            raise _invalid(f"{where}: must be an object, got {_kind(raw)}")
        _unique(raw, ("labels", "entries"), where)
        label_text = raw.get("labels", "")
        if type(label_text) is not str:
            raise _invalid(f'{where}: "labels" must be a string like {{app="x"}}, got {_kind(label_text)}')
        if len(label_text) > MAX_LABELS_STRING_BYTES:
            raise PayloadTooLarge(f"{where}: labels string exceeds 16 MiB", reason="labels_too_large")
        if label_text not in parsed:
            if budget is not None:
                budget.charge(Costs.LABEL_BYTE * len(label_text))  # each distinct string is parsed
            parsed[label_text] = parse_labels(label_text, limits.keep_labels, limits.label_token_chars)
        entries_raw = raw.get("entries")
        if entries_raw is None:
            entries_raw = []
        if type(entries_raw) is not list:
            raise _invalid(f'{where}: "entries" must be an array, got {_kind(entries_raw)}')
        entries: list[Entry] = []
        for e_index, item in enumerate(entries_raw):
            entry_where = f"{where} entry {e_index}"
            if not isinstance(item, dict):
                raise _invalid(f'{entry_where}: must be an object with "ts" and "line"')
            _unique(item, ("ts", "line", "structuredMetadata"), entry_where)
            timestamp = parse_rfc3339(item["ts"], entry_where) if "ts" in item else MISSING_TIMESTAMP
            line = item.get("line", "")
            if type(line) is not str:
                raise _invalid(f'{entry_where}: "line" must be a string, got {_kind(line)}')
            metadata_raw = item.get("structuredMetadata")
            metadata = (
                NO_METADATA
                if metadata_raw is None
                else _legacy_metadata(metadata_raw, entry_where, limits.keep_metadata)
            )
            entries.append((timestamp, line, metadata))
        streams.append(Stream(list(parsed[label_text]), entries))
    return streams


def _legacy_metadata(value: Any, where: str, keep: int) -> Metadata:
    # The proto JSON form is a list of {"name","value"}; Loki's docs show a plain object.
    if type(value) is list:
        pairs: list[tuple[str, str]] = []
        for item in value:
            if (
                not isinstance(item, dict)
                or type(item.get("name")) is not str
                or type(item.get("value", "")) is not str
            ):
                raise _invalid(f'{where}: structuredMetadata items must be {{"name": str, "value": str}}')
            _unique(item, ("name", "value"), where)
            if len(pairs) < keep:
                pairs.append((item["name"], item.get("value", "")))
        return tuple(pairs)
    return _metadata(value, where, keep)

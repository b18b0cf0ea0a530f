"""OTLP AnyValue: its decoded form, and pdata's Value.AsString, which Loki uses to turn a
body into a line and an attribute value into a metadata value."""

from __future__ import annotations

import base64
import math
import re
from json.encoder import encode_basestring
from typing import TypeAlias, cast

from loki_ingest.ingest.model import exact_bytes


class KvList(list[tuple[str, "AnyValue"]]):
    """An AnyValue kvlist_value: (key, value) pairs in wire order, duplicates kept. A plain
    list is an array_value."""

    __slots__ = ()


#: A decoded AnyValue: None is the empty value, bytes is bytes_value.
AnyValue: TypeAlias = str | bool | int | float | bytes | list["AnyValue"] | KvList | None
Attributes: TypeAlias = list[tuple[str, AnyValue]]


# --- AnyValue rendering: pdata's Value.AsString, which Loki uses for lines and values ------------


class _Unsupported(Exception):
    """NaN or an infinity inside an array or kvlist: Go's json.Marshal fails, AsString gives ""."""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def as_string(value: AnyValue) -> str:
    """The string Loki stores for a value (pcommon.Value.AsString): strings as sent, booleans
    `true`/`false`, integers in decimal, doubles as Go's encoding/json writes them, bytes in
    standard base64, arrays and kvlists as compact JSON (kvlist keys sorted, the last of
    duplicate keys kept), the empty value as ""."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return _go_float(value)
        # pdata's float64AsString: "json: unsupported value: " + FormatFloat(f, 'g', -1, 64).
        return "json: unsupported value: " + ("NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    try:
        return _go_json(value)
    except _Unsupported:
        return ""  # json.Marshal's error is ignored and its nil output is the string


def _go_float(value: float) -> str:
    """A finite float64 the way Go's encoding/json (and pdata's float64AsString) writes it:
    the shortest digits that round-trip, in plain notation, except for magnitudes below 1e-6
    or from 1e21 up, which use an exponent (`1e-7`, `1.5e+300`), as ES6 number-to-string does."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent_text = repr(abs(value)).partition("e")  # repr: the shortest digits
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent_text) if exponent_text else 0)  # value = 0.<digits> * 10**point
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    digits = significant.rstrip("0")
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        exponent = point - 1
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e-{-exponent}" if exponent < 0 else f"{sign}{head}e+{exponent:02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_quote(text: str) -> str:
    """A JSON string the way Go's encoding/json writes it with HTML escaping off: \\b \\f \\n
    \\r \\t short escapes, other control characters as \\u00XX, U+2028/U+2029 escaped, and each
    byte that is not UTF-8 as \\ufffd."""
    quoted: str = encode_basestring(text)
    if not quoted.isascii():
        quoted = quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        quoted = _LONE_SURROGATE.sub(r"\\ufffd", quoted)
    return quoted


def _go_json(value: AnyValue) -> str:
    """pcommon.Value.AsRaw() marshalled by Go's encoding/json (see `as_string` for the one
    deliberate difference: <, > and & are not HTML-escaped)."""
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, KvList):
        merged: dict[str, AnyValue] = {}
        for key, item in value:  # Map.AsRaw: a later duplicate key replaces an earlier one
            merged[key] = item
        ordered = sorted(merged.items(), key=lambda pair: exact_bytes(pair[0]))  # Go sorts map keys
        return "{" + ",".join(f"{_go_quote(key)}:{_go_json(item)}" for key, item in ordered) + "}"
    if isinstance(value, list):  # an array_value: a KvList, a list too, was handled above
        return "[" + ",".join(_go_json(cast(AnyValue, item)) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unsupported
        return _go_float(value)
    if isinstance(value, bytes):
        return '"' + base64.b64encode(value).decode("ascii") + '"'  # []byte marshals as base64
    return as_string(value)  # bool, int

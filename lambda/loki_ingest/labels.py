"""Prometheus label strings: `{a="b", c="d"}`.

Loki parses the `labels` field of protobuf and legacy-JSON streams with PromQL's
ParseMetric. Grammar (docs/loki-protocol.md#label-strings):

    labels    := [metric_name] label_set
    label_set := "" | "{" [item ("," item)* [","]] "}"
    item      := name "=" string | string          (a bare string is __name__)
    name      := [A-Za-z_][A-Za-z0-9_]* | string    (quoted names are UTF-8 names)
    string    := "..." | '...' | `raw`              (Go escapes in the quoted forms)

Whitespace is free between tokens. Loki then drops empty-valued labels and renders the
set canonically: sorted by name, `name="value"` joined by ", ", values Go-quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import DecodeError
from .model import LabelPairs

LEGACY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# One token at a time; anything else at a position is a syntax error.
_TOKEN = re.compile(
    r"""[ \t\r\n]*(?:
        (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
      | (?P<dq>"(?:[^"\\\n]|\\.)*")
      | (?P<sq>'(?:[^'\\\n]|\\.)*')
      | (?P<bq>`[^`]*`)
      | (?P<punct>[{}=,])
      | (?P<end>\Z)
    )""",
    re.VERBOSE | re.DOTALL,
)

# The shape every mainstream client sends, handled by one regex without the tokenizer.
_SIMPLE_SET = re.compile(r'\{(?:[A-Za-z_][A-Za-z0-9_]*="[^"\\\n]*"(?:, ?|(?=\})))*\}\Z')
_SIMPLE_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"\\\n]*)"')

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"])|x([0-9A-Fa-f]{2})|([0-7]{3})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.?))", re.DOTALL
)


def _fail(text: str, why: str) -> DecodeError:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return DecodeError(f"couldn't parse labels {shown!r}: {why}", reason="invalid_labels")


def _unescape(body: str, quote: str, original: str) -> str:
    if "\\" not in body:
        return body
    raw_bytes = bytearray()
    out: list[str] = []

    def flush() -> None:
        if raw_bytes:
            # \x and octal escapes are bytes in Go strings; keep invalid ones exact (model.py).
            out.append(raw_bytes.decode("utf-8", "surrogateescape"))
            raw_bytes.clear()

    pos = 0
    for match in _ESCAPE.finditer(body):
        if match.start() > pos:
            flush()
            out.append(body[pos : match.start()])
        simple, hex2, octal, u4, u8, bad = match.groups()
        if simple is not None:
            if simple in "'\"" and simple != quote:
                raise _fail(original, f"invalid escape \\{simple} in {quote}-quoted string")
            flush()
            out.append(_SIMPLE_ESCAPES[simple])
        elif hex2 is not None:
            raw_bytes.append(int(hex2, 16))  # \x and octal are bytes in Go strings
        elif octal is not None:
            value = int(octal, 8)
            if value > 255:
                raise _fail(original, f"octal escape \\{octal} out of range")
            raw_bytes.append(value)
        else:
            flush()
            code = int(u4 or u8 or "0", 16)
            if bad is not None or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _fail(original, "invalid escape sequence")
            out.append(chr(code))
        pos = match.end()
    flush()
    out.append(body[pos:])
    return "".join(out)


_STRINGS = ("dq", "sq", "bq")


def _string_value(kind: str, token: str, original: str) -> str:
    if kind == "bq":
        return token[1:-1]
    return _unescape(token[1:-1], token[0], original)


def parse(text: str) -> LabelPairs:
    """Parse a label string into (name, value) pairs, dropping empty values like Loki.

    Raises DecodeError (400 for the whole request, as in Loki) on any syntax error.
    """
    if _SIMPLE_SET.match(text):
        return [(n, v) for n, v in _SIMPLE_PAIR.findall(text) if v]
    return [(n, v) for n, v in _parse_general(text) if v]


def _parse_general(text: str) -> LabelPairs:
    tokens = _tokens(text)
    pairs: LabelPairs = []
    i = 0
    if tokens[0][0] == "ident":
        pairs.append(("__name__", tokens[0][1]))
        i = 1
    if tokens[i][0] == "end":
        return pairs
    if tokens[i][1] != "{":
        raise _fail(text, f"unexpected {tokens[i][1]!r}, expected '{{'")
    i += 1
    while tokens[i][1] != "}":
        kind, value = tokens[i]
        if kind in _STRINGS and tokens[i + 1][1] != "=":
            # A bare quoted string is the metric name.
            pairs.append(("__name__", _string_value(kind, value, text)))
            i += 1
        elif kind in _STRINGS or kind == "ident":
            name = _string_value(kind, value, text) if kind in _STRINGS else value
            if kind == "ident" and ":" in name:
                raise _fail(text, f"invalid label name {name!r}")
            if not name:
                raise _fail(text, "empty label name")
            if tokens[i + 1][1] != "=":
                raise _fail(text, f"expected '=' after label name {name!r}")
            v_kind, v_value = tokens[i + 2]
            if v_kind not in _STRINGS:
                raise _fail(text, f"label {name!r} needs a quoted value")
            pairs.append((name, _string_value(v_kind, v_value, text)))
            i += 3
        else:
            raise _fail(text, f"unexpected {value or 'end of input'!r} where a label name was expected")
        separator = tokens[i][1]
        if separator == ",":
            i += 1
        elif separator != "}":
            raise _fail(text, f"expected ',' or '}}', got {separator or 'end of input'!r}")
    i += 1
    if tokens[i][0] != "end":
        raise _fail(text, f"unexpected {tokens[i][1]!r} after '}}'")
    return pairs


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    length = len(text)
    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            bad = text[pos:].lstrip(" \t\r\n")[:1]
            if bad in ('"', "'", "`"):
                raise _fail(text, "unterminated quoted string")
            raise _fail(text, f"unexpected character {bad!r}")
        kind = match.lastgroup or "end"
        value = match.group(kind) or ""
        tokens.append((kind, value))
        if kind == "end":
            # Pad so look-ahead never runs off the list.
            tokens.append(("end", ""))
            return tokens
        pos = match.end()
        if pos > length:  # pragma: no cover - defensive
            raise _fail(text, "unexpected end of input")


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(value: str) -> str:
    """Quote like Go's strconv.Quote, which is what Loki prints label values with."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char in "\a\b\f\n\r\t\v":
            out.append(_GO_ESCAPES[char])
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def canonical(pairs: Iterable[tuple[str, str]]) -> str:
    """Loki's canonical rendering; `pairs` must already be sorted and de-duplicated."""
    parts = []
    for name, value in pairs:
        shown = name if LEGACY_NAME.match(name) else go_quote(name)
        parts.append(f"{shown}={go_quote(value)}")
    return "{" + ", ".join(parts) + "}"

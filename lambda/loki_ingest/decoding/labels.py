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

from loki_ingest.errors import DecodeError
from loki_ingest.ingest.budget import Costs
from loki_ingest.ingest.model import LabelPairs, exact_bytes

LEGACY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# One token at a time; anything else at a position is a syntax error.
_TOKEN = re.compile(
    r"""[ \t\r\n]*(?:
        (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
      | (?P<dq>"[^"\\\n]*(?:\\.[^"\\\n]*)*")
      | (?P<sq>'[^'\\\n]*(?:\\.[^'\\\n]*)*')
      | (?P<bq>`[^`]*`)
      | (?P<punct>[{}=,])
      | (?P<end>\Z)
    )""",
    re.VERBOSE | re.DOTALL,
)

# The shape every mainstream client sends, handled by one regex without the tokenizer.
_SIMPLE_SET = re.compile(r'\{(?:[A-Za-z_][A-Za-z0-9_]*="[^"\\\n]*"(?:, ?|(?=\})))*\}\Z')
_SIMPLE_MAX_CHARS = 1 << 16

# The whole grammar as one regex, escapes included (Go's rules, as _unescape applies them),
# for label strings longer than _SIMPLE_MAX_CHARS. Every repeat is possessive, so the regex
# engine keeps no state per pair: 16 MiB are checked in a fraction of a second in constant
# memory, where the tokenizer would take seconds.
_WS = r"[ \t\r\n]*+"
_HEX = "[0-9A-Fa-f]"
_NOT_SURROGATE = "(?![dD][89a-fA-F])"
_CODE_POINT = (
    rf"u{_NOT_SURROGATE}{_HEX}{{4}}|U(?:0000{_NOT_SURROGATE}{_HEX}{{4}}|000[1-9A-Fa-f]{_HEX}{{4}}|0010{_HEX}{{4}})"
)
_COMMON_ESCAPE = rf"[abfnrtv\\]|x{_HEX}{{2}}|[0-3][0-7]{{2}}|{_CODE_POINT}"
_DQ_CHARS = rf'(?:[^"\\\n]|\\(?:{_COMMON_ESCAPE}|"))'
_SQ_CHARS = rf"(?:[^'\\\n]|\\(?:{_COMMON_ESCAPE}|'))"
_QUOTED = rf'"{_DQ_CHARS}*+"|\'{_SQ_CHARS}*+\'|`[^`]*+`'
_QUOTED_NAME = rf'"{_DQ_CHARS}++"|\'{_SQ_CHARS}++\'|`[^`]++`'
_EMPTY = r"\"\"|''|``"
_NAME = "[A-Za-z_][A-Za-z0-9_]*+"
_METRIC = "[A-Za-z_][A-Za-z0-9_:]*+"
_ITEM = rf"(?:(?:{_NAME}|{_QUOTED_NAME}){_WS}={_WS}(?:{_QUOTED})|(?:{_QUOTED}))"
_WHOLE = re.compile(
    rf"{_WS}(?:{_METRIC}{_WS})?(?:\{{{_WS}(?:{_ITEM}{_WS}(?:,{_WS}{_ITEM}{_WS})*+(?:,{_WS})?)?\}}{_WS})?\Z"
)
_LEADING_METRIC = re.compile(rf"{_WS}({_METRIC})")
# Runs of empty-valued items, which are dropped: skipped in C, not one Python step each.
_EMPTY_ITEMS = re.compile(rf"(?:{_WS}(?:(?:{_NAME}|{_QUOTED_NAME}){_WS}={_WS}(?:{_EMPTY})|(?:{_EMPTY})){_WS},)*+")
_ONE_ITEM = re.compile(
    rf"{_WS}(?:(?P<name>{_NAME}|{_QUOTED_NAME}){_WS}={_WS}(?P<value>{_QUOTED})|(?P<bare>{_QUOTED})){_WS},?"
)
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
            # \x and octal escapes are bytes in Go strings; keep invalid ones exact (ingest/model.py).
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
    return _canonical_text("".join(out))


def _canonical_text(text: str) -> str:
    """The model's one spelling of the bytes `text` stands for: a byte escape next to raw
    bytes (or to another escape) can complete a UTF-8 character, and "\\xc3\\xa9" must be
    the same name as "é" (Go compares the bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return exact_bytes(text).decode("utf-8", "surrogateescape")
    return text


_STRINGS = ("dq", "sq", "bq")


def _string_value(kind: str, token: str, original: str) -> str:
    if kind == "bq":
        return token[1:-1]
    return _unescape(token[1:-1], token[0], original)


def parse(text: str, max_pairs: int | None = None, max_token_chars: int | None = None) -> LabelPairs:
    """Parse a label string into (name, value) pairs, dropping empty values like Loki.

    Raises DecodeError (400 for the whole request, as in Loki) on any syntax error. With
    `max_pairs`, pairs after the first `max_pairs` are checked but not kept: the caller picks a
    number past which validation refuses the stream anyway, so a huge label string costs its
    parse time but not a tuple per pair. A quoted name or value longer than `max_token_chars`
    is kept as its raw token, not unescaped: the caller picks a length that can only decode to
    more bytes than validation accepts (an escape is at most 4 characters per byte), so the
    stream is refused anyway without the cost of unescaping megabytes.
    """
    keep = len(text) if max_pairs is None else max_pairs
    # The one-regex path keeps backtracking state per pair: only for strings of a sane size.
    if len(text) <= _SIMPLE_MAX_CHARS and _SIMPLE_SET.match(text):
        pairs: LabelPairs = []
        for match in _SIMPLE_PAIR.finditer(text):
            if match.group(2):
                if len(pairs) == keep:
                    break
                pairs.append((match.group(1), match.group(2)))
        return pairs
    return _parse_checked(text, keep, max_token_chars or len(text))


def _parse_checked(text: str, keep: int, max_token_chars: int) -> LabelPairs:
    """_WHOLE checks the whole string at C speed, then only the kept pairs are extracted (one
    Python step per token, as in the tokenizer, would cost seconds for 16 MiB of labels)."""
    if not _WHOLE.match(text):
        if len(text) <= _SIMPLE_MAX_CHARS:
            _parse_general(text, keep)  # raises with a precise message
        raise _fail(text, "syntax error (a label string this long is checked as a whole)")
    pairs: LabelPairs = []
    pos = 0
    metric = _LEADING_METRIC.match(text)
    if metric:
        if keep:
            pairs.append(("__name__", metric.group(1)))
        pos = metric.end()
    brace = text.find("{", pos)
    if brace < 0:
        return pairs
    pos = brace + 1
    while len(pairs) < keep:
        pos = _EMPTY_ITEMS.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string
        item = _ONE_ITEM.match(text, pos)
        if item is None:
            break
        pos = item.end()
        name_token, value_token, bare = item.group("name", "value", "bare")
        if bare is not None:
            name, value = "__name__", _token_text(bare, text, max_token_chars)
        else:
            name, value = (
                _token_text(name_token, text, max_token_chars),
                _token_text(value_token, text, max_token_chars),
            )
        if value:
            pairs.append((name, value))
    return pairs


def _token_text(token: str, text: str, max_chars: int) -> str:
    """The text of a name or string token that _WHOLE has already checked."""
    if len(token) > max_chars:
        return token  # too long to be valid whatever it decodes to (see parse)
    if token[0] in "\"'`":
        return _string_value({'"': "dq", "'": "sq", "`": "bq"}[token[0]], token, text)
    return token


class _Tokens:
    """The tokens of a label string, one at a time with one token of look-ahead (a list of
    every token would cost far more memory than the string)."""

    __slots__ = ("ahead", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.ahead: tuple[str, str] | None = None

    def peek(self) -> tuple[str, str]:
        if self.ahead is None:
            self.ahead = self._read()
        return self.ahead

    def next(self) -> tuple[str, str]:
        token = self.peek()
        self.ahead = None
        return token

    def _read(self) -> tuple[str, str]:
        text = self.text
        match = _TOKEN.match(text, self.pos)
        if match is None:
            bad = text[self.pos :].lstrip(" \t\r\n")[:1]
            if bad in ('"', "'", "`"):
                raise _fail(text, "unterminated quoted string")
            raise _fail(text, f"unexpected character {bad!r}")
        kind = match.lastgroup or "end"
        self.pos = match.end()
        return kind, match.group(kind) or ""


def _parse_general(text: str, keep: int) -> LabelPairs:
    tokens = _Tokens(text)
    pairs: LabelPairs = []

    def add(name: str, value: str) -> None:
        if value and len(pairs) < keep:
            pairs.append((name, value))

    kind, value = tokens.next()
    if kind == "ident":
        add("__name__", value)
        kind, value = tokens.next()
    if kind == "end":
        return pairs
    if value != "{":
        raise _fail(text, f"unexpected {value!r}, expected '{{'")
    kind, value = tokens.next()
    while value != "}" or kind != "punct":
        if kind in _STRINGS and tokens.peek()[1] != "=":
            # A bare quoted string is the metric name.
            add("__name__", _string_value(kind, value, text))
        elif kind in _STRINGS or kind == "ident":
            name = _string_value(kind, value, text) if kind in _STRINGS else value
            if kind == "ident" and ":" in name:
                raise _fail(text, f"invalid label name {name!r}")
            if not name:
                raise _fail(text, "empty label name")
            if tokens.next()[1] != "=":
                raise _fail(text, f"expected '=' after label name {name!r}")
            v_kind, v_value = tokens.next()
            if v_kind not in _STRINGS:
                raise _fail(text, f"label {name!r} needs a quoted value")
            add(name, _string_value(v_kind, v_value, text))
        else:
            raise _fail(text, f"unexpected {value or 'end of input'!r} where a label name was expected")
        s_kind, separator = tokens.next()
        if separator == "," and s_kind == "punct":
            kind, value = tokens.next()
        elif separator == "}" and s_kind == "punct":
            break
        else:
            raise _fail(text, f"expected ',' or '}}', got {separator or 'end of input'!r}")
    kind, value = tokens.next()
    if kind != "end":
        raise _fail(text, f"unexpected {value!r} after '}}'")
    return pairs


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(value: str) -> str:
    """Quote like Go's strconv.Quote, which is what Loki prints label values with."""
    if _plain(value):
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


def _plain(text: str) -> bool:
    """go_quote's fast path: nothing to escape."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def quote_units(pairs: Iterable[tuple[str, str]]) -> float:
    """What quoting these labels for the canonical form costs beyond the fast path: go_quote
    walks a name or value with anything to escape character by character."""
    chars = 0
    for name, value in pairs:
        if not _plain(name):
            chars += len(name)
        if not _plain(value):
            chars += len(value)
    return chars * Costs.LABEL_QUOTED_CHAR


def canonical(pairs: Iterable[tuple[str, str]]) -> str:
    """Loki's canonical rendering; `pairs` must already be sorted and de-duplicated."""
    parts = []
    for name, value in pairs:
        shown = name if LEGACY_NAME.match(name) else go_quote(name)
        parts.append(f"{shown}={go_quote(value)}")
    return "{" + ", ".join(parts) + "}"

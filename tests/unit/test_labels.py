"""The Prometheus label-string grammar Loki uses (docs/loki-protocol.md#label-strings)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.labels import _parse_checked, _parse_general, canonical, go_quote, parse, quote_units
from loki_ingest.errors import DecodeError
from loki_ingest.ingest.budget import Costs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('{a="b", c="d"}', [("a", "b"), ("c", "d")], id="simple"),
        pytest.param('{a="b",c="d"}', [("a", "b"), ("c", "d")], id="no-space"),
        pytest.param("", [], id="empty-string-is-empty-set"),
        pytest.param("{}", [], id="empty-braces"),
        pytest.param("  { \t}\n", [], id="whitespace-only-set"),
        pytest.param('{a="b",}', [("a", "b")], id="trailing-comma"),
        pytest.param(
            '{ "foo"="bar2",      "environment"="prod"   }',
            [("foo", "bar2"), ("environment", "prod")],
            id="quoted-names-and-free-whitespace",
        ),
        pytest.param('{"service.name"="api"}', [("service.name", "api")], id="utf8-dotted-name"),
        pytest.param('{"名前"="値"}', [("名前", "値")], id="utf8-non-ascii"),
        pytest.param("{a='single'}", [("a", "single")], id="single-quotes"),
        pytest.param("{a=`raw\\n`}", [("a", "raw\\n")], id="backtick-raw"),
        pytest.param('{a="q\\"uote\\\\ \\n\\t"}', [("a", 'q"uote\\ \n\t')], id="go-escapes"),
        pytest.param('{a="\\x41\\101\\u00e9\\U0001F600"}', [("a", "AAé😀")], id="hex-octal-unicode-escapes"),
        pytest.param('{a="é😀"}', [("a", "é😀")], id="utf8-values"),
        pytest.param('metric{a="b"}', [("__name__", "metric"), ("a", "b")], id="metric-name-prefix"),
        pytest.param('{"metric", a="b"}', [("__name__", "metric"), ("a", "b")], id="bare-string-is-metric-name"),
        pytest.param('{a="", b="c"}', [("b", "c")], id="empty-values-dropped"),
        pytest.param('{a="1", a="2"}', [("a", "1"), ("a", "2")], id="duplicates-kept-for-validation"),
    ],
)
def test_parses_the_prometheus_label_grammar(text: str, expected: list[tuple[str, str]]) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{a="b"', id="unterminated-set"),
        pytest.param('{a="b}', id="unterminated-string"),
        pytest.param('{a!="b"}', id="matcher-not-equal"),
        pytest.param('{a=~"b"}', id="matcher-regex"),
        pytest.param('{a="b"}}', id="extra-brace"),
        pytest.param('{{a="b"}}', id="nested-braces"),
        pytest.param("{a=b}", id="unquoted-value"),
        pytest.param('{a="\\q"}', id="invalid-escape"),
        pytest.param("{a='\\\"'}", id="wrong-quote-escape"),
        pytest.param("{,}", id="lone-comma"),
        pytest.param('{a="b" c="d"}', id="missing-comma"),
        pytest.param('{="b"}', id="missing-name"),
        pytest.param('{""="b"}', id="empty-quoted-name"),
        pytest.param('{a:b="c"}', id="colon-in-label-name"),
        pytest.param('{a="line\nbreak"}', id="newline-in-string"),
        pytest.param('{a="\\uD800"}', id="surrogate-escape"),
        pytest.param('a b{c="d"}', id="two-metric-names"),
    ],
)
def test_syntax_errors_are_decode_errors(text: str) -> None:
    with pytest.raises(DecodeError) as info:
        parse(text)
    assert "couldn't parse labels" in info.value.message


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ('q"uote', '"q\\"uote"'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\tnew\nline", '"tab\\tnew\\nline"'),
        ("bell\a", '"bell\\a"'),
        ("\x01", '"\\x01"'),
        ("é", '"é"'),
        ("\u200b", '"\\u200b"'),
    ],
)
def test_values_are_quoted_like_go_strconv_quote(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted


def test_canonical_form_quotes_only_non_legacy_names() -> None:
    assert canonical([("a.b", "c"), ("env", "prod")]) == '{"a.b"="c", env="prod"}'


label_values = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20)
label_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@given(st.lists(st.tuples(label_names, label_values), max_size=6))
def test_canonical_output_parses_back_to_the_same_labels(pairs: list[tuple[str, str]]) -> None:
    assert parse(canonical(pairs)) == pairs


@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_decode_error(text: str) -> None:
    try:
        result = parse(text)
    except DecodeError:
        return
    assert all(isinstance(n, str) and isinstance(v, str) and v for n, v in result)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{" + 'a="b", ' * 1000 + "}", id="simple"),
        pytest.param("{" + "a='b', " * 1000 + "}", id="general"),
        pytest.param("m{" + 'a="", b="c", ' * 1000 + "}", id="general-with-metric-name-and-empty-values"),
    ],
)
def test_pairs_past_max_pairs_are_checked_but_not_kept(text: str) -> None:
    full = parse(text)
    assert parse(text, 5) == full[:5] and len(full) > 5
    with pytest.raises(DecodeError):
        parse(text[:-1] + "x}", 5)  # a syntax error after the kept pairs is still a 400


def test_a_huge_label_string_costs_memory_for_the_kept_pairs_only() -> None:
    text = "{" + "a='b'," * 300_000 + "}"
    tracemalloc.start()
    try:
        assert len(parse(text, 17)) == 17
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(text) // 4


def _parse_long(text: str, keep: int) -> list[tuple[str, str]]:
    """The whole-grammar regex path, with no token too long to unescape."""
    return _parse_checked(text, keep, len(text) + 1)


_PIECES = [
    "{",
    "}",
    ",",
    "=",
    " ",
    "\t",
    "\n",
    "a",
    "b_1",
    "m:x",
    ":",
    '"',
    "'",
    "`",
    '""',
    "''",
    "``",
    '"v"',
    "'v'",
    "`v`",
    '"x y"',
    "\\",
    "\\n",
    "\\x41",
    "\\101",
    "\\400",
    "\\u00e9",
    "\\ud800",
    "\\U0001F600",
    "\\U00110000",
    "\\'",
    '\\"',
    "\\q",
    "é",
    "\U0001f600",
]


def outcome(parser: Any, text: str, keep: int) -> object:
    """What a parser makes of a label string: its result, or "error" (a DecodeError)."""
    try:
        return parser(text, keep)
    except DecodeError:
        return "error"


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.integers(0, 4))
def test_the_long_string_parser_agrees_with_the_tokenizer(pieces: list[str], keep: int) -> None:
    text = "".join(pieces)
    assert outcome(_parse_long, text, keep) == outcome(_parse_general, text, keep)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True), st.text(max_size=6)), max_size=6)
)
def test_the_long_string_parser_agrees_on_well_formed_sets(pairs: list[tuple[str, str]]) -> None:
    text = "{" + ", ".join(f"{name}={go_quote(value)}" for name, value in pairs) + "}"
    assert _parse_long(text, 99) == _parse_general(text, 99) == [(n, v) for n, v in pairs if v]


def test_a_label_string_over_64_kib_is_parsed_as_a_whole() -> None:
    padded = "{" + " " * 70_000 + 'a="b", ' + 'c="", ' * 20_000 + "'d'=`e`}"
    assert parse(padded) == [("a", "b"), ("d", "e")]
    with pytest.raises(DecodeError, match="checked as a whole"):
        parse(padded[:-1])


_CONTENT = st.lists(
    st.sampled_from(
        [
            "v",
            " ",
            "é",
            "\\n",
            "\\x41",
            "\\xZ1",
            "\\101",
            "\\400",
            "\\777",
            "\\u00e9",
            "\\ud800",
            "\\uDFFF",
            "\\U0001F600",
            "\\U0000d800",
            "\\U00110000",
            "\\U0010FFFF",
            "\\'",
            '\\"',
            "\\q",
            "\\",
            "\\\\",
            "\n",
            "`",
        ]
    ),
    max_size=4,
).map("".join)
_STRING = st.builds(lambda quote, content: quote + content + quote, st.sampled_from(['"', "'", "`"]), _CONTENT)
_WS = st.sampled_from(["", " ", "\t\n"])
_NAME = st.one_of(st.sampled_from(["a", "b_1", "m:x", "1a", ""]), _STRING)
_ITEM = st.one_of(
    st.builds(lambda n, w1, w2, v: n + w1 + "=" + w2 + v, _NAME, _WS, _WS, _STRING),
    _STRING,
    st.sampled_from(["a", "=", ""]),
)
_LABEL_STRING = st.builds(
    lambda metric, items, sep, trail: metric + "{" + sep.join(items) + trail + "}",
    st.sampled_from(["", "m", "m:x ", " ", "1"]),
    st.lists(_ITEM, max_size=4),
    st.sampled_from([",", ", ", " , "]),
    st.sampled_from(["", ",", ",,", " "]),
)


@settings(max_examples=3000, deadline=None)
@given(_LABEL_STRING, st.integers(0, 4))
def test_the_long_string_parser_agrees_with_the_tokenizer_on_label_shaped_strings(text: str, keep: int) -> None:
    assert outcome(_parse_long, text, keep) == outcome(_parse_general, text, keep)


def test_a_name_and_a_value_spelled_with_byte_escapes_are_the_same_as_their_utf8_text() -> None:
    # Go compares bytes: "\\xc3\\xa9" and a raw e-acute (or a raw C3 byte then "\\xa9") are one name.
    raw_c3 = b"\xc3".decode("utf-8", "surrogateescape")
    for spelled in ('"\\xc3\\xa9"', '"\\303\\251"', '"' + raw_c3 + '\\xa9"', '"\\u00e9"'):
        assert parse("{" + spelled + '="1"}') == [("\u00e9", "1")], spelled


def test_a_token_past_max_token_chars_is_kept_raw_and_not_unescaped() -> None:
    value = '"' + "\\a" * 5000 + '"'
    pairs = parse('{a="b", c=' + value + ", 'd'=`e`}", 10, max_token_chars=8194)
    assert pairs == [("a", "b"), ("c", value), ("d", "e")]
    assert len(pairs[1][1]) > 8194  # validation then refuses it as too long, unescaped or not


@pytest.mark.parametrize(
    ("pairs", "quoted_chars"),
    [
        pytest.param([("app", "x" * 100)], 0, id="plain-ascii"),
        pytest.param([("app", "\x7f" * 100)], 100, id="control-characters"),
        pytest.param([("app", 'say "hi"')], 8, id="quotes"),
        pytest.param([("app", "日本" * 50)], 100, id="non-ascii"),
        pytest.param([("é", "x")], 1, id="a-name-to-quote"),
    ],
)
def test_labels_quoted_character_by_character_are_charged_per_character(
    pairs: list[tuple[str, str]], quoted_chars: int
) -> None:
    assert quote_units(pairs) == quoted_chars * Costs.LABEL_QUOTED_CHAR

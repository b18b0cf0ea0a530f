"""Loki's stream/entry validation and partial success."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.model import MISSING_TIMESTAMP, Rejection, Rejections, Stream
from loki_ingest.ingest.validate import ValidStream, validate
from loki_ingest.settings import Settings
from tests.conftest import NOW_NS, make_settings

S = 1_000_000_000


class Result(NamedTuple):
    streams: list[ValidStream]
    rejections: list[Rejection]
    accepted: int


def run(streams: list[Stream], settings: Settings) -> Result:
    rejections = Rejections()
    valid = validate(streams, Limits.from_settings(settings), rejections, NOW_NS)
    return Result(valid, rejections.items, sum(len(s.entries) for s in valid))


def one(
    entries: list[tuple[int, str, tuple[tuple[str, str], ...]]], labels: list[tuple[str, str]] | None = None
) -> Stream:
    return Stream(labels if labels is not None else [("app", "x")], entries)


STREAM_CASES = [
    pytest.param([("a", "1"), ("a", "2")], {}, "duplicate label name: 'a'", id="duplicate-names"),
    pytest.param([(f"l{i}", "v") for i in range(16)], {}, "16 label names; limit 15", id="too-many-labels"),
    pytest.param(
        [*((f"l{i}", "v") for i in range(15)), ("service_name", "s")], {}, None, id="service-name-not-counted"
    ),
    pytest.param([("n" * 1025, "v")], {}, "label name too long", id="long-name"),
    pytest.param([("n", "v" * 2049)], {}, "label value too long", id="long-value"),
    pytest.param([("n", "é" * 1025)], {}, "label value too long", id="long-value-in-bytes"),
    pytest.param([("n", "v" * 2048)], {}, None, id="value-at-limit"),
    pytest.param([], {}, None, id="empty-label-set-accepted"),
    pytest.param([(f"l{i}", "v") for i in range(16)], {"max_label_names": 20}, None, id="configurable-limit"),
]


@pytest.mark.parametrize(("labels", "overrides", "problem"), STREAM_CASES)
def test_stream_level_rules_reject_the_whole_stream(
    labels: list[tuple[str, str]], overrides: dict[str, int], problem: str | None
) -> None:
    good = one([(NOW_NS, "ok", ())], [("other", "stream")])
    bad = one([(NOW_NS, "a", ()), (NOW_NS + 1, "b", ())], labels)
    result = run([good, bad], make_settings(**overrides))
    if problem is None:
        assert result.accepted == 3
        assert not result.rejections
    else:
        assert result.accepted == 1
        assert [s.canonical for s in result.streams] == ['{other="stream"}']
        (rejection,) = result.rejections
        assert problem in rejection.reason
        assert rejection.entry_count == 2


ENTRY_CASES = [
    pytest.param((MISSING_TIMESTAMP, "x", ()), {}, "has no timestamp", id="no-timestamp"),
    pytest.param(
        (NOW_NS - 8 * 86400 * S, "x", ()), {"reject_old_samples_max_age_seconds": 7 * 86400}, "too old", id="too-old"
    ),
    pytest.param((NOW_NS - 8 * 86400 * S, "x", ()), {}, None, id="old-accepted-by-default"),
    pytest.param((NOW_NS + 11 * 60 * S, "x", ()), {"creation_grace_period_seconds": 600}, "too new", id="too-new"),
    pytest.param((NOW_NS + 11 * 60 * S, "x", ()), {}, None, id="future-accepted-by-default"),
    pytest.param((0, "x", ()), {}, None, id="epoch-accepted"),
    pytest.param(
        (NOW_NS, "x" * (256 * 1024 + 1), ()), {}, "max entry size '262144' bytes exceeded", id="line-too-long"
    ),
    pytest.param((NOW_NS, "x" * (256 * 1024), ()), {}, None, id="line-at-limit"),
    pytest.param((NOW_NS, "é" * (128 * 1024 + 1), ()), {}, "exceeded", id="line-too-long-in-utf8-bytes"),
    pytest.param((NOW_NS, "x" * 200, ()), {"max_line_bytes": 100}, "max entry size '100'", id="configured-line-limit"),
    pytest.param((NOW_NS, "", ()), {}, None, id="empty-line-accepted"),
    pytest.param(
        (NOW_NS, "x", tuple((f"k{i}", "v") for i in range(129))),
        {},
        "too many structured metadata",
        id="metadata-count",
    ),
    pytest.param((NOW_NS, "x", (("k", "v" * 65536),)), {}, "structured metadata too large", id="metadata-size"),
]


@pytest.mark.parametrize(("entry", "overrides", "problem"), ENTRY_CASES)
def test_entry_level_rules_reject_only_that_entry(
    entry: tuple[int, str, tuple[tuple[str, str], ...]], overrides: dict[str, int], problem: str | None
) -> None:
    before, after = (NOW_NS - 1, "before", ()), (NOW_NS + 1, "after", ())
    result = run([one([before, entry, after])], make_settings(**overrides))
    if problem is None:
        assert result.accepted == 3
        assert not result.rejections
    else:
        assert result.streams[0].entries == [before, after]
        (rejection,) = result.rejections
        assert problem in rejection.reason
        assert rejection.labels == '{app="x"}'


def test_empty_streams_are_skipped_silently() -> None:
    result = run([one([]), one([], [("b", "c")])], make_settings())
    assert result.streams == [] and result.rejections == [] and result.accepted == 0


def test_labels_are_sorted_and_rendered_canonically() -> None:
    result = run([one([(1, "x", ())], [("z", "1"), ("a.b", "2"), ("m", "3")])], make_settings())
    assert result.streams[0].labels == (("a.b", "2"), ("m", "3"), ("z", "1"))
    assert result.streams[0].canonical == '{"a.b"="2", m="3", z="1"}'


def test_label_names_sort_by_the_bytes_sent_as_in_go() -> None:
    # "\udcff" is the byte 0xFF (not UTF-8); by code point it would sort before U+1F600
    # (bytes F0 9F 98 80), by bytes (Go, Loki) after it.
    labels = [("\udcff", "a"), ("\U0001f600", "b"), ("z", "c")]
    result = run([Stream(labels, [(NOW_NS, "x", ())])], make_settings())
    assert [name for name, _ in result.streams[0].labels] == ["z", "\U0001f600", "\udcff"]

"""Issue 21: every push a client can send finishes in time, and everything else is refused before
the work. The hostile shapes of the issue (each within the wire caps) must get a 413 with little
memory; the default Promtail/Alloy batches must be accepted whole.

These tests check what a test can check without timing: the status, the entries delivered, and
the peak RSS growth of the push in a fresh interpreter (tests/support/guarded.py, which also
stops a push once it passes its limit, so a failing test costs seconds, not gigabytes). The CPU
figures are recorded (build/test-figures.jsonl), never asserted: speed belongs in `make bench`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Harness, event, record_figures
from tests.support.guarded import run_push
from tests.support.hostile import (
    HOSTILE,
    MIB,
    NOW_NS,
    Push,
    client_batch,
    json_object_batch,
    json_object_line,
    json_unterminated_escaped_quotes,
    loki_entries_with_metadata,
    loki_one_endless_varint,
    otlp_records_with_attributes,
)

pytestmark = pytest.mark.fuzz

#: A push refused by the budget holds at most its body, the 16 MiB it decompresses to, and what
#: decoding did before the budget ran out: the current code needs 190 MB to 1.4 GB for these.
REFUSED_RSS = 100 * MIB
#: The issue's target for any push within the budget (it then finishes inside 15 s at 512 MB).
ACCEPTED_RSS = 300 * 1000 * 1000


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_push_over_the_work_budget_is_413_before_the_work(name: str) -> None:
    push = HOSTILE[name]()
    figures = run_push(push, rss_limit=REFUSED_RSS * 5 // 4)
    record_figures(f"work budget: {name}", {"bytes_in": len(push.body), **figures, "body": None})
    assert figures["status"] == 413, figures
    assert figures["delivered"] == 0
    assert figures["rss_growth"] <= REFUSED_RSS, figures


def test_a_json_body_whose_strings_never_end_is_refused_by_the_parser_not_a_quadratic_scan() -> None:
    """`"` then `\\",` repeated: counting its strings must stay linear (a backtracking pattern
    retried from every quote took minutes); the hang guard below is not a speed target."""
    push = json_unterminated_escaped_quotes()
    figures = run_push(push, rss_limit=REFUSED_RSS, timeout=120)
    record_figures("work budget: json-unterminated-escaped-quotes", {"bytes_in": len(push.body), **figures})
    assert figures["status"] == 400, figures
    assert "Unterminated string" in figures["body"], figures


#: Shapes whose whole cost the pre-pass can see: refused before decoding starts, not after it
#: (review 4: lines whose strict parse came after a decode that fit took 1.7 s to refuse).
BEFORE_DECODING = [
    "loki-entries-then-object-lines",
    "loki-bracket-object-lines",
    "otlp-bracket-lines-with-a-level-key",
    "otlp-ten-byte-varints",
    "loki-ten-byte-timestamp-seconds",
    "loki-json-object-lines",
]


@pytest.mark.parametrize("name", BEFORE_DECODING)
def test_a_push_whose_lines_or_varints_are_over_the_budget_is_refused_before_decoding(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loki_ingest.decoding import otlp, push
    from loki_ingest.errors import PayloadTooLarge
    from loki_ingest.ingest.budget import WORK_BUDGET_DEFAULT, Budget

    def decoded(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("decoding started")

    monkeypatch.setattr(push.protobuf, "decode_push_request", decoded)
    monkeypatch.setattr(otlp, "DECODERS", dict.fromkeys(otlp.DECODERS, decoded))
    hostile = HOSTILE[name]()
    with pytest.raises(PayloadTooLarge, match="WORK_BUDGET_UNITS"):
        push.decode_push(
            hostile.body,
            dialect="otlp" if hostile.path.startswith("/otlp") else "v1",
            content_type=hostile.content_type,
            content_encoding=hostile.content_encoding,
            budget=Budget(WORK_BUDGET_DEFAULT),
        )


def test_a_varint_that_never_ends_is_400() -> None:
    push = loki_one_endless_varint()
    figures = run_push(push, rss_limit=REFUSED_RSS)
    record_figures("work budget: loki-one-endless-varint", {"bytes_in": len(push.body), **figures})
    assert figures["status"] == 400, figures
    assert "varint" in figures["body"], figures


BATCHES = [
    pytest.param(16, "protobuf", id="65536-lines-of-16-bytes-protobuf"),
    pytest.param(16, "json", id="65536-lines-of-16-bytes-json"),
    pytest.param(4, "protobuf", id="262144-lines-of-4-bytes-protobuf"),
    pytest.param(4, "json", id="262144-lines-of-4-bytes-json"),
]


@pytest.mark.parametrize(("line_bytes", "encoding"), BATCHES)
def test_a_default_client_batch_is_accepted_and_every_entry_lands(
    harness: Harness, line_bytes: int, encoding: str
) -> None:
    """Promtail's and Alloy's default batch_size is 1 MiB of line bytes; both drop a batch
    answered 413, so refusing one loses it for good."""
    push = client_batch(line_bytes, encoding)
    status, answer = harness.json(
        event(path=push.path, body=push.body, content_type=push.content_type, content_encoding=push.content_encoding)
    )
    assert (status, answer.get("count")) == (200, push.entries), answer
    lines = sorted((int(r["timestamp_ns"]), r["record"]["message"]) for r in harness.firehose.records())
    assert lines == expected_lines(push, line_bytes)


def expected_lines(push: Push, line_bytes: int) -> list[tuple[int, str]]:
    return [(NOW_NS + i, f"{i:0{line_bytes}x}"[-line_bytes:]) for i in range(push.entries)]


@pytest.mark.parametrize(("line_bytes", "encoding"), BATCHES)
def test_a_default_client_batch_stays_within_the_memory_target(line_bytes: int, encoding: str) -> None:
    push = client_batch(line_bytes, encoding)
    figures = run_push(push, rss_limit=ACCEPTED_RSS * 3 // 2)
    record_figures(f"default batch {line_bytes}-byte lines {encoding}", {"bytes_in": len(push.body), **figures})
    assert (figures["status"], figures["delivered"]) == (200, push.entries), figures
    assert figures["rss_growth"] <= ACCEPTED_RSS, figures


#: The costly valid shapes at a size the budget must accept: a budget is only right if it is
#: not too tight either (these pass today, and must keep passing).
SMALL_ENOUGH: dict[str, Callable[[], Push]] = {
    "otlp-1000-records-x-119-attributes": lambda: otlp_records_with_attributes(records=1000),
    "loki-1000-entries-x-128-metadata": lambda: loki_entries_with_metadata(entries=1000),
}


@pytest.mark.parametrize("name", list(SMALL_ENOUGH))
def test_a_valid_push_of_a_costly_shape_within_the_budget_is_accepted(name: str) -> None:
    push = SMALL_ENOUGH[name]()
    figures = run_push(push, rss_limit=ACCEPTED_RSS * 3 // 2)
    assert (figures["status"], figures["delivered"]) == (200, push.entries), figures
    assert figures["rss_growth"] <= ACCEPTED_RSS, figures


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_a_default_client_batch_of_json_object_lines_is_accepted_and_lands_intact(
    harness: Harness, encoding: str
) -> None:
    """The pre-pass charges each JSON-object line's `,` `:` `[` `{` (review 4): a 1 MiB batch of
    dense JSON logs must still be far inside the budget, and each line is stored as its object."""
    push = json_object_batch(encoding)
    status, answer = harness.json(
        event(path=push.path, body=push.body, content_type=push.content_type, content_encoding=push.content_encoding)
    )
    assert (status, answer.get("count")) == (200, push.entries), answer
    stored = sorted((int(r["timestamp_ns"]), r["record"]) for r in harness.firehose.records())
    assert stored == [(NOW_NS + i, json.loads(json_object_line(i))) for i in range(push.entries)]

"""Packing lines into Firehose records and batches at the API limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.pushes import billed_bytes
from loki_ingest.delivery.firehose import MAX_BATCH_BYTES as FIREHOSE_MAX_BATCH_BYTES
from loki_ingest.delivery.firehose import MAX_BATCH_RECORDS as FIREHOSE_MAX_BATCH_RECORDS
from loki_ingest.delivery.firehose import MAX_RECORD_BYTES as FIREHOSE_MAX_RECORD_BYTES
from loki_ingest.delivery.firehose import pack

KIB = 1024


def line(size: int, fill: bytes = b"x") -> bytes:
    return fill * (size - 1) + b"\n"


def check_limits(batches: list[list[bytes]]) -> None:
    for batch in batches:
        assert 1 <= len(batch) <= FIREHOSE_MAX_BATCH_RECORDS
        assert sum(map(len, batch)) <= FIREHOSE_MAX_BATCH_BYTES
        for record in batch:
            assert 0 < len(record) <= FIREHOSE_MAX_RECORD_BYTES
            assert record.endswith(b"\n")


@pytest.mark.parametrize(
    ("lines", "records_per_batch"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([line(10)], [1], id="one-line"),
        pytest.param([line(1000)] * 1000, [1], id="1000-small-lines-one-record"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES)], [1], id="one-maximal-line"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES)] * 2, [2], id="two-maximal-lines"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES // 2)] * 2, [1], id="two-halves-fill-one-record"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES // 2 + 1)] * 2, [2], id="two-halves-plus-one-byte"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES)] * 4 + [line(98_304)], [5], id="exactly-4-mib"),
        pytest.param([line(FIREHOSE_MAX_RECORD_BYTES)] * 4 + [line(98_305)], [4, 1], id="4-mib-plus-one-byte"),
    ],
)
def test_packing_boundaries(lines: list[bytes], records_per_batch: list[int]) -> None:
    batches = pack(lines)
    check_limits(batches)
    assert [len(b) for b in batches] == records_per_batch
    assert b"".join(r for b in batches for r in b) == b"".join(lines)


@pytest.mark.parametrize(
    ("count", "expected"), [(500, [500]), (501, [500, 1]), (1000, [500, 500]), (1001, [500, 500, 1])]
)
def test_500_record_boundary(count: int, expected: list[int]) -> None:
    # Lines just over half a record each force one line per record.
    size = 600 * KIB
    small = [line(size)] * count
    batches = pack(small, max_batch_bytes=size * 1000)
    assert [len(b) for b in batches] == expected


def test_a_line_over_the_record_limit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="record limit"):
        pack([line(FIREHOSE_MAX_RECORD_BYTES + 1)])


def test_calls_are_the_minimum_for_a_5_mb_push() -> None:
    lines = [line(800)] * (5 * 1024 * 1024 // 800)
    total = sum(map(len, lines))
    batches = pack(lines)
    assert len(batches) == -(-total // FIREHOSE_MAX_BATCH_BYTES)


def test_billed_bytes_round_each_record_up_to_5_kb() -> None:
    assert billed_bytes([1]) == 5120
    assert billed_bytes([5120, 5121, 3 * 1024]) == 5120 + 10240 + 5120


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400_000), max_size=60))
def test_random_line_sizes_keep_order_and_limits(sizes: list[int]) -> None:
    lines = [line(s, bytes([65 + i % 26])) for i, s in enumerate(sizes)]
    batches = pack(lines)
    check_limits(batches)
    assert b"".join(r for b in batches for r in b) == b"".join(lines)

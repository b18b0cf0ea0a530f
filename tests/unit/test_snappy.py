"""The pure-Python snappy block decoder: hand-made vectors for every element type, every
corrupt case, and cross-checks against cramjam (an independent C implementation)."""

from __future__ import annotations

import contextlib

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.snappy import decoded_length, decompress
from loki_ingest.errors import DecodeError, PayloadTooLarge
from tests.support.wire import varint

CAP = 1 << 25


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def literal(data: bytes) -> bytes:
    """Encode one literal element with the shortest length form."""
    n = len(data) - 1
    if n < 60:
        return bytes([n << 2]) + data
    for extra, tag in ((1, 60), (2, 61), (3, 62), (4, 63)):
        if n < 1 << (8 * extra):
            return bytes([tag << 2]) + n.to_bytes(extra, "little") + data
    raise ValueError(n)


VECTORS = [
    pytest.param(h("0b 04 61 62 01 02 0a 02 00 07 01 00 00 00"), b"ababababaaa", id="doc-vector-all-copy-kinds"),
    pytest.param(h("00"), b"", id="empty"),
    pytest.param(h("01 00 61"), b"a", id="literal-1"),
    pytest.param(varint(100) + literal(b"x" * 100), b"x" * 100, id="literal-1-length-byte"),
    pytest.param(
        varint(300) + literal(bytes(range(256)) + b"y" * 44), bytes(range(256)) + b"y" * 44, id="literal-2-length-bytes"
    ),
    pytest.param(varint(70_000) + literal(b"z" * 70_000), b"z" * 70_000, id="literal-3-length-bytes"),
    pytest.param(
        varint(1 << 24 | 5) + literal(b"w" * ((1 << 24) | 5)), b"w" * ((1 << 24) | 5), id="literal-4-length-bytes"
    ),
    # copy-1: tag = ((len-4) << 2) | 1 | (offset >> 8) << 5
    pytest.param(
        h("0b 0c 61 62 63 64") + bytes([((7 - 4) << 2) | 1, 4]), b"abcd" + b"abcdabc", id="copy-1-byte-offset"
    ),
    pytest.param(
        varint(2048 + 11)
        + literal(bytes(i % 251 for i in range(2048)))
        + bytes([((11 - 4) << 2) | 1 | (7 << 5), 0xFF]),
        bytes(i % 251 for i in range(2048)) + bytes(i % 251 for i in range(1, 12)),
        id="copy-1-max-offset-2047",
    ),
    # copy-2: tag = ((len-1) << 2) | 2, offset LE16
    pytest.param(h("44 0c 61 62 63 64") + bytes([(63 << 2) | 2, 4, 0]), b"abcd" * 17, id="copy-2-overlapping-64"),
    pytest.param(
        varint(40_000 + 3)
        + literal(bytes(i % 253 for i in range(40_000)))
        + bytes([(2 << 2) | 2])
        + (40_000).to_bytes(2, "little"),
        bytes(i % 253 for i in range(40_000)) + bytes([0, 1, 2]),
        id="copy-2-long-offset",
    ),
    # copy-4: tag = ((len-1) << 2) | 3, offset LE32
    pytest.param(h("08 0c 61 62 63 64") + bytes([(3 << 2) | 3, 4, 0, 0, 0]), b"abcdabcd", id="copy-4-byte-offset"),
    pytest.param(h("0a 00 61") + bytes([(8 << 2) | 3, 1, 0, 0, 0]), b"a" * 10, id="copy-4-run-length"),
    pytest.param(h("06 04 61 62") + bytes([1, 1]), b"abbbbb", id="copy-offset-1-repeats-one-byte"),
]


@pytest.mark.parametrize(("block", "expected"), VECTORS)
def test_decodes_hand_made_vectors(block: bytes, expected: bytes) -> None:
    assert bytes(decompress(block, CAP)) == expected


@pytest.mark.parametrize(("block", "expected"), VECTORS)
def test_hand_made_vectors_agree_with_cramjam(block: bytes, expected: bytes) -> None:
    assert bytes(cramjam.snappy.decompress_raw(block)) == expected


CORRUPT = [
    pytest.param(h("04 00 61 01 00"), "offset 0", id="zero-offset"),
    pytest.param(h("05 00 61 01 02"), "points outside", id="offset-past-start"),
    pytest.param(h("03 00 61"), "declares 3", id="short-output"),
    pytest.param(h("01 04 61 62"), "past the declared length", id="literal-over-preamble"),
    pytest.param(h("02 04 61"), "past the end of the input", id="truncated-literal"),
    pytest.param(h("0a f0"), "truncated literal length", id="truncated-literal-length"),
    pytest.param(h("0a 00 61 01"), "truncated copy", id="truncated-copy-1"),
    pytest.param(h("0a 00 61 02 01"), "truncated copy", id="truncated-copy-2"),
    pytest.param(h("0a 00 61 03 01 00 00"), "truncated copy", id="truncated-copy-4"),
    pytest.param(h("03 00 61 09 01"), "past the declared length", id="copy-over-preamble"),
    pytest.param(b"", "empty input", id="empty-input"),
    pytest.param(h("ff ff ff ff ff 01"), "invalid length preamble", id="overlong-preamble"),
    pytest.param(h("80"), "invalid length preamble", id="truncated-preamble"),
    pytest.param(varint(1_000_000) + h("00 61"), "more than", id="impossible-declared-length"),
    pytest.param(h("ff 06 00 00 73 4e 61 50 70 59") + b"\x01\x05\x00\x00abc", "framed", id="framed-stream"),
]


@pytest.mark.parametrize(("block", "message"), CORRUPT)
def test_rejects_corrupt_blocks_with_400(block: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decompress(block, CAP)
    assert info.value.status == 400
    assert message in info.value.message


def test_preamble_over_the_cap_is_413_before_decoding() -> None:
    block = bytes(cramjam.snappy.compress_raw(b"a" * 10_000))
    with pytest.raises(PayloadTooLarge) as info:
        decompress(block, 9_999)
    assert info.value.status == 413
    assert bytes(decompress(block, 10_000)) == b"a" * 10_000


def test_reads_the_preamble_like_the_spec_examples() -> None:
    assert decoded_length(h("40")) == (64, 1)
    assert decoded_length(h("fe ff 7f")) == (2097150, 3)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=0, max_value=5))
def test_matches_cramjam_on_random_data(data: bytes, repeat: int) -> None:
    data = data * (repeat + 1)  # repetition makes the compressor emit copies
    block = bytes(cramjam.snappy.compress_raw(data))
    assert bytes(decompress(block, CAP)) == data


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_our_decode_errors(data: bytes) -> None:
    with contextlib.suppress(DecodeError, PayloadTooLarge):
        decompress(data, 1 << 16)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=2000), st.data())
def test_mutated_valid_blocks_decode_like_cramjam_or_fail_cleanly(data: bytes, draw: st.DataObject) -> None:
    block = bytearray(cramjam.snappy.compress_raw(data * 3))
    position = draw.draw(st.integers(min_value=0, max_value=len(block) - 1))
    block[position] = draw.draw(st.integers(min_value=0, max_value=255))
    try:
        ours: bytes | None = bytes(decompress(bytes(block), CAP))
    except (DecodeError, PayloadTooLarge):  # a mutated preamble may declare more than the cap
        ours = None
    try:
        theirs: bytes | None = bytes(cramjam.snappy.decompress_raw(bytes(block)))
    except Exception:
        theirs = None
    # We are at least as strict as the reference, and never produce different bytes.
    if ours is not None:
        assert ours == theirs

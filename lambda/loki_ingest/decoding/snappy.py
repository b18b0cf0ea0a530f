"""Snappy *block* format decoder in pure Python (google/snappy format_description.txt).

Loki calls Go's snappy.Decode on the whole protobuf body: the block format, not the framed
stream format. The decoder is strict, like Go's: every element must fit in the input and in
the declared length, copies must point inside what was produced, and the output must be
exactly the declared length.

Every byte move is a slice operation; only overlapping copies (run-length repeats) build a
repeated pattern. The declared length is checked against the cap and against what the input
could possibly encode before any work is done.
"""

from __future__ import annotations

from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.ingest.budget import Budget, Costs
from loki_ingest.wire import Bytes

FRAMED_MAGIC = b"\xff\x06\x00\x00sNaPpY"

# The densest element is a copy with a 2-byte offset: 3 input bytes -> 64 output bytes.
# A declared length above this ratio cannot be honest, so it is rejected before allocating.
_MAX_EXPANSION = 64 / 3

# Per-tag tables for copy elements (tag & 3 == 1): length 4..11 and the offset's high bits.
_COPY1_LEN = tuple(((t >> 2) & 7) + 4 for t in range(256))
_COPY1_HIGH = tuple((t >> 5) << 8 for t in range(256))


#: Elements decoded between looks at the budget.
_CHECK_EVERY = 8192


def _corrupt(why: str) -> DecodeError:
    return DecodeError(f"corrupt snappy block: {why}", reason="invalid_snappy")


def decoded_length(data: Bytes) -> tuple[int, int]:
    """The preamble: uncompressed length as an unsigned LEB128 varint (at most 2^32 - 1)."""
    result = 0
    for index in range(min(len(data), 5)):
        byte = data[index]
        result |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            if index == 4 and byte > 0x0F:
                break
            return result, index + 1
    if len(data) == 0:
        raise _corrupt("empty input")
    raise _corrupt("invalid length preamble")


def decompress(data: Bytes, cap: int, budget: Budget | None = None) -> bytearray:
    """Decode one snappy block, refusing to produce more than `cap` bytes (413); each element
    (literal or copy) is charged to `budget`, looked at every _CHECK_EVERY elements."""
    if data[: len(FRAMED_MAGIC)] == FRAMED_MAGIC:
        raise DecodeError(
            "body is a framed snappy stream; Loki expects the snappy block format", reason="invalid_snappy"
        )
    total, pos = decoded_length(data)
    if total > cap:
        raise PayloadTooLarge(
            f"snappy block declares {total} bytes, over the decompressed size limit of {cap} bytes",
            reason="decompressed_too_large",
        )
    if total > (len(data) - pos) * _MAX_EXPANSION + 64:
        raise _corrupt(f"declared length {total} is more than {len(data) - pos} input bytes can encode")

    out = bytearray()
    end = len(data)
    copy1_len = _COPY1_LEN
    copy1_high = _COPY1_HIGH
    i = pos
    o = 0  # bytes produced so far (== len(out))
    elements = 0
    check = _CHECK_EVERY
    while i < end:
        elements += 1
        if elements == check:
            check += _CHECK_EVERY
            if budget is not None and budget.would_exceed(elements * Costs.SNAPPY_ELEMENT):
                break
        tag = data[i]
        kind = tag & 3
        if kind == 1:  # copy, 1-byte offset: the most frequent element in text
            if i + 2 > end:
                raise _corrupt("truncated copy")
            length = copy1_len[tag]
            offset = copy1_high[tag] | data[i + 1]
            i += 2
        elif kind == 2:
            if i + 3 > end:
                raise _corrupt("truncated copy")
            length = (tag >> 2) + 1
            offset = data[i + 1] | (data[i + 2] << 8)
            i += 3
        elif kind == 0:
            if tag < 240:
                i += 1
                j = i + (tag >> 2) + 1
            else:
                extra = (tag >> 2) - 59  # 1..4 little-endian length bytes
                if i + 1 + extra > end:
                    raise _corrupt("truncated literal length")
                j = i + 1 + extra + int.from_bytes(data[i + 1 : i + 1 + extra], "little") + 1
                i += 1 + extra
            if j > end:
                raise _corrupt("literal runs past the end of the input")
            o += j - i
            if o > total:
                raise _corrupt("literal runs past the declared length")
            out += data[i:j]
            i = j
            continue
        else:
            if i + 5 > end:
                raise _corrupt("truncated copy")
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[i + 1 : i + 5], "little")
            i += 5
        if not 0 < offset <= o:
            raise _corrupt(f"copy offset {offset} at output byte {o} points outside the output")
        start = o - offset
        o += length
        if o > total:
            raise _corrupt("copy runs past the declared length")
        if offset >= length:
            out += out[start : start + length]
        else:
            # Overlapping copy = repeat the last `offset` bytes (run-length encoding).
            out += (out[start:] * (length // offset + 1))[:length]
    if budget is not None:
        budget.charge(elements * Costs.SNAPPY_ELEMENT)
    if o != total:
        raise _corrupt(f"decoded {o} bytes but the preamble declares {total}")
    return out

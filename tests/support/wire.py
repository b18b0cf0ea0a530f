"""Hand-encoding helpers for wire-format test vectors."""

from __future__ import annotations


def varint(n: int) -> bytes:
    """Unsigned LEB128 (protobuf varints, the snappy preamble); negatives as 64-bit two's complement."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)

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


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def push_request(streams: list[tuple[bytes, list[tuple[int, bytes, list[tuple[bytes, bytes]]]]]]) -> bytes:
    """A PushRequest with arbitrary bytes for labels, lines and metadata (the reference protobuf
    library refuses strings that are not UTF-8; Go's encoder, which Loki clients use, does not)."""
    out = bytearray()
    for labels, entries in streams:
        stream = field(1, labels)
        for timestamp, line, metadata in entries:
            seconds, nanos = divmod(timestamp, 1_000_000_000)
            ts = varint(1 << 3) + varint(seconds) + (varint(2 << 3) + varint(nanos) if nanos else b"")
            entry = field(1, ts) + field(2, line)
            for name, value in metadata:
                entry += field(3, field(1, name) + field(2, value))
            stream += field(2, entry)
        out += field(1, stream)
    return bytes(out)

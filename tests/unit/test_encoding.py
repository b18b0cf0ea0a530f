"""Content-Encoding handling and the decompressed-size cap (bombs never fill memory)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.encoding import PROTOBUF_ENCODINGS, decoder
from loki_ingest.errors import BadRequest, DecodeError, PayloadTooLarge
from loki_ingest.wire import Bytes


def decode_content_encoding(body: bytes, name: str | None, cap: int) -> Bytes:
    """Content-Encoding as applied to a protobuf body ("snappy" passes through, as in Loki)."""
    return decoder(name, PROTOBUF_ENCODINGS)(body, cap)


PAYLOAD = b'{"streams":[]}' * 100
CAP = 1 << 20


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        pytest.param(None, PAYLOAD, id="absent"),
        pytest.param("", PAYLOAD, id="empty"),
        pytest.param("snappy", PAYLOAD, id="snappy-passes-through"),
        pytest.param("gzip", gzip.compress(PAYLOAD), id="gzip"),
        pytest.param("gzip", gzip.compress(PAYLOAD[:700]) + gzip.compress(PAYLOAD[700:]), id="gzip-multi-member"),
        pytest.param("deflate", raw_deflate(PAYLOAD), id="deflate-raw"),
        pytest.param("deflate", zlib.compress(PAYLOAD), id="deflate-zlib-wrapped"),
        pytest.param(" gzip ", gzip.compress(PAYLOAD), id="surrounding-whitespace"),
    ],
)
def test_supported_encodings_decode_to_the_original_bytes(encoding: str | None, body: bytes) -> None:
    assert bytes(decode_content_encoding(body, encoding, CAP)) == PAYLOAD


@pytest.mark.parametrize("encoding", ["br", "zstd", "identity", "GZIP", "gzip, deflate", "x-gzip"])
def test_other_encodings_are_400_like_loki(encoding: str) -> None:
    with pytest.raises(BadRequest) as info:
        decode_content_encoding(PAYLOAD, encoding, CAP)
    assert info.value.status == 400
    assert "not supported" in info.value.message


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        pytest.param("gzip", gzip.compress(PAYLOAD)[:-10], "truncated", id="gzip-truncated"),
        pytest.param("gzip", gzip.compress(PAYLOAD)[:5], "truncated", id="gzip-header-only"),
        pytest.param("gzip", b"not gzip at all", "bad header", id="gzip-garbage"),
        pytest.param("gzip", b"", "empty", id="gzip-empty"),
        pytest.param("gzip", gzip.compress(PAYLOAD) + b"trailing", "garbage after", id="gzip-trailing-garbage"),
        pytest.param("deflate", raw_deflate(PAYLOAD)[:-3], "truncated", id="deflate-truncated"),
        pytest.param("deflate", b"\xff\xff\xff\xff", "invalid deflate", id="deflate-garbage"),
        pytest.param("deflate", b"", "empty", id="deflate-empty"),
        pytest.param(
            "gzip",
            bytearray(gzip.compress(PAYLOAD))[:-8] + b"\x00\x00\x00\x00\x00\x00\x00\x00",
            "invalid gzip",
            id="gzip-bad-crc",
        ),
    ],
)
def test_corrupt_compressed_bodies_are_400(encoding: str, body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_content_encoding(bytes(body), encoding, CAP)
    assert info.value.status == 400
    assert message in info.value.message


BOMB_SIZE = 256 << 20  # 256 MiB of zeros


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(BOMB_SIZE >> 20)) + compressor.flush()


@pytest.fixture(scope="module")
def deflate_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(BOMB_SIZE >> 20)) + compressor.flush()


@pytest.mark.parametrize("kind", ["gzip", "deflate"])
def test_compression_bombs_are_413_with_bounded_memory(kind: str, request: pytest.FixtureRequest) -> None:
    bomb: bytes = request.getfixturevalue(f"{kind}_bomb")
    cap = 8 << 20
    assert len(bomb) < 1 << 20  # a small request...
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge) as info:
            decode_content_encoding(bomb, kind, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.status == 413
    # ...that would inflate to 256 MiB, but never allocates much past the cap.
    assert peak < cap * 3, f"peak {peak} bytes"


def test_body_exactly_at_the_cap_is_accepted_and_one_byte_over_is_413() -> None:
    data = b"x" * 4096
    assert len(decode_content_encoding(gzip.compress(data), "gzip", 4096)) == 4096
    with pytest.raises(PayloadTooLarge):
        decode_content_encoding(gzip.compress(data + b"y"), "gzip", 4096)
    with pytest.raises(PayloadTooLarge):
        decode_content_encoding(data + b"y", None, 4096)


@given(
    parts=st.lists(st.binary(max_size=3000), min_size=1, max_size=12),
    levels=st.lists(st.integers(0, 9), min_size=12, max_size=12),
)
@settings(max_examples=150, deadline=None)
def test_gzip_members_of_any_sizes_decode_to_their_concatenation(parts: list[bytes], levels: list[int]) -> None:
    # Members end at every offset of the growing input slices the decoder feeds zlib.
    body = b"".join(gzip.compress(part, levels[i]) for i, part in enumerate(parts))
    assert bytes(decode_content_encoding(body, "gzip", CAP)) == b"".join(parts)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(gzip.compress(b"a" * 5000) + gzip.compress(b"b" * 5000)[:-3], "truncated", id="last-member-cut"),
        pytest.param(gzip.compress(b"a" * 5000) + b"\x1f", "garbage after the last member", id="half-magic"),
        pytest.param(gzip.compress(b"a") * 3 + b"\x00" * 30, "garbage after the last member", id="zero-padding"),
    ],
)
def test_a_bad_member_after_good_ones_is_400(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_content_encoding(body, "gzip", CAP)


def test_100000_empty_gzip_members_decode_with_one_small_copy_each() -> None:
    # zlib copies all input after a member's end into unused_data; fed the whole rest of the
    # body each time, 2 MB of 20-byte members would copy ~100 GB. Count the bytes zlib is given.
    body = gzip.compress(b"", 1) * 100_000
    fed = 0
    real = zlib.decompressobj

    class Counting:
        def __init__(self, wbits: int) -> None:
            self.inner = real(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            nonlocal fed
            fed += len(data)
            return self.inner.decompress(data, max_length)

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zlib, "decompressobj", Counting)
        assert decode_content_encoding(body, "gzip", CAP) == b""
    assert fed < 100 * len(body)


def test_a_snappy_json_body_that_starts_with_a_brace_is_decoded() -> None:
    # A 123-byte document compresses to a block whose length varint is "{".
    doc = b'{"streams":[{"stream":{"a":"b"},"values":[["1","' + b"x" * 69 + b'"]]}]}'
    block = bytes(cramjam.snappy.compress_raw(doc))
    assert len(doc) == 123 and block[:1] == b"{"
    assert bytes(decoder("snappy")(block, CAP)) == doc
    assert bytes(decoder("snappy")(doc, CAP)) == doc  # plain JSON still passes through, as in Loki

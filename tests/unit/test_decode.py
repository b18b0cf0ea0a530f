"""Content-Type handling as Loki does it, and the encoding x type combinations."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from loki_ingest.decoding.push import Dialect, decode_push, media_type
from loki_ingest.errors import BadRequest, DecodeError
from loki_ingest.ingest.limits import Limits
from tests.support.logproto import encode_push, protobuf_push, snappy_block

JSON = json.dumps({"streams": [{"stream": {"a": "b"}, "values": [["1", "x"]]}]}).encode()
PROTO = protobuf_push([('{a="b"}', [(1, "x", [])])])
EXPECTED = [([("a", "b")], [(1, "x", ())])]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ('application/json; charset="utf-8"', "application/json"),
        ("application/x-protobuf", "application/x-protobuf"),
        ("application/jsonn", "application/jsonn"),
    ],
)
def test_media_type_is_parsed_like_go_mime(header: str, expected: str) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "application/json; charsetutf-8", "json", "application/", "/json", "application/json;;"],
)
def test_missing_or_malformed_content_type_is_400(header: str | None) -> None:
    with pytest.raises(BadRequest):
        media_type(header)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("body", "content_type", "content_encoding"),
    [
        pytest.param(JSON, "application/json", None, id="json"),
        pytest.param(gzip.compress(JSON), "application/json", "gzip", id="json-gzip"),
        pytest.param(raw_deflate(JSON), "application/json; charset=utf-8", "deflate", id="json-deflate"),
        pytest.param(JSON, "application/json", "snappy", id="json-snappy-header-plain-body"),
        pytest.param(snappy_block(JSON), "application/json", "snappy", id="json-snappy-compressed"),
        pytest.param(PROTO, "application/x-protobuf", None, id="protobuf"),
        pytest.param(PROTO, "application/x-protobuf", "snappy", id="protobuf-snappy-header"),
        pytest.param(gzip.compress(PROTO), "application/x-protobuf", "gzip", id="protobuf-gzip"),
        pytest.param(raw_deflate(PROTO), "application/x-protobuf", "deflate", id="protobuf-deflate"),
        pytest.param(PROTO, "application/octet-stream", None, id="any-other-type-is-protobuf"),
    ],
)
def test_every_encoding_and_type_combination_decodes(
    body: bytes, content_type: str, content_encoding: str | None
) -> None:
    streams = decode_push(
        body,
        dialect="v1",
        content_type=content_type,
        content_encoding=content_encoding,
        limits=Limits(max_decompressed_bytes=1 << 20),
    )
    assert [(s.labels, s.entries) for s in streams] == EXPECTED


def test_json_sent_with_a_non_json_type_gets_an_actionable_message() -> None:
    with pytest.raises(DecodeError) as info:
        decode_push(
            JSON,
            dialect="v1",
            content_type="application/x-www-form-urlencoded",
            content_encoding=None,
            limits=Limits(max_decompressed_bytes=1 << 20),
        )
    assert "send Content-Type: application/json" in info.value.message


def test_unframed_protobuf_is_rejected_since_loki_requires_snappy() -> None:
    with pytest.raises(DecodeError):
        decode_push(
            encode_push([('{a="b"}', [(1, "x" * 300, [])])]),
            dialect="v1",
            content_type="application/x-protobuf",
            content_encoding=None,
            limits=Limits(max_decompressed_bytes=1 << 20),
        )


@pytest.mark.parametrize("dialect", ["v1", "legacy"])
def test_the_route_dialect_decides_how_json_is_read(dialect: Dialect) -> None:
    legacy_body = json.dumps(
        {"streams": [{"labels": '{a="b"}', "entries": [{"ts": "1970-01-01T00:00:00.000000001Z", "line": "x"}]}]}
    ).encode()
    streams = decode_push(
        legacy_body,
        dialect=dialect,
        content_type="application/json",
        content_encoding=None,
        limits=Limits(max_decompressed_bytes=1 << 20),
    )
    if dialect == "legacy":
        assert [(s.labels, s.entries) for s in streams] == EXPECTED
    else:
        # Like Loki: a legacy body on the v1 path has streams without "values".
        assert [s.entries for s in streams] == [[]]

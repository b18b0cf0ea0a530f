"""OTLP/HTTP logs (docs/loki-protocol.md#otlp-logs): the two encodings' decoders, by media type."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from loki_ingest.decoding.otlp.json_body import decode_json
from loki_ingest.decoding.otlp.protobuf_body import decode_protobuf
from loki_ingest.http.otlp_answers import JSON_MEDIA_TYPE, PROTOBUF_MEDIA_TYPE
from loki_ingest.ingest.model import Stream

Decoder: TypeAlias = Callable[..., list[Stream]]
#: Media type -> decoder (the OTLP/HTTP specification's two encodings).
DECODERS: dict[str, Decoder] = {PROTOBUF_MEDIA_TYPE: decode_protobuf, JSON_MEDIA_TYPE: decode_json}

"""Reference encoder: Loki's push.proto message types built in code with the `protobuf`
package (no protoc), plus snappy block compression with cramjam. Test/dev only.

Field numbers and types are Loki's pkg/push/push.proto.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

_F = descriptor_pb2.FieldDescriptorProto


def _field(msg: Any, name: str, number: int, ftype: int, *, repeated: bool = False, type_name: str = "") -> None:
    field = msg.field.add()
    field.name = name
    field.number = number
    field.type = ftype
    field.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    if type_name:
        field.type_name = type_name


def _build() -> tuple[Any, Any, Any, Any]:
    pool = descriptor_pool.DescriptorPool()
    ts_file = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(ts_file)
    pool.Add(ts_file)

    proto = descriptor_pb2.FileDescriptorProto()
    proto.name = "pkg/push/push.proto"
    proto.package = "logproto"
    proto.syntax = "proto3"
    proto.dependency.append("google/protobuf/timestamp.proto")

    push = proto.message_type.add()
    push.name = "PushRequest"
    _field(push, "streams", 1, _F.TYPE_MESSAGE, repeated=True, type_name=".logproto.StreamAdapter")
    _field(push, "format", 2, _F.TYPE_STRING)

    stream = proto.message_type.add()
    stream.name = "StreamAdapter"
    _field(stream, "labels", 1, _F.TYPE_STRING)
    _field(stream, "entries", 2, _F.TYPE_MESSAGE, repeated=True, type_name=".logproto.EntryAdapter")
    _field(stream, "hash", 3, _F.TYPE_UINT64)

    entry = proto.message_type.add()
    entry.name = "EntryAdapter"
    _field(entry, "timestamp", 1, _F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp")
    _field(entry, "line", 2, _F.TYPE_STRING)
    _field(entry, "structuredMetadata", 3, _F.TYPE_MESSAGE, repeated=True, type_name=".logproto.LabelPairAdapter")
    _field(entry, "parsed", 4, _F.TYPE_MESSAGE, repeated=True, type_name=".logproto.LabelPairAdapter")

    pair = proto.message_type.add()
    pair.name = "LabelPairAdapter"
    _field(pair, "name", 1, _F.TYPE_STRING)
    _field(pair, "value", 2, _F.TYPE_STRING)

    pool.Add(proto)
    get = message_factory.GetMessageClass
    return (
        get(pool.FindMessageTypeByName("logproto.PushRequest")),
        get(pool.FindMessageTypeByName("logproto.StreamAdapter")),
        get(pool.FindMessageTypeByName("logproto.EntryAdapter")),
        get(pool.FindMessageTypeByName("logproto.LabelPairAdapter")),
    )


PushRequest, StreamAdapter, EntryAdapter, LabelPairAdapter = _build()

#: (timestamp_ns, line, [(name, value), ...])
EntrySpec = tuple[int, str, Sequence[tuple[str, str]]]


def encode_push(streams: Iterable[tuple[str, Iterable[EntrySpec]]]) -> bytes:
    """Serialise streams of (labels string, entries) with the reference protobuf library."""
    request = PushRequest()
    for labels, entries in streams:
        stream = request.streams.add()
        stream.labels = labels
        for timestamp_ns, line, metadata in entries:
            entry = stream.entries.add()
            seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
            entry.timestamp.seconds = seconds
            entry.timestamp.nanos = nanos
            entry.line = line
            for name, value in metadata:
                pair = entry.structuredMetadata.add()
                pair.name = name
                pair.value = value
    return bytes(request.SerializeToString())


def snappy_block(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


def protobuf_push(streams: Iterable[tuple[str, Iterable[EntrySpec]]]) -> bytes:
    """What Promtail/Alloy send: a snappy block of a serialised PushRequest."""
    return snappy_block(encode_push(streams))

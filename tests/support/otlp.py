"""Reference OTLP encoder for tests and benchmarks: requests built with the opentelemetry-proto
classes (the ones the Python SDK's exporter serialises), written as binary protobuf or as OTLP
JSON (protobuf's JSON mapping with hex trace and span ids, as the OTLP/HTTP specification
says). Test/dev only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

__all__ = [
    "ExportLogsServiceRequest",
    "ExportLogsServiceResponse",
    "LogRecord",
    "any_value",
    "attributes",
    "parse_response",
    "parse_status",
    "record",
    "request",
    "resource_logs",
    "scope_logs",
    "to_json",
]


class KV(list[tuple[str, Any]]):
    """A kvlist value in test specs (a dict cannot hold duplicate keys)."""


def any_value(value: Any) -> AnyValue:
    """Python -> AnyValue: str, bool, int, float, bytes, list (array), dict or KV (kvlist),
    None (the empty value)."""
    result = AnyValue()
    if isinstance(value, str):
        result.string_value = value
    elif isinstance(value, bool):
        result.bool_value = value
    elif isinstance(value, int):
        result.int_value = value
    elif isinstance(value, float):
        result.double_value = value
    elif isinstance(value, bytes):
        result.bytes_value = value
    elif isinstance(value, (dict, KV)):
        result.kvlist_value.values.extend(attributes(value))
    elif isinstance(value, list):
        result.array_value.values.extend(any_value(item) for item in value)
    elif value is not None:
        raise TypeError(value)
    return result


def attributes(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[KeyValue]:
    pairs = values.items() if isinstance(values, Mapping) else values
    return [KeyValue(key=key, value=any_value(value)) for key, value in pairs]


def record(body: Any = None, attrs: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **fields: Any) -> LogRecord:
    """A LogRecord; `fields` are LogRecord fields by their proto names (time_unix_nano, ...)."""
    result = LogRecord(**fields)
    if body is not None:
        result.body.CopyFrom(any_value(body))
    result.attributes.extend(attributes(attrs))
    return result


def scope_logs(
    records: Sequence[LogRecord],
    name: str = "",
    version: str = "",
    attrs: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    dropped: int = 0,
) -> ScopeLogs:
    result = ScopeLogs(log_records=records)
    result.scope.name = name
    result.scope.version = version
    result.scope.attributes.extend(attributes(attrs))
    result.scope.dropped_attributes_count = dropped
    return result


def resource_logs(
    resource: Mapping[str, Any] | Iterable[tuple[str, Any]], *scopes: ScopeLogs | Sequence[LogRecord]
) -> ResourceLogs:
    result = ResourceLogs()
    result.resource.attributes.extend(attributes(resource))
    for scope in scopes:
        result.scope_logs.append(scope if isinstance(scope, ScopeLogs) else scope_logs(scope))
    return result


def request(*resources: ResourceLogs) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(resource_logs=resources)


def to_json(message: ExportLogsServiceRequest) -> bytes:
    """OTLP JSON: protobuf's JSON mapping (lowerCamelCase, int64 as strings) with traceId and
    spanId in hex instead of base64."""
    doc = json_format.MessageToDict(message)
    for resource in doc.get("resourceLogs", []):
        for scope in resource.get("scopeLogs", []):
            for item in scope.get("logRecords", []):
                for name in ("traceId", "spanId"):
                    if name in item:
                        item[name] = base64.b64decode(item[name]).hex()
    return json.dumps(doc).encode()


def parse_response(body: bytes, as_json: bool) -> ExportLogsServiceResponse:
    response = ExportLogsServiceResponse()
    if as_json:
        json_format.Parse(body, response)
    else:
        response.ParseFromString(body)
    return response


def parse_status(body: bytes, as_json: bool) -> tuple[status_pb2.Status, list[str]]:
    """A google.rpc.Status answer and the descriptions of its BadRequest details."""
    status = status_pb2.Status()
    if as_json:
        json_format.Parse(body, status, descriptor_pool=error_details_pb2.DESCRIPTOR.pool)
    else:
        status.ParseFromString(body)
    descriptions = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad), detail.type_url
        descriptions += [violation.description for violation in bad.field_violations]
    return status, descriptions

"""OTLP JSON: an ExportLogsServiceRequest in the OTLP/HTTP JSON encoding -> streams
(mapping.py does the mapping). lowerCamelCase names, hex trace and span ids, 64-bit integers as
strings or numbers, enums as integers or names; the snake_case names too, as pdata accepts."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from loki_ingest.decoding.jsondoc import parse as parse_json
from loki_ingest.decoding.otlp.anyvalue import AnyValue, Attributes, KvList
from loki_ingest.decoding.otlp.mapping import (
    MAX_DEPTH,
    REQUEST,
    Collector,
    LogRecord,
    resource_stream,
    scope_metadata,
    too_large,
)
from loki_ingest.errors import DecodeError
from loki_ingest.ingest.budget import Budget
from loki_ingest.ingest.model import Stream, exact_text
from loki_ingest.wire import Bytes


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)
_DIGITS = re.compile(r"-?[0-9]+\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{level}{suffix}": base + step
    for base, level in ((1, "TRACE"), (5, "DEBUG"), (9, "INFO"), (13, "WARN"), (17, "ERROR"), (21, "FATAL"))
    for step, suffix in enumerate(("", "2", "3", "4"))
} | {"SEVERITY_NUMBER_UNSPECIFIED": 0}


class _Invalid(Exception):
    """A JSON value of the wrong kind. Each enclosing level adds its place on the way out, so
    no location string is built for the documents that are fine."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.path: list[str] = []

    def at(self, place: str) -> _Invalid:
        self.path.append(place)
        return self


def _shown(value: object) -> str:
    """A short description of an unexpected JSON value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return json.dumps(value)[:40]


class _Json:
    """Reads one OTLP JSON document. Every string is put in the model's text form when the
    body holds a surrogate escape (the only way JSON can carry text that is not Unicode).
    Null means the field's default, as in proto3 JSON."""

    __slots__ = ("exact",)

    def __init__(self, exact: bool) -> None:
        self.exact = exact

    @staticmethod
    def field(obj: Mapping[str, Any], name: str, snake: str) -> Any:
        """A field by its lowerCamelCase name, else by its proto name (pdata reads both)."""
        value = obj.get(name)
        return obj.get(snake) if value is None else value

    @staticmethod
    def object(value: Any, name: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if type(value) is not dict:
            raise _Invalid(f"{name} must be an object, got {_shown(value)}")
        return value

    @staticmethod
    def array(value: Any, name: str) -> list[Any]:
        if value is None:
            return []
        if type(value) is not list:
            raise _Invalid(f"{name} must be an array, got {_shown(value)}")
        return value

    def string(self, value: Any, name: str) -> str:
        if value is None:
            return ""
        if type(value) is not str:
            raise _Invalid(f"{name} must be a string, got {_shown(value)}")
        return exact_text(value) if self.exact else value

    @staticmethod
    def integer(value: Any, bits: int, name: str, *, signed: bool = False) -> int:
        """A proto3 JSON integer: a number or a decimal string (64-bit ones are sent as strings)."""
        if value is None:
            return 0
        if type(value) is int:
            number = value
        elif type(value) is str and _DIGITS.match(value):
            if len(value.lstrip("+-").lstrip("0")) > 20:  # past 64 bits; int() of 4,300+ digits raises
                raise _Invalid(f"{name} {value[:40]} is out of range")
            number = int(value)
        else:
            raise _Invalid(f"{name} must be an integer, got {_shown(value)}")
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not low <= number <= high:
            raise _Invalid(f"{name} {number} is out of range")
        return number

    @staticmethod
    def double(value: Any) -> float:
        """A number, or a string holding one or NaN, Infinity, -Infinity (proto3 JSON)."""
        if type(value) in (int, float):
            try:
                return float(value)
            except OverflowError:
                pass
        elif type(value) is str:
            if value in _SPECIAL_DOUBLES:
                return _SPECIAL_DOUBLES[value]
            if _NUMBER.match(value):
                return float(value)
        raise _Invalid(f"doubleValue must be a number, got {_shown(value)}")

    @staticmethod
    def bytes_value(value: Any) -> bytes:
        """proto3 JSON bytes: standard or URL-safe base64, padding optional."""
        if type(value) is str:
            text = value.replace("-", "+").replace("_", "/")
            try:
                return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
            except (binascii.Error, ValueError):
                pass
        raise _Invalid(f"bytesValue must be base64, got {_shown(value)}")

    @staticmethod
    def record_id(value: Any, size: int, name: str) -> bytes:
        """traceId / spanId: case-insensitive hex (the OTLP/HTTP JSON encoding), exactly `size`
        bytes or empty; pdata refuses any other length, so Loki answers 400."""
        if value is None or value == "":
            return b""
        if type(value) is not str or len(value) != 2 * size or not _HEX.match(value):
            raise _Invalid(f"{name} must be {2 * size} hex digits, got {_shown(value)}")
        return bytes.fromhex(value)

    def key_values(self, value: Any, depth: int) -> Attributes:
        pairs: Attributes = []
        for index, item in enumerate(self.array(value, "attributes")):
            obj = self.object(item, "attribute")
            key = self.string(obj.get("key"), "key")
            try:
                pairs.append((key, self.any_value(obj.get("value"), depth)))
            except _Invalid as exc:
                raise exc.at(f"attribute {index} {key[:64]!r}") from None
        return pairs

    def any_value(self, value: Any, depth: int) -> AnyValue:
        if depth >= MAX_DEPTH:
            raise _Invalid(f"AnyValue nested deeper than {MAX_DEPTH} levels")
        result: AnyValue = None
        for name, item in self.object(value, "value").items():  # the last oneof member wins
            kind = _ANY_VALUE_NAMES.get(name)
            if item is None or kind is None:
                continue
            if kind == "string":
                result = self.string(item, name)
            elif kind == "bool":
                if type(item) is not bool:
                    raise _Invalid(f"boolValue must be true or false, got {_shown(item)}")
                result = item
            elif kind == "int":
                result = self.integer(item, 64, name, signed=True)
            elif kind == "double":
                result = self.double(item)
            elif kind == "bytes":
                result = self.bytes_value(item)
            elif kind == "array":
                values = self.array(self.object(item, name).get("values"), "arrayValue values")
                result = [self.any_value(element, depth + 1) for element in values]
            else:
                result = KvList(self.key_values(self.object(item, name).get("values"), depth + 1))
        return result

    def request(self, doc: Any, now_ns: int, budget: int, work: Budget | None) -> list[Stream]:
        sink = Collector(budget, now_ns, work)
        streams: list[Stream] = []
        top = self.object(doc, REQUEST)
        for index, item in enumerate(self.array(self.field(top, "resourceLogs", "resource_logs"), "resourceLogs")):
            try:
                streams.append(self.resource_logs(item, sink))
            except _Invalid as exc:
                raise exc.at(f"resourceLogs {index}") from None
        return streams

    def resource_logs(self, value: Any, sink: Collector) -> Stream:
        obj = self.object(value, "resourceLogs item")
        resource = self.object(obj.get("resource"), "resource")
        try:
            labels, resource_metadata = resource_stream(self.key_values(resource.get("attributes"), 0), sink.flat)
        except _Invalid as exc:
            raise exc.at("resource") from None
        entries = sink.start_resource(resource_metadata)
        for index, scope_logs in enumerate(self.array(self.field(obj, "scopeLogs", "scope_logs"), "scopeLogs")):
            try:
                self.scope_logs(scope_logs, sink)
            except _Invalid as exc:
                raise exc.at(f"scopeLogs {index}") from None
        return Stream(labels, entries)

    def scope_logs(self, value: Any, sink: Collector) -> None:
        obj = self.object(value, "scopeLogs item")
        scope = self.object(obj.get("scope"), "scope")
        try:
            dropped = self.field(scope, "droppedAttributesCount", "dropped_attributes_count")
            metadata = scope_metadata(
                self.string(scope.get("name"), "name"),
                self.string(scope.get("version"), "version"),
                self.key_values(scope.get("attributes"), 0),
                self.integer(dropped, 32, "droppedAttributesCount"),
                sink.flat,
            )
        except _Invalid as exc:
            raise exc.at("scope") from None
        records = self.array(self.field(obj, "logRecords", "log_records"), "logRecords")
        if len(records) > sink.most_records():
            raise too_large()  # refused before any record is decoded
        sink.start_scope(metadata)
        for index, item in enumerate(records):
            try:
                record = self.log_record(item)
            except _Invalid as exc:
                raise exc.at(f"logRecords {index}") from None
            sink.add(record)

    def log_record(self, value: Any) -> LogRecord:
        obj = self.object(value, "logRecords item")
        field = self.field
        record = LogRecord()
        body = obj.get("body")
        if type(body) is dict and len(body) == 1 and type(body.get("stringValue")) is str:
            record.body = self.string(body["stringValue"], "stringValue")  # the usual body
        elif body is not None:
            record.body = self.any_value(body, 0)
        record.time = self.integer(field(obj, "timeUnixNano", "time_unix_nano"), 64, "timeUnixNano")
        record.observed = self.integer(
            field(obj, "observedTimeUnixNano", "observed_time_unix_nano"), 64, "observedTimeUnixNano"
        )
        severity = field(obj, "severityNumber", "severity_number")
        if type(severity) is str and severity in _SEVERITY_NAMES:
            record.severity_number = _SEVERITY_NAMES[severity]  # pdata also takes the enum's name
        else:
            record.severity_number = self.integer(severity, 32, "severityNumber", signed=True)
        record.severity_text = self.string(field(obj, "severityText", "severity_text"), "severityText")
        attributes = obj.get("attributes")
        if attributes:
            record.attributes = self.key_values(attributes, 0)
        record.dropped = self.integer(
            field(obj, "droppedAttributesCount", "dropped_attributes_count"), 32, "droppedAttributesCount"
        )
        record.flags = self.integer(obj.get("flags"), 32, "flags")
        record.trace_id = self.record_id(field(obj, "traceId", "trace_id"), 16, "traceId")
        record.span_id = self.record_id(field(obj, "spanId", "span_id"), 8, "spanId")
        return record


_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ANY_VALUE_NAMES = {
    **dict.fromkeys(("stringValue", "string_value"), "string"),
    **dict.fromkeys(("boolValue", "bool_value"), "bool"),
    **dict.fromkeys(("intValue", "int_value"), "int"),
    **dict.fromkeys(("doubleValue", "double_value"), "double"),
    **dict.fromkeys(("bytesValue", "bytes_value"), "bytes"),
    **dict.fromkeys(("arrayValue", "array_value"), "array"),
    **dict.fromkeys(("kvlistValue", "kvlist_value"), "kvlist"),
}


def decode_json(body: Bytes, *, now_ns: int, max_expanded_bytes: int, work: Budget | None = None) -> list[Stream]:
    """Streams from an OTLP JSON ExportLogsServiceRequest; one stream per resourceLogs item.
    `work` is charged what scanning lines for their level costs (mapping.Collector)."""
    doc, exact = parse_json(body, _JSON, "OTLP JSON body", reason="invalid_otlp")
    try:
        return _Json(exact).request(doc, now_ns, max_expanded_bytes, work)
    except _Invalid as exc:
        place = " ".join(reversed(exc.path))
        raise DecodeError(f"invalid OTLP JSON body ({place or REQUEST}): {exc.why}", reason="invalid_otlp") from None

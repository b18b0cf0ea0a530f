"""The OTLP logs decoder: Loki's default mapping rule by rule, every AnyValue type, both
encodings, malformed input, and the answers. Requests are built with the opentelemetry-proto
classes (tests/support/otlp.py), so the wire bytes are the reference library's; every mapping
case runs through the protobuf and the JSON reader."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loki_ingest.decoding.otlp import anyvalue, mapping
from loki_ingest.decoding.otlp.json_body import decode_json
from loki_ingest.decoding.otlp.protobuf_body import decode_protobuf
from loki_ingest.errors import DecodeError, PayloadTooLarge
from loki_ingest.http import otlp_answers
from loki_ingest.ingest.model import EntryMetadata, Stream, TailedMetadata, exact_bytes
from tests.conftest import NOW_NS
from tests.support.otlp import (
    KV,
    ExportLogsServiceRequest,
    parse_response,
    parse_status,
    record,
    request,
    resource_logs,
    scope_logs,
    to_json,
)
from tests.support.wire import varint

RECEIVED_NS = 1_700_000_000_123_456_789  # "now" handed to the decoder
CAP = 1 << 30
T1 = NOW_NS + 1
T2 = NOW_NS + 2


def decode(message: ExportLogsServiceRequest, encoding: str, cap: int = CAP) -> list[Stream]:
    if encoding == "protobuf":
        return decode_protobuf(message.SerializeToString(), now_ns=RECEIVED_NS, max_expanded_bytes=cap)
    return decode_json(to_json(message), now_ns=RECEIVED_NS, max_expanded_bytes=cap)


def decode_bytes(body: bytes, encoding: str) -> list[Stream]:
    decoder = decode_protobuf if encoding == "protobuf" else decode_json
    return decoder(body, now_ns=RECEIVED_NS, max_expanded_bytes=CAP)


def mapped(metadata: EntryMetadata) -> list[tuple[str, str]]:
    """An entry's metadata as Loki's OTLP mapping gives it: without the detected_level its
    distributor adds after validation (tested on its own below)."""
    assert type(metadata) is TailedMetadata
    return [*metadata.own, *metadata.shared.pairs()]


def single(streams: list[Stream]) -> tuple[dict[str, str], int, str, list[tuple[str, str]]]:
    """(labels, timestamp, line, mapped metadata) of the one entry of a one-entry request."""
    (stream,) = streams
    ((timestamp, line, metadata),) = stream.entries
    return dict(stream.labels), timestamp, line, mapped(metadata)


def one(body: Any = "line", attrs: Any = (), resource: Any = (("service.name", "svc"),), **fields: Any) -> Any:
    fields.setdefault("time_unix_nano", T1)
    return request(resource_logs(resource, [record(body, attrs, **fields)]))


both = pytest.mark.parametrize("encoding", ["protobuf", "json"])


# --- stream labels ---------------------------------------------------------------------------------------

LABELS = [
    pytest.param({"service.name": "checkout"}, {"service_name": "checkout"}, [], id="service-name"),
    pytest.param(
        {
            "service.name": "s",
            "service.namespace": "ns",
            "service.instance.id": "i-1",
            "deployment.environment": "prod",
            "deployment.environment.name": "production",
            "cloud.region": "us-east-1",
            "cloud.availability_zone": "us-east-1a",
            "k8s.cluster.name": "c",
            "k8s.namespace.name": "n",
            "k8s.pod.name": "p",
            "k8s.container.name": "ctr",
            "container.name": "docker-ctr",
            "k8s.replicaset.name": "rs",
            "k8s.deployment.name": "d",
            "k8s.statefulset.name": "ss",
            "k8s.daemonset.name": "ds",
            "k8s.cronjob.name": "cj",
            "k8s.job.name": "j",
        },
        {
            "service_name": "s",
            "service_namespace": "ns",
            "service_instance_id": "i-1",
            "deployment_environment": "prod",
            "deployment_environment_name": "production",
            "cloud_region": "us-east-1",
            "cloud_availability_zone": "us-east-1a",
            "k8s_cluster_name": "c",
            "k8s_namespace_name": "n",
            "k8s_pod_name": "p",
            "k8s_container_name": "ctr",
            "container_name": "docker-ctr",
            "k8s_replicaset_name": "rs",
            "k8s_deployment_name": "d",
            "k8s_statefulset_name": "ss",
            "k8s_daemonset_name": "ds",
            "k8s_cronjob_name": "cj",
            "k8s_job_name": "j",
        },
        [],
        id="all-18-default-index-labels",
    ),
    pytest.param(
        {"service.name": "s", "host.name": "h1", "process.pid": 42},
        {"service_name": "s"},
        [("host_name", "h1"), ("process_pid", "42")],
        id="other-resource-attributes-are-metadata",
    ),
    pytest.param({}, {"service_name": "unknown_service"}, [], id="no-service-name-is-unknown_service"),
    pytest.param({"service.name": ""}, {"service_name": "unknown_service"}, [], id="empty-service-name-is-unknown"),
    pytest.param(
        {"k8s.container.name": "web"},
        {"service_name": "web", "k8s_container_name": "web"},
        [],
        id="service-name-discovered-from-container",
    ),
    pytest.param(
        {"k8s.job.name": "nightly", "k8s.container.name": "web"},
        {"service_name": "nightly", "k8s_job_name": "nightly", "k8s_container_name": "web"},
        [],
        id="discovery-takes-the-first-candidate-sent",
    ),
    pytest.param(
        {"service.name": "s", "k8s.container.name": "web"},
        {"service_name": "s", "k8s_container_name": "web"},
        [],
        id="no-discovery-when-service-name-sent",
    ),
    pytest.param(
        {"app": "not-an-index-label"},
        {"service_name": "unknown_service"},
        [("app", "not-an-index-label")],
        id="discovery-only-among-index-labels",
    ),
    pytest.param(
        {"service.name": "s", "k8s.namespace.name": ""}, {"service_name": "s"}, [], id="empty-label-values-dropped"
    ),
    pytest.param(
        {"service.name": 7, "k8s.pod.name": True},
        {"service_name": "7", "k8s_pod_name": "true"},
        [],
        id="non-string-label-values-rendered",
    ),
    pytest.param(
        {"service.name": "s", "k8s.pod.name": {"uid": "u1", "labels": {"app": "a"}}},
        {"service_name": "s", "k8s_pod_name_uid": "u1", "k8s_pod_name_labels_app": "a"},
        [],
        id="kvlist-index-label-flattened",
    ),
]


@both
@pytest.mark.parametrize(("resource", "labels", "metadata"), LABELS)
def test_resource_attributes_map_to_labels_and_metadata_like_loki(
    encoding: str, resource: dict[str, Any], labels: dict[str, str], metadata: list[tuple[str, str]]
) -> None:
    got_labels, _, _, got_metadata = single(decode(one(resource=resource), encoding))
    assert got_labels == labels
    assert got_metadata == metadata


# --- structured metadata ------------------------------------------------------------------------------------

TRACE = bytes(range(1, 17))
SPAN = bytes(range(1, 9))

METADATA = [
    pytest.param({}, [], id="nothing-set"),
    pytest.param(
        {"severity_number": 9, "severity_text": "INFO"},
        [("severity_number", "9"), ("severity_text", "INFO")],
        id="severity",
    ),
    pytest.param({"severity_number": 21}, [("severity_number", "21")], id="severity-number-only"),
    pytest.param({"severity_text": "warn"}, [("severity_text", "warn")], id="severity-text-only"),
    pytest.param(
        {"trace_id": TRACE, "span_id": SPAN, "flags": 1},
        [("flags", "1"), ("trace_id", TRACE.hex()), ("span_id", SPAN.hex())],
        id="trace-context-in-hex",
    ),
    pytest.param({"trace_id": bytes(16), "span_id": bytes(8)}, [], id="all-zero-ids-are-empty"),
    pytest.param({"flags": 0xFFFFFFFF}, [("flags", "4294967295")], id="flags-uint32"),
    pytest.param({"dropped_attributes_count": 3}, [("dropped_attributes_count", "3")], id="dropped-attributes"),
    pytest.param(
        {"observed_time_unix_nano": T2}, [("observed_timestamp", str(T2))], id="observed-time-when-both-times-set"
    ),
]


@both
@pytest.mark.parametrize(("fields", "metadata"), METADATA)
def test_log_record_fields_become_metadata_like_loki(
    encoding: str, fields: dict[str, Any], metadata: list[tuple[str, str]]
) -> None:
    assert single(decode(one(**fields), encoding))[3] == metadata


ATTRIBUTE_NAMES = [
    pytest.param("http.method", "http_method", id="dots"),
    pytest.param("http-route/v1", "http_route_v1", id="other-punctuation"),
    pytest.param("Upper.Case", "Upper_Case", id="case-kept"),
    pytest.param("123abc", "key_123abc", id="leading-digit"),
    pytest.param("_private", "key_private", id="leading-underscore"),
    pytest.param("__reserved", "__reserved", id="double-underscore-kept"),
    pytest.param("naïve.ключ", "na_ve_____", id="non-ascii-one-underscore-per-character"),
    pytest.param("", "", id="empty"),
]


@both
@pytest.mark.parametrize(("name", "normalized"), ATTRIBUTE_NAMES)
def test_attribute_names_are_normalized_like_otlptranslator(encoding: str, name: str, normalized: str) -> None:
    assert single(decode(one(attrs={name: "v"}), encoding))[3] == [(normalized, "v")]


@both
def test_nested_kvlist_attributes_are_flattened_with_underscores(encoding: str) -> None:
    attrs = {"user": {"id": 7, "geo": {"country.code": "FR"}, "tags": ["a", "b"]}}
    assert single(decode(one(attrs=attrs), encoding))[3] == [
        ("user_id", "7"),
        ("user_geo_country_code", "FR"),
        ("user_tags", '["a","b"]'),
    ]


@both
def test_scope_name_version_attributes_and_dropped_count_are_metadata(encoding: str) -> None:
    scope = scope_logs(
        [record("x", time_unix_nano=T1)], name="io.lib", version="1.2", attrs={"lib.mode": "fast"}, dropped=2
    )
    got = single(decode(request(resource_logs({"service.name": "s"}, scope)), encoding))[3]
    assert got == [
        ("lib_mode", "fast"),
        ("scope_name", "io.lib"),
        ("scope_version", "1.2"),
        ("scope_dropped_attributes_count", "2"),
    ]


@both
def test_metadata_order_is_lokis(encoding: str) -> None:
    """Log attributes, the record's own fields, then resource, then scope metadata."""
    message = request(
        resource_logs(
            {"service.name": "s", "host.name": "h"},
            scope_logs(
                [
                    record(
                        "x",
                        {"a": "1"},
                        time_unix_nano=T1,
                        observed_time_unix_nano=T2,
                        severity_number=17,
                        severity_text="ERROR",
                        dropped_attributes_count=1,
                        flags=1,
                        trace_id=TRACE,
                        span_id=SPAN,
                    )
                ],
                name="scope",
                attrs={"s": "2"},
            ),
        )
    )
    names = [name for name, _ in single(decode(message, encoding))[3]]
    assert names == [
        "a",
        "observed_timestamp",
        "severity_number",
        "severity_text",
        "dropped_attributes_count",
        "flags",
        "trace_id",
        "span_id",
        "host_name",
        "s",
        "scope_name",
    ]


# --- time -------------------------------------------------------------------------------------------------

TIMES = [
    pytest.param({"time_unix_nano": T1, "observed_time_unix_nano": T2}, T1, id="time-wins"),
    pytest.param({"time_unix_nano": 0, "observed_time_unix_nano": T2}, T2, id="observed-when-no-time"),
    pytest.param({"time_unix_nano": 0}, RECEIVED_NS, id="receipt-time-when-neither"),
    pytest.param({"time_unix_nano": 1}, 1, id="one-nanosecond-after-epoch"),
    pytest.param({"time_unix_nano": NOW_NS + 999_999_999}, NOW_NS + 999_999_999, id="nanoseconds-kept"),
    pytest.param({"time_unix_nano": (1 << 64) - 1}, -1, id="past-int64-wraps-like-go"),
]


@both
@pytest.mark.parametrize(("fields", "timestamp"), TIMES)
def test_timestamp_is_time_else_observed_else_receipt(encoding: str, fields: dict[str, int], timestamp: int) -> None:
    got = single(decode(one(**fields), encoding))
    assert got[1] == timestamp
    assert ("observed_timestamp" in dict(got[3])) == bool(
        fields.get("time_unix_nano") and fields.get("observed_time_unix_nano")
    )


# --- the line: every AnyValue type ---------------------------------------------------------------------------

BODIES = [
    pytest.param("plain text", "plain text", id="string"),
    pytest.param('{"event":"login"}', '{"event":"login"}', id="string-holding-json"),
    pytest.param("", "", id="empty-string"),
    pytest.param(None, "", id="no-body"),
    pytest.param(True, "true", id="bool-true"),
    pytest.param(False, "false", id="bool-false"),
    pytest.param(42, "42", id="int"),
    pytest.param(-(1 << 63), "-9223372036854775808", id="int64-min"),
    pytest.param((1 << 63) - 1, "9223372036854775807", id="int64-max"),
    pytest.param(0.5, "0.5", id="double"),
    pytest.param(3.0, "3", id="integral-double"),
    pytest.param(-0.0, "-0", id="negative-zero"),
    pytest.param(1e20, "100000000000000000000", id="double-1e20-plain"),
    pytest.param(1e21, "1e+21", id="double-1e21-exponent"),
    pytest.param(1e-6, "0.000001", id="double-1e-6-plain"),
    pytest.param(1.5e-7, "1.5e-7", id="double-below-1e-6-exponent"),
    pytest.param(1e-100, "1e-100", id="double-tiny"),
    pytest.param(0.1 + 0.2, "0.30000000000000004", id="shortest-round-trip-digits"),
    pytest.param(math.nan, "json: unsupported value: NaN", id="nan"),
    pytest.param(math.inf, "json: unsupported value: +Inf", id="inf"),
    pytest.param(-math.inf, "json: unsupported value: -Inf", id="minus-inf"),
    pytest.param(b"\x00\xff binary", "AP8gYmluYXJ5", id="bytes-standard-base64"),
    pytest.param(b"", "", id="empty-bytes"),
    pytest.param(["a", 1, 2.5, True, None, b"\x01", ["x"]], '["a",1,2.5,true,null,"AQ==",["x"]]', id="array"),
    pytest.param([], "[]", id="empty-array"),
    pytest.param({"b": 1, "a": {"c": "d"}}, '{"a":{"c":"d"},"b":1}', id="kvlist-keys-sorted"),
    pytest.param(KV([("k", "first"), ("k", "last")]), '{"k":"last"}', id="kvlist-last-duplicate-wins"),
    pytest.param({}, "{}", id="empty-kvlist"),
    pytest.param({"v": 1e21, "w": 0.25}, '{"v":1e+21,"w":0.25}', id="kvlist-doubles-like-go"),
    pytest.param([1.0, math.nan], "", id="nan-inside-array-is-empty-like-go"),
    pytest.param(
        {"q": 'say "hi"\\', "ctl": "\x01\x08\x0c\n\r\t"},
        '{"ctl":"\\u0001\\b\\f\\n\\r\\t","q":"say \\"hi\\"\\\\"}',
        id="json-escapes",
    ),
    pytest.param(["<b>&</b>", "\u2028\u2029", "é"], '["<b>&</b>","\\u2028\\u2029","é"]', id="no-html-escaping"),
]


@both
@pytest.mark.parametrize(("body", "line"), BODIES)
def test_the_body_rendered_as_a_string_is_the_line(encoding: str, body: Any, line: str) -> None:
    assert single(decode(one(body), encoding))[2] == line


@both
@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("s", "s", id="string"),
        pytest.param(True, "true", id="bool"),
        pytest.param(-5, "-5", id="int"),
        pytest.param(2.5, "2.5", id="double"),
        pytest.param(b"\x01\x02", "AQI=", id="bytes"),
        pytest.param([1, "x"], '[1,"x"]', id="array"),
        pytest.param(None, "", id="empty"),
    ],
)
def test_every_attribute_value_type_is_rendered_like_the_line(encoding: str, value: Any, text: str) -> None:
    assert single(decode(one(attrs={"v": value}), encoding))[3] == [("v", text)]


# --- text invariant -----------------------------------------------------------------------------------------


def test_protobuf_strings_keep_the_bytes_sent() -> None:
    """Invalid UTF-8 in a line, a key and a value survives as surrogate escapes (model.py)."""
    message = one(body="placeholder", attrs={"k": "v"})
    wire = message.SerializeToString()
    # Same-length replacements keep every length prefix right.
    wire = (
        wire.replace(b"placeholder", b"bad\xff\xfeline!!").replace(b"\x01k", b"\x01\xc3").replace(b"\x01v", b"\x01\x80")
    )
    _, _, line, metadata = single(decode_bytes(wire, "protobuf"))
    assert exact_bytes(line) == b"bad\xff\xfeline!!"
    ((name, value),) = metadata
    assert exact_bytes(value) == b"\x80"
    assert name == "key_"  # one invalid byte is one character for Go's regexp: "_", then "key" + "_"


def test_json_lone_surrogates_keep_the_text_sent() -> None:
    body = json.dumps(
        {
            "resourceLogs": [
                {"scopeLogs": [{"logRecords": [{"timeUnixNano": "1", "body": {"stringValue": "a\ud800b"}}]}]}
            ]
        }
    ).encode()
    line = single(decode_bytes(body, "json"))[2]
    assert exact_bytes(line).decode("utf-8", "surrogatepass") == "a\ud800b"


def test_bytes_that_are_not_utf8_render_as_replacement_escapes_inside_json() -> None:
    message = one(body=["placeholder"])
    wire = message.SerializeToString().replace(b"placeholder", b"xxxxx\xffyyyyy")
    assert single(decode_bytes(wire, "protobuf"))[2] == '["xxxxx\\ufffdyyyyy"]'


# --- structure ------------------------------------------------------------------------------------------------


@both
def test_one_stream_per_resource_with_the_entries_of_all_its_scopes_in_order(encoding: str) -> None:
    message = request(
        resource_logs({"service.name": "a"}, [record("a1", time_unix_nano=T1)], [record("a2", time_unix_nano=T2)]),
        resource_logs({"service.name": "b"}, [record("b1", time_unix_nano=T1)]),
    )
    streams = decode(message, encoding)
    assert [(s.labels, [e[1] for e in s.entries]) for s in streams] == [
        ([("service_name", "a")], ["a1", "a2"]),
        ([("service_name", "b")], ["b1"]),
    ]


EMPTY = [
    pytest.param(request(), [], id="no-resources"),
    pytest.param(request(resource_logs({"service.name": "s"})), [Stream([("service_name", "s")], [])], id="no-scopes"),
    pytest.param(
        request(resource_logs({"service.name": "s"}, [])), [Stream([("service_name", "s")], [])], id="no-records"
    ),
]


@both
@pytest.mark.parametrize(("message", "streams"), EMPTY)
def test_empty_requests_decode_to_no_entries(
    encoding: str, message: ExportLogsServiceRequest, streams: list[Stream]
) -> None:
    assert decode(message, encoding) == streams


def test_an_empty_body_is_an_empty_protobuf_request() -> None:
    assert decode_bytes(b"", "protobuf") == []


@pytest.mark.parametrize("body", [b"{}", b'{"resourceLogs":null}', b'{"resourceLogs":[]}'])
def test_empty_json_requests(body: bytes) -> None:
    assert decode_bytes(body, "json") == []


def test_json_accepts_proto_field_names_and_numbers_for_64_bit_integers() -> None:
    body = json.dumps(
        {
            "resource_logs": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"string_value": "s"}}]},
                    "scope_logs": [
                        {
                            "log_records": [
                                {
                                    "time_unix_nano": T1,
                                    "severity_number": "SEVERITY_NUMBER_WARN",
                                    "severity_text": "W",
                                    "body": {"int_value": 5},
                                    "trace_id": TRACE.hex().upper(),
                                    "span_id": SPAN.hex(),
                                    "attributes": [{"key": "b", "value": {"bytes_value": "-_8"}}],
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    ).encode()
    labels, timestamp, line, metadata = single(decode_bytes(body, "json"))
    assert (labels, timestamp, line) == ({"service_name": "s"}, T1, "5")
    assert metadata == [
        ("b", "+/8="),
        ("severity_number", "13"),
        ("severity_text", "W"),
        ("trace_id", TRACE.hex()),
        ("span_id", SPAN.hex()),
    ]


def test_json_null_is_the_default_value_as_pdata_reads_it() -> None:
    body = b'{"resourceLogs":[{"resource":null,"scopeLogs":[{"scope":null,"logRecords":[null]}]}]}'
    assert single(decode_bytes(body, "json")) == ({"service_name": "unknown_service"}, RECEIVED_NS, "", [])


def test_json_ignores_unknown_fields_and_takes_the_last_oneof_member() -> None:
    record_doc = {
        "timeUnixNano": "1",
        "eventName": "e",
        "future": {"x": 1},
        "body": {"intValue": "1", "stringValue": "s"},
    }
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record_doc]}], "x": 1}], "y": 2}).encode()
    assert single(decode_bytes(body, "json"))[2] == "s"


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def ld(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def kv_string(name: bytes, value: bytes) -> bytes:
    return ld(1, name) + ld(2, ld(1, value))


def test_protobuf_resource_after_its_scope_logs_still_labels_the_stream() -> None:
    log = ld(2, key(1, 1) + T1.to_bytes(8, "little") + ld(5, ld(1, b"line")))
    wire = ld(1, ld(2, log) + ld(1, ld(1, kv_string(b"service.name", b"late"))))
    (stream,) = decode_bytes(wire, "protobuf")
    assert stream.labels == [("service_name", "late")]
    assert [e[1] for e in stream.entries] == ["line"]


def test_protobuf_message_fields_sent_twice_are_merged_and_scalars_keep_the_last() -> None:
    resource_a = ld(1, ld(1, kv_string(b"service.name", b"s")))
    resource_b = ld(1, ld(1, kv_string(b"host.name", b"h")))
    log = ld(
        2,
        key(1, 1)
        + (1).to_bytes(8, "little")
        + key(1, 1)
        + T1.to_bytes(8, "little")
        + ld(5, ld(1, b"first"))
        + ld(5, ld(1, b"last")),
    )
    wire = ld(1, resource_a + ld(2, log) + resource_b)
    labels, timestamp, line, metadata = single(decode_bytes(wire, "protobuf"))
    assert (labels, timestamp, line, metadata) == ({"service_name": "s"}, T1, "last", [("host_name", "h")])


def test_protobuf_unknown_fields_and_long_keys_are_read_correctly() -> None:
    unknown = key(15, 0) + varint(7) + key(14, 5) + b"abcd" + key(13, 1) + b"12345678" + key(100, 2) + varint(2) + b"zz"
    group = key(99, 3) + key(1, 0) + varint(1) + key(99, 4)
    time_long_key = bytes([0x89, 0x00]) + T1.to_bytes(8, "little")  # field 1, wire I64, two-byte key
    log = ld(2, unknown + group + time_long_key + ld(5, ld(1, b"ok")) + ld(12, b"event.name"))
    wire = ld(1, ld(2, log) + key(3, 2) + varint(0)) + unknown
    labels, timestamp, line, _ = single(decode_bytes(wire, "protobuf"))
    assert (labels, timestamp, line) == ({"service_name": "unknown_service"}, T1, "ok")


# --- malformed input ----------------------------------------------------------------------------------------


def scope_wire(log_fields: bytes) -> bytes:
    return ld(1, ld(2, ld(2, log_fields)))


MALFORMED_PROTOBUF = [
    pytest.param(b"\x0a", "truncated varint", id="truncated-length"),
    pytest.param(b"\x0a\x05\x12\x01", "past the end", id="truncated-message"),
    pytest.param(b"\x08\x01", "wrong wire type", id="resource-logs-as-varint"),
    pytest.param(b"\x00\x01", "field number 0", id="field-zero"),
    pytest.param(scope_wire(key(1, 0) + varint(5)), "wrong wire type", id="time-as-varint"),
    pytest.param(scope_wire(key(5, 0) + varint(5)), "wrong wire type", id="body-as-varint"),
    pytest.param(scope_wire(key(2, 2) + varint(0)), "wrong wire type", id="severity-as-len"),
    pytest.param(scope_wire(key(1, 1) + b"\x00" * 3), "truncated fixed-width", id="truncated-time"),
    pytest.param(scope_wire(key(8, 5) + b"\x00"), "truncated fixed-width", id="truncated-flags"),
    pytest.param(scope_wire(ld(9, b"\x01" * 8)), "trace_id must be 16 bytes", id="short-trace-id"),
    pytest.param(scope_wire(ld(10, b"\x01" * 16)), "span_id must be 8 bytes", id="long-span-id"),
    pytest.param(scope_wire(ld(5, key(4, 1) + b"\x00")), "truncated fixed-width", id="truncated-double"),
    pytest.param(scope_wire(ld(5, key(2, 2) + varint(0))), "wrong wire type", id="bool-as-len"),
    pytest.param(scope_wire(ld(6, key(1, 0) + varint(1))), "wrong wire type", id="attribute-key-as-varint"),
    pytest.param(ld(1, ld(1, ld(1, key(2, 0) + varint(1)))), "wrong wire type", id="attribute-value-as-varint"),
    pytest.param(scope_wire(key(5, 3) + key(1, 0) + varint(1)), "wrong wire type", id="body-as-group"),
    pytest.param(scope_wire(key(20, 3) + key(1, 0) + varint(1)), "no end-group tag", id="unclosed-group"),
    pytest.param(scope_wire(key(20, 6)), "illegal wire type", id="illegal-wire-type"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED_PROTOBUF)
def test_malformed_protobuf_is_a_decode_error_naming_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(body, "protobuf")
    assert message in info.value.message
    assert info.value.message.startswith("invalid protobuf ExportLogsServiceRequest")


def nested_array(depth: int) -> bytes:
    value = ld(1, b"leaf")
    for _ in range(depth):
        value = ld(5, ld(1, value))
    return value


def test_anyvalue_nesting_is_capped_instead_of_overflowing_the_stack() -> None:
    assert single(decode_bytes(scope_wire(ld(5, nested_array(mapping.MAX_DEPTH - 1))), "protobuf"))[2].startswith("[[")
    with pytest.raises(DecodeError, match="nested deeper"):
        decode_bytes(scope_wire(ld(5, nested_array(mapping.MAX_DEPTH))), "protobuf")
    deep_json = (
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":'
        + '{"arrayValue":{"values":[' * 70
        + "]}}" * 70
        + "}]}]}]}"
    )
    with pytest.raises(DecodeError, match="nested deeper"):
        decode_bytes(deep_json.encode(), "json")


def record_json(**fields: Any) -> bytes:
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [fields]}]}]}).encode()


MALFORMED_JSON = [
    pytest.param(b"not json", "invalid OTLP JSON", id="not-json"),
    pytest.param(b'{"resourceLogs":[]} x', "Extra data", id="trailing-data"),
    pytest.param(b"\xff{}", "not valid UTF-8", id="invalid-utf8"),
    pytest.param(b"[]", "must be an object", id="top-level-array"),
    pytest.param(b'{"resourceLogs":{}}', "resourceLogs must be an array", id="resource-logs-object"),
    pytest.param(b'{"resourceLogs":[1]}', "must be an object", id="resource-logs-item-number"),
    pytest.param(b'{"resourceLogs":[{"scopeLogs":"x"}]}', "scopeLogs must be an array", id="scope-logs-string"),
    pytest.param(record_json(timeUnixNano="1.5"), "timeUnixNano must be an integer", id="fractional-time"),
    pytest.param(record_json(timeUnixNano=1.0), "timeUnixNano must be an integer", id="float-time"),
    pytest.param(record_json(timeUnixNano=str(1 << 64)), "out of range", id="time-past-uint64"),
    pytest.param(record_json(timeUnixNano="-1"), "out of range", id="negative-time"),
    pytest.param(record_json(severityNumber="INFO"), "severityNumber must be an integer", id="unknown-severity-name"),
    pytest.param(record_json(severityText=5), "severityText must be a string", id="severity-text-number"),
    pytest.param(record_json(traceId="xyz"), "traceId must be 32 hex digits", id="trace-id-not-hex"),
    pytest.param(record_json(traceId="00" * 8), "traceId must be 32 hex digits", id="trace-id-short"),
    pytest.param(record_json(spanId="AQIDBAUGBwg="), "spanId must be 16 hex digits", id="span-id-base64"),
    pytest.param(record_json(flags=-1), "flags -1 is out of range", id="negative-flags"),
    pytest.param(record_json(body={"intValue": str(1 << 63)}), "out of range", id="int-past-int64"),
    pytest.param(record_json(body={"intValue": True}), "intValue must be an integer", id="int-bool"),
    pytest.param(record_json(body={"boolValue": "true"}), "boolValue must be true or false", id="bool-string"),
    pytest.param(record_json(body={"doubleValue": "fast"}), "doubleValue must be a number", id="double-word"),
    pytest.param(record_json(body={"bytesValue": "***"}), "bytesValue must be base64", id="bytes-not-base64"),
    pytest.param(record_json(body={"arrayValue": {"values": {}}}), "must be an array", id="array-values-object"),
    pytest.param(record_json(body={"kvlistValue": {"values": [{"key": 1}]}}), "key must be a string", id="kvlist-key"),
    pytest.param(record_json(attributes={"a": "b"}), "attributes must be an array", id="attributes-object"),
    pytest.param(
        b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":NaN}}]}]}]}', "NaN", id="nan-literal"
    ),
    pytest.param(b"[" * 100_000, "invalid OTLP JSON", id="deep-nesting"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED_JSON)
def test_malformed_json_is_a_decode_error_naming_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(body, "json")
    assert message in info.value.message


def test_json_errors_name_the_record() -> None:
    body = json.dumps(
        {
            "resourceLogs": [
                {"scopeLogs": [{"logRecords": [{}, {"attributes": [{"key": "k", "value": {"intValue": "x"}}]}]}]}
            ]
        }
    ).encode()
    with pytest.raises(DecodeError, match=r"\(resourceLogs 0 scopeLogs 0 logRecords 1 attribute 0 'k'\)"):
        decode_bytes(body, "json")


@both
def test_expansion_past_the_cap_is_413(encoding: str) -> None:
    """Resource attributes are copied into every entry: a small request can ask for a lot."""
    big = {"service.name": "s", "blob": "x" * 10_000}
    message = request(resource_logs(big, [record("", time_unix_nano=T1) for _ in range(200)]))
    assert len(decode(message, encoding, cap=3_000_000)[0].entries) == 200
    with pytest.raises(PayloadTooLarge):
        decode(message, encoding, cap=1_000_000)


@both
def test_empty_records_scopes_and_resources_cost_their_overhead_against_the_cap(encoding: str) -> None:
    """100 empty records in one scope of one resource: 102 overheads, and not one more."""
    message = request(resource_logs({}, [record(time_unix_nano=T1) for _ in range(100)]))
    assert len(decode(message, encoding, cap=102 * mapping.ENTRY_OVERHEAD_BYTES)[0].entries) == 100
    with pytest.raises(PayloadTooLarge):
        decode(message, encoding, cap=102 * mapping.ENTRY_OVERHEAD_BYTES - 1)


@both
def test_a_flood_of_empty_scopes_is_refused_too(encoding: str) -> None:
    message = request(resource_logs({"service.name": "s"}, *([[]] * 1000)))
    with pytest.raises(PayloadTooLarge):
        decode(message, encoding, cap=500 * mapping.ENTRY_OVERHEAD_BYTES)


# --- the two encodings agree, and the decoder never crashes -----------------------------------------------

scalars = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=8),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
attribute_maps = st.dictionaries(
    st.sampled_from(["service.name", "k8s.pod.name", "k8s.container.name", "host.name", "a.b", "_x", "9"])
    | st.text(max_size=6),
    values,
    max_size=4,
)
records = st.builds(
    lambda body, attrs, t, o, sev, text, flags, trace, span: record(
        body,
        attrs,
        time_unix_nano=t,
        observed_time_unix_nano=o,
        severity_number=sev,
        severity_text=text,
        flags=flags,
        trace_id=trace,
        span_id=span,
    ),
    values,
    attribute_maps,
    st.integers(min_value=0, max_value=(1 << 64) - 1),
    st.integers(min_value=0, max_value=(1 << 64) - 1),
    st.integers(min_value=0, max_value=24),
    st.text(max_size=8),
    st.integers(min_value=0, max_value=(1 << 32) - 1),
    st.sampled_from([b"", bytes(16), TRACE]),
    st.sampled_from([b"", bytes(8), SPAN]),
)
requests = st.lists(
    st.tuples(attribute_maps, st.lists(st.tuples(st.text(max_size=6), st.lists(records, max_size=3)), max_size=2)),
    max_size=3,
).map(
    lambda resources: request(
        *(resource_logs(attrs, *(scope_logs(recs, name=name) for name, recs in scopes)) for attrs, scopes in resources)
    )
)


@settings(max_examples=300, deadline=None)
@given(message=requests)
def test_protobuf_and_json_of_the_same_request_decode_to_the_same_streams(message: ExportLogsServiceRequest) -> None:
    assert decode(message, "protobuf") == decode(message, "json")


@settings(max_examples=300, deadline=None)
@given(message=requests, data=st.data())
def test_truncating_or_flipping_a_valid_message_never_raises_anything_but_decode_errors(
    message: ExportLogsServiceRequest, data: st.DataObject
) -> None:
    wire = bytearray(message.SerializeToString())
    if wire:
        cut = data.draw(st.integers(min_value=0, max_value=len(wire)))
        position = data.draw(st.integers(min_value=0, max_value=len(wire) - 1))
        wire[position] = data.draw(st.integers(min_value=0, max_value=255))
        wire = wire[:cut]
    with contextlib.suppress(DecodeError):
        decode_bytes(bytes(wire), "protobuf")


# --- answers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_full_success_leaves_partial_success_unset(as_json: bool) -> None:
    body = otlp_answers.export_response(0, "", as_json=as_json)
    assert body == (b"{}" if as_json else b"")
    assert not parse_response(body, as_json).HasField("partial_success")


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_partial_success_counts_the_rejected_records(as_json: bool) -> None:
    response = parse_response(otlp_answers.export_response(3, "3 of 5 entries rejected", as_json=as_json), as_json)
    assert response.partial_success.rejected_log_records == 3
    assert response.partial_success.error_message == "3 of 5 entries rejected"


STATUSES = [
    pytest.param(400, 3, id="400-invalid-argument"),
    pytest.param(401, 16, id="401-unauthenticated"),
    pytest.param(405, 2, id="405-unknown"),
    pytest.param(413, 2, id="413-unknown"),
    pytest.param(429, 8, id="429-resource-exhausted"),
    pytest.param(500, 2, id="500-unknown"),
    pytest.param(503, 14, id="503-unavailable"),
]


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
@pytest.mark.parametrize(("http_status", "code"), STATUSES)
def test_error_bodies_are_google_rpc_status(as_json: bool, http_status: int, code: int) -> None:
    status, descriptions = parse_status(
        otlp_answers.status(http_status, "what went wrong: é", as_json=as_json), as_json
    )
    assert (status.code, status.message) == (code, "what went wrong: é")
    assert descriptions == (["what went wrong: é"] if http_status == 400 else [])


# --- helpers with their own rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456.789, "123456.789"),
        (1e-7, "1e-7"),
    ],
)
def test_doubles_use_go_encoding_json_notation(value: float, text: str) -> None:
    assert anyvalue.as_string(value) == text
    assert float(text) == value


def test_normalize_label_is_idempotent_on_its_output() -> None:
    check: Callable[[str], str] = mapping.normalize_label
    for name in ("a.b", "1x", "_y", "__z", "ü"):
        assert check(check(name)) == check(name)

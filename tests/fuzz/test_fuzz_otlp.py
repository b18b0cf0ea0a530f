"""Fuzz POST /otlp/v1/logs through the real Lambda entry point, like test_fuzz_handler.py does
for the Loki routes.

Properties, for every case:
* no exception escapes, and the answer is a well-formed function URL response;
* client-caused input never gets a 5xx (the fake backends never fail here);
* every 4xx is a google.rpc.Status, in the encoding the request asked for, with a message;
* every 200 is an ExportLogsServiceResponse, and every record delivered to Firehose is a
  complete NDJSON record.

Cases: hypothesis-built OTLP JSON documents and AnyValue trees, random bytes under both media
types and every encoding, and a corpus of real requests (reference encoder) mutated with a
seeded RNG. The last test checks how many cases ran.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local.runtime.adapter import build_event
from tests.conftest import NOW_NS, FakeFirehose, Harness, basic, event, record_figures
from tests.fuzz.test_fuzz_handler import FUZZ, handler_invoker, mutate
from tests.support.otlp import parse_response, parse_status, record, request, resource_logs, scope_logs, to_json
from tests.support.wire import varint

pytestmark = pytest.mark.fuzz

PATH = "/otlp/v1/logs"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CASES = {"count": 0}


@pytest.fixture
def invoke(make_app: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], dict[str, Any]]:
    return handler_invoker(make_app, monkeypatch, check, CASES)


def check(fuzzed: Any, result: Any, firehose: FakeFirehose) -> None:
    assert isinstance(result, dict) and isinstance(result.get("statusCode"), int), result
    status = result["statusCode"]
    assert 200 <= status < 500, f"client input produced {status}: {result.get('body')!r:.300}"
    headers = result["headers"]
    body = base64.b64decode(result["body"]) if result["isBase64Encoded"] else result["body"].encode()
    as_json = headers["content-type"] == JSON
    asked = str(fuzzed.get("headers", {}).get("content-type", "")).split(";")[0].strip().lower()
    if asked == PROTOBUF:
        assert not as_json, "a protobuf request must be answered in protobuf"
    if status >= 400:
        rpc_status, _ = parse_status(body, as_json)
        assert rpc_status.message.strip(), f"{status} without a message"
        return
    assert status == 200
    assert parse_response(body, as_json).partial_success.rejected_log_records >= 0
    for landed in firehose.records():
        assert {"timestamp_ns", "stream", "record", "metadata", "id"} <= landed.keys()


def compress(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


def otlp_event(body: bytes, content_type: str | None, encoding: str | None = None) -> dict[str, Any]:
    return event(path=PATH, body=compress(body, encoding), content_type=content_type, content_encoding=encoding)


# --- hypothesis: OTLP-shaped JSON with wrong types anywhere ----------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
any_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.fixed_dictionaries({"stringValue": st.text(max_size=10) | json_values}),
        st.fixed_dictionaries({"intValue": st.integers(-(2**64), 2**64).map(str) | json_values}),
        st.fixed_dictionaries({"doubleValue": st.floats().map(str) | st.sampled_from(["NaN", "-Infinity", "x"])}),
        st.fixed_dictionaries({"boolValue": st.booleans() | json_values}),
        st.fixed_dictionaries({"bytesValue": st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode())}),
        json_values,
    ),
    lambda inner: (
        st.fixed_dictionaries({"arrayValue": st.fixed_dictionaries({"values": st.lists(inner, max_size=3)})})
        | st.fixed_dictionaries(
            {
                "kvlistValue": st.fixed_dictionaries(
                    {
                        "values": st.lists(
                            st.fixed_dictionaries({"key": st.text(max_size=5), "value": inner}), max_size=3
                        )
                    }
                )
            }
        )
    ),
    max_leaves=8,
)
key_values = st.lists(
    st.fixed_dictionaries(
        {"key": st.sampled_from(["service.name", "k8s.pod.name", "a.b"]) | st.text(max_size=5), "value": any_values}
    ),
    max_size=3,
)
log_records = st.fixed_dictionaries(
    {},
    optional={
        "timeUnixNano": st.integers(0, 2**64).map(str) | json_values,
        "observedTimeUnixNano": st.integers(0, 2**64) | json_values,
        "severityNumber": st.integers(-5, 30) | st.sampled_from(["SEVERITY_NUMBER_INFO", "NOPE"]),
        "severityText": st.text(max_size=6) | json_values,
        "body": any_values,
        "attributes": key_values | json_values,
        "flags": st.integers(-1, 2**33),
        "traceId": st.sampled_from(["", "00" * 16, "ab" * 16, "AB" * 8, "zz" * 16]) | json_values,
        "spanId": st.sampled_from(["", "01" * 8, "0" * 15]),
        "droppedAttributesCount": st.integers(0, 2**33),
    },
)
documents = (
    st.fixed_dictionaries(
        {
            "resourceLogs": st.lists(
                st.fixed_dictionaries(
                    {
                        "resource": st.fixed_dictionaries({"attributes": key_values}),
                        "scopeLogs": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "scope": st.fixed_dictionaries({"name": st.text(max_size=5) | json_values}),
                                    "logRecords": st.lists(log_records, max_size=3),
                                }
                            ),
                            max_size=2,
                        ),
                    }
                ),
                max_size=2,
            )
        }
    )
    | json_values
)


@FUZZ
@given(doc=documents, encoding=st.sampled_from([None, "gzip", "deflate"]))
def test_otlp_json_documents(invoke: Callable[[Any], dict[str, Any]], doc: Any, encoding: str | None) -> None:
    invoke(otlp_event(json.dumps(doc).encode(), JSON, encoding))


@FUZZ
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from([PROTOBUF, JSON, "application/json; charset=utf-8", "text/plain", ""])
    | st.text(max_size=20),
    encoding=st.sampled_from([None, "gzip", "deflate", "snappy", "br", ""]) | st.text(max_size=8),
)
def test_random_bytes_with_otlp_headers(
    invoke: Callable[[Any], dict[str, Any]], body: bytes, content_type: str, encoding: str | None
) -> None:
    invoke(event(path=PATH, body=body, content_type=content_type, content_encoding=encoding))


# --- hypothesis: protobuf built field by field, then corrupted ---------------------------------------------


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def ld(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


wire_values: st.SearchStrategy[bytes] = st.recursive(
    st.one_of(
        st.binary(max_size=8).map(lambda b: ld(1, b)),
        st.integers(0, 2**64 - 1).map(lambda n: key(3, 0) + varint(n)),
        st.binary(min_size=8, max_size=8).map(lambda b: key(4, 1) + b),
        st.binary(max_size=4).map(lambda b: ld(7, b)),
        st.builds(lambda f, w, b: key(f, w) + b, st.integers(1, 20), st.integers(0, 7), st.binary(max_size=4)),
    ),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda vs: ld(5, b"".join(ld(1, v) for v in vs)))
        | st.lists(st.tuples(st.binary(max_size=4), inner), max_size=3).map(
            lambda kvs: ld(6, b"".join(ld(1, ld(1, k) + ld(2, v)) for k, v in kvs))
        )
    ),
    max_leaves=6,
)
wire_records = st.lists(
    st.one_of(
        st.integers(0, 2**64 - 1).map(lambda n: key(1, 1) + n.to_bytes(8, "little")),
        st.integers(0, 2**64 - 1).map(lambda n: key(11, 1) + n.to_bytes(8, "little")),
        st.integers(0, 2**64 - 1).map(lambda n: key(2, 0) + varint(n)),
        st.binary(max_size=6).map(lambda b: ld(3, b)),
        wire_values.map(lambda v: ld(5, v)),
        st.tuples(st.binary(max_size=6), wire_values).map(lambda kv: ld(6, ld(1, kv[0]) + ld(2, kv[1]))),
        st.binary(max_size=18).map(lambda b: ld(9, b)),
        st.binary(max_size=9).map(lambda b: ld(10, b)),
        st.binary(min_size=4, max_size=4).map(lambda b: key(8, 5) + b),
    ),
    max_size=6,
).map(b"".join)


@FUZZ
@given(
    resource=st.lists(st.tuples(st.sampled_from([b"service.name", b"k8s.pod.name", b"x"]), wire_values), max_size=3),
    records=st.lists(wire_records, max_size=4),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=2),
    cut=st.none() | st.integers(0, 10_000),
    encoding=st.sampled_from([None, "gzip"]),
)
def test_protobuf_requests_built_and_corrupted(
    invoke: Callable[[Any], dict[str, Any]],
    resource: list[tuple[bytes, bytes]],
    records: list[bytes],
    flips: list[tuple[int, int]],
    cut: int | None,
    encoding: str | None,
) -> None:
    attributes = b"".join(ld(1, ld(1, k) + ld(2, v)) for k, v in resource)
    raw = bytearray(ld(1, ld(1, attributes) + ld(2, b"".join(ld(2, r) for r in records))))
    for position, value in flips:
        raw[position % len(raw)] = value
    if cut is not None:
        raw = raw[: cut % (len(raw) + 1)]
    invoke(otlp_event(bytes(raw), PROTOBUF, encoding))


# --- mutated corpus of real requests ---------------------------------------------------------------------------


def corpus() -> dict[str, tuple[bytes, str, str | None]]:
    message = request(
        resource_logs(
            {"service.name": "stytch", "k8s.pod.name": "p", "host.name": "h", "tags": ["a", 1]},
            scope_logs(
                [
                    record(
                        '{"event_id":"e1"}',
                        {"http.status": 200, "ok": True, "ratio": 0.5, "raw": b"\x01", "user": {"id": "u"}},
                        time_unix_nano=NOW_NS,
                        observed_time_unix_nano=NOW_NS + 1,
                        severity_number=9,
                        severity_text="INFO",
                        trace_id=bytes(range(16)),
                        span_id=bytes(range(8)),
                        flags=1,
                    ),
                    record(["x", {"k": None}], time_unix_nano=NOW_NS + 2),
                ],
                name="lib",
                version="1",
            ),
        )
    )
    wire = message.SerializeToString()
    return {
        "protobuf": (wire, PROTOBUF, None),
        "protobuf-gzip": (wire, PROTOBUF, "gzip"),
        "json": (to_json(message), JSON, None),
        "json-deflate": (to_json(message), JSON, "deflate"),
    }


CORPUS_MUTATIONS = 400


@pytest.mark.parametrize("name", list(corpus()))
def test_mutated_real_requests(invoke: Callable[[Any], dict[str, Any]], name: str) -> None:
    raw, content_type, encoding = corpus()[name]
    original = invoke(otlp_event(raw, content_type, encoding))
    assert original["statusCode"] == 200  # the unmutated request is valid and fully accepted
    answer = base64.b64decode(original["body"]) if original["isBase64Encoded"] else original["body"].encode()
    assert not parse_response(answer, content_type == JSON).HasField("partial_success")
    rng = random.Random(name)
    for _ in range(CORPUS_MUTATIONS):
        # Mutate the decompressed body, then compress it, so the decoder sees the damage.
        body = compress(mutate(rng, raw), encoding)
        headers = [("Content-Type", content_type), ("Authorization", basic())]
        if encoding:
            headers.append(("Content-Encoding", encoding))
        invoke(build_event("POST", PATH, headers, body))


def test_at_least_6000_otlp_cases_ran() -> None:
    record_figures("fuzz otlp", {"cases_through_handler": CASES["count"]})
    assert CASES["count"] >= 6_000

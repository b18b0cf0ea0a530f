"""The HTTP contract of POST /otlp/v1/logs: the OTLP/HTTP answers (ExportLogsServiceResponse,
google.rpc.Status in the request's encoding, Retry-After on 503), the same auth and delivery as
the Loki routes, and records identical to those of a Loki push of the same entries."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from loki_ingest.auth.authenticator import SecretUnavailable
from loki_ingest.decoding import push as decode_module
from tests.conftest import NOW_NS, Harness, basic, event, v1_body
from tests.support.otlp import (
    ExportLogsServiceRequest,
    parse_response,
    parse_status,
    record,
    request,
    resource_logs,
    to_json,
)

PATH = "/otlp/v1/logs"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"

SAMPLE = request(
    resource_logs(
        {"service.name": "stytch", "deployment.environment": "test", "host.name": "h1"},
        [
            record('{"event_id":"event-1","action":"SessionsAuthenticate"}', time_unix_nano=NOW_NS + 1),
            record("plain text", {"user.id": "u1"}, time_unix_nano=NOW_NS + 2, severity_text="INFO"),
        ],
    )
)


def encode(message: ExportLogsServiceRequest, content_type: str) -> bytes:
    return message.SerializeToString() if content_type == PROTOBUF else to_json(message)


def otlp_event(
    body: bytes,
    content_type: str | None = PROTOBUF,
    *,
    content_encoding: str | None = None,
    method: str = "POST",
    auth: str | None = "default",
) -> dict[str, Any]:
    return event(method, PATH, body, content_type=content_type, content_encoding=content_encoding, auth=auth)


def body_bytes(result: dict[str, Any]) -> bytes:
    body = result["body"]
    return base64.b64decode(body) if result["isBase64Encoded"] else body.encode()


def deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


COMPRESSIONS: list[Any] = [
    pytest.param(None, lambda b: b, id="identity"),
    pytest.param("gzip", gzip.compress, id="gzip"),
    pytest.param("deflate", zlib.compress, id="deflate-zlib-python-sdk"),
    pytest.param("deflate", deflate_raw, id="deflate-raw"),
]


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
@pytest.mark.parametrize(("content_encoding", "compress"), COMPRESSIONS)
def test_a_push_answers_200_with_an_export_response_in_the_request_encoding(
    harness: Harness, content_type: str, content_encoding: str | None, compress: Callable[[bytes], bytes]
) -> None:
    result = harness(
        otlp_event(compress(encode(SAMPLE, content_type)), content_type, content_encoding=content_encoding)
    )
    assert result["statusCode"] == 200
    assert result["headers"]["content-type"] == content_type
    assert result["isBase64Encoded"] is (content_type == PROTOBUF)
    assert not parse_response(body_bytes(result), content_type == JSON).HasField("partial_success")
    records = harness.firehose.records()
    assert [r["record"] for r in records] == [
        {"event_id": "event-1", "action": "SessionsAuthenticate"},
        {"message": "plain text"},
    ]
    assert [r["stream"] for r in records] == [{"deployment_environment": "test", "service_name": "stytch"}] * 2
    assert records[1]["metadata"] == {
        "user_id": "u1",
        "severity_text": "INFO",
        "host_name": "h1",
        "detected_level": "info",  # from severity_text, as Loki's distributor adds it
    }


def test_records_are_the_same_whichever_protocol_sent_them(make_app: Callable[..., Harness]) -> None:
    """A Loki push and an OTLP export of the same entries land as byte-identical records."""
    metadata = {
        "user_id": "u1",
        "severity_text": "INFO",
        "trace_id": "0102030405060708090a0b0c0d0e0f10",
        "detected_level": "info",
    }
    loki = make_app()
    loki_lines = [
        [str(NOW_NS + 1), '{"a":1}', metadata],
        [str(NOW_NS + 2), "text line", metadata],
    ]
    assert (
        loki(event(body=v1_body([({"service_name": "svc", "k8s_namespace_name": "prod"}, loki_lines)])))["statusCode"]
        == 200
    )
    loki_records = loki.firehose.lines()
    loki.firehose.delivered.clear()
    otlp_records = [
        record(body, {"user.id": "u1"}, time_unix_nano=t, severity_text="INFO", trace_id=bytes(range(1, 17)))
        for t, body in ((NOW_NS + 1, '{"a":1}'), (NOW_NS + 2, "text line"))
    ]
    message = request(resource_logs({"service.name": "svc", "k8s.namespace.name": "prod"}, otlp_records))
    assert loki(otlp_event(message.SerializeToString()))["statusCode"] == 200
    assert loki.firehose.lines() == loki_records


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_partial_success_is_a_200_counting_the_rejected_records(harness: Harness, content_type: str) -> None:
    message = request(
        resource_logs(
            {"service.name": "s"},
            [
                record("good", time_unix_nano=NOW_NS),
                record("x" * 300_000, time_unix_nano=NOW_NS + 1),
                record("also good", time_unix_nano=NOW_NS + 2),
            ],
        )
    )
    result = harness(otlp_event(encode(message, content_type), content_type))
    assert result["statusCode"] == 200
    partial = parse_response(body_bytes(result), content_type == JSON).partial_success
    assert partial.rejected_log_records == 1
    assert "1 of 3 entries rejected" in partial.error_message and "max entry size" in partial.error_message
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["good", "also good"]


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_an_empty_export_is_a_success_that_delivers_nothing(harness: Harness, content_type: str) -> None:
    result = harness(otlp_event(encode(request(), content_type), content_type))
    assert result["statusCode"] == 200
    assert body_bytes(result) == (b"" if content_type == PROTOBUF else b"{}")
    assert harness.firehose.calls == []


def test_loki_mode_204_does_not_apply_to_otlp(make_app: Callable[..., Harness]) -> None:
    result = make_app(success_status_code=204)(otlp_event(encode(SAMPLE, PROTOBUF)))
    assert result["statusCode"] == 200 and result["headers"]["content-type"] == PROTOBUF


# --- errors: google.rpc.Status in the request's encoding ------------------------------------------------------

ERRORS = [
    pytest.param(otlp_event(b"\x0a\xff", PROTOBUF), 400, 3, "invalid protobuf", PROTOBUF, id="malformed-protobuf"),
    pytest.param(otlp_event(b"{", JSON), 400, 3, "invalid OTLP JSON", JSON, id="malformed-json"),
    pytest.param(otlp_event(b"{}", "text/plain"), 400, 3, "not supported for OTLP", JSON, id="other-content-type"),
    pytest.param(otlp_event(b"{}", None), 400, 3, "Content-Type header is required", JSON, id="no-content-type"),
    pytest.param(
        otlp_event(b"\x00", PROTOBUF, content_encoding="br"), 400, 3, "use gzip, deflate", PROTOBUF, id="brotli"
    ),
    pytest.param(otlp_event(b"x", PROTOBUF, content_encoding="snappy"), 400, 3, "not supported", PROTOBUF, id="snappy"),
    pytest.param(otlp_event(b"", JSON, auth=None), 401, 16, "authentication required", JSON, id="no-credentials"),
    pytest.param(
        otlp_event(b"", PROTOBUF, auth=basic(password="wrong")), 401, 16, "invalid", PROTOBUF, id="wrong-password"
    ),
    pytest.param(otlp_event(b"", PROTOBUF, method="GET"), 405, 2, "use POST", PROTOBUF, id="get"),
    pytest.param(
        otlp_event(gzip.compress(b"\0" * (80 << 20)), PROTOBUF, content_encoding="gzip"),
        413,
        2,
        "decompressed size limit",
        PROTOBUF,
        id="gzip-bomb",
    ),
]


@pytest.mark.parametrize(("push", "status", "code", "message", "answer_type"), ERRORS)
def test_errors_answer_a_google_rpc_status_in_the_request_encoding(
    harness: Harness, push: dict[str, Any], status: int, code: int, message: str, answer_type: str
) -> None:
    result = harness(push)
    assert result["statusCode"] == status
    assert result["headers"]["content-type"] == answer_type
    rpc_status, violations = parse_status(body_bytes(result), answer_type == JSON)
    assert rpc_status.code == code and message in rpc_status.message
    assert violations == ([rpc_status.message] if status == 400 else [])
    if status == 401:
        assert result["headers"]["www-authenticate"] == 'Basic realm="loki"'
    if status == 405:
        assert result["headers"]["allow"] == "POST"
    assert harness.firehose.calls == []


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_a_firehose_failure_is_a_503_with_retry_after_that_otlp_exporters_retry(
    make_app: Callable[..., Harness], content_type: str
) -> None:
    app = make_app(retry_max_attempts=2)
    app.firehose.script = lambda call, records: ["ServiceUnavailableException"] * len(records)
    result = app(otlp_event(encode(SAMPLE, content_type), content_type))
    assert result["statusCode"] == 503 and result["headers"]["retry-after"]
    rpc_status, _ = parse_status(body_bytes(result), content_type == JSON)
    assert rpc_status.code == 14 and "ServiceUnavailableException" in rpc_status.message


def test_an_unreadable_secret_is_a_503_status(harness: Harness) -> None:
    harness.secrets.fail = SecretUnavailable("cannot read the auth secret (ServiceUnavailable)")
    result = harness(otlp_event(encode(SAMPLE, PROTOBUF)))
    assert result["statusCode"] == 503 and result["headers"]["retry-after"]
    assert parse_status(body_bytes(result), False)[0].code == 14


def test_an_unexpected_bug_is_a_500_status(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setitem(decode_module.otlp.DECODERS, JSON, broken)
    result = harness(otlp_event(b"{}", JSON))
    assert result["statusCode"] == 500
    rpc_status, _ = parse_status(body_bytes(result), True)
    assert (rpc_status.code, rpc_status.message) == (2, "internal error; retry later")


def test_auth_is_checked_before_the_body_is_decoded(harness: Harness) -> None:
    bomb = gzip.compress(b"\0" * (50 << 20))
    result = harness(otlp_event(bomb, PROTOBUF, content_encoding="gzip", auth=basic(password="nope")))
    assert result["statusCode"] == 401


def test_the_loki_routes_keep_their_json_error_bodies(harness: Harness) -> None:
    result = harness(event(body=b"{", content_type=JSON))
    assert result["statusCode"] == 400 and json.loads(result["body"])["status"] == "error"

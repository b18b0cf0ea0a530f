"""Event parsing, settings, the health check and tracing."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest

from local.adapter import build_event, to_http
from loki_ingest import config
from loki_ingest.config import MAX_LINE_BYTES_CEILING, ConfigError
from loki_ingest.errors import BadRequest, PayloadTooLarge
from loki_ingest.health import HealthCheck
from loki_ingest.observability import Tracer
from loki_ingest.request import from_event

# --- request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "is_base64", "expected"),
    [
        pytest.param("plain text", False, b"plain text", id="text"),
        pytest.param("é", False, "é".encode(), id="text-utf8"),
        pytest.param(base64.b64encode(b"\x00\xff\x10").decode(), True, b"\x00\xff\x10", id="base64-binary"),
        pytest.param(None, False, b"", id="no-body"),
        pytest.param("", True, b"", id="empty-base64"),
    ],
)
def test_body_is_always_bytes(body: str | None, is_base64: bool, expected: bytes) -> None:
    event: dict[str, Any] = {
        "rawPath": "/x",
        "requestContext": {"http": {"method": "post"}},
        "isBase64Encoded": is_base64,
    }
    if body is not None:
        event["body"] = body
    request = from_event(event, max_body_bytes=100)
    assert request.body == expected
    assert request.method == "POST"


def test_headers_are_lowercased_and_non_strings_dropped() -> None:
    request = from_event({"headers": {"Content-Type": "a/b", "X-N": 5}, "rawPath": "/"}, max_body_bytes=10)
    assert dict(request.headers) == {"content-type": "a/b"}


@pytest.mark.parametrize(
    ("event", "error"),
    [
        pytest.param("not a dict", BadRequest, id="not-an-object"),
        pytest.param({"body": 123}, BadRequest, id="body-not-string"),
        pytest.param({"body": "%%%", "isBase64Encoded": True}, BadRequest, id="bad-base64"),
        pytest.param({"body": "x" * 101}, PayloadTooLarge, id="text-too-large"),
        pytest.param(
            {"body": base64.b64encode(b"x" * 101).decode(), "isBase64Encoded": True},
            PayloadTooLarge,
            id="b64-too-large",
        ),
        pytest.param({"body": "A" * 1000, "isBase64Encoded": True}, PayloadTooLarge, id="b64-precheck"),
    ],
)
def test_bad_events_are_client_errors(event: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        from_event(event, max_body_bytes=100)


def test_adapter_builds_events_the_way_function_urls_do() -> None:
    event = build_event(
        "post",
        "/loki/api/v1/push",
        [("Content-Type", "application/x-protobuf"), ("X-Multi", "a"), ("x-multi", "b"), ("Cookie", "c1=1; c2=2")],
        b"\xff\x00",
        query="a=1&a=2",
    )
    assert event["headers"] == {"content-type": "application/x-protobuf", "x-multi": "a,b"}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["requestContext"]["http"]["method"] == "POST"
    text = build_event("POST", "/", [("Content-Type", "application/json")], b"{}")
    assert text["isBase64Encoded"] is False and text["body"] == "{}"
    gz = build_event("POST", "/", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], b"{}")
    assert gz["isBase64Encoded"] is True


def test_adapter_maps_responses_back_to_http() -> None:
    response = to_http(
        {
            "statusCode": 201,
            "headers": {"a": "b"},
            "body": base64.b64encode(b"\x01").decode(),
            "isBase64Encoded": True,
            "cookies": ["k=v"],
        }
    )
    assert (response.status, response.body) == (201, b"\x01")
    assert ("set-cookie", "k=v") in response.headers
    assert to_http({"hello": 1}).status == 200


# --- config --------------------------------------------------------------------------------

BASE = {"FIREHOSE_DELIVERYSTREAM_NAME": "s", "AUTH_SECRET_ARN": "arn"}


def test_defaults_match_loki_and_aws() -> None:
    settings = config.load(BASE)
    assert settings.max_line_bytes == 256 * 1024
    assert settings.success_status == 200
    assert (settings.max_label_names, settings.max_label_name_bytes, settings.max_label_value_bytes) == (15, 1024, 2048)
    assert settings.tracing_enabled is False


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({}, id="nothing-set"),
        pytest.param({"AUTH_SECRET_ARN": "arn"}, id="no-stream"),
        pytest.param({**BASE, "SUCCESS_STATUS_CODE": "201"}, id="bad-success-code"),
        pytest.param({**BASE, "MAX_LINE_BYTES": "abc"}, id="not-an-int"),
        pytest.param({**BASE, "RETRY_MAX_ATTEMPTS": "0"}, id="out-of-range"),
        pytest.param({**BASE, "TRACING_ENABLED": "maybe"}, id="bad-bool"),
        pytest.param({**BASE, "LOG_LEVEL": "LOUD"}, id="bad-level"),
        pytest.param({**BASE, "FIREHOSE_READ_TIMEOUT_SECONDS": "x"}, id="bad-float"),
    ],
)
def test_invalid_configuration_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        config.load(env)


def test_line_size_can_never_exceed_a_firehose_record() -> None:
    assert config.load({**BASE, "MAX_LINE_BYTES": str(5 << 20)}).max_line_bytes == MAX_LINE_BYTES_CEILING
    assert config.load({**BASE, "MAX_LINE_BYTES": "1000"}).max_line_bytes == 1000


def test_settings_are_read_from_the_environment() -> None:
    settings = config.load({**BASE, "SUCCESS_STATUS_CODE": "204", "TRACING_ENABLED": "true", "LOG_LEVEL": "warn"})
    assert (settings.success_status, settings.tracing_enabled, settings.log_level) == (204, True, "WARNING")


# --- health --------------------------------------------------------------------------------


class Describe:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> Any:
        self.calls += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": self.answer}}


@pytest.mark.parametrize(
    ("answer", "healthy", "error"),
    [
        ("ACTIVE", True, ""),
        ("CREATING", False, "is CREATING"),
        ("DELETING", False, "is DELETING"),
        ("CREATING_FAILED", False, "CREATING_FAILED"),
        (RuntimeError("boom"), False, "RuntimeError"),
    ],
)
def test_health_reflects_the_stream_status(answer: Any, healthy: bool, error: str) -> None:
    result = HealthCheck(Describe(answer), "s", 30).check()
    assert result.healthy is healthy and error in result.error


def test_health_is_cached_for_the_ttl() -> None:
    now = [0.0]
    client = Describe("ACTIVE")
    check = HealthCheck(client, "s", 30, clock=lambda: now[0])
    for _ in range(10):
        check.check()
    now[0] = 31
    check.check()
    assert client.calls == 2


def test_health_includes_the_secret_check() -> None:
    def broken() -> None:
        raise RuntimeError("secret unreadable")

    result = HealthCheck(Describe("ACTIVE"), "s", 30, extra_check=broken).check()
    assert not result.healthy and "secret unreadable" in result.error


# --- tracing -------------------------------------------------------------------------------


def test_tracing_off_does_not_import_the_xray_sdk() -> None:
    sys.modules.pop("aws_xray_sdk", None)
    sys.modules.pop("aws_xray_sdk.core", None)
    tracer = Tracer(False)
    with tracer.segment("x"):
        pass
    assert not tracer.enabled
    assert "aws_xray_sdk.core" not in sys.modules


def test_tracing_on_imports_the_sdk_lazily_and_records_subsegments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    tracer = Tracer(True)
    assert tracer.enabled
    with tracer.segment("decode"):
        value = json.loads("1")
    assert value == 1

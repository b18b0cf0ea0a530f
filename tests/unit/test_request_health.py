"""Event parsing, the health check and tracing."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest

from local.runtime.adapter import build_event, to_http
from loki_ingest.delivery.firehose import FirehoseSink
from loki_ingest.errors import BadRequest, PayloadTooLarge
from loki_ingest.http.request import from_event
from loki_ingest.observability.health import HealthCheck
from loki_ingest.observability.logs import configure_logging
from loki_ingest.observability.tracing import Tracer
from tests.conftest import make_settings

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


def sink_probe(answer: Any) -> tuple[FirehoseSink, Describe]:
    client = Describe(answer)
    return FirehoseSink(client, make_settings()), client  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("ACTIVE", None),
        ("CREATING", "is CREATING"),
        ("DELETING", "is DELETING"),
        ("CREATING_FAILED", "CREATING_FAILED"),
        (RuntimeError("boom"), "RuntimeError"),
    ],
)
def test_health_reflects_the_stream_status(answer: Any, problem: str | None) -> None:
    sink, _ = sink_probe(answer)
    result = HealthCheck([sink.probe], make_settings()).check()
    assert result == problem if problem is None else problem in (result or "")


def test_health_is_cached_for_the_ttl() -> None:
    now = [0.0]
    sink, client = sink_probe("ACTIVE")
    check = HealthCheck([sink.probe], make_settings(health_cache_ttl_seconds=30), clock=lambda: now[0])
    for _ in range(10):
        check.check()
    now[0] = 31
    check.check()
    assert client.calls == 2


def test_health_includes_the_secret_check() -> None:
    sink, _ = sink_probe("ACTIVE")
    result = HealthCheck([sink.probe, lambda: "secret unreadable"], make_settings()).check()
    assert result == "secret unreadable"


# --- tracing -------------------------------------------------------------------------------


def test_tracing_off_does_not_import_the_xray_sdk() -> None:
    sys.modules.pop("aws_xray_sdk", None)
    sys.modules.pop("aws_xray_sdk.core", None)
    tracer = Tracer(False)
    with tracer.segment("x"):
        pass
    assert tracer._recorder is None
    assert "aws_xray_sdk.core" not in sys.modules


def test_tracing_on_imports_the_sdk_lazily_and_records_subsegments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    tracer = Tracer(True)
    assert tracer._recorder is not None
    with tracer.segment("decode"):
        value = json.loads("1")
    assert value == 1


@pytest.mark.parametrize(
    ("method", "lambda_level"),
    [("debug", "DEBUG"), ("info", "INFO"), ("warning", "WARN"), ("error", "ERROR"), ("critical", "FATAL")],
)
def test_log_lines_use_lambdas_level_names(method: str, lambda_level: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Lambda filters JSON logs by "level" and counts names it does not know as INFO."""
    logger = configure_logging("DEBUG")
    getattr(logger, method)("x")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["level"] == lambda_level

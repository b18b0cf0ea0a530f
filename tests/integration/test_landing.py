"""What a push turns into in S3, through real boto3 clients and moto; health; rotation."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable

import pytest

from tests.conftest import NOW_NS, USER, basic, event, v1_body
from tests.integration.conftest import Harness, Stack, client
from tests.support.logproto import protobuf_push

pytestmark = pytest.mark.integration

LINES = [
    '{"event_id":"event-test-1","action":"SessionsAuthenticate","status":"success"}',
    "plain text é 😀",
    '{"nested":{"a":[1,2,{"b":null}]}}',
]


@pytest.mark.parametrize("kind", ["json", "gzip", "protobuf"])
def test_every_entry_lands_in_s3_exactly(make_harness: Callable[..., Harness], stack: Stack, kind: str) -> None:
    harness = make_harness()
    values = [[str(NOW_NS + i), line] for i, line in enumerate(LINES)]
    if kind == "protobuf":
        body = protobuf_push(
            [('{service_name="stytch", env="it"}', [(NOW_NS + i, line, []) for i, line in enumerate(LINES)])]
        )
        push = event(body=body, content_type="application/x-protobuf")
    else:
        body = v1_body([({"service_name": "stytch", "env": "it"}, values)])
        push = event(body=gzip.compress(body), content_encoding="gzip") if kind == "gzip" else event(body=body)
    result = harness(push)
    assert result["statusCode"] == 200 and json.loads(result["body"]) == {"status": "success", "count": 3}
    records = stack.records()
    assert [r["timestamp_ns"] for r in records] == [str(NOW_NS + i) for i in range(3)]
    assert [r["stream"] for r in records] == [{"env": "it", "service_name": "stytch"}] * 3
    assert records[0]["record"] == json.loads(LINES[0])
    assert records[1]["record"] == {"message": LINES[1]}
    assert records[2]["record"] == json.loads(LINES[2])
    assert len({r["id"] for r in records}) == 3


def test_healthz_is_degraded_when_the_stream_is_deleted(make_harness: Callable[..., Harness], stack: Stack) -> None:
    harness = make_harness(HEALTH_CACHE_TTL_SECONDS="1")
    health = event("GET", "/healthz", auth=None, content_type=None)
    assert harness(health)["statusCode"] == 200
    client("firehose", stack.endpoint).delete_delivery_stream(DeliveryStreamName=stack.stream)
    time.sleep(1.1)  # the health answer is cached for at least a second
    result = harness(health)
    assert (result["statusCode"], json.loads(result["body"])) == (503, {"status": "degraded"})
    # A push now fails with 503 (retryable), never a 2xx or a 4xx.
    assert harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])))["statusCode"] == 503


def test_a_rotated_password_works_without_restart_and_the_old_one_during_grace(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    harness = make_harness(AUTH_REFRESH_MIN_INTERVAL_SECONDS="1", PREVIOUS_PASSWORD_GRACE_SECONDS="3600")
    push = v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])
    assert harness(event(body=push))["statusCode"] == 200
    client("secretsmanager", stack.endpoint).put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({"username": USER, "password": "rotated-password-1"})
    )
    assert harness(event(body=push, auth=basic(password="rotated-password-1")))["statusCode"] == 200
    assert harness(event(body=push))["statusCode"] == 200  # AWSPREVIOUS, inside the grace window
    assert harness(event(body=push, auth=basic(password="never-valid")))["statusCode"] == 401

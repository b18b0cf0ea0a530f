"""Credentials over their life, against the emulator's Secrets Manager: a rotation never costs a
push (clients that honour Retry-After get through, never a 401), an outage is ridden out, and
a revocation takes effect."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import NOW_NS, USER, basic, event, v1_body
from tests.integration.conftest import Harness, Stack, aws_response, client, secrets_of

pytestmark = pytest.mark.integration


def push_like_a_loki_client(harness: Harness, password: str, line: str, tries: int = 12) -> list[int]:
    """Push one line, retrying 5xx and 429 after Retry-After as a client should. The statuses seen."""
    body = v1_body([({"client": "it"}, [[str(NOW_NS + hash(line) % 10**9), line]])])
    statuses: list[int] = []
    for _ in range(tries):
        result = harness(event(body=body, auth=basic(USER, password)))
        statuses.append(result["statusCode"])
        if result["statusCode"] < 500 and result["statusCode"] != 429:
            return statuses
        time.sleep(float(result["headers"]["retry-after"]))
    return statuses


def landed_lines(stack: Stack) -> list[str]:
    return [r["record"]["message"] for r in stack.records() if r["stream"].get("client") == "it"]


def test_a_rotation_after_failed_attempts_never_answers_401_to_the_new_password(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    harness = make_harness(AUTH_REFRESH_MIN_INTERVAL_SECONDS="1", PREVIOUS_PASSWORD_GRACE_SECONDS="0")
    secret = client("secretsmanager", stack.endpoint).get_secret_value(SecretId=stack.secret_arn)
    old_password = json.loads(secret["SecretString"])["password"]
    assert push_like_a_loki_client(harness, old_password, "before") == [200]
    for attempt in range(6):  # strangers' wrong passwords spend the refresh budget
        status = harness(event(body=b'{"streams":[]}', auth=basic(USER, f"wrong-{attempt}")))["statusCode"]
        assert status in (401, 503)
    new_password = uuid.uuid4().hex
    client("secretsmanager", stack.endpoint).put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({"username": USER, "password": new_password})
    )
    lines = [f"after rotation {i}" for i in range(12)]
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda line: push_like_a_loki_client(harness, new_password, line), lines))
    assert all(s[-1] == 200 for s in statuses), statuses
    assert not any(401 in s for s in statuses), "the right password must never get a 401"
    assert sorted(landed_lines(stack)) == sorted(["before", *lines])
    # The old password is revoked by the rotation (no grace here), at once.
    assert harness(event(body=b'{"streams":[]}', auth=basic(USER, old_password)))["statusCode"] in (401, 503)


def test_a_rotation_during_a_secrets_manager_outage_gets_through_once_it_is_back(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    harness = make_harness(AUTH_REFRESH_MIN_INTERVAL_SECONDS="1")
    assert harness(event(body=b'{"streams":[]}'))["statusCode"] == 200
    new_password = uuid.uuid4().hex
    client("secretsmanager", stack.endpoint).put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({"username": USER, "password": new_password})
    )
    outage = {"calls": 0}

    def unavailable(request: Any, **_: Any) -> Any:
        outage["calls"] += 1
        if outage["calls"] <= 3:
            return aws_response(request, 503, {"__type": "InternalServiceError", "message": "down"})
        return None

    secrets_of(harness.app).meta.events.register("before-send.secrets-manager.GetSecretValue", unavailable)
    statuses = push_like_a_loki_client(harness, new_password, "through the outage")
    assert statuses[-1] == 200 and 401 not in statuses and statuses.count(503) >= 1, statuses
    assert landed_lines(stack) == ["through the outage"]


def test_a_rollback_with_update_secret_version_stage_leaves_the_password_rolled_back_from_its_grace(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    """The grace counts from the change, not from CreatedDate: the version rolled back to is
    older than the grace period, and the password rolled back from still works for the grace."""
    grace = 4
    harness = make_harness(
        PREVIOUS_PASSWORD_GRACE_SECONDS=str(grace), SECRET_CACHE_TTL_SECONDS="1", AUTH_REFRESH_MIN_INTERVAL_SECONDS="1"
    )
    manager = client("secretsmanager", stack.endpoint)
    original = manager.get_secret_value(SecretId=stack.secret_arn)
    old_password = json.loads(original["SecretString"])["password"]
    time.sleep(grace + 0.5)  # the original version is now older than the grace period
    new_password = uuid.uuid4().hex
    rotated = manager.put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({"username": USER, "password": new_password})
    )
    assert push_like_a_loki_client(harness, new_password, "rotated") == [200]
    manager.update_secret_version_stage(
        SecretId=stack.secret_arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=original["VersionId"],
        RemoveFromVersionId=rotated["VersionId"],
    )
    time.sleep(1.1)  # past the cache TTL: the next push reads the rollback
    assert push_like_a_loki_client(harness, old_password, "rolled back") == [200]
    assert push_like_a_loki_client(harness, new_password, "within the grace") == [200]
    time.sleep(grace + 0.5)
    assert harness(event(body=b'{"streams":[]}', auth=basic(USER, new_password)))["statusCode"] == 401


def test_deleting_the_secret_revokes_the_cached_password_after_the_ttl(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    harness = make_harness(SECRET_CACHE_TTL_SECONDS="1", AUTH_REFRESH_MIN_INTERVAL_SECONDS="1")
    assert harness(event(body=b'{"streams":[]}'))["statusCode"] == 200
    client("secretsmanager", stack.endpoint).delete_secret(SecretId=stack.secret_arn, ForceDeleteWithoutRecovery=True)
    time.sleep(1.1)
    for _ in range(3):
        result = harness(event(body=b'{"streams":[]}'))
        assert result["statusCode"] == 503 and result["headers"]["retry-after"]
        assert "ResourceNotFound" not in result["body"] and stack.secret_arn not in result["body"]


def test_at_debug_level_no_library_logs_the_secret_or_the_records(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    """The Lambda runtime sets the root logger to the function's level: at DEBUG, botocore would
    print GetSecretValue's response (the password) and PutRecordBatch's records."""
    import io
    import logging

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        harness = make_harness(LOG_LEVEL="DEBUG")
        secret = client("secretsmanager", stack.endpoint).get_secret_value(SecretId=stack.secret_arn)
        password = json.loads(secret["SecretString"])["password"]
        line = f"debug-marker-{uuid.uuid4().hex}"
        assert push_like_a_loki_client(harness, password, line) == [200]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = captured.getvalue()
    assert password not in text and line not in text
    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.WARNING

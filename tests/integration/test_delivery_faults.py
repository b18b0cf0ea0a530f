"""Delivery under faults, against moto: nothing accepted is ever lost, nothing hangs.

Faults are injected at the boto3 layer (botocore before-send hooks) or with real sockets
(a closed port, a server that never answers)."""

from __future__ import annotations

import gzip
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loki_ingest.auth.authenticator import SecretUnavailable
from tests.conftest import NOW_NS, PASSWORD, USER, basic, event, record_figures, v1_body
from tests.integration.conftest import Harness, PartialFailures, Stack, aws_response, client, firehose_of, secrets_of
from tests.support.logproto import protobuf_push

pytestmark = pytest.mark.integration


def push_events(count: int, seed: int) -> Iterator[tuple[dict[str, Any], list[tuple[int, str]]]]:
    """Pushes of mixed sizes and formats; yields (event, [(ts, line), ...])."""
    rng = random.Random(seed)
    for number in range(count):
        size = rng.choice((1, 1, 3, 10, 50, 200))
        entries = [
            (NOW_NS + number * 1000 + i, f"push {number} entry {i} " + "x" * rng.randrange(0, 3000))
            for i in range(size)
        ]
        kind = number % 3
        if kind == 0:
            body = v1_body([({"job": "soak", "n": str(number % 7)}, [[str(t), line] for t, line in entries])])
            yield event(body=body), entries
        elif kind == 1:
            body = v1_body([({"job": "soak", "n": str(number % 7)}, [[str(t), line] for t, line in entries])])
            yield event(body=gzip.compress(body), content_encoding="gzip"), entries
        else:
            body = protobuf_push([(f'{{job="soak", n="{number % 7}"}}', [(t, line, []) for t, line in entries])])
            yield event(body=body, content_type="application/x-protobuf"), entries


def run_partial_failure_soak(make_harness: Callable[..., Harness], stack: Stack, pushes: int) -> dict[str, int]:
    harness = make_harness(RETRY_MAX_ATTEMPTS="3")
    faults = PartialFailures(stack.endpoint, rate=0.3, seed=pushes)
    firehose_of(harness.app).meta.events.register("before-send.firehose.PutRecordBatch", faults)
    accepted_lines: dict[tuple[int, str], int] = {}
    first_try_5xx = retried_to_success = 0
    for push, entries in push_events(pushes, seed=pushes):
        for attempt in range(20):  # a Loki client retries 5xx with backoff
            result = harness(push)
            status = result["statusCode"]
            assert status in (200, 503), result
            if status == 200:
                assert json.loads(result["body"])["count"] == len(entries)
                for key in entries:
                    accepted_lines[key] = accepted_lines.get(key, 0) + 1
                retried_to_success += attempt > 0
                break
            assert int(result["headers"]["retry-after"]) >= 1
            first_try_5xx += attempt == 0
        else:
            pytest.fail("a push could not be retried to success in 20 attempts")
    landed: dict[tuple[int, str], int] = {}
    ids: dict[str, int] = {}
    for record in stack.records():
        key = (int(record["timestamp_ns"]), record["record"]["message"])
        landed[key] = landed.get(key, 0) + 1
        ids[record["id"]] = ids.get(record["id"], 0) + 1
    lost = [key for key in accepted_lines if key not in landed]
    duplicates = sum(n - 1 for n in ids.values())
    figures = {
        "pushes": pushes,
        "entries": len(accepted_lines),
        "put_record_batch_calls": faults.calls,
        "injected_record_failures": faults.injected,
        "pushes_503_first_try": first_try_5xx,
        "pushes_retried_to_success": retried_to_success,
        "entries_lost": len(lost),
        "duplicate_records_by_id": duplicates,
    }
    record_figures("partial failures", figures)
    assert not lost, f"{len(lost)} accepted entries are missing from S3"
    assert first_try_5xx > 0, "the fault rate must actually produce 503s"
    assert faults.injected > 0
    # Every duplicate is an exact copy of an entry that also landed (same id).
    assert set(landed) == set(accepted_lines)
    return figures


def test_random_partial_failures_over_2000_pushes_lose_nothing(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    run_partial_failure_soak(make_harness, stack, pushes=2000)


@pytest.mark.soak
def test_random_partial_failures_over_10000_pushes_lose_nothing(
    make_harness: Callable[..., Harness], stack: Stack
) -> None:
    run_partial_failure_soak(make_harness, stack, pushes=10_000)


# --- whole-call failures --------------------------------------------------------------------


def error_hook(status: int, code: str) -> Callable[..., Any]:
    def hook(request: Any, **_: Any) -> Any:
        return aws_response(request, status, {"__type": code, "message": "injected"})

    return hook


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(400, "ThrottlingException", id="throttling"),
        pytest.param(500, "InternalFailure", id="http-500"),
        pytest.param(503, "ServiceUnavailableException", id="http-503"),
    ],
)
def test_whole_call_failures_respect_the_retry_budget_and_answer_503(
    make_harness: Callable[..., Harness], status: int, code: str
) -> None:
    harness = make_harness(RETRY_BASE_MS="20", RETRY_MAX_BACKOFF_MS="200")
    calls: list[float] = []

    def hook(request: Any, **kwargs: Any) -> Any:
        calls.append(time.monotonic())
        return error_hook(status, code)(request, **kwargs)

    firehose_of(harness.app).meta.events.register("before-send.firehose.PutRecordBatch", hook)
    started = time.monotonic()
    result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])))
    elapsed = time.monotonic() - started
    assert result["statusCode"] == 503
    assert int(result["headers"]["retry-after"]) >= 1
    assert code in json.loads(result["body"])["message"]
    assert len(calls) == harness.app.settings.retry_max_attempts  # the whole budget, and no more
    assert elapsed < 15 - 1.5


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_errors_answer_503_before_the_deadline(
    stack: Stack, make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", f"http://127.0.0.1:{closed_port()}")
    harness = make_harness(RETRY_BASE_MS="20", RETRY_MAX_BACKOFF_MS="200")
    started = time.monotonic()
    result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])), remaining_s=10)
    assert result["statusCode"] == 503 and result["headers"]["retry-after"]
    assert "EndpointConnectionError" in result["body"] or "Connect" in result["body"]
    assert time.monotonic() - started < 10 - 1.5


class BlackHole:
    """A TCP server that accepts connections and never answers: a hung Firehose."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


def test_a_hung_firehose_is_abandoned_with_a_safety_margin(
    make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    hole = BlackHole()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", f"http://127.0.0.1:{hole.port}")
        harness = make_harness(FIREHOSE_READ_TIMEOUT_SECONDS="1", FIREHOSE_CONNECT_TIMEOUT_SECONDS="1")
        budget = 8.0
        started = time.monotonic()
        result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])), remaining_s=budget)
        elapsed = time.monotonic() - started
    finally:
        hole.close()
    assert result["statusCode"] == 503
    assert len(hole.connections) >= 2, "it should have retried while there was time"
    # Stopped while one more attempt (2 s) plus the 1.5 s safety margin did not fit.
    assert elapsed <= budget - 1.5, f"answered after {elapsed:.1f} s of an {budget} s budget"


def test_a_slow_firehose_near_the_deadline_gets_503_not_a_timeout(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()

    def slow(request: Any, **_: Any) -> Any:
        time.sleep(2.0)
        return aws_response(request, 503, {"__type": "ServiceUnavailableException"})

    firehose_of(harness.app).meta.events.register("before-send.firehose.PutRecordBatch", slow)
    budget = 9.0
    started = time.monotonic()
    result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])), remaining_s=budget)
    elapsed = time.monotonic() - started
    assert result["statusCode"] == 503
    assert elapsed <= budget - harness.app.settings.deadline_safety_ms / 1000


# --- secret faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param(500, "InternalServiceError", id="secrets-manager-down"),
        pytest.param(400, "AccessDeniedException", id="access-denied"),
        pytest.param(400, "ResourceNotFoundException", id="secret-deleted"),
        pytest.param(400, "DecryptionFailure", id="kms-decryption-failure"),
    ],
)
def test_secret_faults_answer_503_never_401_or_200(
    make_harness: Callable[..., Harness], status: int, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_harness()
    secrets_of(harness.app).meta.events.register("before-send.secrets-manager.GetSecretValue", error_hook(status, code))
    for auth in (basic(), basic(password="wrong")):
        result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])]), auth=auth))
        assert result["statusCode"] == 503, result
        assert result["headers"]["retry-after"]
    logs = capsys.readouterr().out
    assert code in logs
    assert PASSWORD not in logs


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("this is not json " + PASSWORD, id="not-json"),
        pytest.param(json.dumps({"user": USER, "pass": PASSWORD}), id="wrong-keys"),
        pytest.param(json.dumps([USER, PASSWORD]), id="not-an-object"),
    ],
)
def test_a_malformed_secret_is_503_and_its_value_is_never_logged(
    stack: Stack, make_harness: Callable[..., Harness], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client("secretsmanager", stack.endpoint).put_secret_value(SecretId=stack.secret_arn, SecretString=value)
    harness = make_harness()
    result = harness(event(body=v1_body([({"a": "b"}, [[str(NOW_NS), "x"]])])))
    assert result["statusCode"] == 503
    logs = capsys.readouterr().out
    assert "auth secret" in logs
    assert PASSWORD not in logs and value not in logs


def test_secret_source_errors_are_typed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    secrets_of(harness.app).meta.events.register(
        "before-send.secrets-manager.GetSecretValue", error_hook(400, "AccessDeniedException")
    )
    with pytest.raises(SecretUnavailable) as info:
        harness.app.auth.check(basic())
    assert (info.value.detail, info.value.definitive) == ("AccessDeniedException", True)
    assert "AccessDeniedException" not in info.value.message

"""PutRecordBatch delivery: only failed records are resent, within a deadline; a 503 when
anything is still unsent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from loki_ingest.delivery.firehose import FirehoseSink
from loki_ingest.delivery.sink import DeliveryFailed, FixedDeadline
from tests.conftest import SAMPLE_V1, FakeFirehose, Harness, event, make_settings


def deadline(seconds: float = 30.0) -> FixedDeadline:
    return FixedDeadline(time.monotonic() + seconds)


def deliverer(client: Any, **overrides: Any) -> tuple[FirehoseSink, list[float]]:
    sleeps: list[float] = []
    settings = make_settings(**{"retry_base_ms": 10, "retry_max_backoff_ms": 100, **overrides})
    return FirehoseSink(client, settings, sleep=sleeps.append, rand=lambda: 1.0), sleeps


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutRecordBatch"
    )


def test_all_records_accepted_in_one_call() -> None:
    fake = FakeFirehose()
    sink, sleeps = deliverer(fake)
    report = sink.deliver_batches([[b"a\n", b"b\n"], [b"c\n"]], deadline())
    assert (report.records, report.calls, report.retries) == (3, 2, 0)
    assert fake.delivered == [b"a\n", b"b\n", b"c\n"] and sleeps == []


def test_partial_failure_resends_only_the_failed_records() -> None:
    def script(call: int, records: list[dict[str, bytes]]) -> Any:
        if call == 0:
            return [None, "ServiceUnavailableException", None, "InternalFailure"]
        return None

    fake = FakeFirehose(script)
    sink, sleeps = deliverer(fake)
    report = sink.deliver_batches([[b"1\n", b"2\n", b"3\n", b"4\n"]], deadline())
    assert fake.calls == [[b"1\n", b"2\n", b"3\n", b"4\n"], [b"2\n", b"4\n"]]
    assert sorted(fake.delivered) == [b"1\n", b"2\n", b"3\n", b"4\n"]
    assert (report.records, report.calls, report.retries) == (4, 2, 1)
    assert len(sleeps) == 1


def test_partial_failure_exhausting_the_attempts_is_a_503() -> None:
    fake = FakeFirehose(lambda call, records: ["ServiceUnavailableException"] * len(records))
    sink, sleeps = deliverer(fake, retry_max_attempts=4)
    with pytest.raises(DeliveryFailed) as info:
        sink.deliver_batches([[b"1\n"]], deadline())
    assert info.value.status == 503
    assert info.value.retry_after >= 1
    assert "after 4 attempts" in info.value.message and "ServiceUnavailableException" in info.value.message
    assert len(fake.calls) == 4 and len(sleeps) == 3


def test_backoff_is_exponential_with_a_cap() -> None:
    fake = FakeFirehose(lambda call, records: ["InternalFailure"] * len(records) if call < 6 else None)
    sink, sleeps = deliverer(fake)
    sink.deliver_batches([[b"1\n"]], deadline())
    assert sleeps == pytest.approx([0.02, 0.04, 0.08, 0.1, 0.1, 0.1])


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(client_error("ThrottlingException", 400), id="throttling"),
        pytest.param(client_error("ServiceUnavailableException", 503), id="service-unavailable"),
        pytest.param(client_error("InternalFailure", 500), id="internal-failure"),
        pytest.param(client_error("SomethingNew", 502), id="unknown-5xx"),
        pytest.param(EndpointConnectionError(endpoint_url="https://firehose"), id="connection-error"),
        pytest.param(ReadTimeoutError(endpoint_url="https://firehose"), id="read-timeout"),
        pytest.param(ConnectionResetError(), id="socket-reset"),
    ],
)
def test_transient_whole_call_errors_are_retried(error: BaseException) -> None:
    fake = FakeFirehose(lambda call, records: error if call < 2 else None)
    sink, _ = deliverer(fake)
    report = sink.deliver_batches([[b"1\n", b"2\n"]], deadline())
    assert (report.records, report.calls, report.retries) == (2, 3, 2)


@pytest.mark.parametrize(
    "code",
    ["ResourceNotFoundException", "InvalidArgumentException", "AccessDeniedException", "InvalidKMSResourceException"],
)
def test_permanent_errors_fail_fast_with_503(code: str) -> None:
    fake = FakeFirehose(lambda call, records: client_error(code, 400))
    sink, sleeps = deliverer(fake)
    with pytest.raises(DeliveryFailed) as info:
        sink.deliver_batches([[b"1\n"]], deadline())
    assert info.value.status == 503 and code in info.value.message
    assert len(fake.calls) == 1 and sleeps == []


def test_a_response_without_record_ids_is_not_trusted() -> None:
    class NoIds(FakeFirehose):
        def put_record_batch(self, **kwargs: Any) -> Any:
            super().put_record_batch(**kwargs)
            return {"FailedPutCount": 0, "RequestResponses": [{} for _ in kwargs["Records"]]}

    sink, _ = deliverer(NoIds(), retry_max_attempts=2)
    with pytest.raises(DeliveryFailed, match="without RecordId"):
        sink.deliver_batches([[b"1\n"]], deadline())


def test_a_response_of_the_wrong_length_resends_everything() -> None:
    class Short(FakeFirehose):
        def put_record_batch(self, **kwargs: Any) -> Any:
            response = dict(super().put_record_batch(**kwargs))
            if len(self.calls) == 1:
                response["RequestResponses"] = response["RequestResponses"][:1]
            return response

    fake = Short()
    sink, _ = deliverer(fake)
    sink.deliver_batches([[b"1\n", b"2\n"]], deadline())
    assert fake.calls == [[b"1\n", b"2\n"], [b"1\n", b"2\n"]]


def test_no_call_is_started_without_time_to_finish_it() -> None:
    fake = FakeFirehose()
    sink, _ = deliverer(
        fake, delivery_connect_timeout_seconds=1.0, delivery_read_timeout_seconds=3.0, deadline_safety_ms=1500
    )
    with pytest.raises(DeliveryFailed, match="before the deadline"):
        sink.deliver_batches([[b"1\n"]], deadline(5.4))
    assert fake.calls == []
    sink.deliver_batches([[b"1\n"]], deadline(5.6))
    assert len(fake.calls) == 1


def test_retrying_stops_with_a_safety_margin_before_the_deadline() -> None:
    clock = [0.0]

    def slow(call: int, records: list[dict[str, bytes]]) -> Any:
        clock[0] += 2.0  # every call takes 2 s
        return ["ServiceUnavailableException"] * len(records)

    fake = FakeFirehose(slow)
    settings = make_settings(retry_max_attempts=100, deadline_safety_ms=1500)
    sink = FirehoseSink(fake, settings, sleep=lambda s: clock.__setitem__(0, clock[0] + s), rand=lambda: 0.5)
    with pytest.raises(DeliveryFailed, match="before the deadline"):
        sink.deliver_batches([[b"1\n"]], FixedDeadline(15.0, clock=lambda: clock[0]))
    # It gave up while at least attempt budget + safety margin was left.
    assert 15.0 - clock[0] >= 1.5
    assert len(fake.calls) >= 3


def test_works_against_a_real_boto3_client_with_stubber() -> None:
    client = boto3.client("firehose", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response(
        "put_record_batch",
        {
            "FailedPutCount": 1,
            "RequestResponses": [
                {"RecordId": "a" * 56},
                {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"},
            ],
        },
        {"DeliveryStreamName": "test-stream", "Records": [{"Data": b"1\n"}, {"Data": b"2\n"}]},
    )
    stubber.add_client_error("put_record_batch", "ThrottlingException", http_status_code=400)
    stubber.add_response(
        "put_record_batch",
        {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "b" * 56}]},
        {"DeliveryStreamName": "test-stream", "Records": [{"Data": b"2\n"}]},
    )
    with stubber:
        sink, _sleeps = deliverer(client)
        report = sink.deliver_batches([[b"1\n", b"2\n"]], deadline())
        stubber.assert_no_pending_responses()
    assert (report.records, report.calls, report.retries) == (2, 3, 2)


def test_a_failure_while_rendering_a_later_record_is_a_500_that_logs_what_was_delivered(
    make_app: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records are rendered as the sink sends them: when rendering fails after a batch has
    gone (a bug), the 500's log line still says how many records reached Firehose."""
    import io
    import logging

    from loki_ingest.records import render

    def records(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for i in range(6_000):  # 6 MB: more than one PutRecordBatch (4 MiB)
            yield b'{"n":%d,"pad":"%b"}\n' % (i, b"x" * 1000)
        raise RuntimeError("rendering broke")

    monkeypatch.setattr(render, "records", records)
    harness = make_app(log_every_request=True)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(harness.app.logger.handlers[0].formatter)
    monkeypatch.setattr(harness.app.logger, "handlers", [handler])
    status, _ = harness.json(event(body=SAMPLE_V1))
    assert status == 500
    logged = [json.loads(text) for text in out.getvalue().splitlines()]
    (line,) = [entry for entry in logged if entry["message"] == "request"]
    assert line["reason"] == "internal_error"
    assert line["records"] == sum(map(len, harness.firehose.calls)) > 0  # Firehose records (packed lines)
    assert harness.firehose.records()  # and the lines in them did land

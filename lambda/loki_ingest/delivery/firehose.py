"""The Amazon Data Firehose sink: packing, PutRecordBatch with retries, and its health probe.

Packing. Firehose bills every record rounded up to 5 KB, so one line per record would bill a
1 KB event as 5 KB. Lines are concatenated into records of up to 1,000 KiB (never splitting a
line; each ends in "\\n", so S3 objects stay NDJSON), and records into batches of at most 500
records and 4 MiB (API_PutRecordBatch hard limits). Records are sized against the batch's
remaining room, so a push of B bytes needs ceil(B / 4 MiB) calls in practice.

Delivery. A call can succeed with FailedPutCount > 0; RequestResponses is in request order and
failed entries carry an ErrorCode. AWS advises resending only the failed records. Whole-call
throttling, 5xx and connection errors are retried the same way. All retries use capped
exponential backoff with full jitter and stop while there is still time to answer: if anything
is still unsent, DeliveryFailed becomes a 503 with Retry-After, so the client retries the push.
https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from loki_ingest.delivery.sink import Deadline, DeliveryFailed, DeliveryReport
from loki_ingest.errors import aws_error_code
from loki_ingest.settings import Settings
from loki_ingest.wire import FIREHOSE_MAX_BATCH_BYTES, FIREHOSE_MAX_BATCH_RECORDS, FIREHOSE_MAX_RECORD_BYTES

MAX_RECORD_BYTES = FIREHOSE_MAX_RECORD_BYTES
MAX_BATCH_RECORDS = FIREHOSE_MAX_BATCH_RECORDS
MAX_BATCH_BYTES = FIREHOSE_MAX_BATCH_BYTES

# Whole-call errors worth retrying (throttling and server-side faults).
RETRYABLE_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "LimitExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "SlowDown",
    }
)

Batch = list[bytes]


class FirehoseApi(Protocol):
    """The two Firehose calls the sink needs (a boto3 firehose client satisfies it)."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Mapping[str, Any]: ...

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> Mapping[str, Any]: ...


def client(settings: Settings) -> Any:
    """A boto3 client with botocore's retries off (ours are deadline-aware) and short timeouts,
    so a hung connection cannot eat the invocation. AWS_ENDPOINT_URL points it at an emulator."""
    import boto3  # noqa: PLC0415 - the AWS edge; keeps `import loki_ingest` light for tests
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "firehose",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=settings.delivery_connect_timeout_seconds,
            read_timeout=settings.delivery_read_timeout_seconds,
            tcp_keepalive=True,
        ),
    )


def from_settings(settings: Settings) -> FirehoseSink:
    """The sink the registry builds for SINK=firehose."""
    return FirehoseSink(client(settings), settings)


def batches(
    lines: Iterable[bytes],
    *,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_batch_records: int = MAX_BATCH_RECORDS,
    max_batch_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[Batch]:
    """Group lines into records (lines joined up to a record's size) and records into batches,
    yielding each batch as soon as it is full. Every line must fit in one record."""
    batch: Batch = []
    batch_bytes = 0
    record: list[bytes] = []  # the lines of the open record
    record_bytes = 0
    for index, line in enumerate(lines):
        size = len(line)
        if size > max_record_bytes:
            raise ValueError(f"line {index} is {size} bytes, over the {max_record_bytes}-byte record limit")
        if record_bytes + size > max_record_bytes or batch_bytes + size > max_batch_bytes:
            if record:
                batch.append(b"".join(record))
                record = []
                record_bytes = 0
            if len(batch) >= max_batch_records or batch_bytes + size > max_batch_bytes:
                yield batch
                batch = []
                batch_bytes = 0
        record.append(line)
        record_bytes += size
        batch_bytes += size
    if record:
        if len(batch) >= max_batch_records:
            yield batch
            batch = []
        batch.append(b"".join(record))
    if batch:
        yield batch


def pack(lines: Iterable[bytes], **limits: int) -> list[Batch]:
    """Every batch of `batches` in one list."""
    return list(batches(lines, **limits))


def classify_exception(exc: BaseException) -> tuple[bool, str]:
    """(retryable, short description) for an exception raised by the client call."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = aws_error_code(exc)
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode", 0)
        status = status if isinstance(status, int) else 0
        retryable = code in RETRYABLE_CODES or status >= 500 or status == 429
        return retryable, code or f"HTTP {status}"
    # botocore connection/read-timeout errors and plain socket errors are transient.
    name = type(exc).__name__
    transient = isinstance(exc, (ConnectionError, TimeoutError, OSError)) or any(
        base.__name__ in ("ConnectionError", "HTTPClientError", "ReadTimeoutError", "ConnectTimeoutError")
        for base in type(exc).__mro__
    )
    return transient, name


class FirehoseSink:
    max_line_bytes = MAX_RECORD_BYTES

    def __init__(
        self,
        api: FirehoseApi,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._api = api
        self._settings = settings
        self._stream = settings.firehose_stream_name
        self._sleep = sleep
        self._rand = rand
        # The longest one call can take before botocore gives up on it.
        self._attempt_budget_ms = (
            settings.delivery_connect_timeout_seconds + settings.delivery_read_timeout_seconds
        ) * 1000

    def deliver(
        self, lines: Iterable[bytes], deadline: Deadline, report: DeliveryReport | None = None
    ) -> DeliveryReport:
        """Pack the lines as they come and send each batch once it is full: one batch (4 MiB at
        most) in flight, so memory does not grow with the push's record count."""
        return self.deliver_batches(batches(lines), deadline, report)

    def deliver_batches(
        self, batches: Iterable[Sequence[bytes]], deadline: Deadline, report: DeliveryReport | None = None
    ) -> DeliveryReport:
        """PutRecordBatch per batch of records, each call retried until all its records land."""
        report = DeliveryReport() if report is None else report
        for batch in batches:
            self._deliver_batch(list(batch), deadline, report)
        return report

    def probe(self) -> str | None:
        try:
            description = self._api.describe_delivery_stream(DeliveryStreamName=self._stream)
            status = str(description["DeliveryStreamDescription"]["DeliveryStreamStatus"])
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            return f"firehose stream {self._stream}: {aws_error_code(exc) or type(exc).__name__}"
        if status != "ACTIVE":
            return f"firehose stream {self._stream} is {status}"
        return None

    def _time_for_attempt(self, deadline: Deadline, extra_ms: float = 0.0) -> bool:
        needed = self._attempt_budget_ms + self._settings.deadline_safety_ms + extra_ms
        return deadline.remaining_ms() >= needed

    def _deliver_batch(self, pending: list[bytes], deadline: Deadline, report: DeliveryReport) -> None:
        settings = self._settings
        attempt = 0
        last_problem = ""
        while True:
            if not self._time_for_attempt(deadline):
                raise DeliveryFailed(
                    f"{len(pending)} records not accepted by Firehose before the deadline"
                    + (f" (last error: {last_problem})" if last_problem else ""),
                    report,
                    detail=last_problem or "deadline",
                )
            report.calls += 1
            try:
                response = self._api.put_record_batch(
                    DeliveryStreamName=self._stream, Records=[{"Data": data} for data in pending]
                )
            except Exception as exc:
                retryable, last_problem = classify_exception(exc)
                if not retryable:
                    raise DeliveryFailed(
                        f"Firehose rejected the batch: {last_problem}", report, retry_after=5, detail=last_problem
                    ) from exc
                failed = pending
            else:
                failed, last_problem = _failed_records(pending, response)
                report.records += len(pending) - len(failed)
                if not failed:
                    return
            attempt += 1
            if attempt >= settings.retry_max_attempts:
                raise DeliveryFailed(
                    f"{len(failed)} records still failing after {attempt} attempts (last error: {last_problem})",
                    report,
                    detail=last_problem,
                )
            cap = min(settings.retry_max_backoff_ms, settings.retry_base_ms * (2**attempt))
            backoff_ms = self._rand() * cap  # full jitter
            if not self._time_for_attempt(deadline, backoff_ms):
                raise DeliveryFailed(
                    f"{len(failed)} records not accepted by Firehose before the deadline (last error: {last_problem})",
                    report,
                    detail=last_problem,
                )
            report.retries += 1
            self._sleep(backoff_ms / 1000)
            pending = failed


def _failed_records(pending: list[bytes], response: Mapping[str, Any]) -> tuple[list[bytes], str]:
    answers = response.get("RequestResponses")
    if not isinstance(answers, list) or len(answers) != len(pending):
        # Without a per-record answer we cannot know what landed: resend everything.
        return pending, "malformed PutRecordBatch response"
    failed: list[bytes] = []
    problem = ""
    for data, answer in zip(pending, answers, strict=True):
        if not isinstance(answer, Mapping) or answer.get("ErrorCode") or not answer.get("RecordId"):
            failed.append(data)
            if isinstance(answer, Mapping) and answer.get("ErrorCode"):
                problem = str(answer.get("ErrorCode"))
    if failed and not problem:
        problem = "records without RecordId"
    return failed, problem

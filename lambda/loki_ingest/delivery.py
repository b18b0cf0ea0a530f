"""Deliver packed batches to Firehose with PutRecordBatch, retrying only what failed.

API_PutRecordBatch: a call can succeed with FailedPutCount > 0; RequestResponses is in
request order and failed entries carry an ErrorCode. AWS advises resending only the failed
records. Whole-call throttling, 5xx and connection errors are retried the same way. All
retries use capped exponential backoff with full jitter and stop while there is still time
to answer: if anything is still unsent, DeliveryFailed becomes a 503 with Retry-After, so
the client (Promtail, Alloy, Stytch) retries the push. A 2xx is only ever sent when every
record has a RecordId.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from .config import Settings
from .errors import ServiceUnavailable

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


class FirehoseApi(Protocol):
    """The one Firehose call delivery needs (a boto3 firehose client satisfies it)."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Mapping[str, Any]: ...


class Deadline(Protocol):
    def remaining_ms(self) -> float: ...


class FixedDeadline(NamedTuple):
    """A deadline at an absolute monotonic time (tests, the local server)."""

    until: float
    clock: Callable[[], float] = time.monotonic

    def remaining_ms(self) -> float:
        return (self.until - self.clock()) * 1000


class LambdaDeadline(NamedTuple):
    context: Any

    def remaining_ms(self) -> float:
        return float(self.context.get_remaining_time_in_millis())


class DeliveryReport:
    __slots__ = ("bytes", "calls", "failed_records", "records", "retries")

    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0
        self.calls = 0
        self.retries = 0
        self.failed_records = 0  # per-record failures seen (and retried)


class DeliveryFailed(ServiceUnavailable):
    def __init__(self, message: str, report: DeliveryReport, *, retry_after: int = 1) -> None:
        super().__init__(message, retry_after=retry_after)
        self.report = report


def classify_exception(exc: BaseException) -> tuple[bool, str]:
    """(retryable, short description) for an exception raised by the client call."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        code = str(error.get("Code", "")) if isinstance(error, Mapping) else ""
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


class Deliverer:
    def __init__(
        self,
        client: FirehoseApi,
        stream_name: str,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._stream = stream_name
        self._settings = settings
        self._sleep = sleep
        self._rand = rand

    def deliver(self, batches: Sequence[Sequence[bytes]], deadline: Deadline) -> DeliveryReport:
        report = DeliveryReport()
        for batch in batches:
            self._deliver_batch(list(batch), deadline, report)
        return report

    def _time_for_attempt(self, deadline: Deadline, extra_ms: float = 0.0) -> bool:
        needed = self._settings.attempt_budget_ms + self._settings.deadline_safety_ms + extra_ms
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
                )
            report.calls += 1
            try:
                response = self._client.put_record_batch(
                    DeliveryStreamName=self._stream, Records=[{"Data": data} for data in pending]
                )
            except Exception as exc:
                retryable, last_problem = classify_exception(exc)
                if not retryable:
                    raise DeliveryFailed(f"Firehose rejected the batch: {last_problem}", report, retry_after=5) from exc
                failed = pending
            else:
                failed, last_problem = _failed_records(pending, response)
                delivered = len(pending) - len(failed)
                report.records += delivered
                report.bytes += sum(len(d) for d in pending) - sum(len(d) for d in failed)
                report.failed_records += len(failed)
                if not failed:
                    return
            attempt += 1
            if attempt >= settings.retry_max_attempts:
                raise DeliveryFailed(
                    f"{len(failed)} records still failing after {attempt} attempts (last error: {last_problem})",
                    report,
                )
            cap = min(settings.retry_max_backoff_ms, settings.retry_base_ms * (2**attempt))
            backoff_ms = self._rand() * cap  # full jitter
            if not self._time_for_attempt(deadline, backoff_ms):
                raise DeliveryFailed(
                    f"{len(failed)} records not accepted by Firehose before the deadline (last error: {last_problem})",
                    report,
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

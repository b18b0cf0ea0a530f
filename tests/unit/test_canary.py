"""The canary behind `make verify`: a line that lands intact passes, and everything else fails
with a message that says where it broke. The push goes through the real handler (over the
Firehose fake); S3 is a fake that serves what Firehose delivered, when the test says so."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from loki_canary import handler as canary_module
from loki_canary.handler import SERVICE_NAME, Canary, Result, Target, hour_prefixes, render_prefix
from loki_ingest.records import reader
from tests.conftest import PASSWORD, ROOT, USER, Harness, event
from tests.support import emf

PREFIX = "logs/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
START_NS = 1_767_229_190_000_000_000  # 2026-01-01T00:59:50Z: ten seconds before an hour boundary
TARGET = Target("http://127.0.0.1:9/loki/api/v1/push", USER, PASSWORD, "logs-bucket", PREFIX, 60)


@dataclass
class FakeS3:
    """Objects appear when `publish` says; listing and reads are recorded."""

    objects: dict[str, tuple[bytes, datetime.datetime]] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)

    def publish(self, key: str, data: bytes, written_s: float) -> None:
        self.objects[key] = (gzip.compress(data), datetime.datetime.fromtimestamp(written_s, datetime.UTC))

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, *, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
        assert Bucket == "logs-bucket"
        self.listed.append(Prefix)
        found = [{"Key": k, "LastModified": w} for k, (_, w) in sorted(self.objects.items()) if k.startswith(Prefix)]
        yield {"Contents": found} if found else {}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.read.append(Key)
        return {"Body": io.BytesIO(self.objects[Key][0])}


@dataclass
class Clock:
    now_ns: int = START_NS
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> int:
        return self.now_ns

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_ns += int(seconds * 1e9)


def key_at(seconds: float, name: str = "obj") -> str:
    return render_prefix(PREFIX, datetime.datetime.fromtimestamp(seconds, datetime.UTC)) + f"{name}.json.gz"


def make_canary(
    harness: Harness,
    s3: FakeS3,
    clock: Clock,
    *,
    deliver: Callable[[Canary, bytes], None] | None = None,
    answer: tuple[int | None, str] | None = None,
    **kwargs: Any,
) -> tuple[Canary, list[str]]:
    """A canary whose push goes through the real handler (or answers `answer`); `deliver` is
    called with what Firehose received, when the push succeeded."""
    lines: list[str] = []
    canary = Canary(TARGET, s3, progress=lines.append, clock_ns=clock, sleep=clock.sleep, **kwargs)

    def push(sent_ns: int) -> tuple[int | None, str]:
        if answer is not None:
            return answer
        result = harness(event(body=canary.body(sent_ns)))
        if deliver is not None and result["statusCode"] == 200:
            deliver(canary, b"".join(harness.firehose.delivered))
        return int(result["statusCode"]), str(result["body"])

    canary.push = push  # type: ignore[method-assign]
    return canary, lines


def later(s3: FakeS3, clock: Clock, after_s: float, key: str | None = None) -> Callable[[Canary, bytes], None]:
    """Deliver the data as one object written `after_s` seconds after the push, visible from then."""

    def deliver(canary: Canary, data: bytes) -> None:
        written = clock.now_ns / 1e9 + after_s
        original = clock.sleep

        def sleep(seconds: float) -> None:
            original(seconds)
            if clock.now_ns / 1e9 >= written and not s3.objects:
                s3.publish(key or key_at(written), data, written)

        canary.sleep = sleep

    return deliver


def test_a_line_that_lands_intact_passes_with_its_latency(harness: Harness) -> None:
    s3, clock = FakeS3(), Clock()
    canary, progress = make_canary(harness, s3, clock, deliver=later(s3, clock, 61.0))
    result = canary.run()
    assert result.ok, result.message
    assert result.key is not None and result.key in s3.read
    assert result.status == 200 and result.objects_read == 1
    assert 61.0 <= (result.found_after_s or 0) <= 61.0 + canary.poll_s
    assert result.written_after_s == 61.0
    assert progress[0].startswith("200 in ") and "Firehose buffers up to 60 s; giving up after 360 s" in progress[0]
    assert any(line.startswith("still waiting: ") for line in progress), progress


@pytest.mark.parametrize(
    ("pushed_after_s", "named_after_s"),
    [
        (20.0, -20.0),  # pushed at 01:00:10 into a buffer opened at 00:59:30: under hour=00
        (0.0, -55.0),  # same hour, the buffer opened 55 s before the push
        (20.0, 20.0),  # the first record of its object: the push's own hour
        (0.0, 61.0),  # named after the push (the clocks of S3 and this machine differ): still found
    ],
    ids=["older-record-previous-hour", "older-record-same-hour", "first-record", "clock-ahead-next-hour"],
)
def test_a_line_is_found_whichever_hour_its_object_is_named_for(
    harness: Harness, pushed_after_s: float, named_after_s: float
) -> None:
    """Firehose names an object for the arrival of its OLDEST record
    (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html), which can be in the
    hour before the push."""
    clock = Clock(START_NS + int(pushed_after_s * 1e9))
    s3 = FakeS3()
    named = key_at(clock.now_ns / 1e9 + named_after_s)
    canary, _ = make_canary(harness, s3, clock, deliver=later(s3, clock, 30.0, key=named))
    result = canary.run()
    assert result.ok, (result.message, s3.listed[:4])
    assert result.key == named


def test_a_line_that_never_lands_fails_after_the_buffer_interval_and_a_margin(harness: Harness) -> None:
    s3, clock = FakeS3(), Clock()
    canary, progress = make_canary(harness, s3, clock)
    result = canary.run()
    assert not result.ok and result.status == 200  # accepted, then lost: the silent failure
    assert result.message == "the line was not in s3://logs-bucket after 360 s (0 new objects read)"
    assert sum(clock.slept) == pytest.approx(canary_module.default_timeout(60))
    assert len([line for line in progress if line.startswith("still waiting")]) == 360 // 15 - 1


class Failing(FakeS3):
    """S3 answers every listing with an AWS error."""

    def paginate(self, *, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
        self.listed.append(Prefix)
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListObjectsV2")


def test_an_s3_error_is_a_failed_run_that_names_the_error_not_a_crash(harness: Harness) -> None:
    s3, clock = Failing(), Clock()
    canary, _ = make_canary(harness, s3, clock, deliver=later(s3, clock, 10.0))
    result = canary.run()
    assert not result.ok and result.status == 200
    assert result.message.startswith("cannot read s3://logs-bucket: ClientError AccessDenied"), result.message
    assert "s3:ListBucket" in result.message and s3.listed


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((401, '{"status":"error","message":"wrong credentials"}'), "the push failed: HTTP 401"),
        ((503, '{"status":"error","message":"delivery failed; retry later"}'), "the push failed: HTTP 503"),
        ((None, "Connection refused"), "the push failed: no answer Connection refused"),
    ],
    ids=["wrong-credentials", "unavailable", "nothing-listening"],
)
def test_a_refused_push_fails_at_once_without_reading_s3(
    harness: Harness, answer: tuple[int | None, str], message: str
) -> None:
    s3, clock = FakeS3(), Clock()
    canary, _ = make_canary(harness, s3, clock, answer=answer)
    result = canary.run()
    assert not result.ok and result.message.startswith(message)
    assert s3.listed == [] and clock.slept == []


def broken_copies() -> Iterator[Any]:
    def duplicate_key(stored: bytes) -> bytes:
        return stored.replace(b'{"timestamp":', b'{"id":"x","timestamp":', 1)

    def other_label(stored: bytes) -> bytes:
        return stored.replace(SERVICE_NAME.encode() + b'"}', b'other"}', 1)

    def other_time(stored: bytes) -> bytes:
        record = json.loads(stored)
        return stored.replace(record["timestamp_ns"].encode(), str(int(record["timestamp_ns"]) + 1).encode())

    yield pytest.param(duplicate_key, "it breaks the record invariant (duplicate key)", id="invariant-broken")
    yield pytest.param(other_label, "it does not give back what was pushed (labels differ)", id="labels-differ")
    yield pytest.param(other_time, "(timestamp_ns differ)", id="timestamp-differs")


@pytest.mark.parametrize(("corrupt", "message"), list(broken_copies()))
def test_a_stored_record_that_is_wrong_fails_with_what_is_wrong(
    harness: Harness, corrupt: Callable[[bytes], bytes], message: str
) -> None:
    s3, clock = FakeS3(), Clock()

    def deliver(canary: Canary, data: bytes) -> None:
        s3.publish(key_at(clock.now_ns / 1e9), corrupt(data), clock.now_ns / 1e9)

    canary, _ = make_canary(harness, s3, clock, deliver=deliver)
    result = canary.run()
    assert not result.ok
    assert result.message.startswith("the stored record is wrong: ") and message in result.message


def test_objects_written_before_the_push_and_other_lines_are_not_mistaken_for_it(harness: Harness) -> None:
    s3, clock = FakeS3(), Clock()
    s3.publish(key_at(START_NS / 1e9 - 30, "old"), b'{"old": true}\n', START_NS / 1e9 - 30)

    def deliver(canary: Canary, data: bytes) -> None:
        now = clock.now_ns / 1e9
        s3.publish(key_at(now, "a-unrelated"), harness.firehose.delivered[0].replace(b"canary", b"canarx"), now)
        s3.publish(key_at(now, "b-ours"), data, now)

    canary, _ = make_canary(harness, s3, clock, deliver=deliver)
    result = canary.run()
    assert result.ok, result.message
    assert result.key == key_at(START_NS / 1e9, "b-ours")
    assert key_at(START_NS / 1e9 - 30, "old") not in s3.read  # older than the push: never downloaded


HOUR_00 = "logs/year=2026/month=01/day=01/hour=00/"
HOUR_01 = "logs/year=2026/month=01/day=01/hour=01/"
PREFIX_CASES = [
    pytest.param(PREFIX, "00:30:00", "00:40:00", [HOUR_00], id="same-hour"),
    pytest.param(PREFIX, "00:59:50", "01:00:20", [HOUR_00, HOUR_01], id="across-the-hour"),
    pytest.param(PREFIX, "01:00:02", "01:00:10", [HOUR_00, HOUR_01], id="just-after-the-hour-clock-slack"),
    pytest.param("logs/", "00:30:00", "02:30:00", ["logs/"], id="no-expression"),
    pytest.param("raw/!{timestamp:yyyy-MM-dd'T'HH}/", "00:30:00", "00:40:00", ["raw/"], id="unknown-pattern-widens"),
    pytest.param("a/!{firehose:random-string}/", "00:30:00", "00:40:00", ["a/"], id="non-time-expression"),
]


@pytest.mark.parametrize(("prefix", "since", "now", "expected"), PREFIX_CASES)
def test_the_canary_lists_every_hour_partition_from_the_push_to_now(
    prefix: str, since: str, now: str, expected: list[str]
) -> None:
    def at(clock: str) -> float:
        return datetime.datetime.fromisoformat(f"2026-01-01T{clock}+00:00").timestamp()

    assert hour_prefixes(prefix, at(since), at(now)) == expected


class Flaky(FakeS3):
    """S3 fails the first `failures` calls of one kind with a transient error, then works."""

    def __init__(self, failures: int, where: str) -> None:
        super().__init__()
        self.failures = failures
        self.where = where

    def fail(self, where: str) -> None:
        if self.where == where and self.failures > 0:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, where)

    def paginate(self, *, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
        self.fail("ListObjectsV2")
        yield from super().paginate(Bucket=Bucket, Prefix=Prefix)

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.fail("GetObject")
        return super().get_object(Bucket=Bucket, Key=Key)


@pytest.mark.parametrize("where", ["ListObjectsV2", "GetObject"])
def test_a_transient_s3_error_is_retried_at_the_next_poll_not_a_failed_run(harness: Harness, where: str) -> None:
    s3, clock = Flaky(2, where), Clock()
    canary, _ = make_canary(harness, s3, clock, deliver=later(s3, clock, 10.0))
    result = canary.run()
    assert result.ok, result.message
    assert s3.failures == 0 and s3.read.count(result.key) == 1  # the failed read was not counted as read


def test_errors_that_persist_are_named_when_the_line_never_comes(harness: Harness) -> None:
    s3, clock = Flaky(10_000, "ListObjectsV2"), Clock()
    canary, _ = make_canary(harness, s3, clock)
    result = canary.run()
    assert not result.ok
    assert result.message.startswith("the line was not in s3://logs-bucket after 360 s (0 new objects read; ")
    assert "ClientError InternalError" in result.message and "s3:ListBucket" not in result.message


def test_a_foreign_or_truncated_object_is_skipped_and_the_line_still_found(harness: Harness) -> None:
    s3, clock = FakeS3(), Clock()

    def deliver(canary: Canary, data: bytes) -> None:
        now = clock.now_ns / 1e9
        truncated = gzip.compress(b"".join(b'{"n":%d}\n' % i for i in range(9999)))[:400]
        s3.objects[key_at(now, "a-truncated")] = (truncated, s3_time(now))
        s3.publish(key_at(now, "b-ours"), data, now)

    canary, _ = make_canary(harness, s3, clock, deliver=deliver)
    result = canary.run()
    assert result.ok and result.key == key_at(START_NS / 1e9, "b-ours"), result.message
    assert canary.trouble == [f"{key_at(START_NS / 1e9, 'a-truncated')} is unreadable (EOFError)"]


def test_a_record_whose_original_cannot_be_read_back_is_wrong_not_an_s3_error(harness: Harness) -> None:
    s3, clock = FakeS3(), Clock()

    def deliver(canary: Canary, data: bytes) -> None:
        record = json.loads(data)
        del record["stream"]
        s3.publish(key_at(clock.now_ns / 1e9), json.dumps(record).encode() + b"\n", clock.now_ns / 1e9)

    canary, _ = make_canary(harness, s3, clock, deliver=deliver)
    result = canary.run()
    assert result.message.startswith("the stored record is wrong: its original cannot be read back (KeyError"), result


def s3_time(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


class Skewed(FakeS3):
    """S3's clock is `skew_s` behind this machine's: its Date header and LastModified say so."""

    def __init__(self, skew_s: float, clock: Clock) -> None:
        super().__init__()
        self.skew_s, self.clock = skew_s, clock

    def paginate(self, *, Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:
        date = email.utils.format_datetime(s3_time(self.clock.now_ns / 1e9 - self.skew_s), usegmt=True)
        for page in super().paginate(Bucket=Bucket, Prefix=Prefix):
            yield {**page, "ResponseMetadata": {"HTTPHeaders": {"date": date}}}


def test_an_object_is_found_when_this_machine_runs_minutes_ahead_of_s3(harness: Harness) -> None:
    clock = Clock()
    s3 = Skewed(120.0, clock)

    def deliver(canary: Canary, data: bytes) -> None:
        written = clock.now_ns / 1e9 + 30 - 120  # 30 s after the push, by S3's clock
        s3.publish(key_at(written), data, written)

    canary, _ = make_canary(harness, s3, clock, deliver=deliver)
    result = canary.run()
    assert result.ok, result.message
    assert canary.skew_s == pytest.approx(-120.0, abs=1.0) and result.written_after_s == pytest.approx(30.0, abs=1.0)


def test_a_short_wait_still_lists_the_hour_a_buffer_opened_in(harness: Harness) -> None:
    """VERIFY_TIMEOUT below the buffer interval: the object can still be named for a record
    from the previous hour."""
    clock = Clock(START_NS + 180 * 10**9)  # 01:02:50
    s3 = FakeS3()
    named = key_at(START_NS / 1e9 - 200)  # the buffer opened at 00:56:30
    canary, _ = make_canary(harness, s3, clock, deliver=later(s3, clock, 5.0, key=named), timeout_s=30)
    assert canary.run().ok


def test_the_timeout_follows_the_buffer_interval() -> None:
    assert canary_module.default_timeout(60) == 360 and canary_module.default_timeout(300) == 600
    assert Canary(TARGET._replace(buffer_interval_s=900), FakeS3()).timeout_s == 1200
    assert Canary(TARGET, FakeS3(), timeout_s=5).timeout_s == 5
    assert Canary(TARGET, FakeS3(), timeout_s=0.0).timeout_s == 0.0


def test_the_canary_waits_as_long_as_the_freshness_alarm_calls_on_time() -> None:
    """Otherwise the canary pages "did not reach S3" for a delivery the freshness alarm still
    counts as healthy."""
    text = (ROOT / "modules" / "loki-ingest" / "monitoring.tf").read_text()
    (margin,) = re.findall(r"var\.firehose_buffering_interval_seconds \+ (\d+)\)", text)
    assert float(margin) == canary_module.MARGIN_S


def gzip_members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(part) for part in parts)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}\n{"b":2}\n',
        b'{"a":1}\n\n{"b":2}',  # an empty line, no final newline
        gzip.compress(b'{"a":1}\n{"b":2}\n'),
        gzip_members(b'{"a":1}\n', b'{"b":2}\n'),  # Firehose may append members
        gzip_members(b'{"a":1}\n{"b', b'":2}\n'),  # a line across members
    ],
    ids=["ndjson", "ragged", "gzip", "gzip-members", "line-across-members"],
)
def test_objects_are_read_as_streams_with_the_same_lines_as_whole(data: bytes) -> None:
    expected = [b'{"a":1}\n', b'{"b":2}\n']
    assert list(reader.stored_lines(data)) == expected
    assert list(reader.stored_lines(io.BufferedReader(io.BytesIO(data), 3))) == expected


def test_the_line_is_json_marked_and_labelled_for_filtering() -> None:
    canary = Canary(TARGET, FakeS3())
    body = json.loads(canary.body(START_NS))
    (stream,) = body["streams"]
    assert stream["stream"] == {"service_name": SERVICE_NAME}
    ((timestamp, line),) = stream["values"]
    assert timestamp == str(START_NS)
    assert json.loads(line) == {"canary": canary.marker, "sent_at": "2026-01-01T00:59:50.000+00:00"}
    assert canary.marker.startswith(SERVICE_NAME) and canary.marker != Canary(TARGET, FakeS3()).marker


def test_result_is_a_plain_record() -> None:
    assert Result(True, "m", "x")._asdict()["objects_read"] == 0


# --- the scheduled canary's entry point ------------------------------------------------------------


class Secrets:
    def get_secret_value(self, *, SecretId: str) -> dict[str, str]:
        assert SecretId == "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"
        return {"SecretString": json.dumps({"username": USER, "password": PASSWORD})}


class Context:
    def __init__(self, remaining_s: float) -> None:
        self.remaining_s = remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_s * 1000)


SCHEDULED_ENV = {
    "CANARY_PUSH_URL": TARGET.push_url,
    "CANARY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    "CANARY_BUCKET": TARGET.bucket,
    "CANARY_S3_PREFIX": PREFIX,
    "CANARY_BUFFER_INTERVAL_SECONDS": "60",
    "CANARY_FUNCTION_NAME": "loki-ingest-prod",
}


@pytest.mark.parametrize("lands", [True, False], ids=["landed", "lost"])
def test_the_scheduled_canary_reports_success_and_latency_in_emf(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lands: bool
) -> None:
    for key, value in SCHEDULED_ENV.items():
        monkeypatch.setenv(key, value)
    s3 = FakeS3()

    def push(self: Canary, sent_ns: int) -> tuple[int | None, str]:
        assert (self.target.username, self.target.password, self.target.s3_prefix) == (USER, PASSWORD, PREFIX)
        result = harness(event(body=self.body(sent_ns)))
        if lands:
            s3.publish(key_at(sent_ns / 1e9), b"".join(harness.firehose.delivered), sent_ns / 1e9)
        return int(result["statusCode"]), ""

    monkeypatch.setattr(Canary, "push", push)
    capsys.readouterr()
    # 16 s left: the canary stops waiting 15 s before the invocation's end.
    answer = canary_module.handler({}, Context(16.0), clients={"secretsmanager": Secrets(), "s3": s3}.__getitem__)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["ok"] is lands
    assert emf.problems(json.dumps(line)) == []
    values = emf.metric_values(line)
    function = (("FunctionName", "loki-ingest-prod"),)
    assert values[("CanarySuccess", function)] == int(lands)
    assert ("CanaryLatency" in line) is lands
    assert set(values) == {("CanarySuccess", function)}  # the one custom metric the canary alarm reads
    assert line["level"] == ("INFO" if lands else "ERROR")
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LokiIngest"
    assert line["message"] == ("canary landed" if lands else "canary failed")
    if not lands:
        assert answer["message"] == "the line was not in s3://logs-bucket after 1 s (0 new objects read)"


class NoSecrets:
    def get_secret_value(self, *, SecretId: str) -> dict[str, str]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")


@pytest.mark.parametrize(
    ("clients", "remaining_s", "message"),
    [
        ({"secretsmanager": NoSecrets()}, 300.0, "cannot read the credentials: ClientError AccessDeniedException"),
        (
            {"secretsmanager": Secrets(), "s3": Failing()},
            300.0,
            "cannot read s3://logs-bucket: ClientError AccessDenied",
        ),
        ({"secretsmanager": Secrets(), "s3": FakeS3()}, 10.0, "the line was not in s3://logs-bucket after 0 s"),
        ({"secretsmanager": Secrets()}, 300.0, "the canary failed: KeyError"),  # no S3 client: any crash
    ],
    ids=["secret-denied", "bucket-denied", "no-time-left", "crash"],
)
def test_every_failed_scheduled_run_reports_zero_instead_of_raising(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clients: dict[str, Any],
    remaining_s: float,
    message: str,
) -> None:
    """A run that raises reports nothing, and Lambda retries it (asynchronous invoke): the
    alarm would only see the gap."""
    for key, value in SCHEDULED_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(
        Canary, "push", lambda self, sent_ns: (int(harness(event(body=self.body(sent_ns)))["statusCode"]), "")
    )
    capsys.readouterr()
    answer = canary_module.handler({}, Context(remaining_s), clients=clients.__getitem__)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["ok"] is False and answer["message"].startswith(message), answer
    assert emf.metric_values(line)[("CanarySuccess", (("FunctionName", "loki-ingest-prod"),))] == 0


def test_the_scheduled_canary_waits_as_configured(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**SCHEDULED_ENV, "CANARY_WAIT_SECONDS": "42"}.items():
        monkeypatch.setenv(key, value)
    waits: list[float] = []
    monkeypatch.setattr(Canary, "run", lambda self: waits.append(self.timeout_s) or Result(False, "", "x"))
    clients = {"secretsmanager": Secrets(), "s3": FakeS3()}.__getitem__
    canary_module.handler({}, Context(900.0), clients=clients)
    canary_module.handler({}, Context(30.0), clients=clients)  # 15 s kept to report
    canary_module.handler({}, None, clients=clients)
    assert waits == [42.0, 15.0, 42.0]

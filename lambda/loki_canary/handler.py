"""The canary: push one uniquely marked line with the deployment's real credentials and prove
it reached S3 intact.

A 200 only says Firehose accepted the records. A KMS or bucket policy mistake, a deleted
bucket or throttling breaks the rest of the way silently, so the canary follows the line to
the bucket: it pushes a JSON line carrying a random marker, then reads every object Firehose
writes after the push, under the partitions of every hour the object can be named for, until a
record holds the marker, waiting up to the stream's buffer interval and a margin. The record must keep the
invariant of docs/record-format.md (`reader.parse`) and give back the exact pushed line, labels
and timestamp (`reader.original_line`).

`make verify` runs it against the local stack or a deployment on AWS (local/tools/verify.py); the
module's optional scheduled canary (modules/loki-ingest/canary.py, off by default) runs it in
its own Lambda function (`handler` below) and reports CanarySuccess in Embedded Metric Format,
which an alarm watches (CanaryLatency beside it, as a plain field). The push handler never imports this module.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import gzip
import http.client
import json
import math
import os
import re
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from loki_ingest.errors import aws_error_code
from loki_ingest.observability import metrics
from loki_ingest.records import reader

SERVICE_NAME = "loki-ingest-canary"  # the stream label of every canary line, to filter them out
#: Beyond the buffer interval: the S3 write, the listing's own delay, a slow first invocation.
#: The same margin as the module's freshness alarm (monitoring.tf, checked by test_canary.py),
#: so the canary never reports a delivery the alarm still counts as on time.
MARGIN_S = 300.0
#: S3 reports LastModified to the second, and the clocks of this machine and S3 differ a little.
CLOCK_SLACK_S = 5.0
_TIMESTAMP = re.compile(r"!\{timestamp:([^}]*)\}")
_JAVA_TIME = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H")]


class Target(NamedTuple):
    """A deployment, as its Terraform outputs and its secret describe it."""

    push_url: str
    username: str
    password: str
    bucket: str
    s3_prefix: str  # the Firehose prefix, with its !{timestamp:...} expressions
    buffer_interval_s: int


class Result(NamedTuple):
    ok: bool
    marker: str
    message: str  # what happened, in one line
    status: int | None = None
    push_ms: float | None = None
    found_after_s: float | None = None  # push to the record read back (includes the polling)
    written_after_s: float | None = None  # push to the object's LastModified (1 s resolution)
    key: str | None = None
    objects_read: int = 0


#: AWS error codes that waiting cannot cure: the canary's role or the key refuses it.
_REFUSALS = re.compile(r"AccessDenied|KMS|NoSuchBucket|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken")


class Denied(Exception):
    """S3 or KMS refuses the canary: the run fails at once."""


class Broken(Exception):
    """The canary's record is in S3 but wrong: it breaks the invariant or does not give back
    what was pushed."""


class Canary:
    """One run. `progress` gets a line now and then while it waits."""

    def __init__(
        self,
        target: Target,
        s3: Any,
        *,
        timeout_s: float | None = None,
        poll_s: float = 2.0,
        progress: Callable[[str], None] = lambda _line: None,
        progress_every_s: float = 15.0,
        clock_ns: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.s3 = s3
        self.timeout_s = timeout_s if timeout_s is not None else default_timeout(target.buffer_interval_s)
        self.poll_s = poll_s
        self.progress = progress
        self.progress_every_s = progress_every_s
        self.clock_ns = clock_ns
        self.sleep = sleep
        self.marker = f"{SERVICE_NAME}-{uuid.uuid4().hex}"
        self.seen: set[str] = set()
        self.trouble: list[str] = []  # S3 errors and unreadable objects met while waiting
        self.skew_s = 0.0  # S3's clock minus ours, from the first listing's Date header
        self.skew_measured = False

    # --- the push ---------------------------------------------------------------------------

    def line(self, sent_ns: int) -> bytes:
        sent = datetime.datetime.fromtimestamp(sent_ns / 1e9, datetime.UTC).isoformat(timespec="milliseconds")
        return json.dumps({"canary": self.marker, "sent_at": sent}, separators=(",", ":")).encode()

    def body(self, sent_ns: int) -> bytes:
        stream = {"stream": {"service_name": SERVICE_NAME}, "values": [[str(sent_ns), self.line(sent_ns).decode()]]}
        return json.dumps({"streams": [stream]}).encode()

    def push(self, sent_ns: int) -> tuple[int | None, str]:
        token = base64.b64encode(f"{self.target.username}:{self.target.password}".encode()).decode()
        request = urllib.request.Request(
            self.target.push_url,
            data=self.body(sent_ns),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), ""
        except urllib.error.HTTPError as error:
            # Our error bodies are short JSON in our own words (handler.py); show the message.
            text = error.read(2000).decode("utf-8", "replace")
            return int(error.code), text
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
            return None, str(getattr(error, "reason", error))

    # --- the wait ---------------------------------------------------------------------------

    def clock(self) -> float:
        return self.clock_ns() / 1e9

    def run(self) -> Result:
        sent_ns = self.clock_ns()
        started = sent_ns / 1e9
        status, answer = self.push(sent_ns)
        push_ms = round((self.clock() - started) * 1000, 1)
        if status not in (200, 204):
            reason = f"HTTP {status}" if status is not None else "no answer"
            return Result(False, self.marker, f"the push failed: {reason} {answer}".strip(), status, push_ms)
        self.progress(
            f"{status} in {push_ms:.0f} ms; waiting for the line in s3://{self.target.bucket}/"
            f"{folder(self.target.s3_prefix)} (Firehose buffers up to {self.target.buffer_interval_s} s; "
            f"giving up after {self.timeout_s:.0f} s)"
        )
        deadline = started + self.timeout_s
        next_progress = started + self.progress_every_s
        while True:
            try:
                found = self.look(sent_ns, deadline)
            except Broken as exc:
                return Result(False, self.marker, f"the stored record is wrong: {exc}", status, push_ms)
            except Denied as exc:  # waiting cannot help
                return Result(False, self.marker, str(exc), status, push_ms, objects_read=len(self.seen))
            now = self.clock()
            if found is not None:
                key, written = found
                return Result(
                    True,
                    self.marker,
                    f"landed in s3://{self.target.bucket}/{key}",
                    status,
                    push_ms,
                    found_after_s=round(now - started, 2),
                    written_after_s=round(max(0.0, written - self.skew_s - sent_ns / 1e9), 1),
                    key=key,
                    objects_read=len(self.seen),
                )
            if now >= deadline:
                trouble = f"; {'; '.join(self.trouble[-3:])}" if self.trouble else ""
                return Result(
                    False,
                    self.marker,
                    f"the line was not in s3://{self.target.bucket} after {self.timeout_s:.0f} s "
                    f"({len(self.seen)} new objects read{trouble})",
                    status,
                    push_ms,
                    objects_read=len(self.seen),
                )
            if now >= next_progress:
                self.progress(
                    f"still waiting: {now - started:.0f} s of up to {self.timeout_s:.0f} s, "
                    f"{len(self.seen)} new objects read so far"
                )
                next_progress += self.progress_every_s
            self.sleep(min(self.poll_s, max(0.0, deadline - now)))

    def look(self, sent_ns: int, deadline: float = math.inf) -> tuple[str, float] | None:
        """(key, LastModified) of the object holding the canary's record, once it exists. An S3
        error that waiting may cure (throttling, a dropped connection, an object deleted since
        the listing) is noted and the next poll tries again; a refusal raises Denied."""
        sent_s = sent_ns / 1e9
        # Firehose names an object for the arrival of its OLDEST record, which can be a buffer
        # (and the delivery's delays) older than ours: list from that far back. Only objects
        # written after the push are read.
        # https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html
        since_s = sent_s - max(self.timeout_s, default_timeout(self.target.buffer_interval_s))
        try:
            for prefix in hour_prefixes(self.target.s3_prefix, since_s, self.clock()):
                for obj in self.objects(prefix):
                    key = obj["Key"]
                    written = obj["LastModified"].timestamp()
                    # LastModified is S3's clock; sent_s is ours (skew_s from the listing's Date).
                    if key in self.seen or written - self.skew_s < sent_s - CLOCK_SLACK_S:
                        continue
                    if self.read(key, sent_ns):
                        return key, written
                    if self.clock() >= deadline:  # a poll reading large objects stops in time to report
                        return None
        except Broken:
            raise
        except Exception as exc:  # noqa: BLE001 - the canary reports every failure, it never dies of one
            self.note(exc)
        return None

    def read(self, key: str, sent_ns: int) -> bool:
        """Whether the object holds the canary's record. An object that is not gzip or NDJSON
        (a foreign or truncated file) is skipped, and said at the end if the line never came."""
        body = self.s3.get_object(Bucket=self.target.bucket, Key=key)["Body"]
        try:  # streamed: an object holds up to 128 MiB of buffer, the canary has 256 MB
            found = self.holds_the_line(reader.stored_lines(body), sent_ns)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # the object itself, not S3
            self.trouble.append(f"{key} is unreadable ({type(exc).__name__})")
            found = False
        finally:
            body.close()
        self.seen.add(key)  # read to the end: not read again (a failed read is, next poll)
        return found

    def note(self, exc: BaseException) -> None:
        code = aws_error_code(exc)
        why = f"cannot read s3://{self.target.bucket}: {describe(exc)}"
        if _REFUSALS.search(code):
            raise Denied(f"{why} (the canary needs s3:ListBucket, s3:GetObject and kms:Decrypt)") from None
        self.trouble.append(why)

    def objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.target.bucket, Prefix=prefix):
            date = page.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
            if date and not self.skew_measured:
                self.skew_s = email.utils.parsedate_to_datetime(date).timestamp() - self.clock()
                self.skew_measured = True
            yield from page.get("Contents", [])

    def holds_the_line(self, stored_lines: Iterable[bytes], sent_ns: int) -> bool:
        """Whether one of the lines is the canary's record; Broken if it is there but wrong."""
        marker = self.marker.encode()
        for stored in stored_lines:
            if marker not in stored:
                continue
            try:
                record = reader.parse(stored)  # the invariant: strict JSON, one object, UTF-8, ...
            except reader.NotARecord as exc:
                raise Broken(f"it breaks the record invariant ({exc})") from None
            expected = {
                "line": self.line(sent_ns),
                "labels": [(b"service_name", SERVICE_NAME.encode())],
                "timestamp_ns": str(sent_ns),
                "format": "json",
            }
            try:
                actual = {
                    "line": reader.original_line(stored),
                    "labels": reader.original_labels(stored),
                    "timestamp_ns": record.get("timestamp_ns"),
                    "format": record.get("format"),
                }
            except (reader.NotARecord, KeyError, TypeError, ValueError, IndexError) as exc:
                raise Broken(f"its original cannot be read back ({type(exc).__name__}: {str(exc)[:200]})") from None
            if actual != expected:
                differing = sorted(name for name in expected if expected[name] != actual[name])
                raise Broken(f"it does not give back what was pushed ({', '.join(differing)} differ)")
            return True
        return False


def default_timeout(buffer_interval_s: int) -> float:
    return buffer_interval_s + MARGIN_S


def literal_prefix(s3_prefix: str) -> str:
    """The part of a Firehose prefix before its first expression."""
    return s3_prefix.split("!{", 1)[0]


def folder(s3_prefix: str) -> str:
    """The last whole folder before the prefix's first expression ("logs/" of "logs/year=!{...}")."""
    literal = literal_prefix(s3_prefix)
    return literal[: literal.rfind("/") + 1]


def render_prefix(s3_prefix: str, when: datetime.datetime) -> str:
    """A Firehose prefix with its !{timestamp:...} expressions evaluated at `when` (UTC), for
    the patterns the module uses (yyyy, MM, dd, HH); an expression it cannot evaluate ends the
    prefix there, which only widens the listing."""
    out = []
    position = 0
    for match in _TIMESTAMP.finditer(s3_prefix):
        out.append(s3_prefix[position : match.start()])
        directives = match.group(1)
        for java, directive in _JAVA_TIME:
            directives = directives.replace(java, directive)
        if re.search(r"[A-Za-z]", re.sub(r"%[YmdH]", "", directives)):
            return "".join(out)
        out.append(when.strftime(directives))
        position = match.end()
    rest = s3_prefix[position:]
    return "".join(out) + literal_prefix(rest)


def hour_prefixes(s3_prefix: str, since_s: float, now_s: float) -> list[str]:
    """The prefixes of every hour from `since_s` to now."""
    hour = datetime.datetime.fromtimestamp(since_s - CLOCK_SLACK_S, datetime.UTC).replace(
        minute=0, second=0, microsecond=0
    )
    last = datetime.datetime.fromtimestamp(now_s + CLOCK_SLACK_S, datetime.UTC)
    prefixes: list[str] = []
    while hour <= last:
        prefix = render_prefix(s3_prefix, hour)
        if prefix not in prefixes:
            prefixes.append(prefix)
        hour += datetime.timedelta(hours=1)
    return prefixes


# --- the scheduled canary's Lambda entry point ------------------------------------------------

#: Left of the invocation when the canary stops waiting, to write its result before the timeout.
RESERVE_S = 15.0


def describe(exc: BaseException) -> str:
    """An exception in one line: the AWS error code when there is one."""
    code = aws_error_code(exc)
    return f"{type(exc).__name__} {code}".strip() if code else f"{type(exc).__name__}: {str(exc)[:200]}"


def scheduled_target(env: Mapping[str, str], secrets: Any) -> Target:
    """The deployment as the module describes it to the canary function (canary.tf)."""
    secret = json.loads(secrets.get_secret_value(SecretId=env["CANARY_SECRET_ARN"])["SecretString"])
    return Target(
        push_url=env["CANARY_PUSH_URL"],
        username=str(secret["username"]),
        password=str(secret["password"]),
        bucket=env["CANARY_BUCKET"],
        s3_prefix=env["CANARY_S3_PREFIX"],
        buffer_interval_s=int(env["CANARY_BUFFER_INTERVAL_SECONDS"]),
    )


def report_line(result: Result, function: str, timestamp_ms: int) -> dict[str, Any]:
    """The run's log line, with CanarySuccess (1 or 0) in Embedded Metric Format, dimensioned by
    the push function's name like the handler's metrics. CanaryLatency (ms, when it landed) is a
    plain field: no alarm or graph reads it, and every custom metric is billed ($0.30 a month)."""
    defined = [{"Name": "CanarySuccess", "Unit": "Count"}]
    values: dict[str, Any] = {"CanarySuccess": int(result.ok)}
    if result.found_after_s is not None:
        values["CanaryLatency"] = round(result.found_after_s * 1000)
    directive = {"Namespace": metrics.NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": defined}
    return {
        "timestamp": datetime.datetime.fromtimestamp(timestamp_ms / 1000, datetime.UTC).isoformat(
            timespec="milliseconds"
        ),
        # Lambda's JSON log format filters on "level" (observability.py): a failure is an ERROR.
        "level": "INFO" if result.ok else "ERROR",
        "logger": "loki_canary.handler",
        "message": "canary landed" if result.ok else "canary failed",
        "detail": result.message,
        **{key: value for key, value in result._asdict().items() if key not in ("ok", "message")},
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]},
        "FunctionName": function,
        **values,
    }


def aws_client(service: str) -> Any:
    import boto3  # noqa: PLC0415 - the AWS edge; keeps `import loki_canary.handler` light for make verify's tests

    return boto3.client(service)  # type: ignore[call-overload]


def handler(event: Any, context: Any, *, clients: Callable[[str], Any] = aws_client) -> dict[str, Any]:
    """Scheduled by EventBridge: one canary run, its result as one JSON line on stdout."""
    env = os.environ
    try:
        target = scheduled_target(env, clients("secretsmanager"))
    except Exception as exc:  # noqa: BLE001 - reported as a failed run (CanarySuccess 0), not retried
        result = Result(False, "", f"cannot read the credentials: {describe(exc)}")
    else:
        try:
            wait = float(env.get("CANARY_WAIT_SECONDS") or default_timeout(target.buffer_interval_s))
            if context is not None:  # stop in time to report
                wait = max(0.0, min(wait, context.get_remaining_time_in_millis() / 1000 - RESERVE_S))
            result = Canary(target, clients("s3"), timeout_s=wait, poll_s=5.0).run()
        except Exception as exc:  # noqa: BLE001 - same: a run that dies reports 0 and why
            result = Result(False, "", f"the canary failed: {describe(exc)}")
    line = report_line(result, env["CANARY_FUNCTION_NAME"], int(time.time() * 1000))
    print(json.dumps(line, separators=(",", ":")), flush=True)
    return {"ok": result.ok, "message": result.message}

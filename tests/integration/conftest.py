"""The real handler with real boto3 clients against a moto server, plus fault injection at
the boto3 layer (botocore before-send hooks)."""

from __future__ import annotations

import base64
import io
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from local.state import emulator_client, emulator_env
from local.tools.logs import read_records
from loki_ingest.delivery.sink import FixedDeadline
from loki_ingest.handler import App
from tests.conftest import PASSWORD, USER

REGION = "us-east-1"


class _Raw:
    """The raw-body object botocore reads an AWSResponse from."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._io.read()

    def read(self, *args: Any) -> bytes:
        return self._io.read(*args)


def aws_response(
    request: Any, status: int, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> AWSResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    merged = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
    return AWSResponse(request.url, status, merged, _Raw(data))


client = emulator_client


@dataclass
class Stack:
    """A bucket, a Firehose stream into it and the auth secret, created in moto."""

    endpoint: str
    bucket: str
    stream: str
    secret_arn: str

    def s3(self) -> Any:
        return client("s3", self.endpoint)

    def lines(self) -> list[bytes]:
        """Every NDJSON line in the bucket (gunzipped when compressed)."""
        return [line + b"\n" for _, line in read_records(self.s3(), self.bucket)]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]


@pytest.fixture
def stack(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    suffix = uuid.uuid4().hex[:10]
    for key, value in emulator_env(moto_endpoint).items():
        monkeypatch.setenv(key, value)
    s3 = client("s3", moto_endpoint)
    bucket = f"it-{suffix}"
    s3.create_bucket(Bucket=bucket)
    iam = client("iam", moto_endpoint)
    role = iam.create_role(RoleName=f"fh-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    firehose = client("firehose", moto_endpoint)
    stream = f"it-{suffix}"
    firehose.create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": role, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "logs/"},
    )
    secret = client("secretsmanager", moto_endpoint).create_secret(
        Name=f"it-{suffix}", SecretString=json.dumps({"username": USER, "password": PASSWORD})
    )
    return Stack(moto_endpoint, bucket, stream, secret["ARN"])


def settings_env(stack: Stack, **overrides: str) -> dict[str, str]:
    return {
        "FIREHOSE_DELIVERYSTREAM_NAME": stack.stream,
        "AUTH_SECRET_ARN": stack.secret_arn,
        "RETRY_BASE_MS": "1",
        "RETRY_MAX_BACKOFF_MS": "5",
        **overrides,
    }


@dataclass
class Harness:
    app: App
    stack: Stack
    remaining_s: float = 15.0

    def __call__(self, event: dict[str, Any], remaining_s: float | None = None) -> dict[str, Any]:
        budget = self.remaining_s if remaining_s is None else remaining_s
        return self.app.handle_event(event, FixedDeadline(time.monotonic() + budget))


@pytest.fixture
def make_harness(stack: Stack) -> Callable[..., Harness]:
    def factory(**overrides: str) -> Harness:
        return Harness(App.from_environment(settings_env(stack, **overrides)), stack)

    return factory


@dataclass
class PartialFailures:
    """before-send hook for PutRecordBatch: each record fails with probability `rate`
    (ServiceUnavailableException / InternalFailure); the others are really delivered to
    moto through an unhooked client, and get their RecordId back."""

    endpoint: str
    rate: float
    seed: int = 1
    injected: int = 0
    delivered: int = 0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._forward = client("firehose", self.endpoint)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body)
        with self._lock:
            self.calls += 1
            fails = [self._rng.random() < self.rate for _ in body["Records"]]
        passing = [base64.b64decode(r["Data"]) for r, fail in zip(body["Records"], fails, strict=True) if not fail]
        ids: list[str] = []
        if passing:
            answer = self._forward.put_record_batch(
                DeliveryStreamName=body["DeliveryStreamName"], Records=[{"Data": d} for d in passing]
            )
            ids = [r["RecordId"] for r in answer["RequestResponses"]]
        responses = []
        for fail in fails:
            if fail:
                code = "ServiceUnavailableException" if len(responses) % 2 else "InternalFailure"
                responses.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                responses.append({"RecordId": ids.pop(0)})
        with self._lock:
            self.injected += sum(fails)
            self.delivered += len(passing)
        return aws_response(
            request, 200, {"FailedPutCount": sum(fails), "Encrypted": False, "RequestResponses": responses}
        )


def firehose_of(app: App) -> Any:
    return app.sink._api  # type: ignore[attr-defined]


def secrets_of(app: App) -> Any:
    return app.auth._source._client  # type: ignore[attr-defined]

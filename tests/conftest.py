"""Shared fixtures: settings, fakes for the AWS edges, and function URL events per kind."""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.emulator.control import free_port, spawn, stop_process
from local.runtime.adapter import build_event
from loki_ingest.auth.authenticator import SecretVersion
from loki_ingest.delivery.firehose import FirehoseSink
from loki_ingest.delivery.sink import FixedDeadline
from loki_ingest.handler import App
from loki_ingest.settings import Settings
from tests.support.logproto import protobuf_push

# Keep botocore and the X-Ray SDK from reaching out or complaining during unit tests.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
os.environ.setdefault("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")

ROOT = Path(__file__).resolve().parent.parent
USER = "stytch-logs-ingestion"
PASSWORD = "s3cretPassw0rd"
NOW_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
EVENTS_DIR = Path(__file__).parent / "events"


def terraform_env(data_dir: Path) -> dict[str, str]:
    """Environment for terraform subprocesses: the CLI config `make tfrc` writes (offline
    provider mirror) unless a usable one is configured, and a private data dir."""
    env = dict(os.environ)
    configured = env.get("TF_CLI_CONFIG_FILE")
    ours = ROOT / ".tfcli" / "terraformrc"
    if (not configured or not Path(configured).exists()) and ours.exists():
        env["TF_CLI_CONFIG_FILE"] = str(ours)
    env.update({"TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
    return env


FIGURES = ROOT / "build" / "test-figures.jsonl"


def record_figures(name: str, figures: Mapping[str, Any]) -> None:
    """Print figures a test measured and append them to build/test-figures.jsonl, which
    `make test` and `make soak` print at the end (pytest hides stdout of passing tests)."""
    line = json.dumps({"test": name, **figures})
    print(line)
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES.open("a") as out:
        out.write(line + "\n")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-soak", action="store_true", default=False, help="run the long soak variants (make soak)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-soak"):
        return
    skip = pytest.mark.skip(reason="long variant: run with `make soak`")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_settings(**overrides: Any) -> Settings:
    return Settings.defaults(
        firehose_stream_name="test-stream", auth_secret_arn="arn:aws:secretsmanager:::secret:test"
    ).replace(**overrides)


@dataclass
class FakeFirehose:
    """Records PutRecordBatch calls; `script` decides per call what fails.

    script(call_index, records) -> None (all succeed) | list of error codes/None per record |
    an exception to raise.
    """

    script: Callable[[int, list[dict[str, bytes]]], Any] | None = None
    status: str = "ACTIVE"
    calls: list[list[bytes]] = field(default_factory=list)
    delivered: list[bytes] = field(default_factory=list)

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> Mapping[str, Any]:
        index = len(self.calls)
        self.calls.append([r["Data"] for r in Records])
        outcome = self.script(index, Records) if self.script else None
        if isinstance(outcome, BaseException):
            raise outcome
        codes: Sequence[str | None] = outcome if outcome is not None else [None] * len(Records)
        answers = []
        for number, (record, code) in enumerate(zip(Records, codes, strict=True)):
            if code:
                answers.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                self.delivered.append(record["Data"])
                answers.append({"RecordId": f"{index}-{number}"})
        return {"FailedPutCount": sum(1 for c in codes if c), "Encrypted": False, "RequestResponses": answers}

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> Mapping[str, Any]:
        return {
            "DeliveryStreamDescription": {"DeliveryStreamName": DeliveryStreamName, "DeliveryStreamStatus": self.status}
        }

    def lines(self) -> list[bytes]:
        """Every NDJSON line delivered, in order."""
        return [line + b"\n" for data in self.delivered for line in data.split(b"\n") if line]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]


@dataclass
class FakeSecrets:
    """Secrets Manager stand-in with version stages and fault injection.

    A version is its value and creation time (its VersionId is derived from both), so moving
    a stage back to an older version gives that version's id and CreatedDate again."""

    current: str = field(default_factory=lambda: json.dumps({"username": USER, "password": PASSWORD}))
    previous: str | None = None
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    fail: BaseException | None = None
    fetches: list[str] = field(default_factory=list)
    #: AWSPREVIOUS's CreatedDate; None: 30 days before AWSCURRENT's.
    previous_created: datetime.datetime | None = None

    def fetch(self, stage: str) -> SecretVersion | None:
        self.fetches.append(stage)
        if self.fail is not None:
            raise self.fail
        if stage == "AWSCURRENT":
            return SecretVersion(self.current, self.created, _version_id(self.current, self.created))
        if stage == "AWSPREVIOUS" and self.previous is not None:
            created = self.previous_created or self.created - datetime.timedelta(days=30)
            return SecretVersion(self.previous, created, _version_id(self.previous, created))
        return None

    def rotate(self, password: str) -> None:
        self.promote(json.dumps({"username": USER, "password": password}), datetime.datetime.now(datetime.UTC))

    def promote(self, value: str, created: datetime.datetime) -> None:
        """update-secret-version-stage: AWSCURRENT moves to the version (value, created), which
        may have been created long before (staged earlier, or an old one: a rollback), and
        AWSPREVIOUS to the version it left."""
        self.previous, self.previous_created = self.current, self.created
        self.current, self.created = value, created


def _version_id(value: str, created: datetime.datetime) -> str:
    return hashlib.sha256(f"{created.isoformat()}\n{value}".encode()).hexdigest()[:32]


@pytest.fixture
def firehose() -> FakeFirehose:
    return FakeFirehose()


@pytest.fixture
def secrets() -> FakeSecrets:
    return FakeSecrets()


@dataclass
class Harness:
    app: App
    firehose: FakeFirehose
    secrets: FakeSecrets
    remaining_s: float = 15.0

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.app.handle_event(event, FixedDeadline(time.monotonic() + self.remaining_s))

    def json(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        result = self(event)
        body = result["body"]
        return result["statusCode"], (json.loads(body) if body else {})


def new_app(firehose: FakeFirehose | None = None, secrets: FakeSecrets | None = None, **overrides: Any) -> App:
    """The real App over the fakes, with no real backoff sleeps."""
    settings = make_settings(**{"retry_base_ms": 1, "retry_max_backoff_ms": 2, **overrides})
    sink = FirehoseSink(firehose or FakeFirehose(), settings, sleep=lambda _s: None)
    return App(settings, sink, secrets or FakeSecrets())


@pytest.fixture
def make_app(firehose: FakeFirehose, secrets: FakeSecrets) -> Callable[..., Harness]:
    def factory(**overrides: Any) -> Harness:
        return Harness(new_app(firehose, secrets, **overrides), firehose, secrets)

    return factory


@pytest.fixture
def harness(make_app: Callable[..., Harness]) -> Harness:
    return make_app()


# --- one fixture per kind of event -------------------------------------------------------------


def event(
    method: str = "POST",
    path: str = "/loki/api/v1/push",
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    content_encoding: str | None = None,
    auth: str | None = "default",
    extra_headers: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    headers: list[tuple[str, str]] = [("User-Agent", "pytest")]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if content_encoding is not None:
        headers.append(("Content-Encoding", content_encoding))
    if auth is not None:
        headers.append(("Authorization", basic() if auth == "default" else auth))
    headers.extend(extra_headers)
    return build_event(method, path, headers, body)


def v1_body(streams: Sequence[tuple[Mapping[str, str], Sequence[Sequence[Any]]]]) -> bytes:
    doc = {"streams": [{"stream": dict(labels), "values": [list(v) for v in values]} for labels, values in streams]}
    return json.dumps(doc).encode()


SAMPLE_V1 = v1_body(
    [
        (
            {"service_name": "stytch", "env": "test"},
            [
                [str(NOW_NS + 1), '{"event_id":"event-test-1","action":"SessionsAuthenticate","status":"success"}'],
                [str(NOW_NS + 2), "plain text line"],
                [str(NOW_NS + 3), "with metadata", {"trace_id": "0242ac120002"}],
            ],
        )
    ]
)


@pytest.fixture
def push_json_event() -> dict[str, Any]:
    """v1 JSON, as Stytch and most JSON clients send it (text body, not base64)."""
    return event(body=SAMPLE_V1)


@pytest.fixture
def push_json_gzip_event() -> dict[str, Any]:
    """v1 JSON with Content-Encoding: gzip (binary -> base64 in the event)."""
    return event(body=gzip.compress(SAMPLE_V1), content_encoding="gzip")


@pytest.fixture
def push_json_deflate_event() -> dict[str, Any]:
    """v1 JSON with Content-Encoding: deflate (raw DEFLATE, as Loki expects)."""
    compressor = zlib.compressobj(wbits=-15)
    return event(body=compressor.compress(SAMPLE_V1) + compressor.flush(), content_encoding="deflate")


@pytest.fixture
def push_legacy_event() -> dict[str, Any]:
    """Legacy JSON on /api/prom/push."""
    body = json.dumps(
        {
            "streams": [
                {
                    "labels": '{service_name="stytch", env="test"}',
                    "entries": [{"ts": "2026-01-01T00:00:00.000000001Z", "line": "legacy line"}],
                }
            ]
        }
    ).encode()
    return event(path="/api/prom/push", body=body)


@pytest.fixture
def push_protobuf_event() -> dict[str, Any]:
    """Snappy-compressed protobuf, as Promtail/Alloy send it (always base64 in the event)."""
    body = protobuf_push(
        [
            (
                '{service_name="stytch", env="test"}',
                [(NOW_NS + 1, "proto line", [("trace_id", "abc")]), (NOW_NS + 2, '{"k":"v"}', [])],
            )
        ]
    )
    return event(body=body, content_type="application/x-protobuf")


@pytest.fixture
def healthz_event() -> dict[str, Any]:
    return event("GET", "/healthz", auth=None, content_type=None)


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return data


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real moto server (the local AWS emulator) on a free loopback port, per session."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    process = spawn(port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)

"""The cost model's measured pushes (bench/cost.py): each push shape through the real handler and
the real boto3 Firehose client against a local stub, with the records it becomes.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import prices
from bench.harness import MIB, ROOT, bench_settings

#: Firehose rounds every record up to the next 5 KB for ingestion pricing (prices.FIREHOSE).
BILLING_INCREMENT = 5 * 1024
#: Events per push the model measures ("~5 MB": a large batch).
SHAPES = ("1", "10", "100", "1000", "~5 MB")


# --- measured: the handler, one push shape at a time ------------------------------------------


@dataclass
class Push:
    """One push shape through the real handler."""

    name: str
    entries: int
    body_bytes: int
    record_sizes: list[int]
    calls: int
    cpu_ms: float = 0.0
    event: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def record_bytes(self) -> int:
        return sum(self.record_sizes)

    @property
    def billed_bytes(self) -> int:
        """What Firehose ingestion bills: each record rounded up to 5 KB."""
        return billed_bytes(self.record_sizes)


def billed_bytes(record_sizes: Sequence[int], increment: int = BILLING_INCREMENT) -> int:
    return sum(-(-size // increment) * increment for size in record_sizes)


def push_lines(shape: str) -> list[str]:
    from bench.workloads import lines_for_bytes, stytch_lines

    return lines_for_bytes(5 * MIB - 200 * 1024) if shape == "~5 MB" else stytch_lines(int(shape))


def push_event(shape: str) -> dict[str, Any]:
    from tests.conftest import event

    from bench.workloads import v1_body

    return event(body=v1_body(push_lines(shape), labels={"service_name": "stytch"}))


@contextlib.contextmanager
def firehose_stub() -> Iterator[str]:
    """The stub's endpoint URL, while it runs in its own process."""
    stub = subprocess.Popen(
        [sys.executable, "-m", "bench.firehose_stub"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert stub.stdout is not None
        yield f"http://127.0.0.1:{stub.stdout.readline().strip()}"
    finally:
        assert stub.stdin is not None
        stub.stdin.close()
        stub.wait(timeout=10)


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def quiet_app(client: Any, **overrides: Any) -> Any:
    from tests.conftest import FakeSecrets

    from loki_ingest.delivery.firehose import FirehoseSink
    from loki_ingest.handler import App

    settings = bench_settings(**overrides)
    return App(settings, FirehoseSink(client, settings), FakeSecrets())


def measure_pushes(shapes: Sequence[str] = SHAPES, *, repeats: int = 41) -> dict[str, Push]:
    """CPU per push with the real boto3 client, and the records each push becomes."""
    from loki_ingest.delivery import firehose
    from loki_ingest.delivery.sink import FixedDeadline

    out: dict[str, Push] = {}
    with (
        firehose_stub() as endpoint,
        environment(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": prices.REGION,
            }
        ),
    ):
        client = firehose.client(bench_settings())
        app = quiet_app(client)
        for shape in shapes:
            push = push_event(shape)
            sent: list[list[int]] = []

            def capture(params: dict[str, Any], sent: list[list[int]] = sent, **_: Any) -> None:
                sent.append([len(record["Data"]) for record in params["Records"]])

            client.meta.events.register("provide-client-params.firehose.PutRecordBatch", capture)
            with contextlib.redirect_stdout(io.StringIO()):
                answer = app.handle_event(push, FixedDeadline(time.monotonic() + 60))
            client.meta.events.unregister("provide-client-params.firehose.PutRecordBatch", capture)
            assert answer["statusCode"] == 200, answer
            invocation = json.dumps(push).encode()
            times = []
            runs = repeats if shape in ("1", "10", "100") else max(3, repeats // 6)
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink):
                for _ in range(runs):
                    started = time.process_time()
                    event = json.loads(invocation)  # what the runtime does with the invocation
                    json.dumps(app.handle_event(event, FixedDeadline(time.monotonic() + 60)))
                    times.append(time.process_time() - started)
                    sink.seek(0)
                    sink.truncate()
            sizes = [size for call in sent for size in call]
            lines = push_lines(shape)
            out[shape] = Push(
                name=shape,
                entries=len(lines),
                body_bytes=len(_body(push)),
                record_sizes=sizes,
                calls=len(sent),
                cpu_ms=statistics.median(times) * 1000,
                event=push,
            )
    return out


def _body(push: Mapping[str, Any]) -> bytes:
    import base64

    body = str(push["body"])
    return base64.b64decode(body) if push.get("isBase64Encoded") else body.encode()


def gzip_per_record_byte() -> float:
    """Stored (GZIP, the module's default compression) over record bytes. Firehose compresses
    a whole buffer, so this is measured on ~5 MB of distinct events, whatever the push size."""
    from tests.conftest import FakeFirehose

    from loki_ingest.delivery.sink import FixedDeadline

    fake = FakeFirehose()
    app = quiet_app(fake)
    with contextlib.redirect_stdout(io.StringIO()):
        app.handle_event(push_event("~5 MB"), FixedDeadline(time.monotonic() + 60))
    records = b"".join(fake.delivered)
    return len(gzip.compress(records, 6)) / len(records)

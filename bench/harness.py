"""What every benchmark shares: the repository root, interleaved medians, and the real App
over a Firehose that accepts everything instantly (so the figures are the handler's own CPU)."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loki_ingest.handler import App
    from loki_ingest.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def median_pair(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median seconds of a and b, interleaved so drift on a noisy machine hits both."""
    ta: list[float] = []
    tb: list[float] = []
    a()
    b()
    for _ in range(repeats):
        start = time.perf_counter()
        a()
        ta.append(time.perf_counter() - start)
        start = time.perf_counter()
        b()
        tb.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def median(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_settings(**overrides: Any) -> Settings:
    from loki_ingest.settings import Settings

    return Settings.defaults(
        firehose_stream_name="bench", auth_secret_arn="arn:aws:secretsmanager:::secret:bench", **overrides
    )


def bench_app(**overrides: Any) -> App:
    """The real App over a Firehose that accepts everything instantly."""
    from tests.conftest import FakeSecrets

    from loki_ingest.delivery.firehose import FirehoseSink
    from loki_ingest.handler import App

    settings = bench_settings(**overrides)
    # A logger of its own: disabling the handler's (a process-wide logger) would silence every
    # app built after this one, and the cost model measures what those apps write.
    silent = logging.getLogger("loki_ingest_bench_silent")
    silent.disabled, silent.propagate = True, False
    return App(settings, FirehoseSink(NullFirehose(), settings), FakeSecrets(), logger=silent)


class NullFirehose:
    """Accepts every record instantly: isolates the handler's own CPU."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "x"}] * len(Records)}

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> dict[str, Any]:
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}

"""What ingesting costs, per GB, from figures measured in the same run.

For pushes of 1, 10, 100 and 1,000 Stytch-like events and a ~5 MB push, and for each memory
size: the handler's CPU time is measured here (one full core, a Firehose that answers at
once), scaled to the memory size's share of a vCPU, plus a stated latency per PutRecordBatch
call. From that: Lambda GB-seconds and requests, Firehose's bill (each record rounded up to
5 KB), and S3 PUTs at the default buffer. Prices are AWS's us-east-1 list prices (below).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

#: Firehose rounds every record up to the next 5 KB for ingestion pricing
#: (https://aws.amazon.com/firehose/pricing/).
BILLING_INCREMENT = 5 * 1024

#: us-east-1 list prices as published on the AWS pricing pages in 2026 (checked 2026-11):
#: https://aws.amazon.com/lambda/pricing/ https://aws.amazon.com/firehose/pricing/
#: https://aws.amazon.com/s3/pricing/ https://aws.amazon.com/cloudwatch/pricing/
PRICES = {
    "lambda_arm64_gb_s": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    "firehose_gb": 0.029,  # Direct PUT, first 500 TB/month, per GB of 5 KB-rounded records
    "s3_put": 0.005 / 1000,
    "cloudwatch_logs_ingest_gb": 0.50,
}
PRICES_DATE = "2026-11"

#: Lambda gives a function one vCPU at 1,769 MB and a proportional share below
#: (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
FULL_VCPU_MB = 1769
#: Stated, not measured here (no real Firehose): the round trip of one PutRecordBatch call.
FIREHOSE_CALL_MS = 40.0
#: Firehose writes one S3 object per full buffer at steady load (the module's 64 MiB default).
S3_OBJECT_BYTES = 64 * 1024 * 1024
MEMORY_SIZES = (256, 512, 1024, 1769)
GIB = 1 << 30


def billed_bytes(record_sizes: Sequence[int], increment: int = BILLING_INCREMENT) -> int:
    """What Firehose ingestion bills: each record rounded up to 5 KB."""
    return sum(-(-size // increment) * increment for size in record_sizes)


def lambda_duration_ms(cpu_ms: float, memory_mb: int, calls: int) -> float:
    """Billed duration: CPU time stretched by the memory size's vCPU share, plus the calls."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return float(-(-(cpu_ms / share + calls * FIREHOSE_CALL_MS) // 1))  # billed in whole ms


def cost_per_gb(push: dict[str, Any], memory_mb: int) -> dict[str, float]:
    """$ per GB of push bodies (uncompressed JSON) for one push shape at one memory size."""
    duration_ms = lambda_duration_ms(push["cpu_ms"], memory_mb, push["calls"])
    gb_s = memory_mb / 1024 * duration_ms / 1000
    lambda_usd = gb_s * PRICES["lambda_arm64_gb_s"] + PRICES["lambda_request"]
    firehose_usd = push["billed_bytes"] / GIB * PRICES["firehose_gb"]
    s3_usd = push["record_bytes"] / S3_OBJECT_BYTES * PRICES["s3_put"]
    pushes_per_gb = GIB / push["body_bytes"]
    return {
        "duration_ms": duration_ms,
        "lambda": lambda_usd * pushes_per_gb,
        "firehose": firehose_usd * pushes_per_gb,
        "s3_put": s3_usd * pushes_per_gb,
        "total": (lambda_usd + firehose_usd + s3_usd) * pushes_per_gb,
    }


class CountingFirehose:
    """Accepts every record at once, remembering the record sizes and the calls."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        self.calls.append([len(r["Data"]) for r in Records])
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "x"}] * len(Records)}

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> dict[str, Any]:
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}


def measure_pushes(quick: bool) -> list[dict[str, Any]]:
    """CPU time, records and calls of each push shape through the real handler and sink."""
    from tests.conftest import FakeSecrets, event

    from bench.run import bench_settings
    from bench.workloads import BASE_NS, lines_for_bytes, stytch_lines
    from loki_ingest.firehose import FirehoseSink
    from loki_ingest.handler import App
    from loki_ingest.sink import FixedDeadline

    shapes = [(str(n), stytch_lines(n)) for n in (1, 10, 100, 1000)]
    shapes.append(("~5 MB", lines_for_bytes(5 * 1024 * 1024 - 200 * 1024)))
    rows = []
    for name, lines in shapes:
        values = [[str(BASE_NS + i), line] for i, line in enumerate(lines)]
        body = json.dumps({"streams": [{"stream": {"service_name": "stytch"}, "values": values}]}).encode()
        push = event(body=body)
        firehose = CountingFirehose()
        app = App(bench_settings(), FirehoseSink(firehose, bench_settings()), FakeSecrets())
        app.logger.disabled = True
        result = app.handle_event(push, FixedDeadline(time.monotonic() + 60))
        assert result["statusCode"] == 200, result
        calls = list(firehose.calls)
        sizes = [size for call in calls for size in call]
        repeats = 3 if quick else (7 if len(lines) > 1000 else 41)
        times = []
        for _ in range(repeats):
            started = time.process_time()
            app.handle_event(push, FixedDeadline(time.monotonic() + 60))
            times.append(time.process_time() - started)
        rows.append(
            {
                "push": name,
                "entries": len(lines),
                "body_bytes": len(body),
                "cpu_ms": statistics.median(times) * 1000,
                "record_bytes": sum(sizes),
                "billed_bytes": billed_bytes(sizes),
                "calls": len(calls),
            }
        )
    return rows


def cost_table(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for push in measure_pushes(quick):
        for memory in MEMORY_SIZES:
            cost = cost_per_gb(push, memory)
            rows.append(
                {
                    "push": push["push"],
                    "memory_mb": memory,
                    "cpu_ms": round(push["cpu_ms"], 2),
                    "billed_ms": int(cost["duration_ms"]),
                    "lambda_usd_per_gb": round(cost["lambda"], 4),
                    "firehose_usd_per_gb": round(cost["firehose"], 4),
                    "s3_usd_per_gb": round(cost["s3_put"], 5),
                    "total_usd_per_gb": round(cost["total"], 4),
                    "vs_cloudwatch_logs": f"{cost['total'] / PRICES['cloudwatch_logs_ingest_gb']:.1%}",
                }
            )
    return rows

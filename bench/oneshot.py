"""One push through the real handler in a fresh interpreter (the real App over a Firehose that
accepts everything instantly), so its peak RSS growth is its own: what bench/elements.py and
bench/limits.py measure.

`run(push, ...)` starts `python -m bench.oneshot` and returns what the child prints: the status,
CPU seconds (time.process_time, the median of `repeats` runs), the peak RSS growth of the first
run (VmHWM reset to the current RSS just before it), the units its work budget was charged
(Outcome.work_units) and the reason of a refusal (Outcome.reason), and with `decode=True` the
CPU of decoding alone (decode_push, budget charged the same way).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from bench.harness import ROOT

if TYPE_CHECKING:
    from tests.support.hostile import Push

    from loki_ingest.context import Outcome
    from loki_ingest.decoding.push import Dialect
    from loki_ingest.http.request import Request


def run(
    push: Push, *, repeats: int = 1, overrides: dict[str, Any] | None = None, decode: bool = False
) -> dict[str, Any]:
    """Measure `push` in a child interpreter; `overrides` are settings (bench_app's keywords)."""
    with tempfile.NamedTemporaryFile(suffix=".body") as handle:
        handle.write(push.body)
        handle.flush()
        spec = {
            "body": handle.name,
            "path": push.path,
            "content_type": push.content_type,
            "content_encoding": push.content_encoding,
            "repeats": repeats,
            "overrides": overrides or {},
            "decode": decode,
        }
        result = subprocess.run(
            [sys.executable, "-m", "bench.oneshot", json.dumps(spec)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'lambda'}", "AWS_XRAY_SDK_ENABLED": "false"},
        )
    if result.returncode != 0:
        raise RuntimeError(f"child failed: {result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _hwm() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_hwm() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # VmHWM := the current RSS
    except OSError:
        pass


def main() -> None:
    from tests.conftest import event

    from bench.harness import bench_app
    from loki_ingest.decoding.push import decode_push
    from loki_ingest.delivery.sink import FixedDeadline
    from loki_ingest.errors import HttpError
    from loki_ingest.observability.request_log import RequestLog

    spec = json.loads(sys.argv[1])
    with open(spec["body"], "rb") as handle:
        body = handle.read()
    app = bench_app(**spec["overrides"])
    outcomes: list[Outcome] = []

    class Capture(RequestLog):
        def __call__(self, request: Request | None, status: int, outcome: Outcome, started: float) -> None:
            outcomes.append(outcome)

    app.request_log = Capture(app.logger, app.settings)
    push = event(
        path=spec["path"], body=body, content_type=spec["content_type"], content_encoding=spec["content_encoding"]
    )
    out: dict[str, Any] = {}
    times = []
    result: dict[str, Any] = {}
    for index in range(spec["repeats"]):
        if index == 0:
            _reset_hwm()
            base = _rss()
        cpu = time.process_time()
        result = app.handle_event(push, FixedDeadline(time.monotonic() + 3600))
        times.append(time.process_time() - cpu)
        if index == 0:
            out["rss_growth"] = _hwm() - base
    out.update(cpu_s=statistics.median(times), cpu_runs=times, units=outcomes[0].work_units)
    out.update(status=result["statusCode"], reason=outcomes[0].reason, answer=str(result["body"])[:200])
    if spec["decode"]:
        dialects: dict[str, Dialect] = {"/loki/api/v1/push": "v1", "/api/prom/push": "legacy", "/otlp/v1/logs": "otlp"}
        dialect = dialects[spec["path"]]
        decode_times = []
        for _ in range(spec["repeats"]):
            cpu = time.process_time()
            with contextlib.suppress(HttpError):
                decode_push(
                    body,
                    dialect=dialect,
                    content_type=spec["content_type"],
                    content_encoding=spec["content_encoding"],
                    limits=app.limits,
                    budget=app.limits.budget(),
                )
            decode_times.append(time.process_time() - cpu)
        out["decode_cpu_s"] = statistics.median(decode_times)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Figures measured in fresh interpreters: the cold start (import + clients) from the deployment
package as Lambda unpacks it, and the peak memory of a ~5 MB push."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from bench.harness import ROOT

# --- cold start --------------------------------------------------------------------------------

COLD = textwrap.dedent(
    """
    import time, sys
    t0 = time.perf_counter()
    if sys.argv[1] == "baseline":
        import boto3
        boto3.client("firehose")
    else:
        import loki_ingest.handler as h
        h.get_app()
    print((time.perf_counter() - t0) * 1000)
    """
)


def runtime_python() -> str:
    """The Lambda runtime's Python (3.12) with boto3, when the machine has it (make test-py312)."""
    candidate = ROOT / ".venv312" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def cold_start(quick: bool) -> dict[str, Any]:
    """Import + client creation in fresh interpreters, from the deployment package as
    Lambda unpacks it (dist/lambda-<this machine's arch>.zip, with its bytecode) when it exists."""
    import zipfile

    from local.tools.deploy import host_architecture

    python = runtime_python()
    task = ROOT / "lambda"
    zip_path = ROOT / "dist" / f"lambda-{host_architecture()}.zip"
    source = "lambda/ sources"
    with tempfile.TemporaryDirectory() as tmp:
        if zip_path.exists() and not os.environ.get("PYTHONPATH"):
            zipfile.ZipFile(zip_path).extractall(tmp)
            task = Path(tmp)
            source = zip_path.name
        env = {
            **os.environ,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "FIREHOSE_DELIVERYSTREAM_NAME": "bench",
            "AUTH_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench",
            "AWS_XRAY_SDK_ENABLED": "false",
            "PYTHONDONTWRITEBYTECODE": "1",  # like /var/task: nothing is cached between cold starts
            "PYTHONPATH": str(task),  # the package as Lambda sees it, ahead of the editable install
        }
        script = COLD

        def once(mode: str, extra: dict[str, str]) -> float:
            result = subprocess.run(
                [python, "-c", script, mode], env={**env, **extra}, capture_output=True, text=True, check=True
            )
            return float(result.stdout)

        baseline, ours, traced = [], [], []
        for _ in range(5 if quick else 11):  # interleave the three modes run by run
            baseline.append(once("baseline", {}))
            ours.append(once("handler", {"TRACING_ENABLED": "false"}))
            traced.append(once("handler", {"TRACING_ENABLED": "true"}))
    b, o, t = statistics.median(baseline), statistics.median(ours), statistics.median(traced)
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {
        "python": version,
        "package": source,
        "baseline_boto3_plus_client_ms": round(b, 1),
        "handler_tracing_off_ms": round(o, 1),
        "handler_tracing_on_ms": round(t, 1),
        "extra_tracing_off_ms": round(o - b, 1),
        "extra_tracing_on_ms": round(t - b, 1),
    }


# --- peak memory ---------------------------------------------------------------------------------

MEMORY = textwrap.dedent(
    """
    import json, sys, time
    from bench.workloads import lines_for_bytes, v1_body
    from bench.harness import bench_app
    from loki_ingest.delivery.sink import FixedDeadline
    from tests.conftest import event

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    body = v1_body(lines_for_bytes(5 * 1024 * 1024 - 200 * 1024, kind=sys.argv[1]))
    push = event(body=body)
    app = bench_app()
    before = hwm()
    result = app.handle_event(push, FixedDeadline(time.monotonic() + 60))
    assert result["statusCode"] == 200
    print(json.dumps({"body": len(body), "rss_growth": hwm() - before}))
    """
)


def peak_memory() -> dict[str, Any]:
    out = {}
    for kind in ("json", "text"):
        result = subprocess.run(
            [sys.executable, "-c", MEMORY, kind],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        out[kind] = {
            "body_bytes": figures["body"],
            "rss_growth_bytes": figures["rss_growth"],
            "ratio_to_body": round(figures["rss_growth"] / figures["body"], 2),
        }
    return out

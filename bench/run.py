"""make bench: throughput, cold start, memory and Firehose cost, as ratios measured in the
same run (medians over interleaved repeats), so a shared, noisy machine still gives stable
numbers, and the local stack's figures from a fresh clone (first and second `make run`,
the zip's cold start and warm latency). It never fails on speed: it prints the README's
table (figure, result, target) and writes every raw number to bench/results/latest.json.

    python -m bench.run [--quick] [--skip-local-stack] [--output PATH]

To benchmark another copy of the handler package (e.g. an older commit checked out with
`git worktree`), put it first on the path: PYTHONPATH=<worktree>/lambda python -m bench.run.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path
from typing import Any

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


def bench_settings(**overrides: Any) -> Any:
    from loki_ingest.settings import Settings

    return Settings.defaults(
        delivery_stream_name="bench", auth_secret_arn="arn:aws:secretsmanager:::secret:bench", **overrides
    )


def bench_app(**overrides: Any) -> Any:
    """The real App over a Firehose that accepts everything instantly."""
    from tests.conftest import FakeSecrets

    from loki_ingest.firehose import FirehoseSink
    from loki_ingest.handler import App

    settings = bench_settings(**overrides)
    app = App(settings, FirehoseSink(NullFirehose(), settings), FakeSecrets())
    app.logger.disabled = True
    return app


class NullFirehose:
    """Accepts every record instantly: isolates the handler's own CPU."""

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "x"}] * len(Records)}

    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> dict[str, Any]:
        return {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}


# --- 1. handler CPU per push -------------------------------------------------------------------


def otlp_request(lines: list[str]) -> Any:
    """The lines as an OpenTelemetry SDK exports them: one resource (service and SDK attributes),
    one scope, and per record its time, observed time, severity, trace context and two code
    attributes, all of which become structured metadata."""
    from tests.support.otlp import record, request, resource_logs, scope_logs

    from bench.workloads import BASE_NS

    trace_id, span_id = bytes(range(1, 17)), bytes(range(1, 9))
    resource = {
        "service.name": "stytch",
        "deployment.environment.name": "bench",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": "1.45.2",
    }
    records = [
        record(
            line,
            {"code.function.name": "handle_event", "code.line.number": 42},
            time_unix_nano=BASE_NS + i * 1_000_000,
            observed_time_unix_nano=BASE_NS + i * 1_000_000 + 1000,
            severity_number=9,
            severity_text="INFO",
            trace_id=trace_id,
            span_id=span_id,
            flags=1,
        )
        for i, line in enumerate(lines)
    ]
    return request(resource_logs(resource, scope_logs(records, name="stytch.events", version="1.0")))


def handler_cpu(quick: bool) -> list[dict[str, Any]]:
    from tests.conftest import event
    from tests.support.logproto import protobuf_push
    from tests.support.otlp import to_json

    from bench.workloads import BASE_NS, lines_for_bytes, stytch_lines, text_lines, v1_body
    from loki_ingest.sink import FixedDeadline

    # An SDK's OTLP JSON carries ~350 bytes per record more than a Loki push: the ~5 MB push
    # is 6.8 MB as OTLP JSON, over the 6 MB function URL limit, so the limit is raised here
    # to compare CPU at the same lines (a real exporter sends it gzip-compressed).
    app = bench_app(max_body_bytes=16 * MIB)
    rows = []
    sizes: list[tuple[str, Callable[[str], list[str]]]] = [
        ("10", lambda kind: (stytch_lines if kind == "json" else text_lines)(10)),
        ("1,000", lambda kind: (stytch_lines if kind == "json" else text_lines)(1000)),
        ("~5 MB", lambda kind: lines_for_bytes(5 * MIB - 200 * 1024, kind=kind)),
    ]
    for kind in ("json", "text"):
        for size_name, make in sizes:
            lines = make(kind)
            body = v1_body(lines)
            otlp = otlp_request(lines)
            for fmt in ("json", "gzip", "protobuf", "otlp-protobuf", "otlp-json"):
                if fmt == "json":
                    push = event(body=body)
                elif fmt == "gzip":
                    push = event(body=gzip.compress(body, 6), content_encoding="gzip")
                elif fmt == "otlp-protobuf":
                    push = event(
                        path="/otlp/v1/logs", body=otlp.SerializeToString(), content_type="application/x-protobuf"
                    )
                elif fmt == "otlp-json":
                    push = event(path="/otlp/v1/logs", body=to_json(otlp))
                else:
                    entries = [(BASE_NS + i * 1_000_000, line, []) for i, line in enumerate(lines)]
                    push = event(
                        body=protobuf_push([('{env="bench", service_name="stytch"}', entries)]),
                        content_type="application/x-protobuf",
                    )
                big = size_name == "~5 MB"
                slow = fmt in ("protobuf", "otlp-protobuf", "otlp-json")
                repeats = 3 if quick else (5 if big and slow else 9 if big else 41)
                call = lambda push=push: app.handle_event(push, FixedDeadline(time.monotonic() + 60))  # noqa: E731
                result = call()
                assert result["statusCode"] == 200, result
                handler_s, loads_s = median_pair(call, lambda body=body: json.loads(body), repeats)
                rows.append(
                    {
                        "lines": kind,
                        "push": size_name,
                        "format": fmt,
                        "entries": len(lines),
                        "body_bytes": len(body),
                        "request_bytes": len(
                            base64.b64decode(push["body"]) if push["isBase64Encoded"] else push["body"].encode()
                        ),
                        "handler_ms": round(handler_s * 1000, 3),
                        "json_loads_ms": round(loads_s * 1000, 3),
                        "ratio": round(handler_s / loads_s, 2),
                        "mb_per_s": round(len(body) / handler_s / 1e6, 1),
                        "entries_per_s": round(len(lines) / handler_s),
                    }
                )
    return rows


def components(quick: bool) -> dict[str, Any]:
    """Where the time of a ~5 MB JSON push goes, next to the floors it cannot beat."""
    from bench.workloads import lines_for_bytes, v1_body
    from loki_ingest import records
    from loki_ingest.decode import decode_push
    from loki_ingest.firehose import MAX_RECORD_BYTES, pack
    from loki_ingest.model import Rejections
    from loki_ingest.validate import validate

    settings = bench_settings()
    out: dict[str, Any] = {}
    repeats = 3 if quick else 9
    for kind in ("json", "text"):
        lines = lines_for_bytes(5 * MIB - 200 * 1024, kind=kind)
        body = v1_body(lines)
        decode = lambda body=body: decode_push(  # noqa: E731
            body,
            dialect="v1",
            content_type="application/json",
            content_encoding=None,
            max_decompressed_bytes=64 * MIB,
        )
        streams = decode()
        valid = validate(streams, settings, Rejections())
        built = records.build(valid, Rejections(), MAX_RECORD_BYTES)
        scan = records._scan_once
        encoded = [line.encode() for line in lines]
        loads = median(lambda body=body: json.loads(body), repeats)
        parts = {
            "json_loads_body": loads,
            "decode": median(decode, repeats),
            "validate": median(lambda streams=streams: validate(streams, settings, Rejections()), repeats),
            "records": median(lambda valid=valid: records.build(valid, Rejections(), MAX_RECORD_BYTES), repeats),
            "pack": median(lambda built=built: pack(built.lines), repeats),
            # Floors: work no implementation can skip.
            "floor_validate_each_line": median(
                lambda lines=lines, scan=scan: [scan(line, 0) for line in lines], repeats
            )
            if kind == "json"
            else 0.0,
            "floor_escape_each_line": median(
                lambda encoded=encoded: [e.replace(b"\\", b"\\\\").replace(b'"', b'\\"') for e in encoded], repeats
            )
            if kind == "text"
            else 0.0,
            "floor_hash_each_line": median(lambda encoded=encoded: [sha256(e).digest() for e in encoded], repeats),
        }
        floor = (
            loads + parts["floor_validate_each_line"] + parts["floor_escape_each_line"] + parts["floor_hash_each_line"]
        )
        out[kind] = {name: round(seconds * 1000, 2) for name, seconds in parts.items()}
        out[kind]["floor_ratio"] = round(floor / loads, 2)
    return out


# --- 2. snappy and protobuf decoding ------------------------------------------------------------


def snappy_speed(quick: bool) -> dict[str, Any]:
    import cramjam
    from tests.support.logproto import encode_push

    from bench.workloads import BASE_NS, stytch_lines
    from loki_ingest import otlp, protobuf, snappy

    data = "\n".join(stytch_lines(2000)).encode()[: 1 << 20]
    block = bytes(cramjam.snappy.compress_raw(data))
    assert bytes(snappy.decompress(block, 1 << 30)) == data
    repeats = 5 if quick else 21
    ours, theirs = median_pair(
        lambda: snappy.decompress(block, 1 << 30), lambda: cramjam.snappy.decompress_raw(block), repeats
    )
    walk = median(lambda: _walk_only(block), repeats)
    walk_append = median(lambda: _walk_only(block, emit=True), repeats)
    lines = stytch_lines(1000)
    message = encode_push([('{env="bench"}', [(BASE_NS + i, line, []) for i, line in enumerate(lines)])])
    proto = median(lambda: protobuf.decode_push_request(message), repeats)
    otlp_message = otlp_request(lines).SerializeToString()
    otlp_decode = median(
        lambda: otlp.decode_protobuf(otlp_message, now_ns=BASE_NS, max_expanded_bytes=1 << 30), repeats
    )
    return {
        "block_bytes": len(data),
        "compressed_bytes": len(block),
        "ours_mb_per_s": round(len(data) / ours / 1e6, 1),
        "cramjam_mb_per_s": round(len(data) / theirs / 1e6, 1),
        "ratio_to_cramjam": f"1/{theirs and ours / theirs:.1f}",
        "walk_only_floor_ratio": f"1/{walk / theirs:.1f}",
        "walk_and_one_append_floor_ratio": f"1/{walk_append / theirs:.1f}",
        "protobuf_decode_mb_per_s": round(len(message) / proto / 1e6, 1),
        "otlp_protobuf_decode_mb_per_s": round(len(otlp_message) / otlp_decode / 1e6, 1),
    }


def _walk_only(block: bytes, emit: bool = False) -> int:
    """Visit every element header and nothing else: the least any pure-Python decoder does.
    With emit, also append one prebuilt piece per element (no bytes moved): the least a
    decoder that produces anything per element does."""
    pieces: list[bytes] = []
    append = pieces.append if emit else None
    i, end = 0, len(block)
    while block[i] & 0x80:
        i += 1
    i += 1
    while i < end:
        tag = block[i]
        kind = tag & 3
        if kind == 2:
            i += 3
        elif kind == 0:
            if tag < 240:
                i += (tag >> 2) + 2
            else:
                extra = (tag >> 2) - 59
                i += 1 + extra + int.from_bytes(block[i + 1 : i + 1 + extra], "little") + 1
        elif kind == 1:
            i += 2
        else:
            i += 5
        if append is not None:
            append(b"x")
    return i


# --- 3. cold start --------------------------------------------------------------------------------

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

    from local.deploy import host_architecture

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


# --- 4. Firehose cost ------------------------------------------------------------------------------


def firehose_cost() -> list[dict[str, Any]]:
    from bench.cost import billed_bytes
    from bench.workloads import lines_for_bytes, stytch_lines
    from loki_ingest import records
    from loki_ingest.firehose import MAX_BATCH_BYTES as FIREHOSE_MAX_BATCH_BYTES
    from loki_ingest.firehose import MAX_BATCH_RECORDS as FIREHOSE_MAX_BATCH_RECORDS
    from loki_ingest.firehose import MAX_RECORD_BYTES, pack
    from loki_ingest.model import Rejections
    from loki_ingest.validate import validate

    rows = []
    for name, lines in (
        ("10 entries", stytch_lines(10)),
        ("1,000 entries", stytch_lines(1000)),
        ("~5 MB", lines_for_bytes(5 * MIB - 200 * 1024)),
    ):
        from loki_ingest.model import Stream

        valid = validate(
            [Stream([("service_name", "stytch")], [(i, line, ()) for i, line in enumerate(lines)])],
            bench_settings(),
            Rejections(),
        )
        ndjson = records.build(valid, Rejections(), MAX_RECORD_BYTES).lines
        payload = sum(map(len, ndjson))
        batches = pack(ndjson)
        ours_sizes = [len(r) for batch in batches for r in batch]
        naive_calls = 0
        count = size = 0
        for line in ndjson:  # one record per line, batched at 500 records / 4 MiB
            if count == FIREHOSE_MAX_BATCH_RECORDS or size + len(line) > FIREHOSE_MAX_BATCH_BYTES:
                naive_calls += 1
                count = size = 0
            count += 1
            size += len(line)
        naive_calls += 1 if count else 0
        rows.append(
            {
                "push": name,
                "avg_event_bytes": round(sum(map(len, lines)) / len(lines)),
                "payload_bytes": payload,
                "records": len(ours_sizes),
                "billed_over_payload": round(billed_bytes(ours_sizes) / payload, 3),
                "naive_billed_over_payload": round(billed_bytes([len(x) for x in ndjson]) / payload, 2),
                "calls": len(batches),
                "min_calls": -(-payload // FIREHOSE_MAX_BATCH_BYTES),
                "naive_calls": naive_calls,
            }
        )
    return rows


# --- 5. peak memory ---------------------------------------------------------------------------------

MEMORY = textwrap.dedent(
    """
    import json, sys, time
    from bench.workloads import lines_for_bytes, v1_body
    from bench.run import bench_app
    from loki_ingest.sink import FixedDeadline
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


# --- 6. the local stack from a fresh clone ----------------------------------------------------------


def _until_ready(process: subprocess.Popen[str], started: float, timeout_s: float = 900) -> float:
    """Seconds from `started` until `make run` prints its ready line."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    for line in process.stdout:
        if "] ready " in line:  # the phase name, not "... venv ready"
            return time.monotonic() - started
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"make run did not get ready (exit {process.poll()})")


def _stop(process: subprocess.Popen[str]) -> None:
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def local_stack() -> dict[str, Any]:
    """`make run` from a fresh clone of this repository (HEAD), then again after
    `make stop-local`; the zip's cold start (a new execution environment's first request,
    over HTTP) and warm latency, against that deployment."""
    import shutil

    from local.emulator import free_port
    from local.server import FunctionUrlServer, open_invoker, serve_in_thread
    from local.state import LocalState

    clone = Path(tempfile.mkdtemp(prefix="loki-ingest-bench-"))
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port, emulator_port = free_port(), free_port()
    make_vars = [f"LOCAL_PORT={port}", f"EMULATOR_PORT={emulator_port}"]
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out: dict[str, Any] = {}

    def make_run() -> tuple[subprocess.Popen[str], float]:
        started = time.monotonic()
        process = subprocess.Popen(
            ["make", "run", *make_vars],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return process, _until_ready(process, started)

    try:
        process, out["first_make_run_s"] = make_run()
        _stop(process)
        subprocess.run(["make", "-s", "stop-local", *make_vars], cwd=clone, env=env, check=True, capture_output=True)
        process, out["second_make_run_s"] = make_run()
        try:
            state = LocalState(clone / ".local")
            auth = state.credentials()
            push = json.dumps({"streams": [{"stream": {"bench": "1"}, "values": [[str(time.time_ns()), "x"]]}]})
            out["warm_ms"] = _latencies(f"http://127.0.0.1:{port}", auth, push.encode(), 50)
            cold = []
            for _ in range(5):  # each a new runner: its first request starts an environment
                invoker = open_invoker(
                    state.outputs,
                    state.endpoint_url,
                    zip_path=clone / "dist" / f"lambda-{state.deployment['architecture']}.zip",
                    python312=subprocess.run(
                        ["make", "-s", "print-py312"], cwd=clone, capture_output=True, text=True, check=True
                    ).stdout.strip(),
                    runtime_dir=clone / "build" / "lambda-runtime-py312",
                )
                server = FunctionUrlServer(("127.0.0.1", free_port()), invoker, quiet=True)
                serve_in_thread(server)
                cold.append(_latencies(server.url, auth, push.encode(), 1)["median"])
                server.shutdown()
                server.server_close()
                invoker.close()
            out["cold_start_ms"] = {"median": round(statistics.median(cold), 1), "max": round(max(cold), 1)}
        finally:
            _stop(process)
    finally:
        subprocess.run(["make", "-s", "stop-local", *make_vars], cwd=clone, env=env, check=False, capture_output=True)
        shutil.rmtree(clone, ignore_errors=True)
    return out


def _latencies(url: str, auth: tuple[str, str], body: bytes, count: int) -> dict[str, float]:
    import base64
    import urllib.request

    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    times = []
    for _ in range(count):
        request = urllib.request.Request(
            f"{url}/loki/api/v1/push",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}


# --- report ------------------------------------------------------------------------------------------


def figures(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The README's performance table: (figure, result, target)."""
    cpu = {(r["lines"], r["push"], r["format"]): r for r in report["handler_cpu"]}
    parts = report["components_ms"]
    snap = report["snappy"]
    cold = report["cold_start"]
    cost = {r["push"]: r for r in report["firehose_cost"]}
    memory = report["peak_memory"]

    def ratio(kind: str, fmt: str) -> str:
        return f"{cpu[(kind, '~5 MB', fmt)]['ratio']}×"

    json_big, text_big = cpu[("json", "~5 MB", "json")], cpu[("text", "~5 MB", "json")]
    rows = [
        (
            "Handler CPU, ~5 MB of ~1 KB Stytch-like JSON events (JSON body)",
            f"{ratio('json', 'json')} json.loads(body) ({json_big['handler_ms']:.0f} ms, {json_big['mb_per_s']} MB/s);"
            f" floor {parts['json']['floor_ratio']}×",
            "≤ 2.0×",
        ),
        (
            "Handler CPU, ~5 MB of plain-text lines",
            f"{ratio('text', 'json')} ({text_big['handler_ms']:.0f} ms, {text_big['mb_per_s']} MB/s);"
            f" floor {parts['text']['floor_ratio']}×",
            "≤ 1.3×",
        ),
        (
            "same, gzip / snappy-protobuf bodies",
            f"{ratio('json', 'gzip')} / {ratio('json', 'protobuf')} (JSON lines);"
            f" {ratio('text', 'gzip')} / {ratio('text', 'protobuf')} (text)",
            "",
        ),
        (
            "same lines as an OpenTelemetry SDK exports them to /otlp/v1/logs, OTLP protobuf / OTLP JSON",
            f"{ratio('json', 'otlp-protobuf')} / {ratio('json', 'otlp-json')}"
            f" ({cpu[('json', '~5 MB', 'otlp-protobuf')]['handler_ms']:.0f} / "
            f"{cpu[('json', '~5 MB', 'otlp-json')]['handler_ms']:.0f} ms, "
            f"{cpu[('json', '~5 MB', 'otlp-protobuf')]['mb_per_s']} / {cpu[('json', '~5 MB', 'otlp-json')]['mb_per_s']}"
            " MB/s of the lines as v1 JSON);"
            f" {ratio('text', 'otlp-protobuf')} / {ratio('text', 'otlp-json')} (text)",
            "",
        ),
        (
            "Snappy decode, 1 MiB block of JSON lines",
            f"{snap['ours_mb_per_s']} MB/s, {snap['ratio_to_cramjam']} of cramjam ({snap['cramjam_mb_per_s']} MB/s);"
            f" floors: walk {snap['walk_only_floor_ratio']}, walk + append {snap['walk_and_one_append_floor_ratio']}",
            "≥ 1/25",
        ),
        ("Protobuf decode", f"{snap['protobuf_decode_mb_per_s']} MB/s", ""),
        ("OTLP protobuf decode (1,000 SDK-shaped records)", f"{snap['otlp_protobuf_decode_mb_per_s']} MB/s", ""),
        (
            "Cold start (import + clients), tracing off / on",
            f"+{cold['extra_tracing_off_ms']} ms / +{cold['extra_tracing_on_ms']} ms over import boto3 + one client"
            f" ({cold['baseline_boto3_plus_client_ms']} ms; Python {cold['python']}, {cold['package']})",
            "≤ +30 ms",
        ),
        (
            "Firehose bill / payload, ~5 MB push of 1 KB events",
            f"{cost['~5 MB']['billed_over_payload']}, {cost['~5 MB']['calls']} PutRecordBatch calls;"
            f" one record per line would be {cost['~5 MB']['naive_billed_over_payload']}×"
            f" and {cost['~5 MB']['naive_calls']} calls",
            "≤ 1.02",
        ),
        (
            "Firehose bill / payload, 1,000-entry / 10-entry push",
            f"{cost['1,000 entries']['billed_over_payload']} / {cost['10 entries']['billed_over_payload']}",
            "",
        ),
        (
            "Peak memory, ~5 MB push",
            f"{memory['json']['ratio_to_body']}× (JSON lines) / {memory['text']['ratio_to_body']}× (text) the body",
            "≤ 4×",
        ),
    ]
    stack = report.get("local_stack")
    if stack:
        rows += [
            ("First `make run` from a fresh clone", f"{stack['first_make_run_s']:.0f} s", "≤ 90 s"),
            ("`make run` after `make stop-local`", f"{stack['second_make_run_s']:.1f} s", "≤ 20 s"),
            (
                "The zip on Python 3.12 via awslambdaric: cold start (new environment, first push over HTTP)",
                f"{stack['cold_start_ms']['median']:.0f} ms (max {stack['cold_start_ms']['max']:.0f})",
                "",
            ),
            (
                "… warm push (1 entry, over HTTP, Firehose and S3 in the emulator)",
                f"{stack['warm_ms']['median']:.1f} ms (max {stack['warm_ms']['max']:.0f})",
                "",
            ),
        ]
    return rows


def table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> str:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    lines = [title, "  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  " + "  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def markdown(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| Figure | Result | Target |", "|---|---|---|"]
    lines += [f"| {figure} | {result} | {target} |" for figure, result, target in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--skip-local-stack", action="store_true", help="skip the fresh-clone `make run` figures")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
    started = time.monotonic()

    from bench import bounds
    from bench import cost as pricing

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "handler_cpu": handler_cpu(args.quick),
        "components_ms": components(args.quick),
        "snappy": snappy_speed(args.quick),
        "cold_start": cold_start(args.quick),
        "firehose_cost": firehose_cost(),
        "peak_memory": peak_memory(),
        "cost_per_gb": pricing.cost_table(args.quick),
        "worst_case_work": bounds.table(quick=args.quick),
    }
    if not args.skip_local_stack:
        report["local_stack"] = local_stack()
    report["seconds"] = round(time.monotonic() - started, 1)

    print(f"loki-ingest benchmarks (Python {report['python']}, {report['machine']}, {report['cpus']} CPUs)\n")
    print(markdown(figures(report)))
    print()
    print(
        table(
            f"All-in cost per GB of push bodies, us-east-1 arm64 list prices of {pricing.PRICES_DATE} "
            f"(Firehose call stated at {pricing.FIREHOSE_CALL_MS:.0f} ms; CloudWatch Logs ingestion is "
            f"${pricing.PRICES['cloudwatch_logs_ingest_gb']}/GB)",
            report["cost_per_gb"],
            [
                "push",
                "memory_mb",
                "cpu_ms",
                "billed_ms",
                "lambda_usd_per_gb",
                "firehose_usd_per_gb",
                "s3_usd_per_gb",
                "total_usd_per_gb",
                "vs_cloudwatch_logs",
            ],
        )
    )
    print()
    print(
        table(
            "Worst-case work per push, fresh interpreter: uncapped pushes (per MiB) and the largest push of each "
            "shape the default caps accept (totals; seconds at 512 MB = cpu_s x 1769/512)",
            report["worst_case_work"],
            ["shape", "capped", "decompressed_bytes", "status", "cpu_ms_per_mib", "rss_per_byte", "cpu_s", "rss_mb"],
        )
    )
    print(f"\n(bench took {report['seconds']:.0f} s; every raw figure is in {args.output})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""What a user pays: the all-in cost model behind `make bench`'s $/GB table, `make cost`'s
monthly bill and the README's "What it costs".

Measured here, on the real handler:

* CPU per push, through the real boto3 Firehose client (JSON serialisation, base64, SigV4
  signing, an HTTP round trip) against a Firehose stub on 127.0.0.1 in another process
  (firehose_stub.py), plus the runtime's decoding of the invocation event and encoding of the
  answer (what awslambdaric does with them, as json.loads and json.dumps);
* the records each push becomes: their sizes, so Firehose's 5 KB rounding and the record
  expansion (stored / pushed bytes) are the real ones, and their gzip size (S3 storage);
* the bytes the handler writes to stdout (CloudWatch Logs) per push: its real output over a
  long run of pushes at the deployment's rate per execution environment (a fake clock drives
  the metrics interval);
* the custom metrics: every distinct namespace x metric name x dimension values in the EMF the
  handler and the canary actually write, over every kind of answer;
* the Secrets Manager calls per credential refresh.

Read from the Terraform module and the environment root (terraform_defaults): memory, tracing
mode, system log level, buffer size and interval, alarms (one billed metric each, two for a
rate alarm), the dashboard, the canary's schedule and memory, the KMS keys.

Stated, not measured (assumptions() below, printed with every bill): the wait on Firehose per
PutRecordBatch call, that this machine's core is as fast as one arm64 Lambda vCPU, a steady
arrival rate (concurrent environments by Little's law), Lambda's platform lines (built from
AWS's documented record shapes: no emulator writes them), and the canary's wait.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import envelope, prices
from bench.deployment import FIREHOSE_CALL_MS, Deployment, terraform_defaults
from bench.handler_output import (
    LogFigures,
    emitted_metrics,
    log_output,
    platform_bytes_per_invocation,
    secret_calls_per_refresh,
)
from bench.harness import MIB, ROOT, bench_settings
from bench.prices import MONTH_S, PRICES
from bench.pushes import SHAPES, Push, billed_bytes, gzip_per_record_byte, measure_pushes

GIB = 1 << 30
#: Lambda gives a function one vCPU at 1,769 MB and a proportional share below
#: (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
FULL_VCPU_MB = 1769
MEMORY_SIZES = (128, 256, 384, 512, 1024)
TB_PER_MONTH_GB = 1024.0
#: The figures the README's "What it costs" is rendered from (scripts/cost_docs.py), written
#: by `make bench` and `make cost-figures`.
FIGURES = ROOT / "bench" / "cost_figures.json"

# --- what is assumed, not measured --------------------------------------------------------

#: Lambda runs the canary until the line lands: about the buffer interval, plus this much for
#: S3 and the poll (an assumption; the canary's own CanaryLatency field shows the real one).
CANARY_EXTRA_S = 10.0
#: The canary polls S3 every 5 s on AWS (loki_canary.handler, POLL_SECONDS on AWS).
CANARY_POLL_S = 5.0


def assumptions(call_ms: float = FIREHOSE_CALL_MS) -> list[str]:
    return [
        f"each PutRecordBatch call waits {call_ms:.0f} ms (no published figure; the dashboard's latency graph "
        "shows your stream's PutRecordBatch.Latency)",
        "this machine's CPU time equals one arm64 Lambda vCPU's, scaled by memory / 1769 MB below one vCPU",
        "pushes arrive at a steady rate: concurrent environments = pushes per second x billed duration (at least 1)",
        "Lambda's platform lines are AWS's documented platform.start / platform.report records (not captured: "
        "no emulator writes them)",
        f"the canary runs the buffer interval + {CANARY_EXTRA_S:.0f} s, polling S3 every {CANARY_POLL_S:.0f} s",
        "every push succeeds (4xx/5xx lines, retries and cold starts are not in the bill)",
    ]


# --- the bill ---------------------------------------------------------------------------------


@dataclass
class Term:
    name: str
    usd: float
    how: str
    kind: str  # "variable", "fixed" or "storage"


@dataclass
class Bill:
    deployment: Deployment
    push: str
    gb_per_month: float
    pushes: float
    environments: int
    billed_ms: float
    terms: list[Term]

    def total(self, kind: str) -> float:
        return sum(term.usd for term in self.terms if term.kind == kind)

    def per_gb(self) -> float:
        return self.total("variable") / self.gb_per_month


@dataclass
class Measured:
    """Everything the bill needs that is measured on this checkout (independent of the memory
    size and the volume, except the log output, which depends on the rate per environment)."""

    pushes: dict[str, Push]
    metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]]
    secret_calls_per_refresh: int
    canary_line_bytes: int
    gzip_per_record_byte: float


def measure(shapes: Sequence[str] = SHAPES, *, repeats: int = 41) -> Measured:
    try:
        from loki_canary.handler import Result, report_line

        canary_line = len(
            json.dumps(report_line(Result(True, "landed", "x"), "loki-ingest-prod", 1), separators=(",", ":"))
        )
        has_canary = True
    except ImportError:  # pragma: no cover - an older checkout
        canary_line, has_canary = 600, False
    return Measured(
        pushes=measure_pushes(shapes, repeats=repeats),
        metrics=emitted_metrics(has_canary),
        secret_calls_per_refresh=secret_calls_per_refresh(),
        canary_line_bytes=canary_line,
        gzip_per_record_byte=gzip_per_record_byte(),
    )


def billed_duration_ms(cpu_ms: float, memory_mb: int, calls: int, call_ms: float) -> float:
    """CPU time stretched by the memory size's share of a vCPU, plus the wait on Firehose,
    in Lambda's 1 ms steps."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return float(math.ceil(cpu_ms / share + calls * call_ms))


def xray_traces(pushes_per_s: float, seconds: float) -> float:
    """X-Ray's default sampling rule: the first request each second and 5% of the rest."""
    return seconds * (min(pushes_per_s, 1.0) + 0.05 * max(pushes_per_s - 1.0, 0.0))


def _log_mode(deployment: Deployment) -> str:
    if deployment.log_every_request:
        return "a line per request"
    return f"a metrics line per {deployment.metrics_interval_s} s per environment"


def bill(
    deployment: Deployment,
    measured: Measured,
    shape: str,
    gb_per_month: float,
    *,
    log: Callable[..., LogFigures] = log_output,
) -> Bill:
    """A month at `gb_per_month` of push bodies, all pushes of `shape`, line by line."""
    push = measured.pushes[shape]
    p = {name: price.usd for name, price in PRICES.items()}
    pushes = gb_per_month * GIB / push.body_bytes
    rate = pushes / MONTH_S
    billed_ms = billed_duration_ms(push.cpu_ms, deployment.memory_mb, push.calls, deployment.firehose_call_ms)
    environments = max(1, math.ceil(rate * billed_ms / 1000))
    gb_s = pushes * deployment.memory_mb / 1024 * billed_ms / 1000
    written = log(push.event, seconds_between_pushes=environments / rate, deployment=deployment)
    platform = platform_bytes_per_invocation(deployment, billed_ms)
    stored = pushes * push.record_bytes
    objects = max(stored / (deployment.buffer_mb * MIB), min(pushes, MONTH_S / max(deployment.buffer_interval_s, 1)))
    refreshes = min(pushes, environments * MONTH_S / max(deployment.secret_cache_ttl_s, 1))
    traces = xray_traces(rate, MONTH_S) if deployment.tracing_mode == "Active" else 0.0
    handler_metrics = {m for m in measured.metrics if not m[1].startswith("Canary")}
    canary_metrics = measured.metrics - handler_metrics if deployment.canary_runs_per_month else set()
    runs = deployment.canary_runs_per_month
    canary_s = deployment.buffer_interval_s + CANARY_EXTRA_S
    canary_platform = platform_bytes_per_invocation(
        replace(deployment, system_log_level="INFO", memory_mb=deployment.canary_memory_mb), canary_s * 1000
    )
    terms = [
        Term("Lambda requests", pushes * p["lambda_request"], f"{pushes:,.0f} pushes", "variable"),
        Term(
            "Lambda duration",
            gb_s * p["lambda_gb_s"],
            f"{billed_ms:.0f} ms billed per push at {deployment.memory_mb} MB: {push.cpu_ms:.2f} ms CPU "
            f"(x {max(1.0, FULL_VCPU_MB / deployment.memory_mb):.2f} below one vCPU) + {push.calls} x "
            f"{deployment.firehose_call_ms:.0f} ms Firehose wait (assumed)",
            "variable",
        ),
        Term(
            "Firehose ingestion",
            pushes * push.billed_bytes / GIB * p["firehose_gb"],
            f"{len(push.record_sizes)} record(s) of {push.record_bytes:,} B billed as {push.billed_bytes:,} B (5 KB "
            f"steps) per {push.body_bytes:,} B push",
            "variable",
        ),
        Term(
            "S3 PUTs",
            objects * p["s3_put"],
            f"{objects:,.0f} objects ({deployment.buffer_mb} MiB / {deployment.buffer_interval_s} s buffer)",
            "variable",
        ),
        Term(
            "CloudWatch Logs: handler lines",
            pushes * written.bytes_per_push / GIB * p["logs_ingest_gb"],
            f"{written.bytes_per_push:,.1f} B per push measured ({written.lines_per_push:.4f} lines; "
            f"{_log_mode(deployment)})",
            "variable",
        ),
        Term(
            "CloudWatch Logs: platform lines",
            pushes * platform / GIB * p["logs_ingest_gb"],
            f"{platform} B per invocation (system_log_level {deployment.system_log_level})",
            "variable",
        ),
        Term(
            "X-Ray traces",
            traces * p["xray_trace"],
            f"{traces:,.0f} traces (tracing_mode {deployment.tracing_mode})",
            "variable",
        ),
        Term(
            "Secrets Manager API calls",
            refreshes * measured.secret_calls_per_refresh * p["secret_api_call"],
            f"{measured.secret_calls_per_refresh} calls per refresh, every {deployment.secret_cache_ttl_s} s "
            f"in each of {environments} environment(s)",
            "variable",
        ),
        Term("KMS keys", deployment.kms_keys * p["kms_key_month"], f"{deployment.kms_keys} key(s)", "fixed"),
        Term("Secrets Manager secret", deployment.secrets * p["secret_month"], f"{deployment.secrets} secret", "fixed"),
        Term("CloudWatch dashboard", deployment.dashboards * p["dashboard_month"], f"{deployment.dashboards}", "fixed"),
        Term(
            "CloudWatch alarms",
            deployment.alarm_metrics * p["alarm_metric_month"],
            f"{deployment.alarm_metrics} alarm metrics (a rate alarm reads 2)",
            "fixed",
        ),
        Term(
            "Custom metrics: handler",
            len(handler_metrics) * p["custom_metric_month"],
            f"{len(handler_metrics)} metric x dimension combinations in the EMF it writes",
            "fixed",
        ),
        Term(
            "Custom metrics: canary",
            len(canary_metrics) * p["custom_metric_month"],
            f"{len(canary_metrics)} in the canary's EMF",
            "fixed",
        ),
        Term(
            "Canary runs",
            runs * (p["lambda_request"] + deployment.canary_memory_mb / 1024 * canary_s * p["lambda_gb_s"]),
            f"{runs:,.0f} runs of ~{canary_s:.0f} s at {deployment.canary_memory_mb} MB",
            "fixed",
        ),
        Term(
            "Canary S3 and secret requests",
            runs * (canary_s / CANARY_POLL_S * p["s3_put"] + 2 * p["s3_get"] + p["secret_api_call"]),
            "a LIST per poll, 2 GETs and 1 GetSecretValue per run",
            "fixed",
        ),
        Term(
            "Canary logs",
            runs * (measured.canary_line_bytes + canary_platform) / GIB * p["logs_ingest_gb"],
            f"{measured.canary_line_bytes} B line + {canary_platform} B platform lines per run",
            "fixed",
        ),
        Term(
            "S3 storage (per month kept)",
            stored * measured.gzip_per_record_byte / GIB * p["s3_standard_gb_month"],
            f"{push.record_bytes * measured.gzip_per_record_byte / push.body_bytes:.3f} GB gzip per GB pushed, "
            "S3 Standard"
            + (
                f" (Standard-IA after {deployment.transition_to_ia_days} days: ${p['s3_ia_gb_month']}/GB-month)"
                if deployment.transition_to_ia_days
                else ""
            ),
            "storage",
        ),
    ]
    return Bill(deployment, shape, gb_per_month, pushes, environments, billed_ms, terms)


def free_tier_credit(b: Bill) -> float:
    """What the always-free tiers would take off, if nothing else in the account used them."""
    p = {name: price.usd for name, price in PRICES.items()}
    by = {term.name: term.usd for term in b.terms}
    lambda_requests = min(b.pushes, prices.FREE_TIERS["lambda_request"]) * p["lambda_request"]
    gb_s = by["Lambda duration"] / p["lambda_gb_s"]
    lambda_gb_s = min(gb_s, prices.FREE_TIERS["lambda_gb_s"]) * p["lambda_gb_s"]
    metrics = min(
        (by["Custom metrics: handler"] + by["Custom metrics: canary"]) / p["custom_metric_month"],
        prices.FREE_TIERS["custom_metric_month"],
    )
    alarms = min(b.deployment.alarm_metrics, prices.FREE_TIERS["alarm_metric_month"])
    logs_usd = by["CloudWatch Logs: handler lines"] + by["CloudWatch Logs: platform lines"] + by["Canary logs"]
    logs = min(logs_usd, prices.FREE_TIERS["logs_gb"] * p["logs_ingest_gb"])
    traces = by["X-Ray traces"] / p["xray_trace"]
    return (
        lambda_requests
        + lambda_gb_s
        + metrics * p["custom_metric_month"]
        + alarms * p["alarm_metric_month"]
        + min(b.deployment.dashboards, prices.FREE_TIERS["dashboard_month"]) * p["dashboard_month"]
        + logs
        + min(traces, prices.FREE_TIERS["xray_trace"]) * p["xray_trace"]
    )


def floor_per_gb(measured: Measured, shape: str) -> float:
    """What no implementation of this design avoids per GB: a Lambda request per push and
    Firehose's bill for the records (5 KB steps included)."""
    push = measured.pushes[shape]
    pushes = GIB / push.body_bytes
    return pushes * (PRICES["lambda_request"].usd + push.billed_bytes / GIB * PRICES["firehose_gb"].usd)


# --- the tables ---------------------------------------------------------------------------------


def cached_log_output() -> Callable[..., LogFigures]:
    """log_output, remembered per push, log settings and rate per environment (within 25%):
    the tables price the same pushes at several memory sizes and volumes."""
    memo: dict[tuple[Any, ...], LogFigures] = {}

    def cached(push: dict[str, Any], *, seconds_between_pushes: float, deployment: Deployment) -> LogFigures:
        key = (
            id(push),
            deployment.log_every_request,
            deployment.metrics_interval_s,
            round(math.log(seconds_between_pushes, 1.25)),
        )
        if key not in memo:
            memo[key] = log_output(push, seconds_between_pushes=seconds_between_pushes, deployment=deployment)
        return memo[key]

    return cached


def per_gb_rows(
    deployment: Deployment, measured: Measured, log: Callable[..., LogFigures] | None = None
) -> list[dict[str, Any]]:
    """Variable $/GB of push bodies at a steady 1 TB a month, per push shape and memory size."""
    log = log or cached_log_output()
    rows = []
    for shape in measured.pushes:
        row: dict[str, Any] = {"push": shape, "cpu_ms": round(measured.pushes[shape].cpu_ms, 3)}
        for memory in MEMORY_SIZES:
            b = bill(replace(deployment, memory_mb=memory), measured, shape, TB_PER_MONTH_GB, log=log)
            row[f"{memory}_mb"] = round(b.per_gb(), 4)
        row["floor"] = round(floor_per_gb(measured, shape), 4)
        rows.append(row)
    return rows


def figures(deployment: Deployment, measured: Measured) -> dict[str, Any]:
    """Everything the README block renders, from one measurement (bench/cost_figures.json)."""
    log = cached_log_output()
    per_term = {}
    for shape in measured.pushes:
        b = bill(deployment, measured, shape, TB_PER_MONTH_GB, log=log)
        per_term[shape] = {t.name: round(t.usd / b.gb_per_month, 5) for t in b.terms if t.kind == "variable"}
    monthly = {}
    for gb, label, shape in (
        (1.0, "1 GB", "10"),
        (30.0, "30 GB", "10"),
        (TB_PER_MONTH_GB, "1 TB", "10"),
        (TB_PER_MONTH_GB, "1 TB", "1000"),
    ):
        b = bill(deployment, measured, shape, gb, log=log)
        monthly[f"{label} a month, {int(shape):,}-event pushes"] = {
            "gb": gb,
            "variable": round(b.total("variable"), 4),
            "fixed": round(b.total("fixed"), 4),
            "storage": round(b.total("storage"), 4),
            "free_tier_credit": round(free_tier_credit(b), 4),
        }
    prod = bill(deployment, measured, "10", 1.0, log=log)
    events_per_gb = GIB / (measured.pushes["1000"].body_bytes / measured.pushes["1000"].entries)
    return {
        "prices_checked": prices.CHECKED,
        "deployment": deployment.__dict__,
        "assumptions": assumptions(deployment.firehose_call_ms),
        "per_gb": per_gb_rows(deployment, measured, log),
        "per_term_per_gb": per_term,
        "per_gb_10_events": round(sum(per_term["10"].values()), 5) if "10" in per_term else 0.0,
        "fixed_terms": {t.name: round(t.usd, 2) for t in prod.terms if t.kind == "fixed"},
        "monthly": monthly,
        "custom_metrics": sorted(
            "/".join([ns, name, *("=".join(d) for d in dims)]) for ns, name, dims in measured.metrics
        ),
        "record_expansion": {s: round(p.record_bytes / p.body_bytes, 3) for s, p in measured.pushes.items()},
        "events_per_gb": round(events_per_gb),
        "envelope": envelope.table({shape: push.event for shape, push in measured.pushes.items()}),
    }


def anchors(events_per_gb: float) -> list[tuple[str, float, float, str, str]]:
    """(name, low $/GB, high $/GB, what it includes, source) of the hosted alternatives."""
    rows = [(a.name, *a.usd_per_gb, a.includes, a.source) for a in prices.ANCHORS]
    datadog = prices.DATADOG_INGEST_GB + prices.DATADOG_INDEX_PER_MILLION_EVENTS * events_per_gb / 1e6
    rows.append(
        (
            "Datadog Log Management",
            prices.DATADOG_INGEST_GB,
            round(datadog, 2),
            f"$0.10/GB ingested; indexed for 15 days + ${prices.DATADOG_INDEX_PER_MILLION_EVENTS}/million events "
            f"({events_per_gb / 1e6:.2f} M events/GB here)",
            prices.DATADOG,
        )
    )
    low, high = prices.SELF_HOSTED_LOKI_MONTHLY_AT_1TB
    rows.append(
        (
            "Self-hosted Loki on S3",
            low / TB_PER_MONTH_GB,
            high / TB_PER_MONTH_GB,
            f"an estimate, not a price: ${low:.0f}-{high:.0f} a month of instances at 1 TB, plus running it",
            prices.SELF_HOSTED_LOKI_SOURCE,
        )
    )
    return rows


# --- Firehose's bill over the payload, per push (the README's table) -----------------------------


def firehose_cost() -> list[dict[str, Any]]:
    from bench.workloads import lines_for_bytes, stytch_lines
    from loki_ingest.delivery.firehose import MAX_BATCH_BYTES as FIREHOSE_MAX_BATCH_BYTES
    from loki_ingest.delivery.firehose import MAX_BATCH_RECORDS as FIREHOSE_MAX_BATCH_RECORDS
    from loki_ingest.delivery.firehose import MAX_RECORD_BYTES, pack
    from loki_ingest.ingest.limits import Limits
    from loki_ingest.ingest.model import Rejections, Stream
    from loki_ingest.ingest.validate import validate
    from loki_ingest.records import render as records

    rows = []
    for name, lines in (
        ("10 entries", stytch_lines(10)),
        ("1,000 entries", stytch_lines(1000)),
        ("~5 MB", lines_for_bytes(5 * MIB - 200 * 1024)),
    ):
        valid = validate(
            [Stream([("service_name", "stytch")], [(i, line, ()) for i, line in enumerate(lines)])],
            Limits.from_settings(bench_settings()),
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


# --- make cost ----------------------------------------------------------------------------------


def render_bill(b: Bill) -> str:
    width = max(len(t.name) for t in b.terms)
    lines = [
        f"A month of {b.gb_per_month:g} GB of push bodies in pushes of {b.push} events "
        f"({b.pushes:,.0f} pushes; {b.environments} environment(s) busy on average), environments/{b.deployment.root} "
        f"defaults at {b.deployment.memory_mb} MB; us-east-1 arm64 list prices of {prices.CHECKED}",
        "",
    ]
    for kind, title in (("variable", "Per push"), ("fixed", "Fixed"), ("storage", "Storage, apart")):
        lines.append(f"{title}:")
        for term in (t for t in b.terms if t.kind == kind):
            lines.append(f"  {term.name.ljust(width)}  ${term.usd:>10,.4f}   {term.how}")
        lines.append(f"  {'= ' + title.lower().ljust(width - 2)}  ${b.total(kind):>10,.4f}")
        lines.append("")
    total = b.total("variable") + b.total("fixed")
    lines += [
        f"Total (storage apart): ${total:,.2f} a month; ${b.per_gb():.4f} per GB before the fixed items",
        f"Always-free tiers, if nothing else in the account uses them: -${free_tier_credit(b):,.2f}",
        "",
        "Assumed, not measured:",
        *(f"  - {a}" for a in assumptions(b.deployment.firehose_call_ms)),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="A month's bill, line by line (make cost).")
    parser.add_argument("--gb-per-month", type=float, default=30.0)
    parser.add_argument("--events-per-push", default="10", choices=SHAPES)
    parser.add_argument("--memory-mb", type=int, default=None, help="default: the module's lambda_memory_mb")
    parser.add_argument("--env", default="prod", choices=("prod", "dev"))
    parser.add_argument("--firehose-call-ms", type=float, default=FIREHOSE_CALL_MS)
    parser.add_argument("--tracing-mode", choices=("Active", "PassThrough"), default=None)
    parser.add_argument("--system-log-level", choices=("DEBUG", "INFO", "WARN"), default=None)
    parser.add_argument("--log-every-request", action="store_true", default=None)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="read Terraform from another checkout")
    parser.add_argument("--table", action="store_true", help="print the $/GB table instead")
    parser.add_argument("--json", action="store_true", help="print the README figures as JSON")
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
    deployment = terraform_defaults(args.env, args.checkout)
    changes: dict[str, Any] = {"firehose_call_ms": args.firehose_call_ms}
    for name in ("memory_mb", "tracing_mode", "system_log_level", "log_every_request"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    deployment = replace(deployment, **changes)
    shapes = SHAPES if (args.table or args.json) else (args.events_per_push,)
    measured = measure(shapes, repeats=args.repeats)
    if args.json:
        print(json.dumps(figures(deployment, measured), indent=2))
    elif args.table:
        from bench.report import table

        print(table_text(deployment, measured, table))
    else:
        print(render_bill(bill(deployment, measured, args.events_per_push, args.gb_per_month)))


def table_text(deployment: Deployment, measured: Measured, table: Callable[..., str]) -> str:
    rows = per_gb_rows(deployment, measured)
    title = (
        f"Variable cost per GB of push bodies at a steady 1 TB a month, by memory size (environments/{deployment.root} "
        f"defaults, us-east-1 arm64 list prices of {prices.CHECKED}; Firehose call assumed "
        f"{deployment.firehose_call_ms:.0f} ms; floor = Lambda requests + Firehose with its 5 KB steps)"
    )
    columns = ["push", "cpu_ms", *(f"{m}_mb" for m in MEMORY_SIZES), "floor"]
    return table(title, rows, columns)


if __name__ == "__main__":
    main()

"""make bench: throughput, cold start, memory and Firehose cost, as ratios measured in the
same run (medians over interleaved repeats), so a shared, noisy machine still gives stable
numbers, and the local stack's figures from a fresh clone (first and second `make run`,
the zip's cold start and warm latency). It never fails on speed: it prints the README's
table (figure, result, target) and writes every raw number to bench/results/latest.json.
What the work budget lets through is `make bench-limits` (bench/limits.py), and the cost of
each element kind `python -m bench.elements`: both take minutes, so they are not run here.

    python -m bench.run [--quick] [--skip-local-stack] [--output PATH]

To benchmark another copy of the handler package (e.g. an older commit checked out with
`git worktree`), put it first on the path: PYTHONPATH=<worktree>/lambda python -m bench.run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench import cost as pricing
from bench.deployment import terraform_defaults
from bench.harness import ROOT
from bench.local_stack import local_stack
from bench.process import cold_start, peak_memory
from bench.report import figures, markdown, table
from bench.speed import components, handler_cpu, snappy_speed


def cost_figures(quick: bool) -> dict[str, Any]:
    """The all-in $/GB table, and the figures the README's "What it costs" renders (written to
    bench/cost_figures.json, which `make docs` reads)."""
    deployment = terraform_defaults("prod")
    measured = pricing.measure(repeats=5 if quick else 41)
    out = pricing.figures(deployment, measured)
    if not quick:  # a smoke run's figures are too noisy for the README
        pricing.FIGURES.write_text(json.dumps(out, indent=2) + "\n")
    return {**out, "table": pricing.table_text(deployment, measured, table)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--skip-local-stack", action="store_true", help="skip the fresh-clone `make run` figures")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
    started = time.monotonic()

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "handler_cpu": handler_cpu(args.quick),
        "components_ms": components(args.quick),
        "snappy": snappy_speed(args.quick),
        "cold_start": cold_start(args.quick),
        "firehose_cost": pricing.firehose_cost(),
        "peak_memory": peak_memory(),
        "cost": cost_figures(args.quick),
    }
    if not args.skip_local_stack:
        report["local_stack"] = local_stack()
    report["seconds"] = round(time.monotonic() - started, 1)

    print(f"loki-ingest benchmarks (Python {report['python']}, {report['machine']}, {report['cpus']} CPUs)\n")
    print(markdown(figures(report)))
    print()
    print(report["cost"].pop("table"))
    print(f"\n(bench took {report['seconds']:.0f} s; every raw figure is in {args.output})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""What the default work budget lets through: for each decoder, the costliest push it accepts,
and every hostile push of issue 21 (tests/support/hostile.py), each once through the real
handler with the default settings in a fresh interpreter (bench/oneshot.py).

The costliest push of a decoder is the element shape of bench/shapes.py with the most CPU per
unit charged (each shape probed at a small size with the budget raised), scaled to just under
WORK_BUDGET_DEFAULT units. For every push: the status, CPU seconds (time.process_time), peak RSS
growth, the units charged (Outcome.work_units), and the seconds at the module's default memory
size (budget.seconds_at): the CPU measured here, and the CPU the budget allows for the units.

    python -m bench.limits [--quick] [--output bench/limits_figures.json]

`make bench-limits` runs it (QUICK=1 for a smoke run: smaller probes); `make docs` renders the
figures into the README's "Limits and edge cases" (scripts/limits_docs.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import hostile
from tests.support.hostile import Push

from bench import oneshot
from bench.elements import UNCAPPED
from bench.harness import MIB, ROOT, bench_settings
from bench.shapes import SHAPES, Built, Shape, decoder_of, decompressed_size
from loki_ingest.ingest.budget import WORK_BUDGET_DEFAULT, seconds_at

FIGURES = ROOT / "bench" / "limits_figures.json"
#: The module's default lambda_memory_mb (modules/loki-ingest/variables.tf).
MEMORY_MB = 512
DECODERS = ("loki-json-v1", "loki-json-legacy", "loki-protobuf", "otlp-protobuf", "otlp-json")
#: The costliest push is scaled to this share of the budget, then shrunk until it is accepted.
TARGET_SHARE = 0.97
#: Shapes per decoder run at full size (those the probes predict to take the most CPU).
CANDIDATES = 3

#: Default client batches (hostile.client_batch): what the budget must hold.
CLIENT_BATCHES: dict[str, Callable[[], Push]] = {
    "client-batch-4-byte-lines-protobuf": lambda: hostile.client_batch(4, "protobuf"),
    "client-batch-4-byte-lines-json": lambda: hostile.client_batch(4, "json"),
}


def row(name: str, push: Push, figures: dict[str, Any], elements: int | None = None) -> dict[str, Any]:
    units = figures["units"]
    return {
        "push": name,
        "decoder": decoder_of(push),
        "elements": elements,
        "wire_bytes": len(push.body),
        "decompressed_mib": round(decompressed_size(push) / MIB, 2),
        "status": figures["status"],
        "reason": figures["reason"],
        "cpu_s": round(figures["cpu_s"], 3),
        "rss_growth_mb": round(figures["rss_growth"] / 1e6, 1),
        "units": units,
        "cpu_us_per_unit": round(figures["cpu_s"] * 1e6 / units, 3) if units else None,
        "cpu_s_at_memory": round(seconds_at(figures["cpu_s"] * 1e6, MEMORY_MB), 2),
        "budget_s_at_memory": round(seconds_at(units, MEMORY_MB), 2),
        "answer": figures["answer"][:160],
    }


def probe(shape: Shape, quick: bool) -> tuple[int, float, Built]:
    """A small push of `shape` measured with the budget raised, and the size (in elements) at
    which it would reach the default budget or a default wire cap (MAX_BODY_BYTES,
    MAX_DECOMPRESSED_BYTES), whichever comes first; returns (that size, the CPU seconds
    predicted there, the probe)."""
    built = shape.build(max(16, shape.n // (32 if quick else 8)))
    figures = oneshot.run(built.push, overrides=UNCAPPED)
    defaults = bench_settings()
    scale = min(
        WORK_BUDGET_DEFAULT / max(1, figures["units"]),
        defaults.max_body_bytes / len(built.push.body),
        defaults.max_decompressed_bytes / decompressed_size(built.push),
    )
    return int(built.elements * scale * TARGET_SHARE), figures["cpu_s"] * scale, built


def worst(decoder: str, quick: bool) -> dict[str, Any]:
    """The push of `decoder` that takes the most CPU within the default budget and caps: the
    CANDIDATES shapes predicted to take the most, each run at the largest size accepted."""
    probes = []
    for shape in SHAPES:
        if shape.decoder == decoder:
            n, cpu_s, _ = probe(shape, quick)
            probes.append((cpu_s, n, shape))
            print(f"  probe {decoder} {shape.element}: {cpu_s:.2f} s at {n:,} elements", flush=True)
    measured = []
    for _, predicted_n, shape in sorted(probes, key=lambda p: -p[0])[:CANDIDATES]:
        n = predicted_n
        for _ in range(8):
            built = shape.build(n)
            figures = oneshot.run(built.push)
            if figures["status"] != 413:
                measured.append((figures["cpu_s"], shape, built, figures))
                break
            # Refused: by the budget (just under it), or by another cap (OTLP's expansion, a wire cap).
            n = int(n * (0.9 if figures["reason"] == "over_work_budget" else 0.5))
    _, shape, built, figures = max(measured, key=lambda m: m[0])
    name = f"{decoder}: {shape.element}" + (f" ({shape.note})" if shape.note else "")
    out = row(name, built.push, figures, built.elements)
    out["predicted_cpu_s"] = {s.element: round(cpu_s, 2) for cpu_s, _, s in probes}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller probes (a smoke run)")
    parser.add_argument("--output", type=Path, default=FIGURES)
    args = parser.parse_args()
    worst_rows = []
    for decoder in DECODERS:
        worst_rows.append(worst(decoder, args.quick))
        print(json.dumps(worst_rows[-1]), flush=True)
    hostile_rows = []
    for name, make in {**hostile.HOSTILE, **CLIENT_BATCHES}.items():
        push = make()
        hostile_rows.append(row(name, push, oneshot.run(push)))
        print(json.dumps(hostile_rows[-1]), flush=True)
    figures = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
        "work_budget_units": WORK_BUDGET_DEFAULT,
        "memory_mb": MEMORY_MB,
        "worst": worst_rows,
        "hostile": hostile_rows,
    }
    args.output.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

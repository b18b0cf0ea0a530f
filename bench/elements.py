"""What each decoded element costs the push path, beside what the work budget charges for it
(issue 21: ingest/budget.py's Costs are built from these figures).

For every decoder (Loki JSON v1, legacy JSON, Loki protobuf, OTLP protobuf, OTLP JSON) and
element kind (entry, stream, metadata pair, label, JSON value, object key, attribute, AnyValue,
unknown protobuf field, gzip member, snappy element, ...) one push is built where that element
dominates (bench/shapes.py), at two sizes (n / 4 and n elements). Each goes through the whole
push path (base64 event -> auth -> decode -> validate -> records -> packing into Firehose
batches, with a Firehose that accepts everything instantly) in a fresh interpreter
(bench/oneshot.py), with the caps and the budget raised so nothing stops it early. The
difference between the two sizes gives, per element:

* CPU microseconds, for the whole path and for decoding alone (time.process_time, the median
  of `--repeats` runs in that interpreter, so other processes on the machine cost it nothing);
* peak RSS growth in bytes (VmHWM over the first run);
* the units the work budget charged (Outcome.work_units), and units per CPU microsecond.

A unit is meant to be at least one microsecond of CPU here and at least 100 bytes of memory
(budget.MEMORY_PER_UNIT): a kind charged less than either is flagged UNDER in the table.

    python -m bench.elements [--quick] [--repeats 3] [--only SUBSTRING ...] [--output build/elements.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench import oneshot
from bench.harness import ROOT
from bench.shapes import SHAPES, Shape, decompressed_size
from loki_ingest.ingest.budget import MEMORY_PER_UNIT

#: The caps raised for the per-element runs, so every element is decoded.
UNCAPPED: dict[str, Any] = {
    "max_body_bytes": 1 << 30,
    "max_decompressed_bytes": 1 << 30,
    "work_budget_units": 100_000_000,
}


def measure_shape(shape: Shape, repeats: int, quick: bool) -> dict[str, Any]:
    n2 = shape.n // (4 if quick else 1)
    small, large = shape.build(n2 // 4), shape.build(n2)
    figures = [oneshot.run(b.push, repeats=repeats, overrides=UNCAPPED, decode=True) for b in (small, large)]
    elements = large.elements - small.elements
    extra_bytes = decompressed_size(large.push) - decompressed_size(small.push)

    def per(key: str) -> float:
        return float(figures[1][key] - figures[0][key]) / elements

    cpu_us, rss, units = per("cpu_s") * 1e6, per("rss_growth"), per("units")
    return {
        "decoder": shape.decoder,
        "element": shape.element,
        "note": shape.note,
        "n": [small.elements, large.elements],
        "status": figures[1]["status"],
        "bytes_per_element": round(extra_bytes / elements, 2),
        "cpu_us_per_element": round(cpu_us, 3),
        "decode_us_per_element": round(per("decode_cpu_s") * 1e6, 3),
        "rss_bytes_per_element": round(rss, 1),
        "units_per_element": round(units, 3),
        "units_per_cpu_us": round(units / cpu_us, 2) if cpu_us > 0 else None,
        "undercharged": units < cpu_us or units < rss / MEMORY_PER_UNIT,
        "large_cpu_s": round(figures[1]["cpu_s"], 3),
        "large_units": figures[1]["units"],
        "large_rss_mb": round(figures[1]["rss_growth"] / 1e6, 1),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| decoder | element | B/elem | CPU µs/elem (path) | decode µs/elem | RSS B/elem | units/elem | "
        f"units per CPU µs | units ≥ µs and ≥ RSS/{MEMORY_PER_UNIT} | status |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    body = [
        f"| {r['decoder']} | {r['element']} | {r['bytes_per_element']} | {r['cpu_us_per_element']} | "
        f"{r['decode_us_per_element']} | {r['rss_bytes_per_element']} | {r['units_per_element']} | "
        f"{r['units_per_cpu_us']} | {'**UNDER**' if r['undercharged'] else 'ok'} | {r['status']} |"
        for r in rows
    ]
    return "\n".join([head, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a quarter of the sizes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="shapes whose 'decoder element' contains this")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "elements.json")
    args = parser.parse_args()
    rows = []
    for shape in SHAPES:
        if args.only and not any(part in f"{shape.decoder} {shape.element}" for part in args.only):
            continue
        rows.append(measure_shape(shape, args.repeats, args.quick))
        print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    under = [f"{r['decoder']} {r['element']}" for r in rows if r["undercharged"]]
    print(f"\nundercharged: {', '.join(under) if under else 'none'}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"python": sys.version.split()[0], "elements": rows}, indent=1) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

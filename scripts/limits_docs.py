"""Generate the README's measured "Limits and edge cases" tables from bench/limits_figures.json,
between <!-- BEGIN_LIMITS --> and <!-- END_LIMITS -->. The figures come from bench/limits.py,
written by `make bench-limits`; this only renders them, so `make lint` can check the README
without measuring anything.

    python -m scripts.limits_docs [--check]
"""

from __future__ import annotations

from typing import Any

from scripts.generated import readme_block_main

from bench.limits import FIGURES
from loki_ingest.ingest.budget import MEMORY_PER_UNIT

BEGIN, END = "<!-- BEGIN_LIMITS -->", "<!-- END_LIMITS -->"


def _status(row: dict[str, Any]) -> str:
    return f"`{row['status']}` {row['reason']}" if row["reason"] else f"`{row['status']}`"


def _over(row: dict[str, Any]) -> str:
    """⚠ where the push cost more CPU (here) or memory than the units it was charged."""
    units = row["units"] or 0
    if row["status"] == 413:  # refused: the units are what was counted when it stopped
        return ""
    over = row["cpu_s"] * 1e6 > units or row["rss_growth_mb"] * 1e6 > units * MEMORY_PER_UNIT
    return " ⚠" if over else ""


def _cells(row: dict[str, Any]) -> list[str]:
    per_unit = "" if row["cpu_us_per_unit"] is None else f"{row['cpu_us_per_unit']:.2f}"
    return [
        f"{row['decompressed_mib']:g} MiB",
        _status(row),
        f"{row['cpu_s']:.2f} s",
        f"{row['rss_growth_mb']:.0f} MB",
        f"{row['units']:,}{_over(row)}",
        per_unit,
        f"{row['cpu_s_at_memory']:.1f} s / " + ("—" if row["status"] == 413 else f"{row['budget_s_at_memory']:.1f} s"),
    ]


def render(figures: dict[str, Any]) -> str:
    memory = figures["memory_mb"]
    head = (
        f"| Decompressed | Status | CPU here | Peak RSS growth | Units charged | CPU µs per unit | At {memory} MB: "
        "CPU measured / allowed for the units |"
    )
    smoke = " *(Smoke-run figures: `make bench-limits` then `make docs` for the real ones.)*"
    out = [
        f"Measured by `make bench-limits` (Python {figures['python']}, {figures['machine']}, {figures['cpus']} "
        f"CPUs; one push each in a fresh interpreter, the default settings, `WORK_BUDGET_UNITS` = "
        f"{figures['work_budget_units']:,}). ⚠ marks a push that took more CPU microseconds here than "
        f"the units it was charged, or more than {MEMORY_PER_UNIT} bytes of peak memory per unit."
        + (smoke if figures["quick"] else ""),
        "",
        "The costliest push of each decoder that the default budget accepts (the element shape with the most CPU "
        "within the budget and the wire caps, scaled to just under them):",
        "",
        "| Decoder: push | Elements " + head,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in figures["worst"]:
        out.append(f"| {row['push']} | {row['elements']:,} | " + " | ".join(_cells(row)) + " |")
    out += [
        "",
        "The hostile pushes of issue 21 (`tests/support/hostile.py`, each filling the 16 MiB decompressed cap "
        "with the cheapest bytes of one element kind) and two default client batches:",
        "",
        "| Push | Wire bytes " + head,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in figures["hostile"]:
        out.append(f"| {row['push']} | {row['wire_bytes']:,} | " + " | ".join(_cells(row)) + " |")
    return "\n".join(out)


def main() -> None:
    readme_block_main(__doc__, (BEGIN, END), render, FIGURES)


if __name__ == "__main__":
    main()

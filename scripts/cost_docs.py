"""Generate the README's "What it costs" tables from bench/cost_figures.json, between
<!-- BEGIN_COST --> and <!-- END_COST -->. The figures come from the cost model
(bench/cost.py), written by `make bench` or `make cost-figures`; this only renders them, so
`make lint` can check the README without measuring anything.

    python -m scripts.cost_docs [--check]
"""

from __future__ import annotations

from typing import Any

from scripts.generated import readme_block_main

from bench import cost, prices

BEGIN, END = "<!-- BEGIN_COST -->", "<!-- END_COST -->"
SHAPE_NAMES = {"1": "1 event (~1 KB)", "10": "10 events", "100": "100 events", "1000": "1,000 events", "~5 MB": "~5 MB"}
TARGETS = {"1": 0.40, "10": 0.075, "100": 0.037, "1000": 0.034}


def money(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.3f}" if value >= 0.01 else f"${value:.4f}"


def render(figures: dict[str, Any]) -> str:
    deployment = figures["deployment"]
    default = f"{deployment['memory_mb']}_mb"
    memories = [key for key in figures["per_gb"][0] if key.endswith("_mb")]
    out: list[str] = []

    out += [
        "Per GB of push bodies, at a steady 1 TB a month (so the fixed items below are not in it), by memory "
        "size; **bold** is the module's default, ✓ where the target is met, and the floor is what no "
        "implementation of this design avoids: a Lambda request per push and Firehose's bill for the records, "
        "5 KB steps included:",
        "",
        "| Push | " + " | ".join(_memory_head(m, default) for m in memories) + " | Floor | Target |",
        "|---|" + "---|" * (len(memories) + 2),
    ]
    for row in figures["per_gb"]:
        target = TARGETS.get(row["push"])
        cells = []
        for memory in memories:
            text = money(row[memory]) + (" ✓" if target is not None and row[memory] <= target else "")
            cells.append(f"**{text}**" if memory == default else text)
        target_text = f"≤ {money(target)}" if target is not None else ""
        out.append(
            f"| {SHAPE_NAMES[row['push']]} | " + " | ".join(cells) + f" | {money(row['floor'])} | {target_text} |"
        )

    met = []
    for memory in memories:
        shapes_met = [
            SHAPE_NAMES[row["push"]].split(" (")[0]
            for row in figures["per_gb"]
            if row["push"] in TARGETS and row[memory] <= TARGETS[row["push"]]
        ]
        met.append(f"{memory.replace('_mb', ' MB')}: {', '.join(shapes_met) or 'none'}")
    out += ["", "Targets met, by memory size: " + "; ".join(met) + "."]
    above = []
    for row in figures["per_gb"]:
        ours, floor = row[default], row["floor"]
        above.append(f"{SHAPE_NAMES[row['push']]} {money(ours - floor)} ({ours / floor:.2f}×)")
    out += [
        "",
        f"Above the floor at {deployment['memory_mb']} MB: " + "; ".join(above) + ". What is above it is Lambda "
        "duration, and for small pushes nearly all of that is the wait on Firehose, billed at the memory size.",
    ]

    shapes = list(figures["per_term_per_gb"])
    terms = list(figures["per_term_per_gb"][shapes[0]])
    out += [
        "",
        f"Where it goes at {deployment['memory_mb']} MB (per GB, same volume):",
        "",
        "| Term | " + " | ".join(SHAPE_NAMES[s] for s in shapes) + " |",
        "|---|" + "---|" * len(shapes),
    ]
    for term in terms:
        values = [figures["per_term_per_gb"][s][term] for s in shapes]
        if True:  # the zero rows say what the defaults leave out
            out.append(f"| {term} | " + " | ".join(money(v) if v else "0" for v in values) + " |")
    out.append(
        "| **Total** | "
        + " | ".join(f"**{money(sum(figures['per_term_per_gb'][s].values()))}**" for s in shapes)
        + " |"
    )

    expansion = ", ".join(f"{v:.3f} ({SHAPE_NAMES[k]})" for k, v in figures["record_expansion"].items())
    out += ["", f"Stored records over push bodies (the record expansion Firehose bills): {expansion}."]

    fixed = figures["fixed_terms"]
    out += [
        "",
        f"Fixed items of a month, environments/{deployment['root']} defaults: **{money(sum(fixed.values()))}**",
        "",
        "| Item | $ a month |",
        "|---|---|",
        *(f"| {name} | {money(value) if value else '0'} |" for name, value in fixed.items()),
    ]

    events_per_gb = figures["events_per_gb"]
    anchors = cost.anchors(events_per_gb)
    volumes = list(figures["monthly"])
    out += [
        "",
        "A month, all in (storage apart: what the month's data costs for each month it is kept), side by side with "
        f"the hosted alternatives at their list prices of {prices.CHECKED}:",
        "",
        "| | " + " | ".join(volumes) + " |",
        "|---|" + "---|" * len(volumes),
        "| **This module** (per push + fixed) | "
        + " | ".join(f"**{money(m['variable'] + m['fixed'])}**" for m in figures["monthly"].values())
        + " |",
        "| … of which fixed | " + " | ".join(money(m["fixed"]) for m in figures["monthly"].values()) + " |",
        "| … S3 storage per month kept | "
        + " | ".join(money(m["storage"]) for m in figures["monthly"].values())
        + " |",
        "| … always-free tiers could take off | "
        + " | ".join(money(m["free_tier_credit"]) for m in figures["monthly"].values())
        + " |",
    ]
    for name, low, high, includes, source in anchors:
        cells = []
        for volume in volumes:
            gb = figures["monthly"][volume]["gb"]
            if name.startswith("Self-hosted") and gb < cost.TB_PER_MONTH_GB:
                cells.append("instances even when idle")
                continue
            cells.append(money(low * gb) if low == high else f"{money(low * gb)}-{money(high * gb)}")
        out.append(f"| [{name}]({source}): {includes} | " + " | ".join(cells) + " |")
    small = figures["monthly"][volumes[0]]
    crossover = small["fixed"] / (prices.ANCHORS[0].usd_per_gb[0] - figures["per_gb_10_events"])
    out += [
        "",
        f"Below about {crossover:.0f} GB a month the fixed items, not the data, are most of the bill, and CloudWatch "
        "Logs' ingestion alone would cost less (without the alarms, the dashboard and the canary); the always-free "
        "tiers cover most of them in an account that does not use them otherwise.",
    ]
    out += _envelope(figures["envelope"])
    out += [
        "",
        f"Prices: us-east-1 list prices for arm64, checked {prices.CHECKED}, each with its page in "
        "[`bench/prices.py`](bench/prices.py). Assumed rather than measured:",
        "",
        *(f"* {assumption}" for assumption in figures["assumptions"]),
    ]
    return "\n".join(out)


def _envelope(envelope: dict[str, Any]) -> list[str]:
    shapes = list(envelope["fields"])
    fields = list(envelope["fields"][shapes[-1]])
    out = [
        "",
        "The stored record's fields, in bytes per entry (key and punctuation included; `record` is the event "
        "itself), and what trimming the envelope would save (not done: the record's declaration decides; "
        "Firehose bills in 5 KB steps, so a push whose records stay in the same step saves nothing):",
        "",
        "| Field | " + " | ".join(SHAPE_NAMES[s] for s in shapes) + " |",
        "|---|" + "---|" * len(shapes),
        *(f"| `{f}` | " + " | ".join(f"{envelope['fields'][s].get(f, 0):g}" for s in shapes) + " |" for f in fields),
        "",
        "| Candidate (what it takes) | Bytes per entry | "
        + " | ".join(f"$/GB saved, {SHAPE_NAMES[s]}" for s in shapes)
        + " |",
        "|---|---|" + "---|" * len(shapes),
    ]
    for name, rows in envelope["candidates"][shapes[-1]].items():
        how = envelope["how"].get(name)
        label = f"{name} ({how})" if how else f"**{name}**"
        saved = [envelope["candidates"][s][name]["usd_per_gb"] for s in shapes]
        out.append(
            f"| {label} | {rows['bytes_per_entry']:g} | " + " | ".join(money(v) if v else "0" for v in saved) + " |"
        )
    return out


def _memory_head(memory: str, default: str) -> str:
    text = memory.replace("_mb", " MB")
    return f"**{text} (default)**" if memory == default else text


def main() -> None:
    readme_block_main(__doc__, (BEGIN, END), render, cost.FIGURES)


if __name__ == "__main__":
    main()

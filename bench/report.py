"""The README's performance table from a report, and plain-text tables for the rest."""

from __future__ import annotations

from typing import Any


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

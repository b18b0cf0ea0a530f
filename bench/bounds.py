"""Worst-case work per push: CPU time and peak memory per decompressed byte, per shape, and the
largest push of each shape that the default caps accept.

Each push goes once through the real handler (a Firehose that accepts everything instantly)
in a fresh interpreter, so the peak RSS growth is the push's own. The caps and the default
memory size are derived from these figures (README, "Limits").

    python -m bench.bounds [--mib 4] [--shape NAME ...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from bench.harness import MIB
from bench.workloads import BASE_NS, stytch_lines

#: The shapes that cost the most per decompressed byte, and a realistic one for scale.
SHAPES: dict[str, str] = {
    "stytch-json": "v1 JSON, ~1 KB Stytch-like JSON events in one stream (realistic)",
    "tiny-json": "v1 JSON, 1-byte lines in one stream (most entries per byte)",
    "tiny-protobuf": "protobuf, 1-byte lines in one stream",
    "streams-json": "v1 JSON, one 1-byte entry per stream, every stream's labels distinct",
    "streams-protobuf": "protobuf, one 1-byte entry per stream, distinct label strings",
    "escaping-json": "v1 JSON, 64 KiB text lines of control characters (6 bytes per byte escaped)",
    "control-bytes-protobuf": "protobuf, 256 KiB lines of control bytes (stored as base64)",
    # Hostile shapes: each aims at one stage's worst case per byte.
    "gzip-members-json": "v1 JSON, gzip with one member per 8 decompressed bytes (multi-member inflate)",
    "labels-protobuf": "protobuf, one stream whose label string holds pairs up to the label-string cap",
    "metadata-json": "v1 JSON, entries with 1,000 one-byte structured metadata pairs each",
    "labels-json": "v1 JSON, one stream whose label object has a key per 15 bytes",
    "numbers-json": "v1 JSON, a label value that is a deep array of numbers (kept as raw JSON text)",
    "unknown-fields-protobuf": "protobuf, a push padded with 2-byte unknown varint fields",
    "label-escapes-protobuf": "protobuf, one label value spelled as 8M two-character escapes",
    "empty-labels-protobuf": "protobuf, 255 streams whose 64 KiB label strings are all empty-valued labels",
}


def _v1(streams: list[tuple[dict[str, str], list[tuple[int, str]]]]) -> bytes:
    doc = {
        "streams": [
            {"stream": labels, "values": [[str(t), line] for t, line in entries]} for labels, entries in streams
        ]
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def body_for(shape: str, size: int) -> tuple[bytes, str, str | None]:
    """(body, content type, content encoding) of about `size` decompressed bytes."""
    from tests.support.logproto import encode_push, protobuf_push

    if shape == "stytch-json":
        lines: list[str] = []
        total = 0
        pool = stytch_lines(1000)
        while total + len(pool[len(lines) % 1000]) * 2 + 40 < size:  # escaped quotes double a line
            line = pool[len(lines) % 1000]
            lines.append(line)
            total += len(json.dumps(line)) + 26
        body = _v1([({"service_name": "stytch"}, [(BASE_NS + i, line) for i, line in enumerate(lines)])])
        return gzip.compress(body, 6), "application/json", "gzip"
    if shape == "tiny-json":
        count = size // len('["1767225600000000000","x"],')
        body = _v1([({"service_name": "tiny"}, [(BASE_NS + i, "x") for i in range(count)])])
        return gzip.compress(body, 6), "application/json", "gzip"
    if shape == "streams-json":
        count = size // len('{"stream":{"s":"000000"},"values":[["1767225600000000000","x"]]},')
        body = _v1([({"s": f"{i:06d}"}, [(BASE_NS + i, "x")]) for i in range(count)])
        return gzip.compress(body, 6), "application/json", "gzip"
    if shape == "escaping-json":
        line = "\x01" * (64 * 1024)
        count = max(1, size // (len(line) * 6))
        body = _v1([({"service_name": "esc"}, [(BASE_NS + i, line) for i in range(count)])])
        return gzip.compress(body, 6), "application/json", "gzip"
    if shape == "tiny-protobuf":
        count = size // 17  # an entry with a 1-byte line is ~17 bytes on the wire
        raw = encode_push([('{service_name="tiny"}', [(BASE_NS + i, "x", []) for i in range(count)])])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    if shape == "streams-protobuf":
        count = size // 40
        raw = encode_push([(f'{{s="{i:06d}"}}', [(BASE_NS + i, "x", [])]) for i in range(count)])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    if shape == "control-bytes-protobuf":
        line = "\x01" * (256 * 1024)
        count = max(1, size // len(line))
        raw = encode_push([('{service_name="ctl"}', [(BASE_NS + i, line, []) for i in range(count)])])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    if shape == "gzip-members-json":
        count = max(1, (size - 64) // len('["1767225600000000000","x"],'))
        body = _v1([({"service_name": "members"}, [(BASE_NS + i, "x") for i in range(count)])])
        return b"".join(gzip.compress(body[i : i + 8], 1) for i in range(0, len(body), 8)), "application/json", "gzip"
    if shape == "labels-protobuf":
        pairs = max(1, (size - 64) // len('a="b",'))
        raw = encode_push([("{" + 'a="b",' * pairs + "}", [(BASE_NS, "x", [])])])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    if shape == "metadata-json":
        meta = {f"m{i:03d}": "v" for i in range(1000)}
        count = max(1, size // len(json.dumps(meta, separators=(",", ":"))))
        doc = {
            "streams": [
                {"stream": {"service_name": "meta"}, "values": [[str(BASE_NS + i), "x", meta] for i in range(count)]}
            ]
        }
        return gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), 6), "application/json", "gzip"
    if shape == "labels-json":
        labels = {f"l{i:07d}": "v" for i in range(max(1, (size - 128) // 15))}
        return gzip.compress(_v1([(labels, [(BASE_NS, "x")])]), 6), "application/json", "gzip"
    if shape == "numbers-json":
        numbers = "[" + ",".join(["1"] * max(1, (size - 128) // 2)) + "]"
        body = ('{"streams":[{"stream":{"big":' + numbers + '},"values":[["1767225600000000000","x"]]}]}').encode()
        return gzip.compress(body, 6), "application/json", "gzip"
    if shape == "unknown-fields-protobuf":
        raw = encode_push([('{service_name="pad"}', [(BASE_NS, "x", [])])])
        return protobuf_push_raw(raw + b"\x78\x00" * max(1, (size - len(raw)) // 2)), "application/x-protobuf", None
    if shape == "label-escapes-protobuf":
        raw = encode_push([('{service_name="' + "\\a" * max(1, (size - 64) // 2) + '"}', [(BASE_NS, "x", [])])])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    if shape == "empty-labels-protobuf":
        streams = max(1, size // 65_600)
        label_strings = ["{" + "a=''," * 13_099 + f"z='{i}'" + "}" for i in range(streams)]
        raw = encode_push([(text, [(BASE_NS, "x", [])]) for text in label_strings])
        return protobuf_push_raw(raw), "application/x-protobuf", None
    del protobuf_push
    raise KeyError(shape)


#: The largest push of each shape within the default caps (16 MiB decompressed, 10,000
#: streams, 50,000 entries), as the decompressed size to ask body_for() for.
AT_CAPS: dict[str, int] = {
    "stytch-json": 16 * MIB - 64 * 1024,
    "tiny-json": 50_000 * len('["1767225600000000000","x"],'),
    "tiny-protobuf": 50_000 * 17,
    "streams-json": 10_000 * len('{"stream":{"s":"000000"},"values":[["1767225600000000000","x"]]},'),
    "streams-protobuf": 10_000 * 40,
    "escaping-json": 16 * MIB,
    "control-bytes-protobuf": 16 * MIB - 64 * 1024,
    # A function URL body is at most 6 MB (base64 counted), so ~4.4 MB of gzip members.
    "gzip-members-json": 4 * MIB * 8 // 28,
    "labels-protobuf": 16 * MIB - 64 * 1024,
    "metadata-json": 16 * MIB - 64 * 1024,
    "numbers-json": 16 * MIB - 64 * 1024,
    "labels-json": 16 * MIB - 64 * 1024,
    # The skip budget (protobuf.MAX_SKIPPED_FIELDS) caps it at a million 2-byte fields.
    "unknown-fields-protobuf": 2_000_000,
    "label-escapes-protobuf": 16 * MIB - 64 * 1024,
    "empty-labels-protobuf": 16 * MIB - 64 * 1024,
}


def protobuf_push_raw(raw: bytes) -> bytes:
    import cramjam

    return bytes(cramjam.snappy.compress_raw(raw))


MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from bench.harness import bench_app
    from loki_ingest.delivery.sink import FixedDeadline
    from tests.conftest import event

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    body = open(sys.argv[1], "rb").read()
    push = event(body=body, content_type=sys.argv[2], content_encoding=sys.argv[3] or None)
    app = bench_app()
    if sys.argv[4] == "uncapped":
        app.settings = app.settings.replace(
            max_decompressed_bytes=1 << 30, work_budget_units=100_000_000
        )
    before = hwm()
    cpu = time.process_time()
    result = app.handle_event(push, FixedDeadline(time.monotonic() + 600))
    cpu = time.process_time() - cpu
    print(json.dumps({"status": result["statusCode"], "cpu_s": cpu, "rss_growth": hwm() - before,
                      "answer": result["body"][:200]}))
    """
)


def measure(shape: str, size: int, *, capped: bool, run: Callable[..., Any] = subprocess.run) -> dict[str, Any]:
    import tempfile

    body, content_type, encoding = body_for(shape, size)
    decompressed = len(gzip.decompress(body)) if encoding == "gzip" else size_of_protobuf(body)
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(body)
        handle.flush()
        result = run(
            [
                sys.executable,
                "-c",
                MEASURE,
                handle.name,
                content_type,
                encoding or "",
                "capped" if capped else "uncapped",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "shape": shape,
        "capped": capped,
        "body_bytes": len(body),
        "decompressed_bytes": decompressed,
        "status": figures["status"],
        "cpu_ms_per_mib": round(figures["cpu_s"] * 1000 / (decompressed / MIB), 1),
        "rss_per_byte": round(figures["rss_growth"] / decompressed, 2),
        "cpu_s": round(figures["cpu_s"], 2),
        "rss_mb": round(figures["rss_growth"] / 1e6),
    }


def size_of_protobuf(body: bytes) -> int:
    import cramjam

    return len(bytes(cramjam.snappy.decompress_raw(body)))


def table(*, quick: bool, shapes: list[str] | None = None) -> list[dict[str, Any]]:
    """Per-MiB figures from uncapped pushes, then the largest accepted push of each shape."""
    rows = []
    for shape in shapes or list(SHAPES):
        rows.append(measure(shape, (2 if quick else 4) * MIB, capped=False))
        rows.append(measure(shape, AT_CAPS[shape], capped=True))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=4.0, help="decompressed size of the uncapped pushes")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    args = parser.parse_args()
    for shape in args.shape or list(SHAPES):
        print(json.dumps(measure(shape, int(args.mib * MIB), capped=False)), flush=True)
        print(json.dumps(measure(shape, AT_CAPS[shape], capped=True)), flush=True)


if __name__ == "__main__":
    main()

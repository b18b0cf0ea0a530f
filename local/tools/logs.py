"""Show the log lines that landed in the local deployment's bucket, as they were pushed.

    python -m local.tools.logs --state-dir .local [--count 20] [--label k=v] [--grep text]
                         [--since 10m] [--follow] [--raw]

Objects are read oldest first, gunzipped when compressed, and split into NDJSON records;
each record is printed as `time {labels} original line`. The filters also come from the
environment (LOKI_LABEL, LOKI_GREP, LOKI_SINCE), which is how `make logs LABEL=env=local`
passes them.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.state import LocalState, NotDeployed
from loki_ingest.records import reader


def list_objects(s3: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend(page.get("Contents", []))
    objects.sort(key=lambda o: (o["LastModified"], o["Key"]))
    return objects


def object_lines(s3: Any, bucket: str, key: str) -> list[bytes]:
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [line for line in data.split(b"\n") if line]


def read_records(s3: Any, bucket: str, prefix: str = "") -> list[tuple[str, bytes]]:
    """Every (key, NDJSON line) under prefix, oldest object first."""
    return [(o["Key"], line) for o in list_objects(s3, bucket, prefix) for line in object_lines(s3, bucket, o["Key"])]


def original_line(stored: bytes) -> bytes:
    """The pushed log line a stored record stands for, exactly: the handler package's reader
    (docs/record-format.md). A line that is not a record is shown as stored."""
    try:
        return reader.original_line(stored)
    except (reader.NotARecord, ValueError, KeyError, TypeError):
        return stored.rstrip(b"\n")


def printable(line: bytes) -> str:
    """Readable on a terminal: invalid UTF-8 and control characters made visible."""
    text = line.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_since(value: str, now: float | None = None) -> int:
    """`10m`, `2h`, `1d`, `30s` ago, or an ISO 8601 time; returns nanoseconds since the epoch."""
    match = _SINCE.match(value.strip())
    if match:
        seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return int(((now if now is not None else time.time()) - seconds) * 1e9)
    try:
        when = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise NotDeployed(f"SINCE={value!r} is not a duration like 10m, 2h, 1d or an ISO time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return int(when.timestamp() * 1e9)


def parse_labels(values: Iterable[str]) -> dict[str, str]:
    """`k=v` pairs, several per value when comma-separated."""
    labels: dict[str, str] = {}
    for value in values:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            name, sep, wanted = pair.partition("=")
            if not sep:
                raise NotDeployed(f"LABEL={pair!r}: write it as name=value")
            labels[name.strip()] = wanted.strip()
    return labels


@dataclass(frozen=True)
class Filters:
    labels: Mapping[str, str]
    grep: str = ""
    since_ns: int | None = None

    def keep(self, record: Mapping[str, Any], line: str) -> bool:
        stream = record.get("stream") or {}
        if any(stream.get(name) != value for name, value in self.labels.items()):
            return False
        if self.since_ns is not None and int(record.get("timestamp_ns", 0)) < self.since_ns:
            return False
        return not self.grep or self.grep.lower() in line.lower()


def render(record: Mapping[str, Any], text: str) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted((record.get("stream") or {}).items()))
    return f"{record.get('timestamp', '?')}  {{{labels}}}  {text}"


def select(lines: Iterable[tuple[str, bytes]], filters: Filters) -> list[tuple[bytes, dict[str, Any], str]]:
    """(stored line, record, rendered line) of the records the filters keep."""
    kept = []
    for _, stored in lines:
        try:
            record = json.loads(stored)
        except ValueError:
            continue
        text = printable(original_line(stored))
        if filters.keep(record, text):
            kept.append((stored, record, render(record, text)))
    return kept


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--count", type=int, default=20, help="show the newest N (default 20)")
    parser.add_argument("--label", action="append", default=[], help="only streams with this label: name=value")
    parser.add_argument("--grep", default=os.environ.get("LOKI_GREP", ""), help="only lines containing this text")
    parser.add_argument(
        "--since", default=os.environ.get("LOKI_SINCE", ""), help="only entries newer than 10m, 2h, ..."
    )
    parser.add_argument("--follow", action="store_true", help="keep printing new records (Ctrl-C stops)")
    parser.add_argument("--raw", action="store_true", help="print the NDJSON records as stored")
    args = parser.parse_args(argv)
    state = LocalState(args.state_dir)
    try:
        labels = parse_labels([*args.label, *([os.environ["LOKI_LABEL"]] if os.environ.get("LOKI_LABEL") else [])])
        filters = Filters(labels, args.grep, parse_since(args.since) if args.since else None)
        bucket = state.outputs["bucket_name"]
        state.require_emulator()
        s3 = state.client("s3")
        seen: set[str] = set()
        objects = list_objects(s3, bucket)
        seen.update(o["Key"] for o in objects)
        lines = [(o["Key"], line) for o in objects for line in object_lines(s3, bucket, o["Key"])]
        kept = select(lines, filters)
        shown = kept[-args.count :] if args.count > 0 else kept
        described = (
            f"{len(kept)} of {len(lines)} records"
            if len(kept) != len(lines)
            else f"{len(lines)} record{'s' if len(lines) != 1 else ''}"
        )
        if not lines and not args.follow:
            print(
                f"No records in s3://{bucket} yet: push one (see the README's quick start) and run `make logs` again."
            )
            return
        print(f"{described} in s3://{bucket}; the newest {len(shown)}:", file=sys.stderr)
        for stored, _, text in shown:
            print(stored.decode("utf-8", "replace") if args.raw else text)
        while args.follow:
            time.sleep(1.0)
            for obj in list_objects(s3, bucket):
                if obj["Key"] in seen:
                    continue
                seen.add(obj["Key"])
                for stored, _, text in select(((obj["Key"], x) for x in object_lines(s3, bucket, obj["Key"])), filters):
                    print(stored.decode("utf-8", "replace") if args.raw else text, flush=True)
    except NotDeployed as exc:
        sys.exit(str(exc))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

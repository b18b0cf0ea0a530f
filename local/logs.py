"""Show the newest records that landed in the local deployment's bucket.

    python -m local.logs --state-dir .local [--count 20] [--raw]

Objects are read newest first, gunzipped when compressed, and split into NDJSON lines.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from local.state import LocalState, NotDeployed


def read_records(s3: Any, bucket: str, prefix: str = "") -> list[tuple[str, bytes]]:
    """Every (key, NDJSON line) under prefix, oldest object first."""
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend(page.get("Contents", []))
    objects.sort(key=lambda o: (o["LastModified"], o["Key"]))
    lines: list[tuple[str, bytes]] = []
    for obj in objects:
        data = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        lines.extend((obj["Key"], line) for line in data.split(b"\n") if line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--raw", action="store_true", help="print the NDJSON lines as stored")
    args = parser.parse_args()
    state = LocalState(args.state_dir)
    try:
        outputs = state.outputs
        s3 = state.client("s3")
    except NotDeployed as exc:
        sys.exit(str(exc))
    bucket = outputs["bucket_name"]
    lines = read_records(s3, bucket)
    if not lines:
        print(f"No records in s3://{bucket} yet. Push something (see `make deploy-local` output) and try again.")
        return
    shown = lines[-args.count :]
    print(f"{len(lines)} records in s3://{bucket}; newest {len(shown)}:", file=sys.stderr)
    for key, line in shown:
        if args.raw:
            print(line.decode("utf-8", "replace"))
            continue
        doc = json.loads(line)
        labels = ",".join(f"{k}={v}" for k, v in doc["stream"].items())
        record = json.dumps(doc["record"], ensure_ascii=False)
        print(f"{doc['timestamp']}  {{{labels}}}  {record}    ({key.rsplit('/', 1)[-1]})")


if __name__ == "__main__":
    main()

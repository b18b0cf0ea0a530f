"""Bounded load test on loopback: N parallel clients push a fixed number of pushes to the
local endpoint, then every line is looked up in S3 by its text and id.

    make run                      # in one terminal
    make load CLIENTS=8 PUSHES=25 # in another

Reports the counts and fails (exit 1) unless every line landed exactly once, or only as
duplicates that carry the same id (at-least-once delivery after a retried push).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypedDict


def post(url: str, body: bytes, auth: tuple[str, str]) -> int:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class LoadReport(TypedDict):
    """What `make load` prints (as JSON) and the end-to-end suite records."""

    clients: int
    pushes: int
    entries_per_push: int
    entries_accepted: int
    records_found: int
    missing: int
    duplicates: int
    duplicates_with_a_different_id: int
    non_2xx_answers: int
    pushes_per_s: float
    entries_per_s: int


def run_load(
    push_url: str,
    auth: tuple[str, str],
    read_records: Callable[[], list[dict[str, Any]]],
    *,
    clients: int,
    pushes: int,
    entries: int,
    wait_s: float = 60.0,
) -> LoadReport:
    """Push, then read S3 back until every sent line is found (or wait_s passes)."""
    run = uuid.uuid4().hex[:12]
    statuses: list[int] = []

    def client(number: int) -> list[str]:
        sent: list[str] = []
        for push in range(pushes):
            base = time.time_ns()
            values = [[str(base + i), f"load {run} c{number} p{push} e{i}"] for i in range(entries)]
            body = json.dumps({"streams": [{"stream": {"run": run, "client": str(number)}, "values": values}]}).encode()
            for attempt in range(10):  # retry 5xx and 429 with backoff, like a Loki client
                status = post(push_url, body, auth)
                statuses.append(status)
                if 200 <= status < 300:  # 204 with SUCCESS_STATUS_CODE=204
                    sent.extend(v[1] for v in values)
                    break
                if status < 500 and status != 429:
                    break
                time.sleep(min(2.0, 0.1 * 2**attempt))
        return sent

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        sent = [line for lines in pool.map(client, range(clients)) for line in lines]
    elapsed = time.monotonic() - started

    deadline = time.monotonic() + wait_s
    while True:
        found = [r for r in read_records() if r["stream"].get("run") == run]
        if len(found) >= len(sent) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    ids_by_line: dict[str, set[str]] = {}
    for record in found:
        ids_by_line.setdefault(record["record"]["message"], set()).add(record["id"])
    return {
        "clients": clients,
        "pushes": clients * pushes,
        "entries_per_push": entries,
        "entries_accepted": len(sent),
        "records_found": len(found),
        "missing": sum(1 for line in sent if line not in ids_by_line),
        "duplicates": len(found) - len(ids_by_line),
        "duplicates_with_a_different_id": sum(1 for ids in ids_by_line.values() if len(ids) > 1),
        "non_2xx_answers": sum(1 for s in statuses if not 200 <= s < 300),
        "pushes_per_s": round(clients * pushes / elapsed, 1),
        "entries_per_s": round(len(sent) / elapsed),
    }


def landed_exactly_once(report: LoadReport) -> bool:
    expected = report["pushes"] * report["entries_per_push"]
    return (
        report["missing"] == 0
        and report["duplicates_with_a_different_id"] == 0
        and report["entries_accepted"] == expected
    )


def main() -> None:
    from local.state import LocalState, NotDeployed, answers
    from local.tools.logs import read_records

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--url", help="the push URL (default: the endpoint `make run` serves)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pushes", type=int, default=25, help="pushes per client")
    parser.add_argument("--entries", type=int, default=20, help="entries per push")
    args = parser.parse_args()
    state = LocalState(args.state_dir)
    url = args.url or f"{state.server_url}/loki/api/v1/push"
    if not answers(url):
        sys.exit(f"nothing answers at {url}: start the endpoint with `make run` in another terminal")
    try:
        state.require_emulator()
        auth = state.credentials()
        bucket = state.outputs["bucket_name"]
        s3 = state.client("s3")
    except NotDeployed as exc:
        sys.exit(str(exc))
    report = run_load(
        url,
        auth,
        lambda: [json.loads(line) for _, line in read_records(s3, bucket)],
        clients=args.clients,
        pushes=args.pushes,
        entries=args.entries,
    )
    print(json.dumps(report, indent=2))
    sys.exit(0 if landed_exactly_once(report) else 1)


if __name__ == "__main__":
    main()

"""One push through the real handler in a fresh interpreter, with its peak memory measured and
bounded: a watchdog stops the push (as "aborted") once its RSS growth passes a limit, so a test
of a push that would take gigabytes fails in the time it takes to reach the limit.

The answer: the status, the CPU seconds of the push (for the record; tests never assert on
time), the work units it was charged, the peak RSS growth over the interpreter before the push, the records delivered (a
Firehose stand-in that counts them rather than keeping them, so they cost no memory), and the
start of the body.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from tests.support.hostile import Push

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import _thread, json, os, sys, threading, time
    sys.path[:0] = [{root!r}]
    from tests.conftest import FakeFirehose, event, new_app
    from loki_ingest.delivery.sink import FixedDeadline
    from loki_ingest.ingest import budget as budgets

    spent = [0.0]
    charge = budgets.Budget.charge

    def charged(self, units):  # the units the push was charged, for the figures
        try:
            charge(self, units)
        finally:
            spent[0] = max(spent[0], self.spent)

    budgets.Budget.charge = charged

    body_path, path, content_type, encoding, limit = sys.argv[1:6]
    limit = int(limit)
    page = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    def hwm():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    class Counting(FakeFirehose):
        def put_record_batch(self, *, DeliveryStreamName, Records):
            self.lines_seen = getattr(self, "lines_seen", 0) + sum(r["Data"].count(b"\\n") for r in Records)
            return {{"FailedPutCount": 0, "Encrypted": False,
                     "RequestResponses": [{{"RecordId": str(i)}} for i in range(len(Records))]}}

    push = event(path=path, body=open(body_path, "rb").read(), content_type=content_type,
                 content_encoding=encoding or None)
    firehose = Counting()
    app = new_app(firehose)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass
    base = rss()
    over = []

    def watch():
        while not over:
            if rss() - base > limit:
                over.append(True)
                _thread.interrupt_main()
                return
            time.sleep(0.002)

    threading.Thread(target=watch, daemon=True).start()
    cpu = time.process_time()
    try:
        result = app.handle_event(push, FixedDeadline(time.monotonic() + 600))
        status, body = result["statusCode"], str(result["body"])[:300]
    except KeyboardInterrupt:
        status, body = "aborted", f"RSS grew past {{limit}} bytes"
    cpu = time.process_time() - cpu
    over.append(False)
    print(json.dumps({{"status": status, "body": body, "cpu_s": round(cpu, 3), "rss_growth": hwm() - base,
                      "delivered": getattr(firehose, "lines_seen", 0), "units": round(spent[0])}}))
    """
).format(root=str(ROOT))


def run_push(push: Push, *, rss_limit: int, timeout: float = 600) -> dict[str, Any]:
    """The figures of one push in a fresh interpreter (see the module docstring)."""
    with tempfile.NamedTemporaryFile(suffix=".body") as handle:
        handle.write(push.body)
        handle.flush()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                handle.name,
                push.path,
                push.content_type,
                push.content_encoding or "",
                str(rss_limit),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
    if result.returncode != 0 or not result.stdout.strip():
        raise AssertionError(f"measuring process failed ({result.returncode}): {result.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures

"""Short progress lines with the time elapsed since `make run` started:

[  12.4s] apply     21 resources created (48.2 s); full output in .local/terraform.log
"""

from __future__ import annotations

import sys
import time


class Phases:
    def __init__(self, started_at: float | None = None) -> None:
        self.started_at = started_at if started_at is not None else time.time()

    def elapsed(self) -> float:
        return time.time() - self.started_at

    def line(self, phase: str, message: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {phase:<9} {message}", file=sys.stdout, flush=True)

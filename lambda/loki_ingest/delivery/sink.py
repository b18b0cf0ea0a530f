"""Where accepted records go: the Sink interface, and the deadline every delivery respects.

A sink takes NDJSON lines (each ending in "\\n"), delivers all of them or raises
DeliveryFailed (503: retrying can succeed), and says how large one line may be. The SINK
setting picks one from registry.py; a new destination is one module with a `from_settings`
there, its settings (declared with `sink=` in settings.py) and its Terraform.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from loki_ingest.errors import ServiceUnavailable


class Deadline(Protocol):
    def remaining_ms(self) -> float: ...


class FixedDeadline(NamedTuple):
    """A deadline at an absolute monotonic time (tests, the local server)."""

    until: float
    clock: Callable[[], float] = time.monotonic

    def remaining_ms(self) -> float:
        return (self.until - self.clock()) * 1000


class LambdaDeadline(NamedTuple):
    """The invocation's own deadline, from the Lambda context object."""

    context: Any

    def remaining_ms(self) -> float:
        return float(self.context.get_remaining_time_in_millis())


class DeliveryReport:
    """What a delivery did: records accepted, calls made, calls that were retries."""

    __slots__ = ("calls", "records", "retries")

    def __init__(self) -> None:
        self.records = 0
        self.calls = 0
        self.retries = 0


class DeliveryFailed(ServiceUnavailable):
    reason = "delivery_failed"

    def __init__(self, message: str, report: DeliveryReport, *, retry_after: int = 1, detail: str = "") -> None:
        super().__init__(message, retry_after=retry_after, detail=detail)
        self.report = report


class Sink(Protocol):
    #: The largest single NDJSON line (with its newline) the sink can store.
    max_line_bytes: int

    def deliver(
        self, lines: Iterable[bytes], deadline: Deadline, report: DeliveryReport | None = None
    ) -> DeliveryReport:
        """Deliver every line, or raise DeliveryFailed with what was done so far. `lines` may be
        a generator (records are rendered as the sink takes them): consume it once, in order.
        The caller's `report`, when given, is the one filled: it tells what was delivered even
        when something else (rendering the next record) fails midway."""
        ...

    def probe(self) -> str | None:
        """None when the destination can take records now, else why not (for /healthz)."""
        ...

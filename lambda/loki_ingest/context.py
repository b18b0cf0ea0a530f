"""What belongs to one request, in one object: the request, its route, its tenant, the time it
was received (read once: decoding and validation both use it), the invocation's deadline, the
tracer, the push's limits, and the Outcome every stage fills in.

A new per-request value is a field here, not a parameter threaded through the stages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loki_ingest.ingest.model import Rejections

if TYPE_CHECKING:
    from loki_ingest.delivery.sink import Deadline, DeliveryReport
    from loki_ingest.http.request import Request
    from loki_ingest.http.routes import Route
    from loki_ingest.ingest.limits import Limits
    from loki_ingest.observability.tracing import Tracer


@dataclass(slots=True, eq=False)
class Outcome:
    """The figures of one request (the Stats value logged once per request): filled as the
    stages run, so the answer and the log line agree even when a stage fails."""

    streams: int = 0
    entries: int = 0
    bytes_in: int = 0
    bytes_decoded: int = 0
    work_units: int = 0  # charged to the push's work budget (ingest/budget.py)
    rejections: Rejections = field(default_factory=Rejections)
    delivery: DeliveryReport | None = None
    route: str = ""  # the matched route ("" for none): never the raw path, which is client text
    reason: str = ""  # why the request failed, in our own words
    detail: str = ""

    @property
    def accepted(self) -> int:
        return self.entries - self.rejections.entries


@dataclass(slots=True, eq=False)
class RequestContext:
    request: Request
    deadline: Deadline
    tracer: Tracer
    limits: Limits
    received_ns: int = field(default_factory=time.time_ns)
    route: Route | None = None
    tenant: str | None = None
    outcome: Outcome = field(default_factory=Outcome)

"""One push, from request bytes to delivered records: decode -> validate -> records -> sink.

`ingest` is the whole push path after authentication. It fills the request's Outcome as the
stages run, so the response and the one log line per request are built from the same figures,
even when a stage fails. Every stage reports refused entries into the Outcome's one Rejections
collector; nothing is merged by arithmetic afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from loki_ingest.decoding.labels import quote_units
from loki_ingest.decoding.push import decode_push
from loki_ingest.delivery.sink import DeliveryReport
from loki_ingest.ingest.validate import validate
from loki_ingest.records import render

if TYPE_CHECKING:
    from loki_ingest.context import RequestContext
    from loki_ingest.delivery.sink import Sink


def ingest(ctx: RequestContext, sink: Sink) -> None:
    """Decode, validate, build records and deliver them; raises HttpError on failure."""
    request, outcome, tracer = ctx.request, ctx.outcome, ctx.tracer
    dialect = ctx.route.dialect if ctx.route is not None else "v1"
    outcome.bytes_in = len(request.body)
    budget = ctx.limits.budget()
    try:
        with tracer.segment("decode"):
            streams = decode_push(
                request.body,
                dialect=dialect,
                content_type=request.header("content-type"),
                content_encoding=request.header("content-encoding"),
                limits=ctx.limits,
                received_ns=ctx.received_ns,
                budget=budget,
            )
    finally:
        outcome.work_units = int(budget.spent)  # what a 413 was refused at, in its log line
    outcome.streams = len(streams)
    outcome.entries = sum(len(s.entries) for s in streams)
    with tracer.segment("validate"):
        try:  # the canonical form quotes labels with anything to escape character by character
            budget.charge(sum(quote_units(stream.labels) for stream in streams))
        finally:
            outcome.work_units = int(budget.spent)
        valid = validate(streams, ctx.limits, outcome.rejections, ctx.received_ns)
        del streams  # keep one copy of the push in memory at a time
        try:
            budget.charge(render.work_units(valid, lines_charged=budget.lines_charged))
        finally:
            outcome.work_units = int(budget.spent)
    # Records are rendered as the sink packs them, one batch in flight: their memory does not
    # grow with the push (the segment holds rendering and delivery both).
    lines = _Counted(render.records(valid, outcome.rejections, sink.max_line_bytes, tenant=ctx.tenant))
    with tracer.segment("records-and-delivery"):
        try:
            # The outcome holds the report from the start: a failure while rendering a later
            # record (a 500) still logs what was already delivered.
            outcome.delivery = DeliveryReport()
            sink.deliver(lines, ctx.deadline, outcome.delivery)
        finally:
            outcome.bytes_decoded = lines.bytes


class _Counted:
    """The lines of an iterator, with the bytes they held once consumed."""

    __slots__ = ("bytes", "lines")

    def __init__(self, lines: Iterator[bytes]) -> None:
        self.lines = lines
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            self.bytes += len(line)
            yield line

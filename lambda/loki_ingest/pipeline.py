"""One push, from request bytes to delivered records: decode -> validate -> records -> sink.

`ingest` is the whole push path after authentication. It fills an Outcome as the stages run,
so the response and the one log line per request are built from the same figures, even when
a stage fails. Every stage reports refused entries into the Outcome's one Rejections
collector; nothing is merged by arithmetic afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import records
from .decode import Dialect, decode_push
from .model import Limits, Rejections
from .validate import validate

if TYPE_CHECKING:
    from .observability import Tracer
    from .request import Request
    from .settings import Settings
    from .sink import Deadline, DeliveryReport, Sink


class Outcome:
    """The figures of one push (the Stats value logged once per request)."""

    __slots__ = (
        "bytes_decoded",
        "bytes_in",
        "delivery",
        "detail",
        "entries",
        "reason",
        "rejections",
        "route",
        "streams",
    )

    def __init__(self) -> None:
        self.streams = self.entries = self.bytes_in = self.bytes_decoded = 0
        self.rejections = Rejections()
        self.delivery: DeliveryReport | None = None
        self.route = ""  # the matched route ("" for none): never the raw path, which is client text
        self.reason = self.detail = ""  # why the request failed, in our own words

    @property
    def accepted(self) -> int:
        return self.entries - self.rejections.entries


def ingest(
    request: Request,
    dialect: Dialect,
    settings: Settings,
    sink: Sink,
    deadline: Deadline,
    tracer: Tracer,
    outcome: Outcome,
    *,
    tenant: str | None = None,
) -> Outcome:
    """Decode, validate, build records and deliver them; raises HttpError on failure."""
    outcome.bytes_in = len(request.body)
    with tracer.segment("decode"):
        streams = decode_push(
            request.body,
            dialect=dialect,
            content_type=request.header("content-type"),
            content_encoding=request.header("content-encoding"),
            max_decompressed_bytes=settings.max_decompressed_bytes,
            limits=Limits(
                settings.max_streams_per_push,
                settings.max_entries_per_push,
                # Past max_label_names + 1 (service_name is not counted) a label set has too
                # many names or a duplicate: either way validation refuses it.
                keep_labels=settings.max_label_names + 2,
                keep_metadata=settings.max_metadata_entries + 1,
                # An escape spells at least one byte in at most 4 characters, plus 2 quotes.
                label_token_chars=4 * max(settings.max_label_name_bytes, settings.max_label_value_bytes) + 2,
            ),
        )
    outcome.streams = len(streams)
    outcome.entries = sum(len(s.entries) for s in streams)
    with tracer.segment("records"):
        valid = validate(streams, settings, outcome.rejections)
        del streams  # keep one copy of the push in memory at a time
        built = records.build(valid, outcome.rejections, sink.max_line_bytes, tenant=tenant)
        del valid
    outcome.bytes_decoded = built.payload_bytes
    with tracer.segment("delivery"):
        outcome.delivery = sink.deliver(built.lines, deadline)
    return outcome

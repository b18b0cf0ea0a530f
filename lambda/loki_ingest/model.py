"""The one internal model both decoders (JSON and protobuf) produce.

Entries are plain tuples, not objects: a 5 MB push holds thousands of them and tuple
creation is the cheapest allocation CPython has.
"""

from __future__ import annotations

import time
from typing import NamedTuple

#: Structured metadata: ordered (name, value) pairs, as on the wire.
Metadata = tuple[tuple[str, str], ...]

#: One log entry: (timestamp in Unix nanoseconds, line, structured metadata).
Entry = tuple[int, str, Metadata]

#: Label pairs in the order they were sent; duplicates are kept so validation can
#: reject them the way Loki does.
LabelPairs = list[tuple[str, str]]

NO_METADATA: Metadata = ()

#: Timestamp of an entry that carried none (`[]` in v1 JSON, absent in protobuf).
#: Loki turns it into Go's zero time and rejects it as too old; we reject it explicitly.
MISSING_TIMESTAMP = -(1 << 64)

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class Stream(NamedTuple):
    labels: LabelPairs
    entries: list[Entry]


class Rejection(NamedTuple):
    """An entry (or a whole stream, with count > 1) that validation refused."""

    labels: str
    reason: str
    entry_count: int = 1


def iso_seconds(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.` in UTC for Unix seconds (years 0001-9999, zero-padded)."""
    t = time.gmtime(seconds)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."


def iso8601(ns: int) -> str:
    """RFC 3339 UTC with all nine fractional digits."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{iso_seconds(seconds)}{nanos:09d}Z"

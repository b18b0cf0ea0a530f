"""The one internal model every decoder (JSON, protobuf) produces, and the rejection collector
every later stage reports into.

Entries are plain tuples, not objects: a 5 MB push holds thousands of them and tuple
creation is the cheapest allocation CPython has.

Text invariant: every string in the model (lines, label names and values, metadata names and
values) gives back exactly the bytes that were sent with `.encode("utf-8", "surrogateescape")`.
Protobuf strings are decoded that way, so bytes that are not UTF-8 survive as surrogate
escapes. A JSON string can hold lone surrogates (`"\ud800"`), which no UTF-8 byte string can;
`exact_text` stores them as their WTF-8 bytes (UTF-8 with surrogates allowed), so decoding the
recovered bytes with `errors="surrogatepass"` gives the JSON string back.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from .errors import PayloadTooLarge

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


class Stream(NamedTuple):
    labels: LabelPairs
    entries: list[Entry]


class Limits(NamedTuple):
    """Caps on one push, checked while decoding so that a push beyond them gets its 413 before
    the expensive stages run (the caps bound every push's CPU time and memory).

    `keep_labels` and `keep_metadata` are how many label pairs per stream and metadata pairs
    per entry a decoder keeps: one more than validation can accept, so a stream or entry
    with more is still refused (by validation, like Loki), but costs no memory per extra pair.
    A quoted label name or value longer than `label_token_chars` is not unescaped (labels.parse)."""

    max_streams: int
    max_entries: int
    keep_labels: int = 1 << 62
    keep_metadata: int = 1 << 62
    label_token_chars: int = 1 << 62

    def check(self, streams: int, entries: int) -> None:
        if streams > self.max_streams:
            raise PayloadTooLarge(
                f"push has more than {self.max_streams} streams (MAX_STREAMS_PER_PUSH); send smaller batches",
                reason="too_many_streams",
            )
        if entries > self.max_entries:
            raise self.too_many_entries()

    def too_many_entries(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"push has more than {self.max_entries} entries (MAX_ENTRIES_PER_PUSH); send smaller batches",
            reason="too_many_entries",
        )


UNLIMITED = Limits(1 << 62, 1 << 62)


class Rejection(NamedTuple):
    """An entry (or a whole stream, with entry_count > 1) that was refused, and why.

    `reason` is for the client (it quotes the stream's labels, as Loki does); `kind` is a
    fixed word for logs and metrics."""

    labels: str
    reason: str
    entry_count: int = 1
    kind: str = "rejected"


class Rejections:
    """The one collector every stage (validation, records) reports refused entries into."""

    __slots__ = ("entries", "items")

    def __init__(self) -> None:
        self.items: list[Rejection] = []
        self.entries = 0

    def add(self, labels: str, reason: str, entry_count: int = 1, *, kind: str = "rejected") -> None:
        self.items.append(Rejection(labels, reason, entry_count, kind))
        self.entries += entry_count

    def by_kind(self) -> dict[str, int]:
        """Entries refused per kind (what the log line and the metrics show)."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.kind] = counts.get(item.kind, 0) + item.entry_count
        return counts

    def __bool__(self) -> bool:
        return bool(self.items)


def exact_text(value: str) -> str:
    """A string decoded from JSON, in the model's text form (see the module docstring)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
    return value


def exact_bytes(value: str) -> bytes:
    """The bytes that were sent for a model string."""
    return value.encode("utf-8", "surrogateescape")


def iso_seconds(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.` in UTC for Unix seconds (years 0001-9999, zero-padded)."""
    t = time.gmtime(seconds)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."


def iso8601(ns: int) -> str:
    """RFC 3339 UTC with all nine fractional digits."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{iso_seconds(seconds)}{nanos:09d}Z"

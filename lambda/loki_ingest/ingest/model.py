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
from collections.abc import Iterator
from typing import NamedTuple

#: Structured metadata: ordered (name, value) pairs, as on the wire.
Metadata = tuple[tuple[str, str], ...]


class SharedPairs:
    """Metadata pairs many entries share (an OTLP resource's or scope's attributes), held once."""

    __slots__ = ("pairs", "sent_bytes")

    def __init__(self, pairs: Metadata) -> None:
        self.pairs = pairs
        self.sent_bytes = -1  # their size as Loki counts it, once computed (ingest/validate.py)


class SharedTail:
    """The pairs every entry of an OTLP scope ends with: its resource's, then its scope's, each
    held once however many scopes and entries share them. What validation and rendering need
    of them is computed once (`count`, `cache`)."""

    __slots__ = ("cache", "count", "parts")

    def __init__(self, *parts: SharedPairs) -> None:
        self.parts = parts
        self.count = sum(len(part.pairs) for part in parts)
        self.cache: object = None  # records/render.py's rendered form

    def pairs(self) -> Metadata:
        return tuple(pair for part in self.parts for pair in part.pairs)


class TailedMetadata:
    """An entry's structured metadata as `own` pairs, then a shared tail, then pairs added after
    validation (`added`: Loki's detected_level, which its distributor appends to a validated
    entry). It iterates, compares and counts (len) as the one tuple of all its pairs; the
    structured-metadata limits count `own` and `shared` only, as Loki does."""

    __slots__ = ("added", "own", "shared")

    def __init__(self, own: Metadata, shared: SharedTail, added: Metadata = ()) -> None:
        self.own = own
        self.shared = shared
        self.added = added

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self.own
        for part in self.shared.parts:
            yield from part.pairs
        yield from self.added

    def __len__(self) -> int:
        return len(self.own) + self.shared.count + len(self.added)

    def pairs(self) -> Metadata:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TailedMetadata):
            other = other.pairs()
        return isinstance(other, tuple) and self.pairs() == other

    def __hash__(self) -> int:
        return hash(self.pairs())

    def __repr__(self) -> str:
        return f"TailedMetadata({self.own!r}, {self.shared.pairs()!r}, {self.added!r})"


#: What an entry carries: a plain tuple, or (OTLP) own pairs and a shared tail.
EntryMetadata = Metadata | TailedMetadata

#: One log entry: (timestamp in Unix nanoseconds, line, structured metadata).
Entry = tuple[int, str, EntryMetadata]

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

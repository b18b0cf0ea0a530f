"""Loki's stream and entry validation (docs/loki-protocol.md#validation).

Invalid streams or entries are dropped and reported; the valid rest is still delivered, and
the response is a 400 listing what was refused (Loki's partial success). Error texts reuse
Loki's wording so operators can search for them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import NamedTuple

from loki_ingest.decoding.labels import canonical
from loki_ingest.ingest.limits import Limits
from loki_ingest.ingest.model import (
    MISSING_TIMESTAMP,
    Entry,
    EntryMetadata,
    Rejections,
    Stream,
    TailedMetadata,
    exact_bytes,
    iso8601,
)
from loki_ingest.wire import NS_PER_SECOND


class ValidStream(NamedTuple):
    labels: tuple[tuple[str, str], ...]  # sorted by name, unique
    canonical: str
    entries: list[Entry]


def _iso(ns: int) -> str:
    try:
        return iso8601(ns)
    except (OverflowError, OSError, ValueError):
        return f"{ns}ns"


def _utf8_len(text: str) -> int:
    """Length in bytes as sent, which is how Loki counts (model.py: the text invariant)."""
    return len(exact_bytes(text))


def _shown(text: str, limit: int = 512) -> str:
    """Labels (or a name) as quoted in a message: a refused stream's may run to megabytes."""
    return text if len(text) <= limit else f"{text[: limit - 12]}...{text[-9:]}"


def _as_sent(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    return exact_bytes(pair[0]), exact_bytes(pair[1])


#: (kind, message) of a refused stream or entry.
Problem = tuple[str, str]


def _stream_problem(labels: tuple[tuple[str, str], ...], limits: Limits) -> Problem | None:
    """(kind, what follows "stream '<labels>' " in the message), or None for a valid set."""
    names = [name for name, _ in labels]
    for previous, current in itertools.pairwise(names):
        if previous == current:
            return "duplicate_label", f"has duplicate label name: '{_shown(current, 128)}'"
    counted = len(names) - ("service_name" in names)
    if counted > limits.max_label_names:
        # Decoders keep max_label_names + 2 labels (ingest/limits.py): more may have been sent.
        at_least = "at least " if len(names) >= limits.max_label_names + 2 else ""
        return "too_many_labels", f"has {at_least}{counted} label names; limit {limits.max_label_names}"
    for name, value in labels:
        if _utf8_len(name) > limits.max_label_name_bytes:
            return "label_name_too_long", f"has label name too long: '{name[:64]}...'"
        if _utf8_len(value) > limits.max_label_value_bytes:
            return "label_value_too_long", f"has label value too long for label '{_shown(name, 128)}'"
    return None


def _refused_labels(labels: tuple[tuple[str, str], ...]) -> str:
    """A refused set as quoted in its message, rendered from clipped pairs: its names and values
    may be megabytes long, and quoting those Go-style is a Python step per character."""
    clipped = tuple((name[:200], value[:200]) for name, value in labels[:20])
    return _shown(canonical(clipped) if clipped == labels else canonical(clipped)[:-1] + ", ...}")


def validate(
    streams: Iterable[Stream], limits: Limits, rejections: Rejections, now_ns: int | None = None
) -> list[ValidStream]:
    """The valid streams, with only their valid entries; everything refused goes to `rejections`."""
    valid: list[ValidStream] = []
    now_ns = time.time_ns() if now_ns is None else now_ns
    max_age = limits.reject_old_samples_max_age_seconds
    grace = limits.creation_grace_period_seconds
    oldest = now_ns - max_age * NS_PER_SECOND if max_age else None
    newest = now_ns + grace * NS_PER_SECOND if grace else None
    canonical_cache: dict[tuple[tuple[str, str], ...], tuple[str, str, Problem | None]] = {}

    for stream in streams:
        if not stream.entries:
            continue  # Loki skips empty streams silently
        labels = tuple(sorted(stream.labels))
        if not all(name.isascii() for name, _ in labels):
            # Loki sorts names as Go strings, by bytes; a name holding bytes that are not
            # UTF-8 (surrogate escapes, model.py) sorts differently by code point.
            labels = tuple(sorted(labels, key=_as_sent))
        cached = canonical_cache.get(labels)
        if cached is None:
            problem = _stream_problem(labels, limits)
            if problem is None:
                full = canonical(labels)  # the records' ids hash it: never shortened
                cached = (full, _shown(full), None)
            else:
                shown = _refused_labels(labels)
                cached = ("", shown, (problem[0], f"stream '{shown}' {problem[1]}"))
            canonical_cache[labels] = cached
        full, shown, problem = cached
        if problem is not None:
            rejections.add(shown, problem[1], len(stream.entries), kind=problem[0])
            continue
        entries = _valid_entries(stream.entries, shown, limits, oldest, newest, rejections)
        if entries:
            valid.append(ValidStream(labels, full, entries))
    return valid


def _entry_problem(entry: Entry, shown: str, limits: Limits, oldest: int | None, newest: int | None) -> Problem | None:
    timestamp, line, metadata = entry
    if timestamp == MISSING_TIMESTAMP:
        return "no_timestamp", f"entry for stream '{shown}' has no timestamp"
    if oldest is not None and timestamp < oldest:
        return "too_old", (
            f"entry for stream '{shown}' has timestamp too old: {_iso(timestamp)}, "
            f"oldest acceptable timestamp is: {_iso(oldest)}"
        )
    if newest is not None and timestamp > newest:
        return "too_new", f"entry for stream '{shown}' has timestamp too new: {_iso(timestamp)}"
    max_line = limits.max_line_bytes
    size = len(line)
    if size > max_line or (size * 4 > max_line and _utf8_len(line) > max_line):
        return "line_too_long", (
            f"max entry size '{max_line}' bytes exceeded for stream '{shown}' "
            f"while adding an entry with length '{_utf8_len(line)}' bytes"
        )
    if metadata:
        count = _counted(metadata)
        if count > limits.max_metadata_entries:
            # Decoders keep max_metadata_entries + 1 pairs (ingest/limits.py): more may have been sent.
            return "too_many_metadata", (
                f"stream '{shown}' has too many structured metadata labels: "
                f"at least '{count}', limit: '{limits.max_metadata_entries}'"
            )
        metadata_size = _metadata_bytes(metadata)
        if metadata_size > limits.max_metadata_bytes:
            return "metadata_too_large", (
                f"stream '{shown}' has structured metadata too large: "
                f"'{metadata_size}' bytes, limit: '{limits.max_metadata_bytes}'"
            )
    return None


def _counted(metadata: EntryMetadata) -> int:
    """Pairs counted against the limit: an OTLP entry's own and shared pairs, not the ones
    Loki's distributor adds after validating (model.TailedMetadata)."""
    if type(metadata) is TailedMetadata:
        return len(metadata.own) + metadata.shared.count
    return len(metadata)


def _metadata_bytes(metadata: EntryMetadata) -> int:
    if type(metadata) is not TailedMetadata:
        return sum(_utf8_len(n) + _utf8_len(v) for n, v in metadata)
    size = sum(_utf8_len(n) + _utf8_len(v) for n, v in metadata.own)
    for part in metadata.shared.parts:
        if part.sent_bytes < 0:  # once per resource or scope, however many entries share it
            part.sent_bytes = sum(_utf8_len(n) + _utf8_len(v) for n, v in part.pairs)
        size += part.sent_bytes
    return size


def _valid_entries(
    entries: list[Entry],
    shown: str,
    limits: Limits,
    oldest: int | None,
    newest: int | None,
    rejections: Rejections,
) -> list[Entry]:
    max_line = limits.max_line_bytes
    quick_line = max_line // 4  # a line this short in characters is short enough in bytes
    low = MISSING_TIMESTAMP + 1 if oldest is None else oldest
    high = newest
    # Fast scan: most pushes have nothing to reject, so only build a new list on a miss.
    for index, (timestamp, line, metadata) in enumerate(entries):
        if len(line) <= quick_line and not metadata and timestamp >= low and (high is None or timestamp <= high):
            continue
        if _entry_problem(entries[index], shown, limits, oldest, newest) is None:
            continue
        kept = entries[:index]
        for entry in entries[index:]:
            problem = _entry_problem(entry, shown, limits, oldest, newest)
            if problem is None:
                kept.append(entry)
            else:
                rejections.add(shown, problem[1], kind=problem[0])
        return kept
    return entries

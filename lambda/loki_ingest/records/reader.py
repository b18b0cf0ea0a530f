"""Read stored records back: the rule of docs/record-format.md as code.

    python -m loki_ingest.records.reader OBJECT [OBJECT ...]      # the original lines, one per entry
    python -m loki_ingest.records.reader --records OBJECT ...     # the records, checked

An OBJECT is a file Firehose wrote (NDJSON, gzip or not). The handler never imports this
module; tests, `make logs` and users do.

* `parse(stored)` checks one stored line against the invariant (strict RFC 8259 JSON, one
  object, UTF-8, no duplicate keys, no NaN/Infinity, no lone surrogates) and returns it.
* `original_line`, `original_labels`, `original_metadata` give back exactly what was pushed,
  as bytes. For a JSON push, `.decode("utf-8", "surrogatepass")` of a line gives the exact
  string sent, lone surrogates included.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from loki_ingest.decoding.jsondoc import has_lone_surrogate

FORMATS = ("json", "text", "base64")


class NotARecord(ValueError):
    """A stored line that breaks the record invariant."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise NotARecord("duplicate key")
    return obj


def _no_constants(name: str) -> Any:
    raise NotARecord(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_no_constants)


def _text(stored: bytes) -> str:
    if stored.endswith(b"\n"):
        stored = stored[:-1]
    if b"\n" in stored or b"\r" in stored:
        raise NotARecord("raw CR or LF inside a record")
    try:
        return stored.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotARecord(f"not UTF-8 at byte {exc.start}") from None


def parse(stored: bytes) -> dict[str, Any]:
    """One stored line as a dict, or NotARecord if it breaks the invariant."""
    text = _text(stored)
    try:
        doc = _DECODER.decode(text)
    except NotARecord:
        raise
    except (ValueError, RecursionError) as exc:
        raise NotARecord(f"not one JSON value: {exc}") from None
    if not isinstance(doc, dict):
        raise NotARecord("not a JSON object")
    if has_lone_surrogate(doc):
        raise NotARecord("lone surrogate in a string")
    if doc.get("format") not in FORMATS:
        raise NotARecord(f"unknown format {doc.get('format')!r}")
    return doc


def _record_span(text: str) -> tuple[int, int]:
    """[start, end) of the top-level "record" value in the stored text."""
    scan = _DECODER.scan_once  # type: ignore[attr-defined]
    i = 1
    while i < len(text):
        while text[i] in " \t":
            i += 1
        key, i = scan(text, i)
        while text[i] in " \t":
            i += 1
        i += 1  # ":"
        while text[i] in " \t":
            i += 1
        start = i
        _, i = scan(text, i)
        if key == "record":
            return start, i
        while text[i] in " \t":
            i += 1
        i += 1  # "," or "}"
    raise NotARecord('no "record" field')


def original_line(stored: bytes) -> bytes:
    """The exact line that was pushed."""
    doc = parse(stored)
    fmt = doc["format"]
    if fmt == "base64":
        return base64.b64decode(str(doc["line_base64"]), validate=True)
    if fmt == "text":
        return str(doc["record"]["message"]).encode("utf-8")
    text = _text(stored)
    start, end = _record_span(text)
    prefix, suffix = str(doc.get("line_prefix", "")), str(doc.get("line_suffix", ""))
    return (prefix + text[start:end] + suffix).encode("utf-8")


def _pairs(doc: dict[str, Any], readable: str, exact: str) -> list[tuple[bytes, bytes]]:
    if exact in doc:
        return [(base64.b64decode(n, validate=True), base64.b64decode(v, validate=True)) for n, v in doc[exact]]
    return [(str(n).encode("utf-8"), str(v).encode("utf-8")) for n, v in doc[readable].items()]


def original_labels(stored: bytes) -> list[tuple[bytes, bytes]]:
    """The stream's labels (sorted by name, as Loki keeps them), exactly."""
    return _pairs(parse(stored), "stream", "stream_base64")


def original_metadata(stored: bytes) -> list[tuple[bytes, bytes]]:
    """The entry's structured metadata, in the order it was pushed, exactly."""
    return _pairs(parse(stored), "metadata", "metadata_base64")


def stored_lines(source: bytes | bytearray | memoryview | BinaryIO) -> Iterator[bytes]:
    """The stored lines of one object Firehose wrote (gunzipped when compressed). A file object
    (an S3 body) is read as a stream: a whole buffer (up to 128 MiB) never sits in memory."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    head = b""
    while len(head) < 2:  # a raw stream may return fewer bytes than asked
        more = stream.read(2 - len(head))
        if not more:
            break
        head += more
    body: BinaryIO = io.BufferedReader(_Rejoined(head, stream), 1 << 20)
    if head == b"\x1f\x8b":
        body = gzip.GzipFile(fileobj=body)  # type: ignore[assignment]
    for line in body:
        content = line[:-1] if line.endswith(b"\n") else line
        if content:
            yield content + b"\n"


class _Rejoined(io.RawIOBase):
    """The bytes already read to sniff the format, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        view = memoryview(buffer).cast("B")
        chunk = self.head[: len(view)] if self.head else self.rest.read(len(view))
        if chunk is None:  # a non-blocking stream with nothing yet
            return None
        self.head = self.head[len(chunk) :]
        view[: len(chunk)] = chunk
        return len(chunk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("objects", nargs="+", type=Path)
    parser.add_argument("--records", action="store_true", help="print the checked records instead of the lines")
    args = parser.parse_args(argv)
    out = sys.stdout.buffer
    for path in args.objects:
        with path.open("rb") as file:
            for stored in stored_lines(file):
                if args.records:
                    parse(stored)  # raises NotARecord
                    out.write(stored)
                else:
                    out.write(original_line(stored) + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

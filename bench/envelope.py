"""What the stored record's envelope costs per entry, and what trimming it would save.

Every stored line is the entry's line (`record`, or `line` for text) inside an envelope of
fields (lambda/loki_ingest/records/schema.py). Firehose bills the records, 5 KB steps included,
so the envelope is paid per entry; but a push whose records stay in the same 5 KB step saves
nothing. This measures each field's bytes per entry on the real handler's records and prices
candidate reductions by re-packing the trimmed lines into records as the sink does. Nothing
here changes the record: its declaration is the record schema's.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.prices import PRICES

Line = dict[str, Any]


def stored_lines(push: dict[str, Any]) -> list[bytes]:
    """The NDJSON lines the real handler stores for one push."""
    from tests.conftest import FakeFirehose, new_app

    from loki_ingest.delivery.sink import FixedDeadline

    firehose = FakeFirehose()
    app = new_app(firehose)
    with contextlib.redirect_stdout(io.StringIO()):
        answer = app.handle_event(push, FixedDeadline(time.monotonic() + 60))
    assert answer["statusCode"] == 200, answer
    return firehose.lines()


def _pair_bytes(key: str, value: Any) -> int:
    """`"key":value,` as the renderer writes it (compact JSON; the comma or closing brace)."""
    return len(json.dumps({key: value}, separators=(",", ":"), ensure_ascii=False).encode()) - 1


def field_bytes(lines: Sequence[bytes]) -> dict[str, float]:
    """Bytes per entry of each field, key and punctuation included, and of the braces and newline."""
    totals: dict[str, int] = {}
    for raw in lines:
        doc = json.loads(raw)
        accounted = 1 + 1  # the opening brace and the newline
        for key, value in doc.items():
            size = _pair_bytes(key, value)
            totals[key] = totals.get(key, 0) + size
            accounted += size
        # The spliced line may be written more compactly than json.dumps would (or not): what is
        # left over is the record's own text.
        main = "record" if "record" in doc else "line"
        totals[main] += len(raw) - accounted
    return {key: value / len(lines) for key, value in totals.items()}


def _drop(name: str) -> Callable[[Line], Line]:
    return lambda doc: {k: v for k, v in doc.items() if k != name}


def _drop_if(name: str, empty: Any) -> Callable[[Line], Line]:
    return lambda doc: {k: v for k, v in doc.items() if not (k == name and v == empty)}


def _ns_as_number(doc: Line) -> Line:
    return {k: (int(v) if k == "timestamp_ns" else v) for k, v in doc.items()}


def _short_id(doc: Line) -> Line:
    return {k: (v[:22] if k == "id" else v) for k, v in doc.items()}  # 128 bits as base64url: 22 characters


#: (name, what it would take, the change) of each candidate reduction.
CANDIDATES: tuple[tuple[str, str, Callable[[Line], Line]], ...] = (
    (
        "no `timestamp` (keep `timestamp_ns`)",
        "Athena derives it: from_unixtime(CAST(timestamp_ns AS bigint) / 1e9), or a view",
        _drop("timestamp"),
    ),
    ("`metadata` only when not empty", "the column is NULL for lines without it", _drop_if("metadata", {})),
    ("`format` only when not `json`", "readers take a missing format as json", _drop_if("format", "json")),
    ("`id` as 22 base64url characters", "same 128 bits; ids change encoding", _short_id),
    ("`timestamp_ns` as a JSON number", "Athena reads it as bigint (19 digits fit)", _ns_as_number),
)


def _render(doc: Line) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def billed(lines: Sequence[bytes]) -> int:
    from bench.pushes import billed_bytes
    from loki_ingest.delivery.firehose import pack

    return billed_bytes([len(record) for batch in pack(list(lines)) for record in batch])


def table(pushes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per push shape: each field's bytes per entry, and each candidate's saving in $ per GB of
    push bodies (Firehose, 5 KB steps included) and in stored bytes."""
    from bench.pushes import _body

    out: dict[str, Any] = {"fields": {}, "candidates": {}}
    firehose_gb = PRICES["firehose_gb"].usd
    for shape, push in pushes.items():
        lines = stored_lines(push)
        body = len(_body(push))
        out["fields"][shape] = {k: round(v, 1) for k, v in field_bytes(lines).items()}
        docs = [json.loads(raw) for raw in lines]
        before = billed([_render(doc) for doc in docs])
        before_bytes = sum(len(_render(doc)) for doc in docs)
        rows: dict[str, Any] = {}
        every: list[Callable[[Line], Line]] = []
        for name, _, change in CANDIDATES:
            every.append(change)
            rows[name] = _saving(docs, [change], before, before_bytes, body, firehose_gb)
        rows["all of the above"] = _saving(docs, every, before, before_bytes, body, firehose_gb)
        out["candidates"][shape] = rows
    out["how"] = {name: how for name, how, _ in CANDIDATES}
    return out


def _saving(
    docs: list[Line], changes: list[Callable[[Line], Line]], before: int, before_bytes: int, body: int, price: float
) -> dict[str, float]:
    trimmed = []
    for doc in docs:
        changed = doc
        for change in changes:
            changed = change(changed)
        trimmed.append(_render(changed))
    after = billed(trimmed)
    return {
        "bytes_per_entry": round((before_bytes - sum(map(len, trimmed))) / len(docs), 1),
        "usd_per_gb": round((before - after) / body * price, 5),
    }

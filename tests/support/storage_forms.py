"""One push per storage form of the record (docs/record-format.md): together they make lines
carry every field the record declaration lists. Used by the unit test (through the handler)
and the end-to-end test (through real HTTP, S3, Glue and the DuckDB view)."""

from __future__ import annotations

import json
from typing import NamedTuple

from tests.support.logproto import snappy_block
from tests.support.wire import push_request


class Push(NamedTuple):
    form: str
    content_type: str
    body: bytes
    headers: dict[str, str]


def pushes(run: str, now_ns: int) -> list[Push]:
    """Every storage form, each labelled run=<run> so a test finds its own records."""

    def v1(line: str, extra: dict[str, str] | None = None) -> bytes:
        stream = {"run": run, **(extra or {})}
        return json.dumps({"streams": [{"stream": stream, "values": [[str(now_ns), line]]}]}).encode()

    def protobuf(labels: bytes, line: bytes, metadata: list[tuple[bytes, bytes]]) -> bytes:
        return snappy_block(push_request([(labels, [(now_ns, line, metadata)])]))

    labels = b'{run="' + run.encode() + b'"}'
    return [
        Push("json object", "application/json", v1('{"action":"SessionsAuthenticate"}'), {}),
        Push("text", "application/json", v1("plain text"), {}),
        Push("json with whitespace around", "application/json", v1(' \t{"a":1} '), {}),
        Push("line not valid UTF-8", "application/x-protobuf", protobuf(labels, b"bad \xff line", []), {}),
        Push(
            "label value not valid UTF-8",
            "application/x-protobuf",
            protobuf(b'{run="' + run.encode() + b'", bad="\xfe"}', b"x", []),
            {},
        ),
        Push(
            "repeated metadata name",
            "application/x-protobuf",
            protobuf(labels, b"y", [(b"k", b"1"), (b"k", b"2")]),
            {},
        ),
        Push("tenant", "application/json", v1("tenant line"), {"X-Scope-OrgID": "team-a"}),
    ]

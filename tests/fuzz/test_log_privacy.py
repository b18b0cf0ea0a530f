"""No credential, header value, label text or line text ever reaches the logs.

Every place a client can put text (label names and values, lines, structured metadata, every
header, the path and query) carries a distinctive marker, in every push format, valid and
mutated, with right and wrong credentials; then the whole log output of all those requests is
searched for the markers, the password and the Authorization tokens. The answers may quote the
client's own input back to it; the logs may not.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.runtime.adapter import build_event
from loki_ingest.auth.authenticator import SecretUnavailable
from tests.conftest import NOW_NS, PASSWORD, USER, Harness, basic, record_figures
from tests.fuzz.test_fuzz_handler import compress, mutate
from tests.support.logproto import snappy_block
from tests.support.wire import push_request

pytestmark = pytest.mark.fuzz

_counter = itertools.count()
MARKER = re.compile(r"zqx\d{6}qz", re.IGNORECASE)


def marker() -> str:
    return f"zqx{next(_counter):06d}qz"


def headers(content_type: str, encoding: str | None, auth: str) -> list[tuple[str, str]]:
    out = [
        ("Content-Type", content_type),
        ("Authorization", auth),
        ("User-Agent", f"client/{marker()}"),
        ("X-Scope-OrgID", marker()),
        ("Cookie", f"session={marker()}"),
        ("X-Custom", marker()),
    ]
    if encoding:
        out.append(("Content-Encoding", encoding))
    return out


def payloads() -> Iterator[tuple[str, str, str | None, bytes]]:
    """(name, content type, encoding, body) with markers in every text field."""
    labels = {marker(): marker(), "service_name": marker()}
    values = [
        [str(NOW_NS), json.dumps({"event": marker(), marker(): [marker()]})],
        [str(NOW_NS + 1), f"text {marker()}", {marker(): marker()}],
        [str(NOW_NS + 2), marker() * 40_000],  # over the line limit: rejected, quoted in the answer
        [f"not-a-time-{marker()}", marker()],
    ]
    v1 = json.dumps({"streams": [{"stream": labels, "values": values[:3]}]}).encode()
    yield "v1", "application/json", None, v1
    yield "v1-gzip", "application/json", "gzip", gzip.compress(v1)
    yield "v1-deflate", "application/json", "deflate", compress(v1, "deflate")
    too_many = json.dumps({"streams": [{"stream": labels, "values": [[str(NOW_NS + i), marker()] for i in range(9)]}]})
    yield "v1-too-many-entries", "application/json", None, too_many.encode()
    yield (
        "v1-bad-timestamp",
        "application/json",
        None,
        json.dumps({"streams": [{"stream": labels, "values": values}]}).encode(),
    )
    yield (
        "v1-bad-label-name",
        "application/json",
        None,
        json.dumps({"streams": [{"stream": {f"bad.{marker()}": "x"}}]}).encode(),
    )
    yield (
        "v1-duplicate-after-sort",
        "application/json",
        None,
        json.dumps(
            {"streams": [{"stream": {f"l{i}{marker()}": marker() for i in range(20)}, "values": values[:1]}]}
        ).encode(),
    )
    legacy = json.dumps(
        {"streams": [{"labels": f'{{app="{marker()}"}}', "entries": [{"ts": f"{marker()}", "line": marker()}]}]}
    ).encode()
    yield "legacy", "application/json", None, legacy
    proto = push_request(
        [
            (
                f'{{app="{marker()}", {marker()}="{marker()}"}}'.encode(),
                [(NOW_NS, marker().encode(), [(marker().encode(), marker().encode())])],
            ),
            (f'{{unterminated="{marker()}'.encode(), [(NOW_NS, b"x", [])]),
        ]
    )
    yield "protobuf", "application/x-protobuf", None, snappy_block(proto)
    yield "protobuf-gzip", "application/x-protobuf", "gzip", gzip.compress(snappy_block(proto))
    yield "odd-content-type", f"application/{marker()}; charset={marker()}", None, v1
    yield "odd-encoding", "application/json", marker(), v1


MUTATIONS = 150


def cases() -> Iterator[dict[str, Any]]:
    rng = random.Random("log-privacy")
    for name, content_type, encoding, body in payloads():
        for auth in (basic(), basic(USER, f"wrong-{marker()}"), basic(marker(), marker()), f"Bearer {marker()}"):
            natural = "/api/prom/push" if name == "legacy" else "/loki/api/v1/push"
            odd = [f"/{marker()}", f"/loki/api/v1/push/{marker()}", "/api/prom/push"]
            path = natural if auth == basic() else rng.choice([natural, *odd])
            yield build_event("POST", path, headers(content_type, encoding, auth), body, query=f"q={marker()}")
        for _ in range(MUTATIONS if name in ("v1", "protobuf", "legacy") else MUTATIONS // 10):
            yield build_event(
                rng.choice(["POST", "GET", marker().upper()]),
                "/loki/api/v1/push",
                headers(content_type, encoding, basic()),
                mutate(rng, body),
            )
    yield build_event("GET", "/healthz", [("User-Agent", marker())], b"")


def test_no_log_line_carries_a_credential_header_label_or_line(
    make_app: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_app(
        auth_refresh_min_interval_seconds=1,
        secret_cache_ttl_seconds=0,
        work_budget_units=1_000,  # the 413 path too
        log_every_request=True,  # a line per request: every logging path (the metrics line is counts only)
    )
    answers: dict[int, int] = {}
    count = 0

    def run() -> None:
        nonlocal count
        for case in cases():
            status = harness(case)["statusCode"]
            answers[status] = answers.get(status, 0) + 1
            count += 1

    run()
    harness.firehose.script = lambda call, records: ["ServiceUnavailableException"] * len(records)
    run()
    harness.secrets.fail = SecretUnavailable("AccessDeniedException", definitive=True)
    run()
    logs = capsys.readouterr().out
    lines = logs.splitlines()
    assert len(lines) >= count  # one line per request at least: the check saw real output
    assert all(json.loads(line) for line in lines)
    leaked = sorted(set(MARKER.findall(logs)))
    assert not leaked, f"{len(leaked)} client strings in the logs, e.g. {leaked[:5]}"
    for secret in (PASSWORD, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(), "wrong-"):
        assert secret not in logs
    # The cases reached every kind of answer, so every logging path was exercised.
    assert {200, 400, 401, 404, 405, 413, 503} <= set(answers), answers
    record_figures("log privacy", {"requests": count, "log_lines": len(lines), "answers": answers})

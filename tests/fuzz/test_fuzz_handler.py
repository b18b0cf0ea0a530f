"""Fuzz the real Lambda entry point (loki_ingest.handler.handler) with hostile events.

Properties, for every case:
* no exception escapes, and the answer is a well-formed function URL response;
* client-caused input never gets a 5xx (the fake backends never fail here, so any 5xx
  would be our bug);
* every 4xx carries a human-readable message;
* a 200 means every counted entry was delivered to Firehose.

Cases come from hypothesis strategies and from a corpus of real payloads (every format and
encoding) mutated with a seeded RNG. The last test checks that at least 10,000 cases ran.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.runtime.adapter import build_event
from loki_ingest import handler as handler_module
from loki_ingest.auth.authenticator import SecretUnavailable
from tests.conftest import NOW_NS, FakeFirehose, Harness, basic, event, load_event, record_figures
from tests.support.logproto import encode_push, protobuf_push, snappy_block

pytestmark = pytest.mark.fuzz

CASES = {"count": 0}
CANNOT_CHECK_CREDENTIALS = SecretUnavailable("").message
# `make soak` sets LOKI_FUZZ_EXAMPLES higher and LOKI_FUZZ_RANDOM=1 for a randomized search.
EXAMPLES = int(os.environ.get("LOKI_FUZZ_EXAMPLES", "1500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("LOKI_FUZZ_RANDOM"),  # reproducible in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def handler_invoker(
    make_app: Callable[..., Harness],
    monkeypatch: pytest.MonkeyPatch,
    check: Callable[[Any, Any, FakeFirehose], None],
    cases: dict[str, int],
) -> Callable[[Any], dict[str, Any]]:
    """The real entry point over a fresh harness; `check` sees each fuzzed event, its answer
    and what Firehose received for it; `cases` counts them."""
    harness = make_app(max_decompressed_bytes=4 << 20, retry_max_attempts=1)
    monkeypatch.setattr(handler_module, "_app", harness.app)

    def call(fuzzed: Any) -> dict[str, Any]:
        harness.firehose.calls.clear()
        harness.firehose.delivered.clear()
        cases["count"] += 1
        result = handler_module.handler(fuzzed, None)
        check(fuzzed, result, harness.firehose)
        return result

    return call


@pytest.fixture
def invoke(make_app: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], dict[str, Any]]:
    return handler_invoker(make_app, monkeypatch, lambda _fuzzed, result, firehose: check(result, firehose), CASES)


def check(result: Any, firehose: FakeFirehose) -> None:
    assert isinstance(result, dict) and isinstance(result.get("statusCode"), int), result
    status = result["statusCode"]
    if status == 503 and json.loads(result["body"])["message"].startswith(CANNOT_CHECK_CREDENTIALS):
        # A credential that matches nothing cached while the refresh budget is spent: it might be
        # a rotated password, so the answer is "retry after", never 401 (the only 5xx allowed).
        assert int(result["headers"]["retry-after"]) >= 1
        return
    assert 200 <= status < 500, f"client input produced {status}: {result.get('body')!r:.300}"
    assert isinstance(result.get("headers"), dict) and isinstance(result.get("body"), str)
    if status >= 400:
        message = json.loads(result["body"]).get("message", "")
        assert isinstance(message, str) and message.strip(), f"{status} without a message"
    if status == 200 and "count" in result["body"]:
        count = json.loads(result["body"])["count"]
        delivered = sum(data.count(b"\n") for data in firehose.delivered)
        assert delivered == count, f"answered count={count} but delivered {delivered} records"


# --- hypothesis strategies ------------------------------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.text(max_size=25),
    json_values,
)
entries = st.lists(
    st.one_of(
        st.tuples(timestamps, st.text(max_size=60)).map(list),
        st.tuples(
            timestamps, st.text(max_size=60), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3)
        ).map(list),
        json_values,
    ),
    max_size=6,
)
label_maps = st.dictionaries(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True) | st.text(max_size=6), json_values, max_size=4
)
v1_docs = (
    st.fixed_dictionaries(
        {"streams": st.lists(st.fixed_dictionaries({"stream": label_maps, "values": entries}), max_size=4)}
    )
    | json_values
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-protobuf",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/json; charsetutf-8",
    ]
) | st.text(max_size=30)
encodings = st.sampled_from([None, "gzip", "deflate", "snappy", "br", "GZIP", ""]) | st.text(max_size=10)
auth_headers = st.one_of(
    st.just(basic()),
    st.just(basic(password="wrong")),
    st.text(max_size=60),
    st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    st.sampled_from(["Basic", "Basic ", "Bearer x", "Basic !!!", "basic " + basic()[6:]]),
)


def compress(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        compressor = zlib.compressobj(wbits=-15)
        return compressor.compress(body) + compressor.flush()
    if encoding == "snappy":
        return snappy_block(body)
    return body


@FUZZ
@given(
    doc=v1_docs,
    encoding=st.sampled_from([None, "gzip", "deflate", "snappy"]),
    path=st.sampled_from(["/loki/api/v1/push", "/api/prom/push"]),
)
def test_structured_json_pushes(
    invoke: Callable[[Any], dict[str, Any]], doc: Any, encoding: str | None, path: str
) -> None:
    body = json.dumps(doc).encode()
    invoke(event(path=path, body=compress(body, encoding), content_encoding=encoding))


@FUZZ
@given(body=st.binary(max_size=2000), content_type=content_types, encoding=encodings)
def test_random_bytes_with_random_headers(
    invoke: Callable[[Any], dict[str, Any]], body: bytes, content_type: str, encoding: str | None
) -> None:
    invoke(event(body=body, content_type=content_type, content_encoding=encoding))


@FUZZ
@given(header=auth_headers, body=st.binary(max_size=200))
def test_authorization_headers(invoke: Callable[[Any], dict[str, Any]], header: str, body: bytes) -> None:
    result = invoke(event(body=body, auth=header))
    if header not in (basic(), "basic " + basic()[6:]):
        # A wrong credential is 401 when checked against a fresh read of the secret, or 503 with
        # Retry-After while the refresh budget is spent (it might be a rotated password): never
        # accepted, never a 401 that could drop a rotated client's push.
        assert result["statusCode"] in (401, 503)
        if result["statusCode"] == 503:
            assert int(result["headers"]["retry-after"]) >= 1


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


@FUZZ
@given(
    streams=st.lists(
        st.tuples(
            st.text(max_size=40)
            | st.dictionaries(names, st.text(max_size=10), max_size=3).map(
                lambda d: "{" + ", ".join(f'{k}="{v}"' for k, v in d.items()) + "}"
            ),
            st.lists(
                st.tuples(
                    st.integers(-62135596800 * 10**9, 253402300799 * 10**9),
                    st.text(max_size=40),
                    st.lists(st.tuples(names, st.text(max_size=8)), max_size=2),
                ),
                max_size=4,
            ),
        ),
        max_size=3,
    ),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=255)), max_size=3
    ),
    cut=st.none() | st.integers(min_value=0, max_value=10_000),
    encoding=st.sampled_from([None, "gzip", "snappy"]),
)
def test_protobuf_pushes_mutated(
    invoke: Callable[[Any], dict[str, Any]], streams: Any, flips: Any, cut: int | None, encoding: str | None
) -> None:
    raw = bytearray(encode_push(streams))
    for position, value in flips:
        if raw:
            raw[position % len(raw)] = value
    if cut is not None:
        raw = raw[: cut % (len(raw) + 1)]
    body = snappy_block(bytes(raw))
    invoke(
        event(
            body=compress(body, encoding if encoding != "snappy" else None),
            content_type="application/x-protobuf",
            content_encoding=encoding,
        )
    )


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]) | st.text(max_size=8),
    path=st.sampled_from(["/loki/api/v1/push", "/api/prom/push", "/healthz", "/ready", "/", ""]) | st.text(max_size=30),
    headers=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=5),
    is_base64=st.booleans(),
    body=st.one_of(
        st.none(),
        st.text(max_size=100),
        st.integers(),
        st.binary(max_size=50).map(lambda b: base64.b64encode(b).decode()),
    ),
)
def test_malformed_events(
    invoke: Callable[[Any], dict[str, Any]], method: str, path: str, headers: Any, is_base64: bool, body: Any
) -> None:
    fuzzed = {
        "version": "2.0",
        "rawPath": path,
        "headers": dict(headers),
        "requestContext": {"http": {"method": method}},
        "isBase64Encoded": is_base64,
        "body": body,
    }
    invoke(fuzzed)


@FUZZ
@given(
    fuzzed=st.recursive(
        json_scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["body", "headers", "rawPath", "requestContext", "isBase64Encoded", "http", "method"])
                | st.text(max_size=5),
                inner,
                max_size=5,
            )
        ),
        max_leaves=15,
    )
)
def test_arbitrary_event_shapes(invoke: Callable[[Any], dict[str, Any]], fuzzed: Any) -> None:
    invoke(fuzzed)


# --- mutated corpus of real payloads ---------------------------------------------------------


def corpus() -> Iterator[tuple[str, dict[str, Any]]]:
    v1 = json.dumps(
        {
            "streams": [
                {
                    "stream": {"service_name": "stytch", "env": "prod"},
                    "values": [
                        [str(NOW_NS), '{"event_id":"event-live-1","action":"SessionsAuthenticate","status":"success"}'],
                        [str(NOW_NS + 1), "plain line", {"trace_id": "abc"}],
                    ],
                }
            ]
        }
    ).encode()
    legacy = json.dumps(
        {"streams": [{"labels": '{app="x"}', "entries": [{"ts": "2026-01-01T00:00:00.5Z", "line": "legacy"}]}]}
    ).encode()
    proto = encode_push(
        [('{service_name="stytch", env="prod"}', [(NOW_NS, "proto line", [("k", "v")]), (NOW_NS + 1, '{"a":1}', [])])]
    )
    yield "v1", event(body=v1)
    yield "v1-gzip", event(body=gzip.compress(v1), content_encoding="gzip")
    yield "v1-deflate", event(body=compress(v1, "deflate"), content_encoding="deflate")
    yield "legacy", event(path="/api/prom/push", body=legacy)
    yield (
        "protobuf",
        event(body=protobuf_push([('{a="b"}', [(NOW_NS, "line", [])])]), content_type="application/x-protobuf"),
    )
    yield (
        "protobuf-gzip",
        event(body=gzip.compress(snappy_block(proto)), content_type="application/x-protobuf", content_encoding="gzip"),
    )
    yield "aws-docs", load_event("aws_docs_example.json")


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        action = rng.randrange(6)
        position = rng.randrange(len(out) + 1)
        if action == 0 and out:
            out[position % len(out)] ^= 1 << rng.randrange(8)
        elif action == 1 and out:
            out[position % len(out)] = rng.randrange(256)
        elif action == 2:
            out[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif action == 3:
            del out[position : position + rng.randint(1, 16)]
        elif action == 4:
            out = out[:position]  # truncation
        else:
            chunk = out[position : position + rng.randint(1, 64)]
            out[position:position] = chunk * rng.randint(2, 20)  # repetition
    return bytes(out)


CORPUS_MUTATIONS = 400


@pytest.mark.parametrize(("name", "original"), list(corpus()), ids=[n for n, _ in corpus()])
def test_mutated_real_payloads(invoke: Callable[[Any], dict[str, Any]], name: str, original: dict[str, Any]) -> None:
    rng = random.Random(name)
    raw = (
        base64.b64decode(original["body"])
        if original.get("isBase64Encoded")
        else str(original.get("body", "")).encode()
    )
    assert invoke(original)["statusCode"] == 200  # the unmutated payload is valid
    for _ in range(CORPUS_MUTATIONS):
        body = mutate(rng, raw)
        headers = [(k, v) for k, v in original["headers"].items()]
        invoke(build_event("POST", original["rawPath"], headers, body))


def test_at_least_10000_cases_ran() -> None:
    record_figures("fuzz", {"cases_through_handler": CASES["count"], "examples_per_property": EXAMPLES})
    assert CASES["count"] >= 10_000

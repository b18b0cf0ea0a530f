"""The HTTP contract of the function URL handler, one event kind at a time."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from loki_ingest import handler as handler_module
from loki_ingest.auth.authenticator import SecretUnavailable
from tests.conftest import NOW_NS, PASSWORD, SAMPLE_V1, Harness, basic, event, load_event, v1_body

EVENT_KINDS = [
    "push_json_event",
    "push_json_gzip_event",
    "push_json_deflate_event",
    "push_protobuf_event",
    "push_legacy_event",
]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_push_kind_answers_200_with_the_count_and_delivers_every_entry(
    kind: str, harness: Harness, request: pytest.FixtureRequest
) -> None:
    push = request.getfixturevalue(kind)
    status, body = harness.json(push)
    records = harness.firehose.records()
    assert status == 200
    assert body == {"status": "success", "count": len(records)}
    assert len(records) >= 1
    assert all(r["stream"]["service_name"] == "stytch" for r in records)


def test_binary_pushes_arrive_base64_encoded_and_text_pushes_do_not(
    push_json_event: dict[str, Any], push_json_gzip_event: dict[str, Any], push_protobuf_event: dict[str, Any]
) -> None:
    assert push_json_event["isBase64Encoded"] is False
    assert push_json_gzip_event["isBase64Encoded"] is True
    assert push_protobuf_event["isBase64Encoded"] is True


def test_json_push_lands_as_exact_records(harness: Harness, push_json_event: dict[str, Any]) -> None:
    status, _ = harness.json(push_json_event)
    assert status == 200
    records = harness.firehose.records()
    assert [r["timestamp_ns"] for r in records] == [str(NOW_NS + 1), str(NOW_NS + 2), str(NOW_NS + 3)]
    assert records[0]["record"] == {"event_id": "event-test-1", "action": "SessionsAuthenticate", "status": "success"}
    assert records[1]["record"] == {"message": "plain text line"}
    assert records[2]["metadata"] == {"trace_id": "0242ac120002"}
    assert {r["stream"]["env"] for r in records} == {"test"}


def test_protobuf_push_lands_as_exact_records(harness: Harness, push_protobuf_event: dict[str, Any]) -> None:
    assert harness.json(push_protobuf_event) == (200, {"status": "success", "count": 2})
    records = harness.firehose.records()
    assert [(r["timestamp_ns"], r["record"], r["metadata"]) for r in records] == [
        (str(NOW_NS + 1), {"message": "proto line"}, {"trace_id": "abc"}),
        (str(NOW_NS + 2), {"k": "v"}, {}),
    ]


def test_the_aws_documentation_event_is_handled(harness: Harness) -> None:
    status, body = harness.json(load_event("aws_docs_example.json"))
    assert (status, body) == (200, {"status": "success", "count": 1})
    (record,) = harness.firehose.records()
    assert record["record"]["action"] == "SessionsAuthenticate"
    assert record["timestamp"] == "2026-01-01T00:00:00.123000000Z"


def test_loki_mode_answers_204_with_an_empty_body(
    make_app: Callable[..., Harness], push_json_event: dict[str, Any]
) -> None:
    result = make_app(success_status_code=204)(push_json_event)
    assert result["statusCode"] == 204 and result["body"] == ""


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"streams":[]}', id="no-streams"),
        pytest.param(b"{}", id="no-streams-key"),
        pytest.param(v1_body([({"a": "b"}, [])]), id="stream-without-entries"),
    ],
)
def test_an_empty_push_is_harmless(harness: Harness, body: bytes) -> None:
    assert harness.json(event(body=body)) == (200, {"status": "success", "count": 0})
    assert harness.firehose.calls == []


def test_partial_success_delivers_valid_entries_and_lists_the_rejected(harness: Harness) -> None:
    body = v1_body(
        [
            (
                {"app": "ok"},
                [[str(NOW_NS), "good one"], [str(NOW_NS + 1), "x" * 300_000], [str(NOW_NS + 2), "good two"]],
            ),
            ({"app": "dup"}, [[str(NOW_NS), "kept"]]),
        ]
    )
    status, answer = harness.json(event(body=body))
    assert status == 400
    assert answer["status"] == "partial"
    assert answer["count"] == 3 and answer["rejected"] == 1
    assert "max entry size" in answer["errors"][0] and '{app="ok"}' in answer["errors"][0]
    assert "1 of 4 entries rejected" in answer["message"]
    assert [r["record"]["message"] for r in harness.firehose.records()] == ["good one", "good two", "kept"]


ROUTES = [
    pytest.param("GET", "/loki/api/v1/push", 405, "use POST", id="get-on-push"),
    pytest.param("PUT", "/api/prom/push", 405, "use POST", id="put-on-legacy-push"),
    pytest.param("POST", "/healthz", 405, "use GET", id="post-on-healthz"),
    pytest.param("GET", "/", 404, "no route for /; push to /loki/api/v1/push", id="root"),
    pytest.param("POST", "/loki/api/v1/query", 404, "push to /loki/api/v1/push", id="unknown-loki-path"),
    pytest.param("POST", "/otlp/v1/traces", 404, "push to /otlp/v1/logs", id="otlp-traces-not-supported"),
    pytest.param("POST", "/otlp", 404, "push to /otlp/v1/logs", id="otlp-base-url-without-v1-logs"),
    pytest.param("POST", "/v1/logs", 404, "push to /otlp/v1/logs", id="otlp-without-the-otlp-prefix"),
]


@pytest.mark.parametrize(("method", "path", "status", "message"), ROUTES)
def test_routing(harness: Harness, method: str, path: str, status: int, message: str) -> None:
    result = harness(event(method, path, SAMPLE_V1))
    assert result["statusCode"] == status
    assert message in json.loads(result["body"])["message"]
    if status == 405:
        assert "allow" in result["headers"]
    assert harness.firehose.calls == []


def test_trailing_slash_is_tolerated(harness: Harness) -> None:
    assert harness(event(path="/loki/api/v1/push/", body=SAMPLE_V1))["statusCode"] == 200


CLIENT_ERRORS = [
    pytest.param(event(body=b"not json"), 400, "invalid JSON", id="malformed-json"),
    pytest.param(
        event(body=gzip.compress(SAMPLE_V1)),
        400,
        "not valid UTF-8 (byte 1); it looks gzip-compressed: send Content-Encoding: gzip",
        id="gzip-without-content-encoding",
    ),
    pytest.param(
        event(body=SAMPLE_V1, content_type=None), 400, "Content-Type header is required", id="no-content-type"
    ),
    pytest.param(event(body=SAMPLE_V1, content_encoding="br"), 400, "not supported", id="brotli"),
    pytest.param(event(body=SAMPLE_V1[:-5]), 400, "invalid JSON", id="truncated-json"),
    pytest.param(
        event(body=gzip.compress(SAMPLE_V1)[:-12], content_encoding="gzip"), 400, "truncated", id="truncated-gzip"
    ),
    pytest.param(
        event(body=b"\x00garbage", content_type="application/x-protobuf"), 400, "snappy", id="garbage-protobuf"
    ),
    pytest.param(event(body=SAMPLE_V1, auth=None), 401, "authentication required", id="no-credentials"),
    pytest.param(event(body=SAMPLE_V1, auth=basic(password="wrong")), 401, "invalid username", id="wrong-password"),
    pytest.param(event(body=SAMPLE_V1, auth="Bearer token"), 401, "Basic", id="wrong-scheme"),
]


@pytest.mark.parametrize(("push", "status", "message"), CLIENT_ERRORS)
def test_client_errors_are_4xx_with_an_actionable_message(
    harness: Harness, push: dict[str, Any], status: int, message: str
) -> None:
    result = harness(push)
    assert result["statusCode"] == status
    answer = json.loads(result["body"])
    assert answer["status"] == "error" and message in answer["message"]
    if status == 401:
        assert result["headers"]["www-authenticate"] == 'Basic realm="loki"'
    assert harness.firehose.calls == []


def test_auth_is_checked_before_the_body_is_decoded(harness: Harness) -> None:
    bomb = gzip.compress(b"\0" * (50 << 20))
    result = harness(event(body=bomb, content_encoding="gzip", auth=basic(password="nope")))
    assert result["statusCode"] == 401


def test_gzip_bomb_is_413(make_app: Callable[..., Harness]) -> None:
    app = make_app(max_decompressed_bytes=1 << 20)
    result = app(event(body=gzip.compress(b"\0" * (20 << 20)), content_encoding="gzip"))
    assert result["statusCode"] == 413


def test_body_over_the_raw_limit_is_413(make_app: Callable[..., Harness]) -> None:
    app = make_app(max_body_bytes=1024)
    assert app(event(body=b" " * 2048))["statusCode"] == 413
    assert app(event(body=gzip.compress(b" " * 4096) + b"\0" * 2048, content_encoding="gzip"))["statusCode"] == 413


def test_invalid_base64_body_is_400(harness: Harness) -> None:
    push = event(body=SAMPLE_V1)
    push["isBase64Encoded"] = True
    push["body"] = "***not base64***"
    result = harness(push)
    assert result["statusCode"] == 400 and "base64" in result["body"]


def test_an_unreadable_secret_is_503_with_retry_after(harness: Harness, push_json_event: dict[str, Any]) -> None:
    harness.secrets.fail = SecretUnavailable("cannot read the auth secret (ServiceUnavailable)")
    result = harness(push_json_event)
    assert result["statusCode"] == 503 and result["headers"]["retry-after"]
    assert harness.firehose.calls == []


def test_a_failing_firehose_is_503_with_retry_after_never_2xx(
    harness: Harness, push_json_event: dict[str, Any]
) -> None:
    harness.firehose.script = lambda call, records: ["ServiceUnavailableException"] * len(records)
    result = harness(push_json_event)
    assert result["statusCode"] == 503 and int(result["headers"]["retry-after"]) >= 1
    assert harness.firehose.delivered == []


def test_partial_firehose_failure_is_retried_then_200(harness: Harness, push_json_event: dict[str, Any]) -> None:
    harness.firehose.script = lambda call, records: ["InternalFailure"] * len(records) if call == 0 else None
    assert harness.json(push_json_event) == (200, {"status": "success", "count": 3})
    assert len(harness.firehose.calls) == 2


def test_an_unexpected_bug_is_500_so_the_client_retries(
    harness: Harness, push_json_event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr("loki_ingest.ingest.pipeline.render.records", boom)
    result = harness(push_json_event)
    assert result["statusCode"] == 500 and "retry" in result["body"]


@pytest.mark.parametrize("bad_event", [None, "string", [], {"body": 5}, {"headers": "x", "requestContext": 3}])
def test_malformed_events_never_crash(harness: Harness, bad_event: Any) -> None:
    result = harness(bad_event)
    assert result["statusCode"] in (400, 404)


def test_healthz_says_healthy_or_degraded_and_keeps_the_reason_for_the_log(
    harness: Harness, healthz_event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert harness.json(healthz_event) == (200, {"status": "healthy"})
    harness.firehose.status = "DELETING"
    harness.app.health._cached = None
    result = harness(healthz_event)
    assert (result["statusCode"], json.loads(result["body"])) == (503, {"status": "degraded"})
    assert result["headers"]["retry-after"] == "30"  # the cached answer cannot change sooner
    assert "test-stream" not in result["body"] and "DELETING" not in result["body"]
    assert "firehose stream test-stream is DELETING" in capsys.readouterr().out


def test_one_structured_log_line_per_request_without_payload_or_credentials(
    make_app: Callable[..., Harness], push_json_event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_app(log_every_request=True)
    harness(push_json_event)
    harness(event(body=SAMPLE_V1, auth=basic(password="wrong-guess")))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    first = json.loads(out[0])
    for field in ("streams", "entries", "bytes_in", "records", "calls", "retries", "rejected", "duration_ms"):
        assert field in first
    assert (first["status"], first["entries"], first["records"], first["calls"]) == (200, 3, 1, 1)
    assert first["work_units"] >= 3 * 7  # every entry was charged to the work budget
    text = "\n".join(out)
    for secret in ("plain text line", "SessionsAuthenticate", PASSWORD, "wrong-guess", basic()[6:], "0242ac120002"):
        assert secret not in text


def test_a_push_over_the_work_budget_logs_what_it_was_refused_at(
    make_app: Callable[..., Harness], capsys: pytest.CaptureFixture[str]
) -> None:
    harness = make_app(work_budget_units=1_000)
    values = [[str(1_767_225_600_000_000_000 + i), "x"] for i in range(1_000)]
    body = json.dumps({"streams": [{"stream": {"app": "x"}, "values": values}]}).encode()
    assert harness(event(body=body))["statusCode"] == 413
    (line,) = [
        json.loads(text)
        for text in capsys.readouterr().out.splitlines()
        if '"status": 413' in text or '"status":413' in text
    ]
    assert line["reason"] == "over_work_budget" and line["work_units"] > 1_000


def test_by_default_a_successful_push_has_no_line_of_its_own_and_a_failed_one_does(
    harness: Harness, push_json_event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Successful requests are counted in one metrics line per interval (the first one of an
    execution environment at once); a 4xx or 5xx keeps its own line, with its reason."""
    for _ in range(5):
        harness(push_json_event)
    harness(event(body=SAMPLE_V1, auth=basic(password="wrong-guess")))
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [(line["message"], line["level"]) for line in lines] == [("metrics", "INFO"), ("request", "WARN")]
    assert (lines[0]["requests"], lines[0]["EntriesReceived"]) == (1, 3)  # the other four wait for the interval
    assert (lines[1]["status"], lines[1]["reason"]) == (401, "unauthorized")
    assert harness.app.request_log.window.requests == 4


def test_configuration_errors_answer_500(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREHOSE_DELIVERYSTREAM_NAME", raising=False)
    monkeypatch.setattr(handler_module, "_app", None)
    result = handler_module.handler(event(body=SAMPLE_V1), None)
    assert result["statusCode"] == 500 and "misconfigured" in result["body"]


def test_lambda_entry_point_builds_the_app_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREHOSE_DELIVERYSTREAM_NAME", "s")
    monkeypatch.setenv("AUTH_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:x")
    monkeypatch.setattr(handler_module, "_app", None)
    app = handler_module.get_app()
    assert app.settings.firehose_stream_name == "s"
    assert handler_module.get_app() is app
    monkeypatch.setattr(handler_module, "_app", None)


def test_lambda_context_deadline_is_used(harness: Harness, push_json_event: dict[str, Any]) -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 100  # not enough for one Firehose call

    deadline = handler_module.deadline_of(Context())
    result = harness.app.handle_event(push_json_event, deadline)
    assert result["statusCode"] == 503
    assert harness.firehose.calls == []


def test_base64_body_decodes_to_bytes_not_text(harness: Harness) -> None:
    push = event(body=SAMPLE_V1)
    push["isBase64Encoded"] = True
    push["body"] = base64.b64encode(SAMPLE_V1).decode()
    assert harness(push)["statusCode"] == 200


@pytest.mark.parametrize(
    ("secret", "auth", "org_id", "tenant"),
    [
        pytest.param(None, basic(), None, None, id="no-tenant"),
        pytest.param(None, basic(), "team-a", "team-a", id="x-scope-orgid-recorded"),
        pytest.param(
            {"credentials": [{"username": "live", "password": "pw", "tenant": "stytch-live"}]},
            basic("live", "pw"),
            None,
            "stytch-live",
            id="pinned-tenant",
        ),
        pytest.param(
            {"credentials": [{"username": "live", "password": "pw", "tenant": "stytch-live"}]},
            basic("live", "pw"),
            "stytch-live",
            "stytch-live",
            id="pinned-tenant-and-the-same-x-scope-orgid",
        ),
    ],
)
def test_the_tenant_is_written_into_every_record(
    harness: Harness, secret: dict[str, Any] | None, auth: str, org_id: str | None, tenant: str | None
) -> None:
    if secret is not None:
        harness.secrets.current = json.dumps(secret)
    headers = [("X-Scope-OrgID", org_id)] if org_id is not None else []
    status, _ = harness.json(event(body=SAMPLE_V1, auth=auth, extra_headers=headers))
    assert status == 200
    assert {r.get("tenant") for r in harness.firehose.records()} == {tenant}


def test_an_invalid_x_scope_orgid_is_400_and_nothing_is_delivered(harness: Harness) -> None:
    status, answer = harness.json(event(body=SAMPLE_V1, extra_headers=[("X-Scope-OrgID", "not a tenant")]))
    assert status == 400 and "X-Scope-OrgID" in answer["message"]
    assert harness.firehose.calls == []

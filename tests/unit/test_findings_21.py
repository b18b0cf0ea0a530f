"""Issue 21's findings that are not about the work budget, each through the handler: protobuf
keys are varints, the rotation grace counts from the change, the tenant rule, distinct OTLP
records keep distinct ids, and OTLP records get Loki's detected_level.

(The budget findings are in tests/fuzz/test_work_budget.py.)"""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from tests.conftest import NOW_NS, PASSWORD, USER, FakeFirehose, FakeSecrets, Harness, basic, event, new_app, v1_body
from tests.support.logproto import snappy_block
from tests.support.otlp import parse_status, record, request, resource_logs, to_json
from tests.support.wire import varint


def ld(key: bytes, payload: bytes) -> bytes:
    """A length-delimited field under a key spelled as given."""
    return key + varint(len(payload)) + payload


def minimal(field: int) -> bytes:
    return varint(field << 3 | 2)


def padded(field: int, size: int = 2) -> bytes:
    """The LEN key of `field` spelled in `size` bytes (non-minimal: continuation bytes of zeros)."""
    return bytes([(field << 3 | 2) | 0x80]) + b"\x80" * (size - 2) + b"\x00"


# --- protobuf keys are varints, whatever their spelling ---------------------------------------------


def loki_push(spelled: str, size: int) -> bytes:
    """A PushRequest with one entry, every key minimal except the one named `spelled`."""

    def key(name: str, field: int) -> bytes:
        return padded(field, size) if name == spelled else minimal(field)

    seconds, nanos = divmod(NOW_NS + 7, 1_000_000_000)
    seconds_key = bytes([0x88]) + b"\x80" * (size - 2) + b"\x00" if spelled == "seconds" else b"\x08"
    nanos_key = bytes([0x90]) + b"\x80" * (size - 2) + b"\x00" if spelled == "nanos" else b"\x10"
    timestamp = seconds_key + varint(seconds) + nanos_key + varint(nanos)
    pair = ld(key("name", 1), b"trace_id") + ld(key("value", 2), b"abc")
    entry = ld(key("timestamp", 1), timestamp) + ld(key("line", 2), b"hello") + ld(key("metadata", 3), pair)
    stream = ld(key("labels", 1), b'{app="x"}') + ld(key("entry", 2), entry)
    return ld(key("stream", 1), stream)


@pytest.mark.parametrize("size", [2, 5])
@pytest.mark.parametrize(
    "spelled",
    [
        "line",  # the finding: stored with an empty line, on 200
        "timestamp",  # the finding: the entry was refused (no timestamp)
        "metadata",
        "name",
        "value",
        "seconds",
        "nanos",
        "labels",
        "entry",
        "stream",
    ],
)
def test_a_non_minimal_protobuf_key_is_read_as_its_field(harness: Harness, spelled: str, size: int) -> None:
    push = event(body=snappy_block(loki_push(spelled, size)), content_type="application/x-protobuf")
    assert harness.json(push) == (200, {"status": "success", "count": 1})
    (stored,) = harness.firehose.records()
    assert stored["record"] == {"message": "hello"}
    assert (stored["timestamp_ns"], stored["stream"], stored["metadata"]) == (
        str(NOW_NS + 7),
        {"app": "x"},
        {"trace_id": "abc"},
    )


def test_an_otlp_record_with_non_minimal_keys_is_read_field_by_field(harness: Harness) -> None:
    body = ld(padded(5, 3), ld(padded(1, 2), b"hello")) + b"\x89\x00" + NOW_NS.to_bytes(8, "little")  # body, time
    attribute = ld(padded(1, 4), b"k") + ld(padded(2, 5), ld(b"\x0a", b"v"))
    message = ld(padded(1), ld(padded(2), ld(padded(2), body + ld(padded(6), attribute))))
    status, _ = harness.json(event(path="/otlp/v1/logs", body=message, content_type="application/x-protobuf"))
    assert status == 200
    (stored,) = harness.firehose.records()
    assert (stored["record"], stored["timestamp_ns"], stored["metadata"]) == (
        {"message": "hello"},
        str(NOW_NS),
        {"k": "v", "detected_level": "unknown"},  # "hello" names no level (Loki's keyword scan)
    )


# --- rotation: the previous password works for the grace period after it stopped being current ----


def days_ago(days: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)


def credential(password: str) -> str:
    return json.dumps({"username": USER, "password": password})


def push_as(harness: Harness, password: str) -> int:
    status: int = harness(event(body=SAMPLE, auth=basic(USER, password)))["statusCode"]
    return status


SAMPLE = v1_body([({"app": "x"}, [[str(NOW_NS), "line"]])])


def test_a_version_staged_long_ago_and_promoted_now_leaves_the_previous_password_its_grace(
    harness: Harness,
) -> None:
    """put-secret-value with AWSPENDING ten days ago, update-secret-version-stage AWSCURRENT now."""
    assert push_as(harness, PASSWORD) == 200  # the instance has read the secret
    harness.secrets.promote(credential("staged-password"), days_ago(10))
    assert push_as(harness, "staged-password") == 200
    assert push_as(harness, PASSWORD) == 200  # stopped being current just now: within the grace


def test_a_rollback_leaves_the_password_rolled_back_from_its_grace(harness: Harness) -> None:
    """A rotation three days ago, then update-secret-version-stage back to the 30-day-old version."""
    old = (credential(PASSWORD), days_ago(30))
    harness.secrets.current, harness.secrets.created = old
    harness.secrets.promote(credential("rotated-password"), days_ago(3))
    assert push_as(harness, "rotated-password") == 200
    harness.secrets.promote(*old)  # the rollback: AWSCURRENT back to the old version
    assert push_as(harness, PASSWORD) == 200
    assert push_as(harness, "rotated-password") == 200  # stopped being current just now


def test_a_fresh_instance_after_a_rotation_still_accepts_the_previous_password() -> None:
    secrets = FakeSecrets(current=credential(PASSWORD), created=days_ago(40))
    secrets.promote(credential("new-password"), days_ago(0.5))  # rotated 12 hours ago
    firehose = FakeFirehose()
    harness = Harness(new_app(firehose, secrets), firehose, secrets)
    assert push_as(harness, PASSWORD) == 200
    assert push_as(harness, "new-password") == 200


# --- tenants ------------------------------------------------------------------------------------------

TENANTS = json.dumps(
    {
        "credentials": [
            {"username": "live", "password": "live-pw", "tenant": "stytch-live"},
            {"username": "alloy", "password": "alloy-pw"},
        ]
    }
)


@pytest.mark.parametrize(
    ("user", "org_id", "status", "tenant"),
    [
        pytest.param("live", None, 200, "stytch-live", id="pinned"),
        pytest.param("live", "stytch-live", 200, "stytch-live", id="pinned-and-its-own-tenant"),
        pytest.param("live", "team-a", 403, None, id="pinned-and-another-tenant-is-refused"),
        pytest.param("alloy", None, 200, None, id="unpinned"),
        pytest.param("alloy", "team-a", 200, "team-a", id="unpinned-and-a-free-tenant"),
        pytest.param("alloy", "stytch-live", 403, None, id="unpinned-and-a-pinned-tenant-is-refused"),
    ],
)
def test_the_tenant_rule(harness: Harness, user: str, org_id: str | None, status: int, tenant: str | None) -> None:
    harness.secrets.current = TENANTS
    headers = [("X-Scope-OrgID", org_id)] if org_id is not None else []
    got, answer = harness.json(event(body=SAMPLE, auth=basic(user, f"{user}-pw"), extra_headers=headers))
    assert got == status, answer
    if status == 403:
        assert org_id is not None and org_id in answer["message"] and "credential" in answer["message"]
        assert harness.firehose.calls == []
    else:
        assert [r.get("tenant") for r in harness.firehose.records()] == [tenant]


def test_a_refused_tenant_on_the_otlp_route_is_a_permission_denied_status(harness: Harness) -> None:
    harness.secrets.current = TENANTS
    body = request(resource_logs({"service.name": "s"}, [record("x", time_unix_nano=NOW_NS)])).SerializeToString()
    result = harness(
        event(
            path="/otlp/v1/logs",
            body=body,
            content_type="application/x-protobuf",
            auth=basic("alloy", "alloy-pw"),
            extra_headers=[("X-Scope-OrgID", "stytch-live")],
        )
    )
    assert result["statusCode"] == 403
    status, _ = parse_status(base64.b64decode(result["body"]), as_json=False)
    assert status.code == 7 and "stytch-live" in status.message  # google.rpc.Code PERMISSION_DENIED


# --- OTLP: distinct records keep distinct ids -----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_otlp_records_without_a_time_that_differ_only_in_attributes_get_distinct_ids(
    harness: Harness, content_type: str
) -> None:
    message = request(resource_logs({"service.name": "s"}, [record("same", {"n": "1"}), record("same", {"n": "2"})]))
    body = message.SerializeToString() if content_type == "application/x-protobuf" else to_json(message)
    status, _ = harness.json(event(path="/otlp/v1/logs", body=body, content_type=content_type))
    assert status == 200
    stored = harness.firehose.records()
    assert sorted(r["metadata"]["n"] for r in stored) == ["1", "2"]
    assert len({r["id"] for r in stored}) == 2


# --- OTLP: detected_level, as Loki 3.1+ derives it from the severity ---------------------------------


@pytest.mark.parametrize(
    ("severity", "level"),
    [(1, "trace"), (4, "trace"), (5, "debug"), (9, "info"), (12, "info"), (13, "warn"), (17, "error"), (21, "fatal")],
)
def test_otlp_records_get_detected_level_from_their_severity_number(
    harness: Harness, severity: int, level: str
) -> None:
    message = request(
        resource_logs({"service.name": "s"}, [record("x", time_unix_nano=NOW_NS, severity_number=severity)])
    )
    status, _ = harness.json(
        event(path="/otlp/v1/logs", body=message.SerializeToString(), content_type="application/x-protobuf")
    )
    assert status == 200
    (stored,) = harness.firehose.records()
    assert stored["metadata"].get("detected_level") == level

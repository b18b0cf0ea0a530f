"""HTTP Basic auth: parsing, constant-time comparison, caching, rotation, and failures."""

from __future__ import annotations

import base64
import datetime
import hmac
import json
from typing import Any

import pytest

from loki_ingest.auth import Authenticator, SecretsManagerSource, SecretUnavailable, parse_basic
from loki_ingest.errors import Unauthorized
from tests.conftest import PASSWORD, USER, FakeSecrets, basic, make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authenticator(
    source: Any, clock: Clock, *, ttl: float = 300, interval: float = 10, grace: float = 86400
) -> Authenticator:
    wall = lambda: clock.now + 1_767_225_600.0  # noqa: E731
    settings = make_settings(
        secret_cache_ttl_seconds=ttl, auth_refresh_min_interval_seconds=interval, previous_password_grace_seconds=grace
    )
    return Authenticator(source, settings, clock=clock, wall_clock=wall)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(f"Basic {b64(b'user:pass')}", b"user:pass", id="standard"),
        pytest.param(f"basic {b64(b'user:pass')}", b"user:pass", id="scheme-case-insensitive"),
        pytest.param(f"  Basic   {b64(b'user:pass')}  ", b"user:pass", id="extra-whitespace"),
        pytest.param(f"Basic {b64(b'user:pa:ss')}", b"user:pa:ss", id="colon-in-password"),
        pytest.param(f"Basic {b64(b':')}", b":", id="empty-user-and-password"),
        pytest.param(f"Basic {b64(bytes([0xFF, 0x3A, 0xFE]))}", b"\xff:\xfe", id="non-utf8-bytes"),
    ],
)
def test_parses_basic_credentials(header: str, expected: bytes) -> None:
    assert parse_basic(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Basic", id="scheme-only"),
        pytest.param("Basic ", id="empty-token"),
        pytest.param(f"Basic {b64(b'no-colon')}", id="no-colon"),
        pytest.param("Basic !!!not-base64!!!", id="bad-base64"),
        pytest.param("Basic dXNlcjpwYXN", id="bad-padding"),
        pytest.param(f"Bearer {b64(b'user:pass')}", id="bearer-scheme"),
        pytest.param("Digest username=x", id="digest-scheme"),
        pytest.param("AWS4-HMAC-SHA256 Credential=x", id="sigv4"),
        pytest.param("Basic " + "A" * 20_000, id="enormous"),
        pytest.param("\x00\x01", id="control-characters"),
    ],
)
def test_malformed_headers_are_401(header: str | None) -> None:
    with pytest.raises(Unauthorized) as info:
        parse_basic(header)
    assert info.value.status == 401 and info.value.message


def test_right_credentials_pass_and_wrong_ones_are_401() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock)
    auth.check(basic())
    for header in (
        basic(USER, "wrong"),
        basic("other", PASSWORD),
        basic(USER, PASSWORD + "x"),
        basic(USER, PASSWORD[:-1]),
    ):
        with pytest.raises(Unauthorized):
            auth.check(header)


def test_comparison_is_constant_time_over_the_whole_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr("loki_ingest.auth.hmac.compare_digest", spy)
    auth = authenticator(FakeSecrets(), Clock())
    with pytest.raises(Unauthorized):
        auth.check(basic(USER, "guess"))
    assert (f"{USER}:guess".encode(), f"{USER}:{PASSWORD}".encode()) in seen


def test_secret_is_cached_for_the_ttl() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=300)
    for _ in range(5):
        auth.check(basic())
    clock.now += 299
    auth.check(basic())
    assert secrets.fetches.count("AWSCURRENT") == 1
    clock.now += 2
    auth.check(basic())
    assert secrets.fetches.count("AWSCURRENT") == 2


def test_rotated_password_works_immediately_and_old_one_during_grace() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, grace=3600)
    auth.check(basic())
    clock.now += 60
    secrets.rotate("new-password")
    secrets.created = datetime.datetime.fromtimestamp(clock.now + 1_767_225_600.0, datetime.UTC)
    auth.check(basic(USER, "new-password"))  # mismatch -> one refresh -> accepted, no redeploy
    auth.check(basic())  # AWSPREVIOUS accepted during the grace window
    clock.now += 3601
    assert auth.probe() is None
    auth._loaded_at = float("-inf")  # force the TTL to lapse
    with pytest.raises(Unauthorized):
        auth.check(basic())  # the old password is revoked after the grace window
    auth.check(basic(USER, "new-password"))


def test_previous_version_is_not_accepted_when_grace_is_zero() -> None:
    secrets, clock = FakeSecrets(), Clock()
    secrets.rotate("new-password")
    auth = authenticator(secrets, clock, grace=0)
    auth.check(basic(USER, "new-password"))
    with pytest.raises(Unauthorized):
        auth.check(basic())
    assert "AWSPREVIOUS" not in secrets.fetches


def test_refresh_on_mismatch_is_rate_limited() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, interval=10)
    auth.check(basic())
    clock.now += 11
    for _ in range(50):  # a brute force...
        with pytest.raises(Unauthorized):
            auth.check(basic(USER, "guess"))
    assert secrets.fetches.count("AWSCURRENT") == 2  # ...costs one extra Secrets Manager call
    clock.now += 11
    with pytest.raises(Unauthorized):
        auth.check(basic(USER, "guess"))
    assert secrets.fetches.count("AWSCURRENT") == 3


@pytest.mark.parametrize(
    ("secret", "fail"),
    [
        pytest.param(
            None, SecretUnavailable("cannot read the auth secret (AccessDeniedException)"), id="access-denied"
        ),
        pytest.param(None, SecretUnavailable("cannot read the auth secret (ServiceUnavailable)"), id="unavailable"),
        pytest.param("not json", None, id="not-json"),
        pytest.param("[1, 2]", None, id="not-an-object"),
        pytest.param(json.dumps({"username": USER}), None, id="missing-password"),
        pytest.param(json.dumps({"username": USER, "password": 5}), None, id="password-not-string"),
        pytest.param(json.dumps({"username": "", "password": "x"}), None, id="empty-username"),
    ],
)
def test_an_unreadable_or_malformed_secret_is_503_never_401(secret: str | None, fail: BaseException | None) -> None:
    secrets = FakeSecrets(fail=fail)
    if secret is not None:
        secrets.current = secret
    auth = authenticator(secrets, Clock())
    with pytest.raises(SecretUnavailable) as info:
        auth.check(basic())
    assert info.value.status == 503
    if secret is not None:
        assert secret not in info.value.message  # the value is never echoed


def test_a_failing_refresh_keeps_serving_the_cached_credentials() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=1)
    auth.check(basic())
    secrets.fail = SecretUnavailable("down")
    clock.now += 5
    auth.check(basic())


def test_a_failing_first_load_is_not_retried_on_every_request() -> None:
    secrets, clock = FakeSecrets(fail=SecretUnavailable("down")), Clock()
    auth = authenticator(secrets, clock, interval=10)
    for _ in range(5):
        with pytest.raises(SecretUnavailable):
            auth.check(basic())
    assert len(secrets.fetches) == 1
    secrets.fail = None
    clock.now += 11
    auth.check(basic())


class StubClient:
    def __init__(self, responses: dict[str, Any]) -> None:
        self.responses = responses

    def get_secret_value(self, *, SecretId: str, VersionStage: str) -> Any:
        value = self.responses[VersionStage]
        if isinstance(value, BaseException):
            raise value
        return value


def test_secrets_manager_source_maps_errors() -> None:
    from botocore.exceptions import ClientError

    missing = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")
    denied = ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetSecretValue")
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    source = SecretsManagerSource(
        StubClient({"AWSCURRENT": {"SecretString": "{}", "CreatedDate": created}, "AWSPREVIOUS": missing}), "arn"
    )
    current = source.fetch("AWSCURRENT")
    assert current is not None and current.created == created
    assert source.fetch("AWSPREVIOUS") is None
    with pytest.raises(SecretUnavailable, match="AccessDeniedException"):
        SecretsManagerSource(StubClient({"AWSCURRENT": denied}), "arn").fetch("AWSCURRENT")
    with pytest.raises(SecretUnavailable, match="ResourceNotFoundException"):
        SecretsManagerSource(StubClient({"AWSCURRENT": missing}), "arn").fetch("AWSCURRENT")
    with pytest.raises(SecretUnavailable, match="no SecretString"):
        SecretsManagerSource(StubClient({"AWSCURRENT": {"SecretBinary": b"x"}}), "arn").fetch("AWSCURRENT")

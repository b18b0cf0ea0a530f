"""HTTP Basic auth over the credentials' whole life: parsing, constant-time comparison, caching,
rotation, revocation, Secrets Manager outages, several senders and tenants (fake clock)."""

from __future__ import annotations

import base64
import datetime
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from loki_ingest.auth.authenticator import (
    REFRESH_BURST,
    Authenticator,
    Identity,
    SecretsManagerSource,
    SecretUnavailable,
    parse_basic,
    parse_credentials,
    tenant_of,
)
from loki_ingest.errors import BadRequest, Unauthorized
from tests.conftest import PASSWORD, USER, FakeSecrets, basic, make_settings

EPOCH = 1_767_225_600.0  # the fake wall clock's origin


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authenticator(
    source: Any,
    clock: Clock,
    *,
    ttl: float = 300,
    interval: float = 10,
    grace: float = 86400,
    staleness: float = 3600,
) -> Authenticator:
    settings = make_settings(
        secret_cache_ttl_seconds=ttl,
        auth_refresh_min_interval_seconds=interval,
        previous_password_grace_seconds=grace,
        secret_max_staleness_seconds=staleness,
    )
    return Authenticator(source, settings, clock=clock, wall_clock=lambda: clock.now + EPOCH)


def rotate(secrets: FakeSecrets, clock: Clock, password: str) -> None:
    secrets.rotate(password)
    secrets.created = datetime.datetime.fromtimestamp(clock.now + EPOCH, datetime.UTC)


TRANSIENT = SecretUnavailable("ThrottlingException")
DELETED = SecretUnavailable("ResourceNotFoundException", definitive=True)
DENIED = SecretUnavailable("AccessDeniedException", definitive=True)
KMS_DENIED = SecretUnavailable("DecryptionFailure", definitive=True)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- parsing the header ---------------------------------------------------------------------


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
def test_malformed_headers_are_401_without_reading_the_secret(header: str | None) -> None:
    secrets = FakeSecrets()
    auth = authenticator(secrets, Clock())
    with pytest.raises(Unauthorized) as info:
        auth.check(header)
    assert info.value.status == 401 and info.value.message
    assert secrets.fetches == []


# --- checking -------------------------------------------------------------------------------


def test_right_credentials_pass_and_wrong_ones_are_401_once_checked_against_a_fresh_read() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock)
    assert auth.check(basic()) == Identity(None)
    for header in (basic(USER, "wrong"), basic("other", PASSWORD), basic(USER, PASSWORD + "x")):
        with pytest.raises(Unauthorized):
            auth.check(header)


def test_comparison_is_constant_time_against_every_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr("loki_ingest.auth.authenticator.hmac.compare_digest", spy)
    secrets = FakeSecrets(
        current=json.dumps({"credentials": [{"username": "a", "password": "1"}, {"username": "b", "password": "2"}]})
    )
    auth = authenticator(secrets, Clock())
    auth.check(basic("a", "1"))
    # Both credentials were compared although the first matched: no early exit to time.
    assert (b"a:1", b"a:1") in seen and (b"a:1", b"b:2") in seen


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


# --- rotation never drops a push ---------------------------------------------------------------


def test_rotation_right_after_failed_attempts_is_503_then_works_never_401() -> None:
    """The defect: right password, wrong passwords (401s spend the refresh budget), rotation,
    new password. It must never get a 401; a 503 tells the client when to retry."""
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, interval=10)
    auth.check(basic())
    for attempt in range(REFRESH_BURST + 2):
        with pytest.raises((Unauthorized, SecretUnavailable)):
            auth.check(basic(USER, f"wrong-{attempt}"))
    rotate(secrets, clock, "new-password")
    with pytest.raises(SecretUnavailable) as info:
        auth.check(basic(USER, "new-password"))
    assert info.value.status == 503 and 1 <= info.value.retry_after <= 10
    # A new user with a typo sees the same answer: it says what to check if it persists.
    assert info.value.message.endswith("(they match none known; if this persists, check the username and password)")
    clock.now += info.value.retry_after
    assert auth.check(basic(USER, "new-password")) == Identity(None)


def test_rotation_works_at_once_while_the_budget_lasts() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock)
    auth.check(basic())
    rotate(secrets, clock, "new-password")
    auth.check(basic(USER, "new-password"))  # one forced refresh, no redeploy, no wait
    assert secrets.fetches.count("AWSCURRENT") == 2


def test_rotation_during_a_secrets_manager_outage_is_503_until_it_is_back() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, interval=10)
    auth.check(basic())
    rotate(secrets, clock, "new-password")
    secrets.fail = TRANSIENT
    for _ in range(3):
        with pytest.raises(SecretUnavailable) as info:
            auth.check(basic(USER, "new-password"))
        assert info.value.status == 503
        clock.now += 4
    auth.check(basic())  # the cached (old) password keeps working meanwhile
    secrets.fail = None
    clock.now += 10
    assert auth.check(basic(USER, "new-password")) == Identity(None)


def test_awsprevious_works_during_the_grace_period_then_stops() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, grace=3600)
    auth.check(basic())
    clock.now += 60
    rotate(secrets, clock, "new-password")
    auth.check(basic(USER, "new-password"))
    auth.check(basic())  # AWSPREVIOUS accepted during the grace window
    clock.now += 3601
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


# --- a brute force costs us little -------------------------------------------------------------


def test_the_same_wrong_password_again_is_401_from_memory() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock)
    auth.check(basic())
    for _ in range(100):
        with pytest.raises(Unauthorized):
            auth.check(basic(USER, "guess"))
    assert secrets.fetches.count("AWSCURRENT") == 2  # the first load and one forced refresh


def test_a_brute_force_with_new_guesses_gets_503s_and_a_bounded_number_of_secret_reads() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, interval=10)
    auth.check(basic())
    answers = {401: 0, 503: 0}
    for guess in range(600):  # 600 guesses over 60 s
        clock.now += 0.1
        try:
            auth.check(basic(USER, f"guess-{guess}"))
        except (Unauthorized, SecretUnavailable) as exc:
            answers[exc.status] += 1
    reads = secrets.fetches.count("AWSCURRENT") - 1
    assert reads <= REFRESH_BURST + 6  # the burst, then one per 10 s
    assert answers[401] == reads and answers[503] == 600 - reads
    auth.check(basic())  # the legitimate client never noticed


# --- availability and revocation -------------------------------------------------------------


def test_cached_credentials_are_served_while_secrets_manager_is_down_up_to_the_staleness_bound() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=300, staleness=3600)
    auth.check(basic())
    secrets.fail = TRANSIENT
    clock.now += 3599
    auth.check(basic())
    clock.now += 2
    with pytest.raises(SecretUnavailable) as info:
        auth.check(basic())  # the maximum staleness is reached: 503, never 401 or 200
    assert info.value.status == 503 and info.value.retry_after >= 1
    secrets.fail = None
    clock.now += 10
    auth.check(basic())


@pytest.mark.parametrize("failure", [DELETED, DENIED, KMS_DENIED], ids=lambda f: f.detail)
def test_a_definitive_answer_revokes_the_cached_credentials_at_the_next_refresh(failure: SecretUnavailable) -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=300)
    auth.check(basic())
    secrets.fail = failure
    clock.now += 299
    auth.check(basic())  # not refreshed yet
    clock.now += 2
    for _ in range(3):
        with pytest.raises(SecretUnavailable) as info:
            auth.check(basic())
        assert info.value.status == 503
        clock.now += 11
    assert auth.probe() == f"auth secret: {failure.detail}"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param("{}", id="no-credential"),
        pytest.param(json.dumps({"username": USER}), id="missing-password"),
        pytest.param(json.dumps({"username": USER, "password": 5}), id="password-not-a-string"),
        pytest.param(json.dumps({"username": "", "password": "x"}), id="empty-username"),
        pytest.param(json.dumps({"username": "a:b", "password": "x"}), id="colon-in-username"),
        pytest.param(json.dumps({"credentials": "x"}), id="credentials-not-a-list"),
        pytest.param(
            json.dumps({"credentials": [{"username": "a", "password": "b", "tenant": "a b"}]}), id="bad-tenant"
        ),
    ],
)
def test_a_malformed_secret_revokes_and_is_503_never_401(value: str) -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=300)
    auth.check(basic())
    secrets.current = value
    clock.now += 301
    with pytest.raises(SecretUnavailable) as info:
        auth.check(basic())
    assert info.value.status == 503 and info.value.definitive
    assert value not in info.value.message and value not in info.value.detail  # never echoed


def test_an_unreadable_secret_on_the_first_request_is_503_and_not_retried_on_every_request() -> None:
    secrets, clock = FakeSecrets(fail=TRANSIENT), Clock()
    auth = authenticator(secrets, clock, interval=10)
    for _ in range(5):
        with pytest.raises(SecretUnavailable) as info:
            auth.check(basic())
        assert info.value.retry_after >= 1
    assert len(secrets.fetches) == 1
    secrets.fail = None
    clock.now += 11
    auth.check(basic())


def test_anonymous_callers_learn_nothing_about_the_secret() -> None:
    secrets = FakeSecrets(fail=SecretUnavailable("AccessDeniedException", definitive=True))
    auth = authenticator(secrets, Clock())
    with pytest.raises(SecretUnavailable) as info:
        auth.check(basic())
    assert info.value.message == "credentials cannot be checked right now; retry later"
    assert info.value.detail == "AccessDeniedException"  # for the log only


# --- several senders and tenants -----------------------------------------------------------------


def test_several_credentials_each_with_an_optional_tenant() -> None:
    secrets = FakeSecrets(
        current=json.dumps(
            {
                "username": USER,
                "password": PASSWORD,
                "credentials": [
                    {"username": "stytch-test", "password": "t-secret", "tenant": "stytch-test"},
                    {"username": "stytch-live", "password": "l-secret", "tenant": "stytch-live"},
                    {"username": "alloy", "password": "a-secret"},
                ],
            }
        )
    )
    auth = authenticator(secrets, Clock())
    pinned = frozenset({"stytch-test", "stytch-live"})
    assert auth.check(basic()) == Identity(None, pinned)
    assert auth.check(basic("stytch-test", "t-secret")) == Identity("stytch-test", pinned)
    assert auth.check(basic("stytch-live", "l-secret")) == Identity("stytch-live", pinned)
    assert auth.check(basic("alloy", "a-secret")) == Identity(None, pinned)
    with pytest.raises(Unauthorized):
        auth.check(basic("stytch-test", "l-secret"))


@pytest.mark.parametrize(
    ("identity", "org_id", "expected"),
    [
        (Identity(None), None, None),
        (Identity(None), "", None),
        (Identity(None), "team-a", "team-a"),
        (Identity(None), " team-a ", "team-a"),
        (Identity("pinned"), "pinned", "pinned"),
        (Identity("pinned"), " pinned\t", "pinned"),
        (Identity("pinned"), None, "pinned"),
        (Identity("pinned"), "", "pinned"),
        (Identity(None, frozenset({"pinned"})), "other", "other"),
    ],
)
def test_the_tenant_is_the_credentials_pin_else_x_scope_orgid(
    identity: Identity, org_id: str | None, expected: str | None
) -> None:
    assert tenant_of(identity, org_id) == expected


@pytest.mark.parametrize("org_id", ["a b", "..", ".", "x" * 151, "é", "a|b", 'a"b'])
def test_an_invalid_x_scope_orgid_is_400(org_id: str) -> None:
    with pytest.raises(BadRequest):
        tenant_of(Identity(None), org_id)


def test_both_secret_forms_parse() -> None:
    one = parse_credentials(json.dumps({"username": "u", "password": "p"}))
    assert [c.token for c in one] == [b"u:p"]
    listed = parse_credentials(json.dumps({"credentials": [{"username": "u", "password": "p", "tenant": "t"}]}))
    assert [(c.token, c.tenant) for c in listed] == [(b"u:p", "t")]


# --- the Secrets Manager edge ------------------------------------------------------------------


class StubClient:
    def __init__(self, responses: dict[str, Any]) -> None:
        self.responses = responses

    def get_secret_value(self, *, SecretId: str, VersionStage: str) -> Any:
        value = self.responses[VersionStage]
        if isinstance(value, BaseException):
            raise value
        return value


def client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code}}, "GetSecretValue")


@pytest.mark.parametrize(
    ("error", "definitive"),
    [
        ("ResourceNotFoundException", True),
        ("InvalidRequestException", True),
        ("AccessDeniedException", True),
        ("DecryptionFailure", True),
        ("ThrottlingException", False),
        ("InternalServiceError", False),
    ],
)
def test_secrets_manager_errors_are_classified_definitive_or_transient(error: str, definitive: bool) -> None:
    source = SecretsManagerSource(StubClient({"AWSCURRENT": client_error(error)}), "arn")
    with pytest.raises(SecretUnavailable) as info:
        source.fetch("AWSCURRENT")
    assert (info.value.detail, info.value.definitive) == (error, definitive)


def test_secrets_manager_source_reads_versions() -> None:
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    source = SecretsManagerSource(
        StubClient(
            {
                "AWSCURRENT": {"SecretString": "{}", "CreatedDate": created},
                "AWSPREVIOUS": client_error("ResourceNotFoundException"),
            }
        ),
        "arn",
    )
    current = source.fetch("AWSCURRENT")
    assert current is not None and current.created == created
    assert source.fetch("AWSPREVIOUS") is None
    with pytest.raises(SecretUnavailable) as info:
        SecretsManagerSource(StubClient({"AWSCURRENT": {"SecretBinary": b"x"}}), "arn").fetch("AWSCURRENT")
    assert info.value.definitive


def test_a_connection_error_is_transient() -> None:
    from botocore.exceptions import EndpointConnectionError

    failing: Callable[..., Any] = StubClient({"AWSCURRENT": EndpointConnectionError(endpoint_url="https://x")})
    with pytest.raises(SecretUnavailable) as info:
        SecretsManagerSource(failing, "arn").fetch("AWSCURRENT")
    assert (info.value.detail, info.value.definitive) == ("EndpointConnectionError", False)


# --- found by review -------------------------------------------------------------------------------


def two_senders(*names: str) -> str:
    return json.dumps({"credentials": [{"username": n, "password": f"{n}-pw"} for n in names]})


def test_a_sender_removed_from_the_secret_is_revoked_at_the_next_read_despite_the_grace_period() -> None:
    secrets, clock = FakeSecrets(current=two_senders("a", "b")), Clock()
    auth = authenticator(secrets, clock, grace=86400)
    auth.check(basic("b", "b-pw"))
    secrets.previous, secrets.current = secrets.current, two_senders("a")  # B taken out: a new version
    secrets.created = datetime.datetime.fromtimestamp(clock.now + EPOCH, datetime.UTC)
    clock.now += 301
    auth.check(basic("a", "a-pw"))
    with pytest.raises(Unauthorized):
        auth.check(basic("b", "b-pw"))  # AWSPREVIOUS still holds B, but B is no longer a sender


def test_the_previous_password_is_not_refused_while_awsprevious_cannot_be_read() -> None:
    class FlakyPrevious(FakeSecrets):
        def fetch(self, stage: str) -> Any:
            if stage == "AWSPREVIOUS" and self.previous_down:
                self.fetches.append(stage)
                raise TRANSIENT
            return super().fetch(stage)

    secrets, clock = FlakyPrevious(), Clock()
    secrets.previous_down = False  # type: ignore[attr-defined]
    auth = authenticator(secrets, clock, grace=86400)
    auth.check(basic())
    rotate(secrets, clock, "new-password")
    secrets.previous_down = True  # type: ignore[attr-defined]
    clock.now += 301  # the TTL read sees the new version but cannot read the previous one
    auth.check(basic(USER, "new-password"))
    with pytest.raises(SecretUnavailable):
        auth.check(basic())  # maybe the previous password: a 503, not a 401 the client would drop
    secrets.previous_down = False  # type: ignore[attr-defined]
    clock.now += 11
    auth.check(basic())  # inside the grace period, once AWSPREVIOUS is readable


def test_a_credential_refused_before_it_was_added_works_once_the_interval_has_passed() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=300, interval=10)
    auth.check(basic())
    with pytest.raises(Unauthorized):
        auth.check(basic("new-sender", "pw"))  # configured in the sender before the secret
    secrets.current = json.dumps(
        {"username": USER, "password": PASSWORD, "credentials": [{"username": "new-sender", "password": "pw"}]}
    )
    clock.now += 1
    with pytest.raises(Unauthorized):
        auth.check(basic("new-sender", "pw"))  # refused a fresh read a second ago
    clock.now += 10
    assert auth.check(basic("new-sender", "pw")) == Identity(None)  # not held until the TTL


def test_a_zero_ttl_and_zero_staleness_still_accept_the_right_password_between_reads() -> None:
    secrets, clock = FakeSecrets(), Clock()
    auth = authenticator(secrets, clock, ttl=0, staleness=0, interval=10)
    for _ in range(50):
        auth.check(basic())
        clock.now += 0.5
    assert secrets.fetches.count("AWSCURRENT") <= 4  # one read per interval at most


def test_one_malformed_credential_in_the_list_does_not_lock_out_the_others() -> None:
    secrets = FakeSecrets(
        current=json.dumps({"credentials": [{"username": "a", "password": "a-pw"}, {"username": "b"}]})
    )
    auth = authenticator(secrets, Clock())
    assert auth.check(basic("a", "a-pw")) == Identity(None)


@pytest.mark.parametrize("org_id", ["\u00a0team\u00a0", "\u2003team"])
def test_only_http_whitespace_is_trimmed_from_x_scope_orgid(org_id: str) -> None:
    with pytest.raises(BadRequest):
        tenant_of(Identity(None), org_id)


# --- the rotation grace counts from the change (auth.py, "Rotation grace") -------------------------

HOUR, DAY = 3600.0, 86400.0


def at(clock: Clock, offset: float = 0.0) -> datetime.datetime:
    """A CreatedDate `offset` seconds from the fake clock's now."""
    return datetime.datetime.fromtimestamp(clock.now + EPOCH + offset, datetime.UTC)


def password(value: str) -> str:
    return json.dumps({"username": USER, "password": value})


def works(auth: Authenticator, value: str) -> bool:
    try:
        auth.check(basic(USER, value))
    except Unauthorized:
        return False
    return True


@pytest.mark.parametrize(
    "promoted",
    [
        pytest.param(lambda clock: (password("new"), at(clock, -10 * DAY)), id="staged-ten-days-before"),
        pytest.param(lambda clock: (password("new"), at(clock)), id="a-rotation"),
    ],
)
def test_an_instance_that_sees_the_change_keeps_the_previous_password_for_the_grace_after_it(
    promoted: Callable[[Clock], tuple[str, datetime.datetime]],
) -> None:
    clock = Clock()
    secrets = FakeSecrets(current=password("old"), created=at(clock, -40 * DAY))
    auth = authenticator(secrets, clock, grace=DAY)
    assert works(auth, "old")
    clock.now += HOUR
    secrets.promote(*promoted(clock))
    clock.now += 301  # the next read after the TTL sees the change
    assert works(auth, "new") and works(auth, "old")
    clock.now += DAY - 2
    assert works(auth, "old")  # a day after the read that saw the change, less a second
    clock.now += 2
    assert not works(auth, "old") and works(auth, "new")


def test_a_rollback_keeps_the_password_rolled_back_from_for_the_grace_after_the_rollback() -> None:
    clock = Clock()
    secrets = FakeSecrets(current=password("v1"), created=at(clock, -30 * DAY))
    secrets.promote(password("v2"), at(clock, -3 * DAY))  # rotated three days ago
    auth = authenticator(secrets, clock, grace=DAY)
    assert works(auth, "v2") and not works(auth, "v1")  # v1's grace ended two days ago
    secrets.promote(password("v1"), at(clock, -30 * DAY))  # update-secret-version-stage back to v1
    clock.now += 11  # the forced refresh for v1 sees the rollback
    assert works(auth, "v1") and works(auth, "v2")
    clock.now += DAY - 2
    assert works(auth, "v2")
    clock.now += 13
    assert not works(auth, "v2") and works(auth, "v1")


def test_re_reading_the_same_version_never_extends_the_grace() -> None:
    clock = Clock()
    secrets = FakeSecrets(current=password("old"), created=at(clock, -40 * DAY))
    auth = authenticator(secrets, clock, grace=HOUR, ttl=60)
    assert works(auth, "old")
    secrets.promote(password("new"), at(clock))
    assert works(auth, "new")  # the forced refresh sees the change now
    for _ in range(59):
        clock.now += 61  # a read per TTL
        assert works(auth, "old")
    clock.now += 62
    assert not works(auth, "old")
    fetches = secrets.fetches.count("AWSPREVIOUS")
    for _ in range(10):
        clock.now += 61
        assert works(auth, "new")
    assert secrets.fetches.count("AWSPREVIOUS") == fetches  # nothing to read once the grace is over


@pytest.mark.parametrize(
    ("rotated_ago", "first_read_works", "works_until"),
    [
        # A rotation (created and promoted at once) an hour before the instance starts: the
        # instance cannot tell it from one made just now, so it keeps the previous password a
        # grace period from its first read, which is still less than two after the rotation.
        pytest.param(HOUR, True, DAY, id="an-hour-after-a-rotation"),
        pytest.param(DAY - 60, True, DAY, id="just-within-the-grace"),
        # Past one grace period it trusts the creation dates: at most two after the change.
        pytest.param(1.5 * DAY, True, 0.5 * DAY, id="a-day-and-a-half-after"),
        pytest.param(2 * DAY + 1, False, 0, id="two-grace-periods-after"),
    ],
)
def test_an_instance_that_starts_after_the_change_never_ends_the_grace_before_it_can_know(
    rotated_ago: float, first_read_works: bool, works_until: float
) -> None:
    clock = Clock()
    secrets = FakeSecrets(current=password("old"), created=at(clock, -40 * DAY))
    secrets.promote(password("new"), at(clock, -rotated_ago))
    auth = authenticator(secrets, clock, grace=DAY)
    assert works(auth, "new")
    assert works(auth, "old") == first_read_works
    if first_read_works:
        clock.now += works_until - 20
        assert works(auth, "old")
        clock.now += 40
        assert not works(auth, "old")


def test_an_instance_started_after_a_late_promotion_counts_from_the_creation_dates() -> None:
    """The documented limit: a version staged ten days before it was promoted, and an instance
    that never saw the old version current. Nothing it can read says when the promotion was,
    so the grace runs from the later CreatedDate (plus one grace period), not from the change."""
    clock = Clock()
    secrets = FakeSecrets(current=password("old"), created=at(clock, -40 * DAY))
    secrets.promote(password("new"), at(clock, -10 * DAY))
    auth = authenticator(secrets, clock, grace=DAY)
    assert works(auth, "new") and not works(auth, "old")

"""HTTP Basic auth against a Secrets Manager secret, over the credentials' whole life.

The secret holds one credential, `{"username": ..., "password": ...}`, or several:
`{"credentials": [{"username": ..., "password": ..., "tenant": ...}, ...]}` (both forms may be
combined). A credential may pin a `tenant`, which is written into every record it pushes and
which no other credential may write (`tenant_of`).

* Comparison: hmac.compare_digest over the whole "user:password" bytes, against every
  credential without stopping at a match, so timing tells nothing about a guess.
* Cache: credentials are reloaded after SECRET_CACHE_TTL_SECONDS.
* Rotation never drops a push: a credential that matches nothing cached forces one refresh
  (single-flight: the lock lets one request refresh, the others wait for its answer). Forced
  refreshes come from a small per-instance budget, REFRESH_BURST at once and then one per
  AUTH_REFRESH_MIN_INTERVAL_SECONDS, so a brute force cannot become a Secrets Manager bill.
  When a refresh is not possible right now (budget spent, or Secrets Manager failing), the
  answer is 503 with Retry-After set to when one will be: never 401, which Loki clients drop
  for good. A credential that already failed against the credentials read last gets its 401
  at once, without a refresh.
* Availability: when Secrets Manager cannot be reached (throttling, 5xx, network), cached
  credentials keep working for SECRET_MAX_STALENESS_SECONDS after the last successful read;
  then every push is 503 until it is readable again.
* Revocation: a definitive answer (the secret is deleted or scheduled for deletion, access to
  it or its KMS key is denied, its value is malformed) drops the cached credentials at the
  refresh that sees it: every push is then 503, never 200.
* After a rotation the previous version (AWSPREVIOUS) is accepted too, for
  PREVIOUS_PASSWORD_GRACE_SECONDS (GRACE) after it stopped being current: see "Rotation grace".
* Nothing about the secret reaches an anonymous caller: error bodies say only that
  credentials cannot be checked; the reason (an AWS error code) goes to the log. The secret
  value is never logged.
* Tenants: see `tenant_of`.

Rotation grace
--------------
Secrets Manager says when a version was created (CreatedDate), not when it became AWSCURRENT:
a version staged days before its promotion, or an old one put back with
update-secret-version-stage (a rollback), became current long after it was created. So the
grace counts from the change as this instance can bound it. The change of AWSCURRENT to its
present version happened

* after every moment that proves the old state: the last read at which this instance saw
  another AWSCURRENT VersionId, and both versions' CreatedDates (a version exists before it is
  promoted, and AWSPREVIOUS was current until the change): call the latest of these `low`;
* before `high`, the first read at which this instance saw the present AWSCURRENT.

The grace counts from `since = min(high, low + GRACE)`: from the latest moment the change can
have happened, trusting that bound for at most one grace period. Hence:

* Never cut short when the instance's uncertainty `high - low` is at most GRACE: an instance in
  use re-reads every SECRET_CACHE_TTL_SECONDS, so it sees any change (rotation, stage move,
  rollback) within that; an instance that starts after the change knows only the CreatedDates,
  and still never cuts it short when the present version became current within GRACE of the
  later of the two CreatedDates (every rotation, a version staged up to GRACE before its
  promotion, a rollback within GRACE of the version it undoes).
* Never longer than 2 x GRACE after the change (since <= low + GRACE <= change + GRACE),
  however many instances start later: the grace never restarts.
* Otherwise (an instance started long after a promotion of a version staged long before it)
  the grace can end before GRACE has passed, but still no earlier than 2 x GRACE after the
  later CreatedDate; nothing a cold instance can read says more.

To revoke a password at once, rotate twice (it is then neither AWSCURRENT nor AWSPREVIOUS), or
remove its username (below).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from loki_ingest.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthorized, aws_error_code
from loki_ingest.settings import Settings

logger = logging.getLogger(__name__)

MAX_AUTHORIZATION_HEADER = 8 * 1024
#: Failed credentials remembered per instance (a brute force gets its 401s from memory).
MAX_REMEMBERED_FAILURES = 4096
#: Forced refreshes an instance may make at once before the interval applies.
REFRESH_BURST = 3

#: Secrets Manager answers that will not change by retrying: the credentials are revoked.
DEFINITIVE_CODES = frozenset(
    {
        "ResourceNotFoundException",  # deleted
        "InvalidRequestException",  # scheduled for deletion
        "AccessDeniedException",  # the function may no longer read it
        "DecryptionFailure",  # the KMS key denies decryption
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "malformed",  # our own: the value is not a usable credential set
    }
)

#: Loki's tenant IDs: up to 150 of these characters, not "." or ".."
#: (https://grafana.com/docs/loki/latest/operations/multi-tenancy/).
_TENANT = re.compile(r"[A-Za-z0-9!\-_.*'()]{1,150}\Z")


class SecretUnavailable(ServiceUnavailable):
    """The credentials cannot be checked (Secrets Manager failed, or the secret is revoked).

    The message is what an anonymous caller sees; `detail` (an AWS error code or our own
    word for it) only goes to the log, and `definitive` says whether retrying can change it.
    """

    reason = "credentials_unavailable"

    def __init__(self, detail: str, *, definitive: bool = False, retry_after: int = 1, hint: str = "") -> None:
        message = "credentials cannot be checked right now; retry later"
        super().__init__(f"{message} ({hint})" if hint else message, retry_after=retry_after, detail=detail)
        self.definitive = definitive


#: For a credential that matches nothing cached while a re-read is not possible: a new user with
#: a typo should not read a 503 as "the server is broken" (nothing here is not already implied).
MISMATCH_HINT = "they match none known; if this persists, check the username and password"


class SecretVersion(NamedTuple):
    value: str
    created: datetime.datetime | None = None
    version_id: str | None = None  # None: the value stands for the version


class SecretSource(Protocol):
    def fetch(self, stage: str) -> SecretVersion | None:
        """The secret at a version stage, None if that stage does not exist."""
        ...


class SecretsManagerSource:
    """SecretSource over a boto3 secretsmanager client."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id

    def fetch(self, stage: str) -> SecretVersion | None:
        try:
            response = self._client.get_secret_value(SecretId=self._secret_id, VersionStage=stage)
        except Exception as exc:
            code = aws_error_code(exc)
            if code == "ResourceNotFoundException" and stage != "AWSCURRENT":
                return None
            detail = code or type(exc).__name__
            raise SecretUnavailable(detail, definitive=detail in DEFINITIVE_CODES) from exc
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise SecretUnavailable("malformed", definitive=True)
        created = response.get("CreatedDate")
        version_id = response.get("VersionId")
        return SecretVersion(
            value,
            created if isinstance(created, datetime.datetime) else None,
            version_id if isinstance(version_id, str) else None,
        )


def secrets_client() -> Any:
    """A boto3 Secrets Manager client with one quick retry and short timeouts of its own."""
    import boto3  # noqa: PLC0415 - the AWS edge; keeps `import loki_ingest` light for tests
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "secretsmanager",
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2),
    )


class Credential(NamedTuple):
    token: bytes  # b"user:password"
    tenant: str | None


class Identity(NamedTuple):
    """Who pushed: the credential's pinned tenant, if any, and every tenant a credential in the
    secret pins (which no other credential may write; see `tenant_of`)."""

    tenant: str | None
    pinned: frozenset[str] = frozenset()


def valid_tenant(tenant: str) -> bool:
    return bool(_TENANT.match(tenant)) and tenant not in (".", "..")


def _one(item: Any) -> Credential:
    if not isinstance(item, dict):
        raise SecretUnavailable("malformed", definitive=True)
    username, password, tenant = item.get("username"), item.get("password"), item.get("tenant")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise SecretUnavailable("malformed", definitive=True)
    if ":" in username or (tenant is not None and not (isinstance(tenant, str) and valid_tenant(tenant))):
        raise SecretUnavailable("malformed", definitive=True)
    return Credential(f"{username}:{password}".encode(), tenant)


def parse_credentials(value: str) -> tuple[Credential, ...]:
    """The credentials in a secret value (either form); SecretUnavailable if malformed."""
    try:
        doc = json.loads(value)
    except ValueError:
        raise SecretUnavailable("malformed", definitive=True) from None
    if not isinstance(doc, dict):
        raise SecretUnavailable("malformed", definitive=True)
    found: list[Credential] = []
    if "username" in doc or "password" in doc:
        found.append(_one(doc))
    listed = doc.get("credentials")
    if listed is not None:
        if not isinstance(listed, list):
            raise SecretUnavailable("malformed", definitive=True)
        for index, item in enumerate(listed):
            try:
                found.append(_one(item))
            except SecretUnavailable:
                # One bad entry must not lock every other sender out; it is skipped and logged.
                logger.warning("auth secret: credential skipped", extra={"fields": {"index": index}})
    if not found:
        raise SecretUnavailable("malformed", definitive=True)
    return tuple(found)


def parse_basic(header: str | None) -> bytes:
    """The raw b"user:password" from an Authorization header, or Unauthorized."""
    if not header:
        raise Unauthorized("authentication required: send HTTP Basic credentials")
    if len(header) > MAX_AUTHORIZATION_HEADER:
        raise Unauthorized("Authorization header too large")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("only the Basic authorization scheme is supported")
    token = token.strip()
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized("malformed Basic credentials (invalid base64)") from None
    if b":" not in decoded:
        raise Unauthorized("malformed Basic credentials (expected user:password)")
    return decoded


class Loaded(NamedTuple):
    current: tuple[Credential, ...]
    previous: tuple[Credential, ...]
    previous_until: float | None  # wall-clock time until which `previous` is accepted
    read_at: float  # monotonic time of the successful read
    previous_known: bool = True  # False when AWSPREVIOUS could not be read (a mismatch is then not final)
    # When AWSCURRENT became what it is (module docstring, "Rotation grace"), in wall-clock time:
    version: str = ""  # AWSCURRENT's VersionId (or a digest of its value)
    changed_after: float = -math.inf  # `low` without the CreatedDates
    seen_at: float = -math.inf  # `high`: the first read that saw this version
    read_wall: float = -math.inf  # wall-clock time of this read

    @property
    def pinned(self) -> frozenset[str]:
        return frozenset(c.tenant for c in (*self.current, *self.previous) if c.tenant is not None)


class Authenticator:
    def __init__(
        self,
        source: SecretSource,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._ttl = settings.secret_cache_ttl_seconds
        self._min_interval = settings.auth_refresh_min_interval_seconds
        self._max_staleness = settings.secret_max_staleness_seconds
        self._grace = settings.previous_password_grace_seconds
        self._clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None
        self._last_attempt = float("-inf")
        self._last_error: SecretUnavailable | None = None
        self._failed: dict[bytes, float] = {}  # digest of a credential -> when it failed a fresh read
        self._tokens = float(REFRESH_BURST)  # the forced-refresh budget
        self._refilled_at = clock()
        self.loads = 0  # Secrets Manager round trips, for tests and logs

    # --- reading the secret ---------------------------------------------------------------

    def _read(self) -> Loaded:
        self.loads += 1
        wall = self._wall()
        current = self._source.fetch("AWSCURRENT")
        if current is None:  # pragma: no cover - the source raises for AWSCURRENT
            raise SecretUnavailable("ResourceNotFoundException", definitive=True)
        credentials = parse_credentials(current.value)
        version = current.version_id or hashlib.sha256(current.value.encode()).hexdigest()
        last = self._loaded
        if last is not None and last.version == version:
            changed_after, seen_at = last.changed_after, last.seen_at
        else:  # AWSCURRENT changed after the last read (if this instance made one), by now
            changed_after, seen_at = (last.read_wall if last is not None else -math.inf), wall
        previous: tuple[Credential, ...] = ()
        previous_until: float | None = None
        known = True
        # The grace can still run only while the latest the change can have happened is recent.
        if self._grace > 0 and seen_at + self._grace > wall:
            if last is not None and last.version == version and last.previous_until is not None:
                previous_until = last.previous_until
            if previous_until is None or previous_until > wall:
                try:
                    old = self._source.fetch("AWSPREVIOUS")
                    if old is not None:
                        previous = parse_credentials(old.value)
                        low = max(changed_after, _timestamp(current.created), _timestamp(old.created))
                        previous_until = min(seen_at, low + self._grace) + self._grace
                except SecretUnavailable as exc:
                    # The previous version is a courtesy: never fail a request because of it. While
                    # AWSCURRENT is unchanged so is AWSPREVIOUS, and what was read of it still holds;
                    # otherwise a mismatch is not final until it can be read (503, not 401).
                    logger.warning("auth secret AWSPREVIOUS unusable", extra={"fields": {"detail": exc.detail}})
                    if last is not None and last.version == version:
                        previous, known = last.previous, last.previous_known
                    else:
                        known = exc.definitive
        # A sender removed from the secret is revoked at once: the grace period covers a new
        # password for a username that is still there, not a username that was taken out.
        usernames = {c.token.split(b":", 1)[0] for c in credentials}
        previous = tuple(c for c in previous if c.token.split(b":", 1)[0] in usernames)
        return Loaded(
            credentials, previous, previous_until, self._clock(), known, version, changed_after, seen_at, wall
        )

    def _retry_after(self, now: float) -> int:
        return max(1, math.ceil(self._last_attempt + self._min_interval - now))

    def _take_token(self, now: float) -> bool:
        """Spend one forced refresh from the budget if there is one."""
        if self._min_interval <= 0:
            return True
        self._tokens = min(REFRESH_BURST, self._tokens + (now - self._refilled_at) / self._min_interval)
        self._refilled_at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def _token_wait(self) -> int:
        return max(1, math.ceil((1 - self._tokens) * self._min_interval))

    def _refresh(self, now: float) -> Loaded:
        """Read the secret now (the caller holds the lock and checked the interval)."""
        self._last_attempt = now
        try:
            loaded = self._read()
        except SecretUnavailable as exc:
            self._last_error = exc
            if exc.definitive:
                self._loaded = None  # revoked: nothing cached may be accepted any more
                self._failed.clear()
            logger.warning(
                "auth secret refresh failed",
                extra={"fields": {"detail": exc.detail, "revoked": exc.definitive}},
            )
            raise
        self._loaded = loaded
        self._last_error = None
        self._failed.clear()
        return loaded

    def _usable(self, now: float) -> Loaded:
        """The credentials to check against: cached while fresh, re-read after the TTL, served
        stale (up to the maximum staleness) while Secrets Manager cannot be reached."""
        loaded = self._loaded
        if loaded is not None and now - loaded.read_at < self._ttl:
            return loaded
        if now - self._last_attempt >= self._min_interval or (loaded is None and self._last_error is None):
            try:
                return self._refresh(now)
            except SecretUnavailable as exc:
                if exc.definitive or loaded is None:
                    raise SecretUnavailable(
                        exc.detail, definitive=exc.definitive, retry_after=self._retry_after(now)
                    ) from None
        # Secrets Manager is failing: availability, within the staleness bound, which is never
        # shorter than the wait for the next allowed read (else TTL 0 would refuse good passwords).
        staleness = max(self._max_staleness, self._ttl + self._min_interval)
        if loaded is not None and now - loaded.read_at < staleness:
            return loaded
        detail = self._last_error.detail if self._last_error else "stale"
        raise SecretUnavailable(detail, retry_after=self._retry_after(now))

    # --- checking a request -----------------------------------------------------------------

    def _match(self, presented: bytes, loaded: Loaded) -> Credential | None:
        found: Credential | None = None
        for credential in loaded.current:
            if hmac.compare_digest(presented, credential.token):
                found = credential
        if loaded.previous and loaded.previous_until is not None:
            in_grace = self._wall() < loaded.previous_until
            for credential in loaded.previous:
                if hmac.compare_digest(presented, credential.token) and in_grace:
                    found = found or credential
        return found

    def check(self, header: str | None) -> Identity:
        """The pusher's identity, or Unauthorized (401) / SecretUnavailable (503)."""
        presented = parse_basic(header)
        digest = hashlib.sha256(presented).digest()
        with self._lock:
            now = self._clock()
            loaded = self._usable(now)
            found = self._match(presented, loaded)
            if found is not None:
                return Identity(found.tenant, loaded.pinned)
            failed_at = self._failed.get(digest)
            if failed_at is not None and now - failed_at < self._min_interval:
                raise Unauthorized("invalid username or password")  # it failed a fresh read just now
            # Maybe the secret was rotated since it was read: one refresh decides.
            if self._last_error is not None and now - self._last_attempt < self._min_interval:
                raise SecretUnavailable(self._last_error.detail, retry_after=self._retry_after(now))
            if not self._take_token(now):
                raise SecretUnavailable("refresh-budget", retry_after=self._token_wait(), hint=MISMATCH_HINT)
            try:
                loaded = self._refresh(now)
            except SecretUnavailable as exc:
                raise SecretUnavailable(
                    exc.detail, definitive=exc.definitive, retry_after=self._retry_after(now)
                ) from None
            found = self._match(presented, loaded)
            if found is not None:
                return Identity(found.tenant, loaded.pinned)
            if not loaded.previous_known:
                # It may be the previous password, which could not be read: not a final no.
                raise SecretUnavailable("previous-unknown", retry_after=self._retry_after(now))
            self._failed.pop(digest, None)
            if len(self._failed) >= MAX_REMEMBERED_FAILURES:
                self._failed.pop(next(iter(self._failed)))
            self._failed[digest] = now
        raise Unauthorized("invalid username or password")

    def probe(self) -> str | None:
        """None when the credentials can be checked (for /healthz), else why not (for the log)."""
        try:
            with self._lock:
                self._usable(self._clock())
        except SecretUnavailable as exc:
            return f"auth secret: {exc.detail}"
        return None


def _timestamp(created: datetime.datetime | None) -> float:
    return created.timestamp() if created is not None else -math.inf


def tenant_of(identity: Identity, org_id: str | None) -> str | None:
    """The tenant written into the records, by this rule:

    * a credential that pins a tenant writes that tenant; an X-Scope-OrgID naming another one is
      a 403 that says so (it is a client configured for a tenant its data would not reach:
      refusing makes that visible at once in the client's log, where writing the pinned tenant
      silently would leave the sender looking for its data under the other name);
    * any other credential writes the X-Scope-OrgID it sends (Loki's tenant-ID rules, 400
      otherwise), or no tenant without one, but never a tenant that a credential in the
      secret pins (403): the records of a pinned tenant all come from that tenant's own
      credential, so the tenant field proves who wrote them.
    """
    header = org_id.strip(" \t") if org_id is not None else ""  # HTTP optional whitespace only (RFC 9110 OWS)
    if identity.tenant is not None:
        if header and header != identity.tenant:
            raise Forbidden(
                f"X-Scope-OrgID {header[:160]!r} does not match the tenant {identity.tenant!r} this credential "
                "writes; send that tenant or no X-Scope-OrgID, or use the other tenant's credential",
                reason="tenant_mismatch",
            )
        return identity.tenant
    if not header:
        return None
    if not valid_tenant(header):
        raise BadRequest("X-Scope-OrgID is not a valid tenant ID (up to 150 of A-Z a-z 0-9 ! - _ . * ' ( ))")
    if header in identity.pinned:
        raise Forbidden(
            f"tenant {header!r} belongs to another credential; push to it with that credential",
            reason="tenant_pinned",
        )
    return header

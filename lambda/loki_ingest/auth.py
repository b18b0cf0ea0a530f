"""HTTP Basic auth against a Secrets Manager secret holding {"username", "password"}.

* The comparison is hmac.compare_digest over the whole "user:password" bytes, so timing does
  not reveal how much of a guess was right.
* The secret is cached for SECRET_CACHE_TTL_SECONDS. A mismatch triggers one refresh (at
  most once per AUTH_REFRESH_MIN_INTERVAL_SECONDS, so a brute force cannot turn into a
  Secrets Manager bill), which lets a rotated password work without a redeploy.
* During a rotation the previous version (AWSPREVIOUS) is accepted too, but only for
  PREVIOUS_PASSWORD_GRACE_SECONDS after the current version was created: a rotation must
  eventually revoke the old password.
* If the secret cannot be read the answer is 503, never 401: the fault is ours and the
  client must retry. The secret value is never logged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from .errors import ServiceUnavailable, Unauthorized, aws_error_code
from .settings import Settings

logger = logging.getLogger(__name__)

MAX_AUTHORIZATION_HEADER = 8 * 1024


class SecretUnavailable(ServiceUnavailable):
    """The credentials could not be loaded (Secrets Manager error or malformed secret)."""


class SecretVersion(NamedTuple):
    value: str
    created: datetime.datetime | None = None


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
            raise SecretUnavailable(f"cannot read the auth secret ({code or type(exc).__name__})") from exc
        value = response.get("SecretString")
        if not isinstance(value, str):
            raise SecretUnavailable("the auth secret has no SecretString")
        created = response.get("CreatedDate")
        return SecretVersion(value, created if isinstance(created, datetime.datetime) else None)


class Credentials(NamedTuple):
    current: bytes  # b"user:password"
    previous: bytes | None
    previous_until: float | None  # wall-clock time until which `previous` is accepted


def _credential(version: SecretVersion, stage: str) -> bytes:
    try:
        doc = json.loads(version.value)
    except ValueError:
        raise SecretUnavailable(f"the auth secret ({stage}) is not JSON") from None
    if not isinstance(doc, dict):
        raise SecretUnavailable(f"the auth secret ({stage}) is not a JSON object")
    username, password = doc.get("username"), doc.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise SecretUnavailable(f'the auth secret ({stage}) needs non-empty string "username" and "password"')
    return f"{username}:{password}".encode()


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


def secrets_client() -> Any:
    """A boto3 Secrets Manager client with one quick retry and short timeouts of its own."""
    import boto3  # noqa: PLC0415 - the AWS edge; keeps `import loki_ingest` light for tests
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "secretsmanager",
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2),
    )


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
        self._grace = settings.previous_password_grace_seconds
        self._clock = clock
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._loaded_at = float("-inf")
        self._last_attempt = float("-inf")
        self._last_error: SecretUnavailable | None = None
        self.loads = 0  # Secrets Manager round trips, for tests and logs

    def _load(self) -> Credentials:
        self.loads += 1
        current = self._source.fetch("AWSCURRENT")
        if current is None:  # pragma: no cover - the source raises for AWSCURRENT
            raise SecretUnavailable("the auth secret has no AWSCURRENT version")
        current_credential = _credential(current, "AWSCURRENT")
        previous_credential: bytes | None = None
        previous_until: float | None = None
        if self._grace > 0 and current.created is not None:
            previous_until = current.created.timestamp() + self._grace
            if previous_until > self._wall():
                try:
                    previous = self._source.fetch("AWSPREVIOUS")
                    if previous is not None:
                        previous_credential = _credential(previous, "AWSPREVIOUS")
                except SecretUnavailable as exc:
                    # The previous version is a courtesy; never fail auth because of it.
                    logger.warning("auth secret AWSPREVIOUS unusable: %s", exc.message)
        return Credentials(current_credential, previous_credential, previous_until)

    def _refresh(self, *, force: bool) -> Credentials:
        """Reload if the cache expired (or on `force`, rate-limited). Caller holds the lock."""
        now = self._clock()
        expired = now - self._loaded_at >= self._ttl
        allowed = now - self._last_attempt >= self._min_interval
        cached = self._credentials
        if cached is not None and not expired and not (force and allowed):
            return cached
        if not allowed:
            if cached is not None:
                return cached  # stale but usable; try again after the interval
            if self._last_error is not None:
                raise self._last_error  # do not hammer Secrets Manager while it fails
        self._last_attempt = now
        try:
            fresh = self._load()
        except SecretUnavailable as exc:
            self._last_error = exc
            if cached is not None:
                # Keep serving the last good value rather than locking every client out.
                logger.warning("auth secret refresh failed, keeping cached credentials: %s", exc.message)
                return cached
            raise
        self._credentials = fresh
        self._loaded_at = now
        self._last_error = None
        return fresh

    def probe(self) -> str | None:
        """None when the credentials can be loaded (for /healthz), else why not."""
        try:
            with self._lock:
                self._refresh(force=False)
        except SecretUnavailable as exc:
            return exc.message
        return None

    def _matches(self, presented: bytes, credentials: Credentials) -> bool:
        ok = hmac.compare_digest(presented, credentials.current)
        if credentials.previous is not None:
            in_grace = credentials.previous_until is not None and self._wall() < credentials.previous_until
            ok = (hmac.compare_digest(presented, credentials.previous) and in_grace) or ok
        return ok

    def check(self, header: str | None) -> None:
        """Raise Unauthorized (401) or SecretUnavailable (503) unless the header is valid."""
        presented = parse_basic(header)
        with self._lock:
            credentials = self._refresh(force=False)
            if self._matches(presented, credentials):
                return
            # Maybe the password was rotated since we cached it.
            refreshed = self._refresh(force=True)
            if refreshed is not credentials and self._matches(presented, refreshed):
                return
        raise Unauthorized("invalid username or password")

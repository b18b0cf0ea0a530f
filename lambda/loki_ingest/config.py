"""Settings, read once from the environment.

Every knob has a default that matches Loki or AWS; the Terraform module sets them from its
variables. Bad values raise ConfigError, which the handler answers with 500 (our fault,
the client retries) instead of failing the cold start with an opaque Lambda error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

# Amazon Data Firehose hard limits (API_PutRecordBatch / API_Record; cannot be raised).
FIREHOSE_MAX_RECORD_BYTES = 1_024_000  # 1,000 KiB per record, before base64
FIREHOSE_MAX_BATCH_RECORDS = 500
FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024  # 4 MiB per PutRecordBatch call

# Room kept in a Firehose record for the NDJSON envelope around a maximal line
# (timestamp, id, labels, metadata), so a line of max_line_bytes always has a chance to fit.
RECORD_ENVELOPE_RESERVE = 4096
MAX_LINE_BYTES_CEILING = FIREHOSE_MAX_RECORD_BYTES - RECORD_ENVELOPE_RESERVE

# Lambda function URL (BUFFERED) caps the whole invoke payload at 6 MB.
FUNCTION_URL_MAX_PAYLOAD = 6 * 1024 * 1024


class ConfigError(Exception):
    """The environment does not describe a usable configuration."""


class Settings(NamedTuple):
    """Immutable settings (a NamedTuple: creating it costs far less cold start than a dataclass)."""

    delivery_stream_name: str
    auth_secret_arn: str
    success_status: int = 200
    max_body_bytes: int = FUNCTION_URL_MAX_PAYLOAD
    max_decompressed_bytes: int = 64 * 1024 * 1024
    # Loki: max_line_size 256KB (limits_config), not truncated.
    max_line_bytes: int = 256 * 1024
    # Loki limits_config defaults.
    max_label_names: int = 15
    max_label_name_bytes: int = 1024
    max_label_value_bytes: int = 2048
    max_metadata_bytes: int = 64 * 1024
    max_metadata_entries: int = 128
    # Loki rejects entries older than 1w / newer than 10m by default. An archive usually
    # wants every line, so both are off (0) unless configured.
    reject_old_samples_max_age_s: int = 0
    creation_grace_period_s: int = 0
    secret_cache_ttl_s: int = 300
    auth_refresh_min_interval_s: int = 10
    previous_password_grace_s: int = 86_400
    health_cache_ttl_s: int = 30
    retry_base_ms: int = 50
    retry_max_backoff_ms: int = 2_000
    retry_max_attempts: int = 8
    # Stop retrying when less than this is left of the invocation, so we answer 503
    # ourselves instead of being killed mid-request by the Lambda timeout.
    deadline_safety_ms: int = 1_500
    firehose_connect_timeout_s: float = 1.0
    firehose_read_timeout_s: float = 3.0
    tracing_enabled: bool = False
    log_level: str = "INFO"

    @property
    def attempt_budget_ms(self) -> int:
        """The longest one Firehose call can take before botocore gives up on it."""
        return int((self.firehose_connect_timeout_s + self.firehose_read_timeout_s) * 1000)


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside [{low}, {high}]")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside [{low}, {high}]")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _BOOL_TRUE:
        return True
    if lowered in _BOOL_FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (os.environ by default)."""
    env = os.environ if env is None else env
    day = 86_400
    success = _int(env, "SUCCESS_STATUS_CODE", 200, low=200, high=204)
    if success not in (200, 204):
        raise ConfigError(f"SUCCESS_STATUS_CODE={success} must be 200 or 204")
    log_level = (env.get("LOG_LEVEL") or env.get("AWS_LAMBDA_LOG_LEVEL") or "INFO").strip().upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "TRACE", "FATAL"}:
        raise ConfigError(f"LOG_LEVEL={log_level!r} is not a log level")
    return Settings(
        delivery_stream_name=_required(env, "FIREHOSE_DELIVERYSTREAM_NAME"),
        auth_secret_arn=_required(env, "AUTH_SECRET_ARN"),
        success_status=success,
        max_body_bytes=_int(env, "MAX_BODY_BYTES", FUNCTION_URL_MAX_PAYLOAD, low=1024, high=1 << 30),
        max_decompressed_bytes=_int(env, "MAX_DECOMPRESSED_BYTES", 64 << 20, low=1024, high=1 << 32),
        # Never above what fits in one Firehose record (clamped, not rejected: the
        # Terraform variable already validates the same ceiling).
        max_line_bytes=min(_int(env, "MAX_LINE_BYTES", 256 * 1024, low=1, high=1 << 30), MAX_LINE_BYTES_CEILING),
        max_label_names=_int(env, "MAX_LABEL_NAMES", 15, low=1, high=10_000),
        max_label_name_bytes=_int(env, "MAX_LABEL_NAME_BYTES", 1024, low=1, high=1 << 20),
        max_label_value_bytes=_int(env, "MAX_LABEL_VALUE_BYTES", 2048, low=1, high=1 << 20),
        max_metadata_bytes=_int(env, "MAX_METADATA_BYTES", 64 * 1024, low=0, high=1 << 20),
        max_metadata_entries=_int(env, "MAX_METADATA_ENTRIES", 128, low=0, high=100_000),
        reject_old_samples_max_age_s=_int(env, "REJECT_OLD_SAMPLES_MAX_AGE_SECONDS", 0, low=0, high=3650 * day),
        creation_grace_period_s=_int(env, "CREATION_GRACE_PERIOD_SECONDS", 0, low=0, high=3650 * day),
        secret_cache_ttl_s=_int(env, "SECRET_CACHE_TTL_SECONDS", 300, low=0, high=day),
        auth_refresh_min_interval_s=_int(env, "AUTH_REFRESH_MIN_INTERVAL_SECONDS", 10, low=0, high=3600),
        previous_password_grace_s=_int(env, "PREVIOUS_PASSWORD_GRACE_SECONDS", day, low=0, high=365 * day),
        health_cache_ttl_s=_int(env, "HEALTH_CACHE_TTL_SECONDS", 30, low=0, high=3600),
        retry_base_ms=_int(env, "RETRY_BASE_MS", 50, low=1, high=10_000),
        retry_max_backoff_ms=_int(env, "RETRY_MAX_BACKOFF_MS", 2_000, low=1, high=60_000),
        retry_max_attempts=_int(env, "RETRY_MAX_ATTEMPTS", 8, low=1, high=100),
        deadline_safety_ms=_int(env, "DEADLINE_SAFETY_MS", 1_500, low=0, high=60_000),
        firehose_connect_timeout_s=_float(env, "FIREHOSE_CONNECT_TIMEOUT_SECONDS", 1.0, low=0.1, high=60),
        firehose_read_timeout_s=_float(env, "FIREHOSE_READ_TIMEOUT_SECONDS", 3.0, low=0.1, high=300),
        tracing_enabled=_bool(env, "TRACING_ENABLED", False),
        log_level="WARNING" if log_level == "WARN" else log_level,
    )

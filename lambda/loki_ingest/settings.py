"""The handler's settings: each one declared once, in `Settings` below.

A declaration gives the environment variable, the default, the bounds and a description.
Everything else derives from it: `Settings.load()` reads and checks the environment, the
README's settings table is generated from it (`make docs`), the local server passes these
variables through from the shell, and tests/unit/test_settings.py checks the Terraform
module against it (every setting is an attribute of `handler_settings`, or wired by the
module itself, and Terraform rejects every value outside the bounds declared here).

Bad values raise ConfigError, which the handler answers with 500 (our fault, the client
retries) instead of failing the cold start with an opaque Lambda error; the Terraform
validations exist so that a plan that passes never gets there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

from loki_ingest.ingest.budget import WORK_BUDGET_DEFAULT
from loki_ingest.records.render import max_line_bytes_alone
from loki_ingest.wire import FIREHOSE_MAX_RECORD_BYTES, FUNCTION_URL_MAX_PAYLOAD

# bool first: a bool default must not be taken for an int.
T = TypeVar("T", bool, int, float, str)

DAY = 86_400
MIB = 1024 * 1024

_BOOL_TRUE = frozenset({"1", "true", "yes", "on"})
_BOOL_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(Exception):
    """The environment does not describe a usable configuration."""


class Setting(Generic[T]):
    """One setting. As a class attribute of Settings it reads the loaded value.

    `module` says where the Terraform module takes it from: "handler_settings" (an attribute
    of that variable, named like the environment variable in lower case), or the name of the
    module input or resource that feeds it.
    """

    __slots__ = ("aliases", "choices", "default", "doc", "env", "high", "low", "module", "name", "required", "sink")

    default: T
    low: T | None
    high: T | None

    def __init__(
        self,
        env: str,
        default: T,
        doc: str,
        *,
        low: T | None = None,
        high: T | None = None,
        choices: Mapping[str, str] | None = None,
        aliases: tuple[str, ...] = (),
        module: str = "handler_settings",
        required: bool = False,
        sink: str | None = None,
    ) -> None:
        self.env = env
        self.default = default
        self.doc = doc
        self.low = low
        self.high = high
        self.choices = choices  # accepted spelling -> stored value
        self.aliases = aliases  # further variables read when `env` is unset
        self.module = module
        self.required = required
        self.sink = sink  # the sink it configures: ignored (and never required) under another sink
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, obj: Settings, owner: type) -> T: ...

    def __get__(self, obj: Settings | None, owner: type) -> Setting[T] | T:
        if obj is None:
            return self
        value: T = obj._values[self.name]
        return value

    def raw(self, env: Mapping[str, str]) -> str | None:
        for name in (self.env, *self.aliases):
            value = env.get(name)
            if value is not None and (value.strip() or type(self.default) is bool):
                return value
        return None

    def parse(self, raw: str) -> T:
        """The value of `raw`, checked against type, choices and bounds."""
        kind = type(self.default)
        text = raw.strip()
        value: Any
        if kind is bool:
            if text.lower() not in _BOOL_TRUE | _BOOL_FALSE:
                raise ConfigError(f"{self.env}={raw!r} is not a boolean")
            value = text.lower() in _BOOL_TRUE
        elif kind is str:
            value = text
            if self.choices is not None:
                if text.upper() not in self.choices:
                    raise ConfigError(f"{self.env}={raw!r} must be one of {', '.join(self.choices)}")
                value = self.choices[text.upper()]
        else:
            try:
                value = kind(text)
            except ValueError:
                raise ConfigError(f"{self.env}={raw!r} is not {'an integer' if kind is int else 'a number'}") from None
            if self.choices is not None and str(value) not in self.choices:
                raise ConfigError(f"{self.env}={value} must be one of {', '.join(self.choices)}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ConfigError(f"{self.env}={value} is outside [{self.low}, {self.high}]")
        checked: T = value
        return checked


def _choices(*values: str) -> dict[str, str]:
    return {value: value for value in values}


class Settings:
    """Immutable settings. Read with attribute access; build with `load()` or `replace()`."""

    __slots__ = ("_values",)
    _values: dict[str, Any]

    # --- where records go -----------------------------------------------------------------------
    sink = Setting(
        "SINK",
        "firehose",
        "Where accepted records go (delivery/registry.py): `firehose`, an Amazon Data Firehose stream.",
        choices={"FIREHOSE": "firehose"},
        module="resource",
    )
    firehose_stream_name = Setting(
        "FIREHOSE_DELIVERYSTREAM_NAME",
        "",
        "Firehose stream to deliver to (sink `firehose`).",
        module="resource",
        required=True,
        sink="firehose",
    )

    # --- wired by the module from its resources ----------------------------------------------
    auth_secret_arn = Setting(
        "AUTH_SECRET_ARN",
        "",
        'Secrets Manager secret holding the Basic credentials (`{"username","password"}`).',
        module="resource",
        required=True,
    )
    log_level = Setting(
        "LOG_LEVEL",
        "INFO",
        "Level of the handler's JSON logs (metrics lines are INFO, 4xx lines WARN, 5xx lines ERROR).",
        choices={
            **_choices("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
            "WARN": "WARNING",
            "TRACE": "DEBUG",
            "FATAL": "CRITICAL",
        },
        aliases=("AWS_LAMBDA_LOG_LEVEL",),
        module="log_level",
    )
    tracing_enabled = Setting(
        "TRACING_ENABLED",
        False,
        "Load aws-xray-sdk for per-phase subsegments (costs cold start; see make bench).",
        module="tracing_sdk_enabled",
    )
    log_every_request = Setting(
        "LOG_EVERY_REQUEST",
        False,
        "One log line per request, its metrics included (for debugging: about 0.7 KB of CloudWatch Logs per "
        "request). Off: a 2xx only adds to the metrics line of METRICS_INTERVAL_SECONDS; 4xx and 5xx always "
        "get their own line (docs/monitoring.md).",
    )
    metrics_interval_seconds = Setting(
        "METRICS_INTERVAL_SECONDS",
        60,
        "The handler's metrics of successful requests are summed in the execution environment and written as "
        "one line at the end of the first invocation this long after the previous one; 0 writes one at the "
        "end of every invocation. At most 300, the alarms' period.",
        low=0,
        high=300,
    )

    # --- the HTTP contract ---------------------------------------------------------------------
    success_status_code = Setting(
        "SUCCESS_STATUS_CODE",
        200,
        '`200` with `{"status":"success","count":N}`, or Loki\'s `204` with an empty body.',
        choices=_choices("200", "204"),
    )
    max_body_bytes = Setting(
        "MAX_BODY_BYTES",
        FUNCTION_URL_MAX_PAYLOAD,
        "Largest request body (413 above); a function URL never delivers more than 6 MB.",
        low=1024,
        high=FUNCTION_URL_MAX_PAYLOAD,
    )
    max_decompressed_bytes = Setting(
        "MAX_DECOMPRESSED_BYTES",
        16 * MIB,
        "Largest body after Content-Encoding and snappy decoding, enforced while inflating (413).",
        low=MIB,
        high=1 << 30,
    )
    work_budget_units = Setting(
        "WORK_BUDGET_UNITS",
        WORK_BUDGET_DEFAULT,
        "Work one push may take, in units of 1 us of CPU (or 100 bytes of memory) at one vCPU: every "
        "decoded element is charged before decoding, and a push over it gets 413 with advice to split "
        "it. The default holds a default Promtail/Alloy batch (1 MiB of 4-byte lines).",
        low=1_000,
        high=100_000_000,
    )

    # --- Loki's limits (limits_config defaults) ---------------------------------------------------
    max_line_bytes = Setting(
        "MAX_LINE_BYTES",
        256 * 1024,
        "Loki's `max_line_size`: longer entries are rejected (partial success). At most what fits one "
        "sink record as base64; less beside the label and metadata limits (the table's note).",
        low=1,
        high=max_line_bytes_alone(FIREHOSE_MAX_RECORD_BYTES),
    )
    max_label_names = Setting(
        "MAX_LABEL_NAMES", 15, "Loki's `max_label_names_per_series` (service_name not counted).", low=1, high=10_000
    )
    max_label_name_bytes = Setting("MAX_LABEL_NAME_BYTES", 1024, "Loki's `max_label_name_length`.", low=1, high=MIB)
    max_label_value_bytes = Setting("MAX_LABEL_VALUE_BYTES", 2048, "Loki's `max_label_value_length`.", low=1, high=MIB)
    max_metadata_bytes = Setting(
        "MAX_METADATA_BYTES",
        64 * 1024,
        "Loki's `max_structured_metadata_size` (Loki's 0, no limit, is not offered: every entry must fit one record).",
        low=1,
        high=MIB,
    )
    max_metadata_entries = Setting(
        "MAX_METADATA_ENTRIES",
        128,
        "Loki's `max_structured_metadata_entries_count` (no 0 for no limit, as above).",
        low=1,
        high=100_000,
    )
    reject_old_samples_max_age_seconds = Setting(
        "REJECT_OLD_SAMPLES_MAX_AGE_SECONDS",
        0,
        "Reject entries older than this (Loki: 1 week); 0 accepts any age, as an archive should.",
        low=0,
        high=3650 * DAY,
    )
    creation_grace_period_seconds = Setting(
        "CREATION_GRACE_PERIOD_SECONDS",
        0,
        "Reject entries further in the future than this (Loki: 10 minutes); 0 disables the check.",
        low=0,
        high=3650 * DAY,
    )

    # --- credentials -----------------------------------------------------------------------------
    secret_cache_ttl_seconds = Setting(
        "SECRET_CACHE_TTL_SECONDS", 300, "How long the credentials are cached.", low=0, high=DAY
    )
    auth_refresh_min_interval_seconds = Setting(
        "AUTH_REFRESH_MIN_INTERVAL_SECONDS",
        10,
        "Refreshes forced by a credential that matches nothing cached: 3 at once, then one per this interval "
        "(also the wait before retrying a failed read); such a credential waits with a 503 and Retry-After, "
        "never a 401. At least 1: it is what keeps a brute force from becoming a Secrets Manager bill.",
        low=1,
        high=3600,
    )
    secret_max_staleness_seconds = Setting(
        "SECRET_MAX_STALENESS_SECONDS",
        3600,
        "While Secrets Manager cannot be reached, cached credentials keep working this long after the last "
        "successful read; then every push is 503.",
        low=0,
        high=7 * DAY,
    )
    previous_password_grace_seconds = Setting(
        "PREVIOUS_PASSWORD_GRACE_SECONDS",
        DAY,
        "After a rotation the previous password (AWSPREVIOUS) keeps working this long; 0 revokes it at once.",
        low=0,
        high=365 * DAY,
    )

    # --- health and delivery -------------------------------------------------------------------------
    health_cache_ttl_seconds = Setting(
        "HEALTH_CACHE_TTL_SECONDS",
        30,
        "How long a `/healthz` answer is cached (anonymous callers cannot make AWS calls faster than this).",
        low=1,
        high=3600,
    )
    retry_base_ms = Setting(
        "RETRY_BASE_MS", 50, "First backoff before a sink call is retried (full jitter).", low=1, high=10_000
    )
    retry_max_backoff_ms = Setting(
        "RETRY_MAX_BACKOFF_MS", 2_000, "Largest backoff between sink calls.", low=1, high=60_000
    )
    retry_max_attempts = Setting("RETRY_MAX_ATTEMPTS", 8, "Sink calls per batch before answering 503.", low=1, high=100)
    deadline_safety_ms = Setting(
        "DEADLINE_SAFETY_MS",
        1_500,
        "Stop retrying when this much of the invocation is left, so the answer is ours (503), not a timeout.",
        low=0,
        high=60_000,
    )
    delivery_connect_timeout_seconds = Setting(
        "DELIVERY_CONNECT_TIMEOUT_SECONDS",
        1.0,
        "Connect timeout of one call to the sink (was FIREHOSE_CONNECT_TIMEOUT_SECONDS, still read).",
        low=0.1,
        high=60.0,
        aliases=("FIREHOSE_CONNECT_TIMEOUT_SECONDS",),
    )
    delivery_read_timeout_seconds = Setting(
        "DELIVERY_READ_TIMEOUT_SECONDS",
        3.0,
        "Read timeout of one call to the sink (was FIREHOSE_READ_TIMEOUT_SECONDS, still read).",
        low=0.1,
        high=300.0,
        aliases=("FIREHOSE_READ_TIMEOUT_SECONDS",),
    )

    # --- construction ------------------------------------------------------------------------------

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are immutable; use replace()")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._values.items())
        return f"Settings({shown})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    @classmethod
    def declared(cls) -> Iterator[Setting[Any]]:
        """Every declared setting, in declaration order."""
        for value in vars(cls).values():
            if isinstance(value, Setting):
                yield value

    @classmethod
    def defaults(cls, **values: Any) -> Settings:
        """Defaults plus `values` (tests, benchmarks); no environment is read."""
        merged = {setting.name: setting.default for setting in cls.declared()}
        merged.update(values)
        return cls(merged)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables (os.environ by default)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in cls.declared():
            raw = setting.raw(env)
            if raw is None:
                if setting.required and setting.sink in (None, values.get("sink")):
                    raise ConfigError(f"{setting.env} is not set")
                values[setting.name] = setting.default
            else:
                values[setting.name] = setting.parse(raw)
        return cls(values)

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(self._values)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return Settings({**self._values, **changes})

    def to_env(self) -> dict[str, str]:
        """The environment that `load()` turns back into these settings."""
        env = {}
        for setting in self.declared():
            value = self._values[setting.name]
            env[setting.env] = ("true" if value else "false") if type(value) is bool else str(value)
        return env


#: Settings that were removed, and what replaced them: still read, so a configuration that
#: sets one is told at start-up (a log warning) instead of silently losing its meaning.
RETIRED = {
    "MAX_ENTRIES_PER_PUSH": "WORK_BUDGET_UNITS (every decoded element is charged; no entry count cap)",
    "MAX_STREAMS_PER_PUSH": "WORK_BUDGET_UNITS (every decoded element is charged; no stream count cap)",
}


def retired_in(env: Mapping[str, str]) -> dict[str, str]:
    """The retired settings `env` sets, with what replaced each."""
    return {name: instead for name, instead in RETIRED.items() if env.get(name) is not None}


#: The environment variables that are settings (the local server passes these through).
ENV_NAMES = frozenset(setting.env for setting in Settings.declared())

"""Which environment variables of the shell are handler settings.

`SUCCESS_STATUS_CODE=204 make run` overrides the deployed function's setting locally. This
module is the one place that decides which names count, so it can later ask the handler's
own settings registry instead of matching prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping

# Prefixes and names of the handler's settings (see the README's configuration table).
SETTING_PREFIXES = (
    "SUCCESS_",
    "MAX_",
    "SECRET_",
    "PREVIOUS_",
    "LOG_LEVEL",
    "RETRY_",
    "DEADLINE_",
    "HEALTH_",
    "AUTH_REFRESH_",
    "REJECT_OLD_SAMPLES_",
    "CREATION_GRACE_",
    "FIREHOSE_CONNECT_",
    "FIREHOSE_READ_",
    "TRACING_ENABLED",
)


def passthrough(environ: Mapping[str, str]) -> dict[str, str]:
    """The handler settings set in `environ` (the shell), to lay over the deployed ones."""
    return {key: value for key, value in environ.items() if key.startswith(SETTING_PREFIXES)}

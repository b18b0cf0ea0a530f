"""Which environment variables of the shell are handler settings.

`SUCCESS_STATUS_CODE=204 make run` overrides the deployed function's setting locally. The
names come from the handler's own settings registry (loki_ingest/settings.py), so a new
setting passes through without an edit here.
"""

from __future__ import annotations

from collections.abc import Mapping

from loki_ingest.settings import ENV_NAMES


def passthrough(environ: Mapping[str, str]) -> dict[str, str]:
    """The handler settings set in `environ` (the shell), to lay over the deployed ones."""
    return {key: value for key, value in environ.items() if key in ENV_NAMES}

"""Optional X-Ray subsegments per phase of a push.

aws-xray-sdk is in maintenance mode (Feb 2026) and its import costs 150-290 ms of cold start,
so it is only imported when TRACING_ENABLED=true, and only botocore is patched. Lambda's own
active tracing (the module's tracing_mode) needs no SDK.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any


class Tracer:
    """Subsegments when tracing is on; no-ops (and no import) when it is off."""

    def __init__(self, enabled: bool, logger: logging.Logger | None = None) -> None:
        self._recorder: Any = None
        if not enabled:
            return
        try:
            from aws_xray_sdk.core import patch, xray_recorder  # noqa: PLC0415 - lazy by design
        except ImportError:
            if logger:
                logger.warning("TRACING_ENABLED is set but aws-xray-sdk is not installed; tracing is off")
            return
        patch(("botocore",))
        self._recorder = xray_recorder

    @contextlib.contextmanager
    def segment(self, name: str) -> Iterator[None]:
        if self._recorder is None:
            yield
            return
        with self._recorder.in_subsegment(name):
            yield

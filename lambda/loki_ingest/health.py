"""GET /healthz: can we ingest right now?

Healthy means the Firehose stream answers DescribeDeliveryStream with status ACTIVE and
the auth secret is readable. The answer is cached for HEALTH_CACHE_TTL_SECONDS, so an
unauthenticated caller polling the URL cannot turn into an AWS API bill.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol


class DescribeApi(Protocol):
    def describe_delivery_stream(self, *, DeliveryStreamName: str) -> Mapping[str, Any]: ...


class Health(NamedTuple):
    healthy: bool
    error: str = ""
    stream_status: str = ""


class HealthCheck:
    def __init__(
        self,
        client: DescribeApi,
        stream_name: str,
        ttl_s: float,
        *,
        extra_check: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._stream = stream_name
        self._ttl = ttl_s
        self._extra = extra_check
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Health] | None = None

    def check(self) -> Health:
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
            result = self._probe()
            self._cached = (now, result)
            return result

    def _probe(self) -> Health:
        try:
            description = self._client.describe_delivery_stream(DeliveryStreamName=self._stream)
            status = str(description["DeliveryStreamDescription"]["DeliveryStreamStatus"])
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            response = getattr(exc, "response", None)
            code = ""
            if isinstance(response, Mapping):
                code = str((response.get("Error") or {}).get("Code", ""))
            return Health(False, f"firehose stream {self._stream}: {code or type(exc).__name__}")
        if status != "ACTIVE":
            return Health(False, f"firehose stream {self._stream} is {status}", status)
        if self._extra is not None:
            try:
                self._extra()
            except Exception as exc:  # noqa: BLE001
                return Health(False, str(getattr(exc, "message", exc)), status)
        return Health(True, "", status)

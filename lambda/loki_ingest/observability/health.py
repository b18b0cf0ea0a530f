"""GET /healthz: can we ingest right now?

Healthy means every probe (the sink's, the credentials') answers None. The answer is cached
for HEALTH_CACHE_TTL_SECONDS, so an unauthenticated caller polling the URL cannot turn into
an AWS API bill.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from loki_ingest.settings import Settings

Probe = Callable[[], "str | None"]


class HealthCheck:
    def __init__(
        self, probes: Sequence[Probe], settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probes = tuple(probes)
        self._ttl = settings.health_cache_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, str | None] | None = None

    def check(self) -> str | None:
        """None when healthy, else the first problem found."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
            problem = next((p for p in (probe() for probe in self._probes) if p is not None), None)
            self._cached = (now, problem)
            return problem

"""The sinks, by the name the SINK setting takes (settings.py declares the same names)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from loki_ingest.delivery import firehose
from loki_ingest.delivery.sink import Sink
from loki_ingest.settings import Settings

SINKS: Mapping[str, Callable[[Settings], Sink]] = {
    "firehose": firehose.from_settings,
}


def build(settings: Settings) -> Sink:
    """The sink the settings choose, with its AWS client."""
    return SINKS[settings.sink](settings)

"""moto server with one fidelity fix, used as the local AWS emulator.

moto 5.2 drops a Lambda function's LoggingConfig, so every plan after an apply would show
`logging_config` as a change. This launcher keeps LoggingConfig (as AWS returns it) and then
runs moto's own server entry point unchanged:

    python -m local.moto_server -H 127.0.0.1 -p 4599
"""

from __future__ import annotations

import functools
from typing import Any

from moto.awslambda import models as lambda_models
from moto.server import main as moto_main


def _logging_config(function: Any, spec: dict[str, Any] | None) -> dict[str, Any]:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
    config.update(spec or {})
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    return config


def patch_lambda_logging_config() -> None:
    cls = lambda_models.LambdaFunction
    if getattr(cls, "_loki_ingest_patched", False):
        return
    original_init = cls.__init__
    original_get = cls.get_configuration
    original_update = cls.update_configuration

    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], region: str, version: str | int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.logging_config = _logging_config(self, spec.get("LoggingConfig"))

    @functools.wraps(original_get)
    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, on_create)
        config["LoggingConfig"] = getattr(self, "logging_config", None) or _logging_config(self, None)
        return config

    @functools.wraps(original_update)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = _logging_config(self, config_updates["LoggingConfig"])
        if "TracingConfig" in config_updates:
            self.tracing_config = config_updates["TracingConfig"]
        result: dict[str, Any] = original_update(self, config_updates)
        return result

    cls.__init__ = init  # type: ignore[method-assign]
    cls.get_configuration = get_configuration  # type: ignore[method-assign]
    cls.update_configuration = update_configuration  # type: ignore[method-assign]
    cls._loki_ingest_patched = True  # type: ignore[attr-defined]


if __name__ == "__main__":
    patch_lambda_logging_config()
    moto_main()

"""Structured JSON logs: one JSON object per line on stdout, whatever the function's log
format is set to. Nothing here ever logs a request body, a log line, a header value or the
secret."""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any

LOGGER_NAME = "loki_ingest"
_LEVELS = {"TRACE": "DEBUG", "FATAL": "CRITICAL", "WARN": "WARNING"}
#: Lambda's level names: with JSON logs it filters lines by this field, and a name it does not
#: know (WARNING, CRITICAL) counts as INFO, so warnings would vanish at log_level WARN
#: (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
_LAMBDA_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
#: Libraries whose DEBUG output carries request and response bodies: the secret's value,
#: the pushed records. The Lambda runtime sets the root logger to the function's log level,
#: so at DEBUG they would print them; they stay at WARNING whatever the level.
_QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "aws_xray_sdk")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": _LAMBDA_LEVEL_NAMES.get(record.levelname, record.levelname),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            doc["error_type"] = type(exc).__name__
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"))


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at emit time (the runtime or a test may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str = "INFO") -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(_LEVELS.get(level.upper(), level.upper()))
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if not any(getattr(h, "_loki_ingest", False) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        handler._loki_ingest = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    # Our lines are already JSON; do not let Lambda's root handler wrap them a second time.
    logger.propagate = False
    return logger

"""boto3 clients, built once per execution environment.

Firehose retries are ours (delivery.py), so botocore's are turned off for that client and
its timeouts are short: a hung connection must not eat the Lambda's whole budget. The
AWS_ENDPOINT_URL environment variable (botocore >= 1.31) points both clients at a local
emulator without any code here knowing about it.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from .config import Settings


def firehose_client(settings: Settings) -> Any:
    return boto3.client(
        "firehose",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=settings.firehose_connect_timeout_s,
            read_timeout=settings.firehose_read_timeout_s,
            tcp_keepalive=True,
        ),
    )


def secrets_client(settings: Settings) -> Any:
    return boto3.client(
        "secretsmanager",
        config=Config(
            retries={"total_max_attempts": 2, "mode": "standard"},
            connect_timeout=settings.firehose_connect_timeout_s,
            read_timeout=settings.firehose_read_timeout_s,
        ),
    )

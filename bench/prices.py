"""Every price the cost model uses, in one place: AWS list prices for us-east-1 (arm64 for
Lambda), each with the page it was read from and when. Prices change; re-check each on its page
before relying on a figure, then update the constant and CHECKED together.

No free tier is applied to the bill (`make cost` prints what the always-free tiers would save
when nothing else in the account uses them); Free Tier credits for new accounts are ignored.
"""

from __future__ import annotations

from typing import NamedTuple

CHECKED = "2026-12"
REGION = "us-east-1"
#: AWS prices a month as 730 hours.
MONTH_S = 730 * 3600


class Price(NamedTuple):
    usd: float
    per: str
    source: str


LAMBDA = "https://aws.amazon.com/lambda/pricing/"
FIREHOSE = "https://aws.amazon.com/firehose/pricing/"
S3 = "https://aws.amazon.com/s3/pricing/"
CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
XRAY = "https://aws.amazon.com/xray/pricing/"
KMS = "https://aws.amazon.com/kms/pricing/"
SECRETS_MANAGER = "https://aws.amazon.com/secrets-manager/pricing/"

PRICES: dict[str, Price] = {
    "lambda_gb_s": Price(0.0000133334, "GB-second, arm64 (first 7.5 billion a month)", LAMBDA),
    "lambda_request": Price(0.20 / 1_000_000, "request", LAMBDA),
    "firehose_gb": Price(0.029, "GB ingested, Direct PUT, each record rounded up to 5 KB (first 500 TB)", FIREHOSE),
    "s3_put": Price(0.005 / 1000, "PUT, COPY, POST or LIST request (S3 Standard)", S3),
    "s3_get": Price(0.0004 / 1000, "GET request (S3 Standard)", S3),
    "s3_standard_gb_month": Price(0.023, "GB-month, S3 Standard (first 50 TB)", S3),
    "s3_ia_gb_month": Price(0.0125, "GB-month, S3 Standard-IA", S3),
    "logs_ingest_gb": Price(0.50, "GB ingested, CloudWatch Logs Standard class", CLOUDWATCH),
    "logs_storage_gb_month": Price(0.03, "GB-month archived (compressed), CloudWatch Logs", CLOUDWATCH),
    "custom_metric_month": Price(0.30, "metric-month: each metric name x dimension values (first 10,000)", CLOUDWATCH),
    "alarm_metric_month": Price(
        0.10, "standard-resolution alarm metric-month (a metric-math alarm pays per metric)", CLOUDWATCH
    ),
    "dashboard_month": Price(3.00, "dashboard-month", CLOUDWATCH),
    "xray_trace": Price(5.00 / 1_000_000, "trace recorded", XRAY),
    "kms_key_month": Price(1.00, "customer managed key-month", KMS),
    "secret_month": Price(0.40, "secret-month", SECRETS_MANAGER),
    "secret_api_call": Price(0.05 / 10_000, "API call", SECRETS_MANAGER),
}

#: The always-free tiers that apply to this bill (same pages). Shown apart, never in the bill:
#: other workloads in the account use them first.
FREE_TIERS: dict[str, float] = {
    "lambda_request": 1_000_000,
    "lambda_gb_s": 400_000,
    "custom_metric_month": 10,
    "alarm_metric_month": 10,
    "dashboard_month": 3,  # up to 50 metrics each
    "logs_gb": 5,  # ingestion, storage and Logs Insights scans together
    "xray_trace": 100_000,
}


class Anchor(NamedTuple):
    """What the same logs cost elsewhere, per GB ingested, with what that price includes."""

    name: str
    usd_per_gb: tuple[float, float]  # low, high
    includes: str
    source: str


#: Per GB of ~1 KB events. Datadog's index price is per million events: the model converts it
#: with the measured events per GB of the workload (anchors() in cost.py).
ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "CloudWatch Logs (Standard)", (0.50, 0.50), "ingestion; storage $0.03/GB-month compressed on top", CLOUDWATCH
    ),
    Anchor(
        "Grafana Cloud Logs",
        (0.45, 0.50),
        "ingestion with 30 days of retention and queries",
        "https://grafana.com/pricing/",
    ),
)
DATADOG = "https://www.datadoghq.com/pricing/"
DATADOG_INGEST_GB = 0.10
DATADOG_INDEX_PER_MILLION_EVENTS = 1.70  # 15-day retention
#: Not a list price: a stated estimate of a small self-run cluster (a few instances sized for
#: ~35 GB a day, S3 storage and requests on top, plus the people who run it).
SELF_HOSTED_LOKI_MONTHLY_AT_1TB = (200.0, 400.0)
SELF_HOSTED_LOKI_SOURCE = "https://grafana.com/docs/loki/latest/setup/size/"

"""What Firehose bills for a set of records (the bench's cost figures)."""

from __future__ import annotations

from collections.abc import Sequence

#: Firehose rounds every record up to the next 5 KB for ingestion pricing
#: (https://aws.amazon.com/firehose/pricing/).
BILLING_INCREMENT = 5 * 1024


def billed_bytes(record_sizes: Sequence[int], increment: int = BILLING_INCREMENT) -> int:
    """What Firehose ingestion bills: each record rounded up to 5 KB."""
    return sum(-(-size // increment) * increment for size in record_sizes)

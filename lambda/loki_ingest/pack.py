"""Pack NDJSON lines into Firehose records and PutRecordBatch calls.

Firehose bills every record rounded up to 5 KB, so one line per record would bill a 1 KB
event as 5 KB. Lines are concatenated into records of up to 1,000 KiB (never splitting a
line; each ends in "\\n", so S3 objects stay NDJSON), and records into batches of at most
500 records and 4 MiB (API_PutRecordBatch hard limits). Records are sized against the
batch's remaining room, so a push of B bytes needs ceil(B / 4 MiB) calls in practice.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import FIREHOSE_MAX_BATCH_BYTES, FIREHOSE_MAX_BATCH_RECORDS, FIREHOSE_MAX_RECORD_BYTES

Batch = list[bytes]


def pack(
    lines: Sequence[bytes],
    *,
    max_record_bytes: int = FIREHOSE_MAX_RECORD_BYTES,
    max_batch_records: int = FIREHOSE_MAX_BATCH_RECORDS,
    max_batch_bytes: int = FIREHOSE_MAX_BATCH_BYTES,
) -> list[Batch]:
    """Group lines into batches of records. Every line must fit in one record."""
    batches: list[Batch] = []
    batch: Batch = []
    batch_bytes = 0
    start = 0  # first line of the open record
    record_bytes = 0
    for index, line in enumerate(lines):
        size = len(line)
        if size > max_record_bytes:
            raise ValueError(f"line {index} is {size} bytes, over the {max_record_bytes}-byte record limit")
        if record_bytes + size > max_record_bytes or batch_bytes + size > max_batch_bytes:
            if index > start:
                batch.append(b"".join(lines[start:index]))
                start = index
                record_bytes = 0
            if len(batch) >= max_batch_records or batch_bytes + size > max_batch_bytes:
                batches.append(batch)
                batch = []
                batch_bytes = 0
        record_bytes += size
        batch_bytes += size
    if len(lines) > start:
        if len(batch) >= max_batch_records:
            batches.append(batch)
            batch = []
        batch.append(b"".join(lines[start:]))
    if batch:
        batches.append(batch)
    return batches


def billed_bytes(record_sizes: Sequence[int], increment: int = 5 * 1024) -> int:
    """What Firehose ingestion bills: each record rounded up to 5 KB."""
    return sum(-(-size // increment) * increment for size in record_sizes)

"""Constants of the wire formats and limits shared by several modules (one definition each)."""

from __future__ import annotations

#: Body bytes as the decoders see them (a bytearray after decompression, bytes otherwise).
Bytes = bytes | bytearray

NS_PER_SECOND = 1_000_000_000

#: The structured-metadata name Loki 3.1+ gives the level it detects (constants.LevelLabel).
DETECTED_LEVEL = "detected_level"
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

#: Loki answers 413 when one stream's label string exceeds 16 MiB (pkg/loghttp/push/push.go).
MAX_LABELS_STRING_BYTES = 1 << 24

#: A function URL in BUFFERED mode caps the whole invoke payload (request and response) at 6 MB
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
FUNCTION_URL_MAX_PAYLOAD = 6 * 1024 * 1024

#: Amazon Data Firehose's hard limits (API_PutRecordBatch / API_Record; they cannot be raised).
FIREHOSE_MAX_RECORD_BYTES = 1_024_000  # 1,000 KiB per record, before base64
FIREHOSE_MAX_BATCH_RECORDS = 500
FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024  # 4 MiB per PutRecordBatch call

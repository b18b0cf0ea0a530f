"""Review 5: Python refuses to convert a decimal string of over 4,300 digits (int_max_str_digits),
which surfaced as a 500 "retry later". Every integer read from text is bounded first: a number
past int64 is a 400 where the protocol requires an integer, and Loki's level detection reads an
out-of-range severity_number attribute as "info" (Go's Atoi range error), so that push is valid."""

from __future__ import annotations

import pytest

from tests.conftest import Harness, event
from tests.support.hostile import NOW_NS, ld

BIG = "1" * 5000
OTLP_JSON = "/otlp/v1/logs"
SEVERITY_ATTRIBUTE = ld(1, b"severity_number") + ld(2, ld(1, BIG.encode()))
RECORD = b"\x09" + NOW_NS.to_bytes(8, "little") + ld(5, ld(1, b"x"))


def otlp_json(record: str) -> bytes:
    return ('{"resourceLogs":[{"scopeLogs":[{"logRecords":[%s]}]}]}'.replace("%s", record)).encode()


CASES = [
    pytest.param(
        "/loki/api/v1/push",
        "application/json",
        ('{"streams":[{"stream":{"a":"b"},"values":[["%s","x"]]}]}'.replace("%s", BIG)).encode(),
        400,
        id="loki-json-timestamp-of-5000-digits-is-400",
    ),
    pytest.param(
        OTLP_JSON,
        "application/json",
        otlp_json('{"timeUnixNano":"%s","body":{"stringValue":"x"}}'.replace("%s", BIG)),
        400,
        id="otlp-json-timeUnixNano-of-5000-digits-is-400",
    ),
    pytest.param(
        OTLP_JSON,
        "application/json",
        otlp_json('{"body":{"intValue":"-%s"}}'.replace("%s", BIG)),
        400,
        id="otlp-json-intValue-of-5000-digits-is-400",
    ),
    pytest.param(
        OTLP_JSON,
        "application/x-protobuf",
        ld(1, ld(2, ld(2, RECORD + ld(6, SEVERITY_ATTRIBUTE)))),
        200,
        id="otlp-protobuf-severity_number-attribute-of-5000-digits-is-info",
    ),
    pytest.param(
        OTLP_JSON,
        "application/x-protobuf",
        ld(1, ld(1, ld(1, SEVERITY_ATTRIBUTE)) + ld(2, ld(2, RECORD))),
        200,
        id="otlp-protobuf-resource-severity_number-of-5000-digits-is-info",
    ),
    pytest.param(
        OTLP_JSON,
        "application/json",
        otlp_json(
            '{"body":{"stringValue":"x"},"attributes":[{"key":"severity_number","value":{"stringValue":"%s"}}]}'.replace(
                "%s", BIG
            )
        ),
        200,
        id="otlp-json-severity_number-attribute-of-5000-digits-is-info",
    ),
]


@pytest.mark.parametrize(("path", "content_type", "body", "status"), CASES)
def test_an_integer_of_thousands_of_digits_gets_a_clear_answer(
    harness: Harness, path: str, content_type: str, body: bytes, status: int
) -> None:
    answer = harness(event(path=path, body=body, content_type=content_type))
    assert answer["statusCode"] == status, answer
    if status == 200:
        levels = [r["metadata"].get("detected_level") for r in harness.firehose.records()]
        assert levels == ["info"], harness.firehose.records()
    else:
        assert "range" in str(answer["body"]) or "overflows" in str(answer["body"]), answer

"""The record declaration (records/schema.py) is what lines carry, what the Glue table has and
what the documents say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loki_ingest.records import reader
from loki_ingest.records.schema import ALWAYS_PRESENT, FIELDS, MAX_COMMENT_CHARS, NAMES
from tests.conftest import NOW_NS, ROOT, Harness, event
from tests.support.scripts import load_script
from tests.support.storage_forms import pushes

record_docs = load_script(ROOT / "scripts" / "record_docs.py", "record_docs")


def landed(harness: Harness) -> list[dict[str, Any]]:
    records = []
    for push in pushes("schema", NOW_NS):
        result = harness(
            event(body=push.body, content_type=push.content_type, extra_headers=tuple(push.headers.items()))
        )
        assert result["statusCode"] == 200, (push.form, result["body"])
    for line in harness.firehose.lines():
        records.append(reader.parse(line))
    return records


def test_every_storage_form_together_carries_every_declared_field(harness: Harness) -> None:
    records = landed(harness)
    assert {key for record in records for key in record} == set(NAMES)


def test_each_line_carries_the_always_fields_in_declaration_order(harness: Harness) -> None:
    for record in landed(harness):
        keys = list(record)
        assert set(keys) >= ALWAYS_PRESENT, keys
        assert keys == sorted(keys, key=NAMES.index), keys


def test_each_field_has_its_declared_json_type(harness: Harness) -> None:
    shapes = {
        "string": lambda v: isinstance(v, str),
        "object of strings": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "object": lambda v: isinstance(v, dict),
        "list of pairs": lambda v: (
            isinstance(v, list) and all(len(p) == 2 and all(isinstance(x, str) for x in p) for p in v)
        ),
    }
    for record in landed(harness):
        for field in FIELDS:
            if field.name in record:
                assert shapes[field.json_type](record[field.name]), (field.name, record[field.name])


def test_column_comments_fit_glue() -> None:
    assert all(len(field.meaning) <= MAX_COMMENT_CHARS for field in FIELDS)


@pytest.mark.parametrize("path", ["modules/loki-ingest/record_columns.tf", "docs/record-format.md", "README.md"])
def test_what_derives_from_the_declaration_is_generated_from_it(path: str) -> None:
    text = (ROOT / path).read_text()
    for field in FIELDS:
        assert f"{field.column_name}" in text
    if path.endswith(".tf"):
        assert text == record_docs.columns_tf()
        assert json.dumps(FIELDS[0].meaning) in text
    else:
        assert record_docs.fields_table() in text

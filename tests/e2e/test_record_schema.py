"""The record declaration against what the deployed stack really has: the keys landed lines
carry (one push per storage form, through real HTTP and the emulator's Firehose and S3), the
Glue table Terraform created, and the local DuckDB view of `make query` are the same fields."""

from __future__ import annotations

import time
import uuid

import pytest

from local.tools.query import PARTITIONS, connect, run
from loki_ingest.records.schema import FIELDS, NAMES
from tests.e2e.conftest import Deployment, Endpoint
from tests.e2e.test_local_stack import http, wait_for
from tests.support.storage_forms import pushes

pytestmark = pytest.mark.e2e

COLUMNS = [field.column_name for field in FIELDS]


def test_landed_records_glue_columns_and_the_local_view_agree(deployment: Deployment, stack: Endpoint) -> None:
    run_id = uuid.uuid4().hex[:12]
    forms = pushes(run_id, time.time_ns())
    for push in forms:
        headers = {"Content-Type": push.content_type, **push.headers}
        status, _, body = http("POST", f"{stack.url}/loki/api/v1/push", push.body, headers, deployment.credentials())
        assert status == 200, (push.form, body)
    records = wait_for(deployment, lambda r: r["stream"].get("run") == run_id, len(forms))
    assert len(records) == len(forms)

    # Lines: together they carry every declared field, each line in declaration order.
    assert {key for record in records for key in record} == set(NAMES)
    assert all(list(record) == sorted(record, key=NAMES.index) for record in records)

    # Glue: the table Terraform made has one column per field, in order, and the partitions.
    table = deployment.client("glue").get_table(DatabaseName=deployment.outputs["glue_database_name"], Name="records")[
        "Table"
    ]
    descriptor = table["StorageDescriptor"]
    assert [column["Name"] for column in descriptor["Columns"]] == COLUMNS
    assert [key["Name"] for key in table["PartitionKeys"]] == list(PARTITIONS)
    mappings = {k: v for k, v in descriptor["SerdeInfo"]["Parameters"].items() if k.startswith("mapping.")}
    assert mappings == {f"mapping.{f.column_name}": f.name for f in FIELDS if f.column_name != f.name}

    # The local view (`make query SQL="DESCRIBE records"`): the Glue table's columns.
    con = connect(deployment.endpoint, deployment.outputs)
    _, rows = run(con, "DESCRIBE records")
    assert [row[0] for row in rows] == COLUMNS + list(PARTITIONS)
    # And every field reads back through it: the tenant and the exact pairs too.
    _, found = run(
        con,
        f"SELECT count(*), count(tenant), count(line_base64), count(stream_base64), count(metadata_base64), "
        f"count(line_prefix) FROM records WHERE stream['run'] = '{run_id}'",
    )
    assert found == [(len(forms), 1, 1, 1, 1, 1)]

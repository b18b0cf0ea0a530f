"""What local/emulator/moto_server.py adds to moto for the monitoring of issue 13: the saved-query APIs
queries.tf applies and destroys, and Firehose deliveries that fail after the records were
accepted, as on AWS (what `make verify` exists to catch)."""

from __future__ import annotations

import uuid

import botocore.exceptions
import pytest

from local.state import emulator_client

pytestmark = pytest.mark.integration


def test_logs_insights_query_definitions_are_saved_listed_updated_and_deleted(moto_endpoint: str) -> None:
    logs = emulator_client("logs", moto_endpoint)
    prefix = f"q-{uuid.uuid4().hex[:8]}"
    first = logs.put_query_definition(name=f"{prefix}/errors", queryString="fields @message", logGroupNames=["/g"])
    logs.put_query_definition(name=f"{prefix}/slowest", queryString="sort duration_ms desc")
    logs.put_query_definition(name="someone-else/x", queryString="fields @timestamp")
    found = logs.describe_query_definitions(queryDefinitionNamePrefix=f"{prefix}/")["queryDefinitions"]
    assert [(q["name"], q["queryString"], q["logGroupNames"]) for q in found] == [
        (f"{prefix}/errors", "fields @message", ["/g"]),
        (f"{prefix}/slowest", "sort duration_ms desc", []),
    ]
    query_id = first["queryDefinitionId"]
    logs.put_query_definition(name=f"{prefix}/errors", queryDefinitionId=query_id, queryString="stats count(*)")
    (updated,) = [
        q
        for q in logs.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"]
        if q["queryDefinitionId"] == query_id
    ]
    assert updated["queryString"] == "stats count(*)" and updated["logGroupNames"] == []
    assert logs.delete_query_definition(queryDefinitionId=query_id)["success"]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_query_definition(queryDefinitionId=query_id)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_query_definition(name="x", queryDefinitionId="no-such-id", queryString="fields @message")


def test_athena_named_queries_can_be_deleted_and_an_unknown_one_is_a_400(moto_endpoint: str) -> None:
    athena = emulator_client("athena", moto_endpoint)
    workgroup = f"wg-{uuid.uuid4().hex[:8]}"
    athena.create_work_group(Name=workgroup)
    query_id = athena.create_named_query(Name="n", Database="db", QueryString="SELECT 1", WorkGroup=workgroup)[
        "NamedQueryId"
    ]
    assert athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]["QueryString"] == "SELECT 1"
    athena.delete_named_query(NamedQueryId=query_id)
    for call in (athena.get_named_query, athena.delete_named_query):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            call(NamedQueryId=query_id)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"] == []


def test_a_failing_delivery_does_not_fail_put_record_batch(moto_endpoint: str) -> None:
    """On AWS, Firehose accepts records before it delivers them: a deleted bucket shows in its
    delivery metrics and logs, never in PutRecordBatch's answer."""
    name = f"fh-{uuid.uuid4().hex[:8]}"
    s3, firehose = emulator_client("s3", moto_endpoint), emulator_client("firehose", moto_endpoint)
    s3.create_bucket(Bucket=name)
    role = emulator_client("iam", moto_endpoint).create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={"RoleARN": role["Role"]["Arn"], "BucketARN": f"arn:aws:s3:::{name}"},
    )
    s3.delete_bucket(Bucket=name)
    answer = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"a\n"}, {"Data": b"b\n"}])
    assert answer["FailedPutCount"] == 0 and all("RecordId" in r for r in answer["RequestResponses"])

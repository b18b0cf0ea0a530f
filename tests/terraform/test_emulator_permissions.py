"""The emulator's Lambda resource policies as Lambda renders them, which the consumer and prod
stack tests read back (local/emulator/moto_server.py fixes moto 5.2 here): AddPermission's URL
conditions, a repeated statement ID, and CloudFormation's AWS::Lambda::Permission adding and
removing its statement with the stack."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from local.state import emulator_client

pytestmark = pytest.mark.terraform


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 200\n")
    return buffer.getvalue()


@pytest.fixture
def function(moto_endpoint: str) -> str:
    name = f"perm-{uuid.uuid4().hex[:8]}"
    iam = emulator_client("iam", moto_endpoint)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    emulator_client("lambda", moto_endpoint).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": tiny_zip()}
    )
    return name


def policy(moto_endpoint: str, name: str) -> list[dict[str, Any]]:
    answer = emulator_client("lambda", moto_endpoint).get_policy(FunctionName=name)
    return list(json.loads(answer["Policy"])["Statement"])


ADD_PERMISSION = [
    pytest.param(
        {"Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"},
        {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        id="function-url-auth-type",
    ),
    pytest.param(
        {"Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": True},
        {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        id="invoked-via-function-url",
    ),
]


@pytest.mark.parametrize(("request_args", "condition"), ADD_PERMISSION)
def test_add_permission_renders_url_parameters_as_conditions(
    moto_endpoint: str, function: str, request_args: dict[str, Any], condition: dict[str, Any]
) -> None:
    client = emulator_client("lambda", moto_endpoint)
    client.add_permission(FunctionName=function, StatementId="s1", Principal="*", **request_args)
    (statement,) = policy(moto_endpoint, function)
    assert statement["Condition"] == condition
    assert not {"FunctionUrlAuthType", "InvokedViaFunctionUrl"} & set(statement), statement


def test_a_repeated_statement_id_is_a_conflict(moto_endpoint: str, function: str) -> None:
    client = emulator_client("lambda", moto_endpoint)
    client.add_permission(FunctionName=function, StatementId="same", Action="lambda:GetFunction", Principal="*")
    with pytest.raises(client.exceptions.ResourceConflictException, match=r"statement id \(same\)"):
        client.add_permission(FunctionName=function, StatementId="same", Action="lambda:GetFunction", Principal="*")
    assert len(policy(moto_endpoint, function)) == 1


def template(logical_id: str, function: str) -> str:
    resource = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": function,
            "Principal": "*",
            "InvokedViaFunctionUrl": True,
        },
    }
    return json.dumps({"Resources": {logical_id: resource}})


def test_a_stack_permission_is_added_replaced_and_removed_with_the_stack(moto_endpoint: str, function: str) -> None:
    cloudformation = emulator_client("cloudformation", moto_endpoint)
    stack = f"{function}-stack"
    cloudformation.create_stack(StackName=stack, TemplateBody=template("First", function))
    (created,) = policy(moto_endpoint, function)
    (resource,) = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    assert created["Sid"] == resource["PhysicalResourceId"] and created["Sid"].startswith(f"{stack}-First-")
    assert created["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    assert "FunctionName" not in created and created["Principal"] == "*"

    # A new logical ID: CloudFormation adds the new statement and removes the old one.
    cloudformation.update_stack(StackName=stack, TemplateBody=template("Second", function))
    (replaced,) = policy(moto_endpoint, function)
    assert replaced["Sid"].startswith(f"{stack}-Second-")

    cloudformation.delete_stack(StackName=stack)
    client = emulator_client("lambda", moto_endpoint)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName=function)

"""Give a function URL with AuthType NONE the lambda:InvokeFunction statement it lacks.

Since October 2025 an AuthType NONE function URL answers 403 unless the function's resource
policy allows both lambda:InvokeFunctionUrl (the module's aws_lambda_permission) and
lambda:InvokeFunction with the lambda:InvokedViaFunctionUrl condition
(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). hashicorp/aws >= 6.28 adds the
second statement when it creates the URL; a URL created by an older provider never gets it,
not even after a provider upgrade. `make function-url-permission ENV=prod` runs this:

    python scripts/function_url_permission.py --function-name loki-ingest-prod

Idempotent: it does nothing when a statement with that condition (ours, or the provider's)
is already there. Uses the AWS credentials and Region of the environment, like the AWS CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3

STATEMENT_ID = "AllowFunctionUrlInvokeFunction"

# parliament:skip=UNKNOWN_CONDITION_FOR_ACTION[lambda:InvokedViaFunctionUrl]:Lambda added this condition key in October 2025, after the IAM definitions parliament 1.6.4 ships (April 2025); urls-auth.html documents it.  # noqa: E501
STATEMENT = {
    "Sid": STATEMENT_ID,
    "Effect": "Allow",
    "Principal": "*",
    "Action": "lambda:InvokeFunction",
    "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
}


def has_invoke_statement(policy: dict[str, Any]) -> bool:
    """True when the resource policy already lets the URL invoke the function."""
    for statement in policy.get("Statement", []):
        if statement.get("Sid") == STATEMENT_ID:
            return True
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Action") == "lambda:InvokeFunction"
            and condition.get("lambda:InvokedViaFunctionUrl") == "true"
        ):
            return True
    return False


def current_policy(client: Any, function_name: str) -> dict[str, Any]:
    try:
        return dict(json.loads(client.get_policy(FunctionName=function_name)["Policy"]))
    except client.exceptions.ResourceNotFoundException:
        return {}


def ensure(client: Any, function_name: str) -> bool:
    """Add the statement unless present; True when it was added."""
    if has_invoke_statement(current_policy(client, function_name)):
        return False
    try:
        client.add_permission(
            FunctionName=function_name,
            StatementId=STATEMENT_ID,
            Action=STATEMENT["Action"],
            Principal=STATEMENT["Principal"],
            InvokedViaFunctionUrl=True,
        )
    except client.exceptions.ResourceConflictException:
        return False  # added concurrently under our statement id
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--function-name", required=True, help="the function's name or, better, its ARN")
    args = parser.parse_args(argv)
    # With an ARN, the function's own Region: the shell's AWS_REGION may point elsewhere, and
    # Terraform's provider Region does not follow it.
    region = args.function_name.split(":")[3] if args.function_name.startswith("arn:") else None
    client = boto3.client("lambda", region_name=region)
    added = ensure(client, args.function_name)
    state = "added" if added else "already present"
    print(f"{args.function_name}: lambda:InvokeFunction via function URL statement {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

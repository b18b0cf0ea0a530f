"""A deployment on AWS (environments/<env>), for `make password ENV=prod` and `make verify
ENV=prod`: its Terraform outputs and its password, read with boto3 (no AWS CLI needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from local.state import NotDeployed, flatten_outputs

# Not resolved: a checkout whose local/ is a link (tests/terraform/test_prod_stack.py) reads its
# own environments/, not the link target's.
ENVIRONMENTS = Path(__file__).absolute().parents[2] / "environments"


def aws_outputs(env: str) -> dict[str, Any]:
    """`terraform -chdir=environments/<env> output -json`, flattened (local.state.flatten_outputs)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise NotDeployed("terraform is not installed: install Terraform >= 1.11")
    result = subprocess.run(
        [terraform, f"-chdir={ENVIRONMENTS / env}", "output", "-json"],
        capture_output=True,
        text=True,
        check=False,
    )
    outputs = flatten_outputs(json.loads(result.stdout)) if result.returncode == 0 and result.stdout.strip() else {}
    if "secret_arn" not in outputs:
        raise NotDeployed(f"environments/{env} has no outputs here: deploy it with `make apply ENV={env}` first")
    return outputs


def aws_credentials(secret_arn: str) -> tuple[str, str]:
    """(username, password) from the deployment's secret, read with boto3 in the secret's own
    region (no AWS CLI or default region needed)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        client = boto3.client("secretsmanager", region_name=secret_arn.split(":")[3])
        secret = client.get_secret_value(SecretId=secret_arn)
    except NoCredentialsError as exc:
        raise NotDeployed("no AWS credentials: configure them (AWS_PROFILE, aws sso login, ...) and retry") from exc
    except (BotoCoreError, ClientError) as exc:
        raise NotDeployed(f"cannot read {secret_arn}: {exc}") from exc
    doc = json.loads(secret["SecretString"])
    return str(doc["username"]), str(doc["password"])


def aws_password(env: str) -> str:
    """The password of environments/<env> on AWS."""
    return aws_credentials(aws_outputs(env)["secret_arn"])[1]

"""How to use the local deployment, or just a password:

python -m local.info --state-dir .local            # the local deployment, how to push to it
python -m local.info --state-dir .local --password # its password (from the emulator)
python -m local.info --env prod --password         # a deployment on AWS (boto3, no AWS CLI)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from local.state import LocalState, NotDeployed, flatten_outputs

# Not resolved: a checkout whose local/ is a link (tests/terraform/test_prod_stack.py) reads its
# own environments/, not the link target's.
ENVIRONMENTS = Path(__file__).absolute().parent.parent / "environments"

SAMPLE = (
    '{"streams":[{"stream":{"service_name":"stytch","env":"local"},'
    '"values":[["\'"$(date +%s%N)"\'","{\\"event_id\\":\\"event-test-1\\",\\"action\\":\\"SessionsAuthenticate\\",'
    '\\"status\\":\\"success\\"}"]]}]}'
)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--password", action="store_true", help="print only the password")
    parser.add_argument("--env", help="a deployment on AWS (environments/<env>) instead of the local one")
    args = parser.parse_args()
    try:
        if args.env:
            print(aws_password(args.env))
            return
        state = LocalState(args.state_dir)
        outputs = state.outputs
        state.require_emulator()
        username, password = state.credentials()
    except NotDeployed as exc:
        sys.exit(str(exc))
    if args.password:
        print(password)
        return
    url = f"http://127.0.0.1:{args.port}"
    print(
        f"""
Local deployment (environments/dev applied with tflocal to the emulator at {state.endpoint_url}):
  Firehose stream  {outputs["firehose_stream_name"]}
  S3 bucket        {outputs["bucket_name"]}
  Function         {outputs["function_name"]}  (its URL only exists in the emulator; `make run` serves it)
  All outputs      make outputs

Loki endpoint served by `make run`:
  push URL   {url}/loki/api/v1/push
  OTLP       {url}/otlp  (base URL for OpenTelemetry exporters; they append /v1/logs)
  username   {username}
  password   make password

Push a line, then read it back:
  PASSWORD=$(make -s password) && curl -i -u "{username}:$PASSWORD" -H 'Content-Type: application/json' \\
    --data '{SAMPLE}' {url}/loki/api/v1/push
  make logs
"""
    )


if __name__ == "__main__":
    main()

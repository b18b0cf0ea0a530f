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

from local.state import LocalState, NotDeployed

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = (
    '{"streams":[{"stream":{"service_name":"stytch","env":"local"},'
    '"values":[["\'"$(date +%s%N)"\'","{\\"event_id\\":\\"event-test-1\\",\\"action\\":\\"SessionsAuthenticate\\",'
    '\\"status\\":\\"success\\"}"]]}]}'
)


def aws_password(env: str) -> str:
    """The password of environments/<env> on AWS: the secret ARN from its Terraform outputs,
    read with boto3 in the secret's own region (no AWS CLI or default region needed)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise NotDeployed("terraform is not installed: install Terraform >= 1.11")
    result = subprocess.run(
        [terraform, f"-chdir={ROOT / 'environments' / env}", "output", "-json", "loki_ingest"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise NotDeployed(f"environments/{env} has no outputs here: deploy it with `make apply ENV={env}` first")
    arn = json.loads(result.stdout)["secret_arn"]
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        secret = boto3.client("secretsmanager", region_name=arn.split(":")[3]).get_secret_value(SecretId=arn)
    except NoCredentialsError as exc:
        raise NotDeployed("no AWS credentials: configure them (AWS_PROFILE, aws sso login, ...) and retry") from exc
    except (BotoCoreError, ClientError) as exc:
        raise NotDeployed(f"cannot read {arn}: {exc}") from exc
    return str(json.loads(secret["SecretString"])["password"])


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

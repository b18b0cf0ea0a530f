"""How to use the local deployment, or just a password:

python -m local.tools.info --state-dir .local            # the local deployment, how to push to it
python -m local.tools.info --state-dir .local --password # its password (from the emulator)
python -m local.tools.info --env prod --password         # a deployment on AWS (boto3, no AWS CLI)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local.state import LocalState, NotDeployed
from local.tools.aws import aws_password

SAMPLE = (
    '{"streams":[{"stream":{"service_name":"stytch","env":"local"},'
    '"values":[["\'"$(date +%s%N)"\'","{\\"event_id\\":\\"event-test-1\\",\\"action\\":\\"SessionsAuthenticate\\",'
    '\\"status\\":\\"success\\"}"]]}]}'
)


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

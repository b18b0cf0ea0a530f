"""Print how to use the local deployment (or just its password with --password)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local.state import LocalState, NotDeployed

SAMPLE = (
    '{"streams":[{"stream":{"service_name":"stytch","env":"local"},'
    '"values":[["\'"$(date +%s%N)"\'","{\\"event_id\\":\\"event-test-1\\",\\"action\\":\\"SessionsAuthenticate\\",'
    '\\"status\\":\\"success\\"}"]]}]}'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--password", action="store_true", help="print only the password")
    args = parser.parse_args()
    state = LocalState(args.state_dir)
    try:
        username, password = state.credentials()
        outputs = state.outputs
    except NotDeployed as exc:
        sys.exit(str(exc))
    if args.password:
        print(password)
        return
    url = f"http://127.0.0.1:{args.port}"
    print(
        f"""
Local deployment (Terraform environments/dev applied to the emulator at {state.endpoint_url}):
  Firehose stream  {outputs["firehose_stream_name"]}
  S3 bucket        {outputs["bucket_name"]}  (prefix {outputs["s3_prefix"]})
  Secret           {outputs["secret_arn"]}
  Function URL     {outputs["function_url"]}  (emulated; `make run` serves the handler locally)

Loki endpoint served by `make run`:
  push URL   {url}/loki/api/v1/push
  OTLP       {url}/otlp  (base URL for OpenTelemetry exporters; they append /v1/logs)
  username   {username}
  password   `make password`  (read from Secrets Manager; never in Terraform state)

Push a line, then look at it in S3:
  curl -i -u "{username}:$(make -s password)" -H 'Content-Type: application/json' \\
    --data '{SAMPLE}' {url}/loki/api/v1/push
  make logs
"""
    )


if __name__ == "__main__":
    main()

"""`make verify`: check a deployment end to end in one command.

    make verify                 # the local stack (`make run` in another terminal)
    make verify ENV=prod        # environments/prod on AWS (ENV=dev: environments/dev)

Reads the deployment's outputs (.local/ for the local stack, `terraform -chdir=environments/<env>
output -json` on AWS) and its password (the emulator's or AWS Secrets Manager, with boto3),
pushes one uniquely marked line with those credentials, waits for it in S3 (up to the Firehose
buffer interval plus a margin, with a progress line while it waits), checks the stored record
against the record invariant and prints the end-to-end latency. Exit status 0 only when the line
landed intact (lambda/loki_canary/handler.py does the work).

VERIFY_TIMEOUT=<seconds> overrides how long it waits; VERIFY_URL=<base URL> pushes through
another front than the function URL (a proxy or a custom domain before it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local.phases import Phases
from local.state import LocalState, NotDeployed, answers
from loki_canary.handler import SERVICE_NAME, Canary, Result, Target

PUSH_PATH = "/loki/api/v1/push"


def target_of(outputs: Mapping[str, Any], push_url: str, credentials: tuple[str, str]) -> Target:
    """What the canary pushes to and reads back from, from a deployment's outputs."""
    username, password = credentials
    return Target(
        push_url=push_url,
        username=username,
        password=password,
        bucket=outputs["bucket_name"],
        s3_prefix=outputs["s3_prefix"],
        buffer_interval_s=int(outputs["firehose_buffering_interval_seconds"]),
    )


def local_target(state: LocalState, base_url: str) -> tuple[Target, Any, str]:
    outputs = state.outputs
    state.require_emulator()
    if not answers(base_url):
        raise NotDeployed(f"nothing listens on {base_url}: start the endpoint with `make run` in another terminal")
    target = target_of(outputs, base_url.rstrip("/") + PUSH_PATH, state.credentials())
    return target, state.client("s3"), f"the local stack ({state.endpoint_url})"


def aws_target(env: str, base_url: str | None) -> tuple[Target, Any, str]:
    import boto3

    from local.tools.aws import aws_credentials, aws_outputs

    outputs = aws_outputs(env)
    credentials = aws_credentials(outputs["secret_arn"])
    region = outputs["secret_arn"].split(":")[3]
    push_url = (base_url.rstrip("/") + PUSH_PATH) if base_url else outputs["push_url"]
    target = target_of(outputs, push_url, credentials)
    return target, boto3.client("s3", region_name=region), f"environments/{env} ({region})"


def report(result: Result, phases: Phases, target: Target, where: str) -> int:
    if result.ok:
        phases.line(
            "verify",
            f"{result.message} ({result.objects_read} new object{'s' if result.objects_read != 1 else ''} read); "
            "the record keeps the invariant and gives back the pushed line, labels and timestamp",
        )
        phases.line(
            "verify",
            f"OK: end-to-end latency {seconds(result.found_after_s)} (push answered in {result.push_ms:.0f} ms, "
            f"object written {result.written_after_s:.0f} s after the push)",
        )
        return 0
    phases.line("verify", f"FAILED: {result.message}")
    if result.status in (200, 204):
        phases.line(
            "verify",
            "the endpoint accepted the line but it did not reach S3: delivery from Firehose to S3 is broken or "
            f"slow. Look at the Firehose log group /aws/kinesisfirehose/<name>, the errors/ prefix of "
            f"s3://{target.bucket}, and the <name>-delivery-* alarms (docs/monitoring.md)",
        )
    phases.line("verify", f"checked {where}; canary lines carry the label service_name={SERVICE_NAME}")
    return 1


def seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".local"), help="the local stack's state")
    parser.add_argument("--url", help="the local endpoint (default: the one `make run` serves)")
    parser.add_argument("--env", help="check environments/<env> on AWS instead of the local stack")
    parser.add_argument("--timeout", type=float, default=_env_float("VERIFY_TIMEOUT"), help="seconds to wait")
    parser.add_argument("--poll", type=float, default=None, help="seconds between S3 listings")
    args = parser.parse_args(argv)
    phases = Phases()
    try:
        if args.env:
            target, s3, where = aws_target(args.env, os.environ.get("VERIFY_URL") or None)
            poll = args.poll or 5.0
        else:
            state = LocalState(args.state_dir)
            target, s3, where = local_target(state, args.url or state.server_url)
            poll = args.poll or 1.0
    except NotDeployed as exc:
        sys.exit(str(exc))
    phases.line("verify", f"{where}: pushing one marked line to {target.push_url}")
    canary = Canary(target, s3, timeout_s=args.timeout, poll_s=poll, progress=lambda line: phases.line("verify", line))
    sys.exit(report(canary.run(), phases, target, where))


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


if __name__ == "__main__":
    main()

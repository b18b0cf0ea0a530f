"""What `make deploy-local` left in .local/: Terraform outputs and the emulator endpoint."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"


class NotDeployed(RuntimeError):
    pass


def emulator_env(endpoint_url: str) -> dict[str, str]:
    """Environment that points boto3 (and the handler) at an emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_XRAY_SDK_ENABLED": "false",
    }


def emulator_client(service: str, endpoint_url: str, **kwargs: Any) -> Any:
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **kwargs,
    )


def read_credentials(endpoint_url: str, secret_arn: str) -> tuple[str, str]:
    """(username, password) from the deployment's secret in the emulator."""
    secret = emulator_client("secretsmanager", endpoint_url).get_secret_value(SecretId=secret_arn)
    doc = json.loads(secret["SecretString"])
    return str(doc["username"]), str(doc["password"])


def flatten_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` of a root: the module's outputs (nested under `loki_ingest`)
    and the root's own, as one flat mapping."""
    values = {name: item["value"] for name, item in raw.items()}
    module = values.pop("loki_ingest", None) or {}
    return {**module, **values}


@dataclass(frozen=True)
class LocalState:
    state_dir: Path

    @property
    def outputs(self) -> dict[str, Any]:
        path = self.state_dir / "outputs.json"
        if not path.exists():
            raise NotDeployed("no local deployment found: run `make deploy-local` (or `make run`) first")
        return flatten_outputs(json.loads(path.read_text()))

    @property
    def endpoint_url(self) -> str:
        tfvars = self.state_dir / "local.tfvars"
        if not tfvars.exists():
            raise NotDeployed("no local deployment found: run `make deploy-local` (or `make run`) first")
        match = re.search(r'aws_endpoint_url\s*=\s*"([^"]+)"', tfvars.read_text())
        if not match:
            raise NotDeployed(f"{tfvars} has no aws_endpoint_url")
        return match.group(1)

    def apply_aws_env(self) -> None:
        os.environ.update(emulator_env(self.endpoint_url))

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint_url)

    def credentials(self) -> tuple[str, str]:
        return read_credentials(self.endpoint_url, self.outputs["secret_arn"])

"""What `make run` (or `make deploy-local`) left in .local/: the Terraform outputs, the
emulator endpoint, and one-line explanations when something is missing."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"
DEFAULT_SERVER_PORT = 3100
SERVER_PORT_FILE = "server.port"


class NotDeployed(RuntimeError):
    """Said to the user in one line, with the command to run instead."""


NO_DEPLOYMENT = "no local deployment yet: run `make run` (it deploys to a local emulator and serves the endpoint)"
EMULATOR_DOWN = (
    "the local emulator is not running: start it with `make run` "
    "(the deployment, its logs and its password are kept across restarts)"
)


def answers(endpoint_url: str, timeout_s: float = 1.0) -> bool:
    """Whether something accepts connections at the endpoint's host and port."""
    host_port = endpoint_url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 80)), timeout=timeout_s):
            return True
    except OSError:
        return False


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
        service,  # type: ignore[call-overload]  # boto3-stubs overload on literal service names
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
    def server_url(self) -> str:
        """The endpoint the last `make run` served (its --port), so `make verify` and `make
        load` find it without LOCAL_PORT; 3100 before any."""
        path = self.state_dir / SERVER_PORT_FILE
        port = path.read_text().strip() if path.exists() else ""
        return f"http://127.0.0.1:{port if port.isdigit() else DEFAULT_SERVER_PORT}"

    def _recorded(self, name: str) -> dict[str, Any]:
        """A JSON file the last apply wrote; NotDeployed when there is none."""
        path = self.state_dir / name
        if not path.exists():
            raise NotDeployed(NO_DEPLOYMENT)
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    @property
    def outputs(self) -> dict[str, Any]:
        return flatten_outputs(self._recorded("outputs.json"))

    @property
    def deployment(self) -> dict[str, Any]:
        """What the last apply recorded (local/tools/deploy.py): endpoint, inputs fingerprint."""
        return self._recorded("deployment.json")

    @property
    def endpoint_url(self) -> str:
        return str(self.deployment["endpoint_url"])

    def require_emulator(self) -> None:
        """Raise NotDeployed (one line, what to run) unless deployed and the emulator answers."""
        if not answers(self.endpoint_url):
            raise NotDeployed(EMULATOR_DOWN)

    def apply_aws_env(self) -> None:
        os.environ.update(emulator_env(self.endpoint_url))

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint_url)

    def credentials(self) -> tuple[str, str]:
        return read_credentials(self.endpoint_url, self.outputs["secret_arn"])

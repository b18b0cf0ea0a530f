"""The function's configuration, read back from the emulator, and the environment Lambda
would give its runtime process.

Terraform sets the handler's settings on the function (environment variables, timeout,
memory, handler, logging); reading them from the emulator's GetFunctionConfiguration
rather than re-deriving them means the local process runs with exactly what the module
deployed. Lambda's own variables are listed at
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    architecture: str
    variables: dict[str, str] = field(default_factory=dict)
    log_group: str = ""
    log_format: str = "Text"
    application_log_level: str = ""

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @classmethod
    def from_api(cls, config: Mapping[str, Any]) -> FunctionConfig:
        """From a GetFunctionConfiguration answer."""
        logging = config.get("LoggingConfig") or {}
        return cls(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config["Handler"],
            runtime=config.get("Runtime", ""),
            timeout_s=float(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            architecture=(config.get("Architectures") or ["x86_64"])[0],
            variables=dict((config.get("Environment") or {}).get("Variables") or {}),
            log_group=logging.get("LogGroup", f"/aws/lambda/{config['FunctionName']}"),
            log_format=logging.get("LogFormat", "Text"),
            application_log_level=logging.get("ApplicationLogLevel", ""),
        )

    @classmethod
    def from_emulator(cls, lambda_client: Any, function_name: str) -> FunctionConfig:
        return cls.from_api(lambda_client.get_function_configuration(FunctionName=function_name))


def runtime_environment(
    config: FunctionConfig,
    *,
    runtime_api: str,
    task_root: Path,
    runtime_dir: Path,
    aws: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Everything the runtime process sees: Lambda's variables, the function's own
    (overridden by `overrides`), and `aws` (credentials and the emulator endpoint, standing
    in for the execution role). Nothing else leaks in from the caller's environment."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": config.handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]local",
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        # /var/task is read-only in Lambda, so nothing is ever byte-compiled there.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": f"{task_root}:{runtime_dir}",
    }
    if config.log_format == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if config.application_log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = config.application_log_level
    env.update(config.variables)
    env.update(overrides or {})
    env.update(aws)
    return env

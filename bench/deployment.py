"""The deployment a bill is for, as the Terraform root and the handler's settings configure it
(bench/cost.py): memory, tracing, log levels, Firehose buffering, alarms, dashboard, canary, keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT
from bench.prices import MONTH_S

#: The wait on one PutRecordBatch call, billed as Lambda duration. An assumption: AWS publishes
#: no latency figure; in-Region round trips of small batches are tens of milliseconds, and the
#: stream's `PutRecordBatch.Latency` metric shows the real one once deployed. Small pushes are
#: billed mostly for this wait, so `make cost FIREHOSE_CALL_MS=...` takes yours.
FIREHOSE_CALL_MS = 40.0


# --- the deployment as configured ---------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What the bill depends on, as the Terraform root and the handler's settings configure it."""

    root: str = "prod"
    memory_mb: int = 512
    tracing_mode: str = "PassThrough"
    system_log_level: str = "WARN"
    log_every_request: bool = False
    metrics_interval_s: int = 60
    secret_cache_ttl_s: int = 300
    buffer_mb: int = 64
    buffer_interval_s: int = 300
    transition_to_ia_days: int | None = None
    alarm_metrics: int = 0
    dashboards: int = 0
    canary_runs_per_month: float = 0.0
    canary_memory_mb: int = 256
    kms_keys: int = 0
    secrets: int = 1
    firehose_call_ms: float = FIREHOSE_CALL_MS


def _hcl(path: Path) -> dict[str, Any]:
    import hcl2

    with path.open() as handle:
        loaded: dict[str, Any] = hcl2.load(handle)
        return loaded


def _unquote(value: Any) -> Any:
    """hcl2 keeps the quotes of strings and keys."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _blocks(doc: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {_unquote(name): body for block in doc.get(kind, []) for name, body in block.items()}


def _variable_defaults(path: Path) -> dict[str, Any]:
    return {name: _unquote(body.get("default")) for name, body in _blocks(_hcl(path), "variable").items()}


def _literal(value: Any, root_variables: Mapping[str, Any]) -> tuple[bool, Any]:
    """(known, value) of a module argument: a literal, or `var.x` with the root's default."""
    value = _unquote(value)
    if isinstance(value, str) and value.startswith("${var.") and value.endswith("}"):
        name = value[len("${var.") : -1]
        return (name in root_variables, root_variables.get(name))
    if isinstance(value, str) and value.startswith("${"):
        return (False, None)
    return (True, value)


def _rate_per_month(expression: str | None) -> float:
    """Runs a month of an EventBridge rate(N unit) schedule (0 for none)."""
    if not expression:
        return 0.0
    number, unit = expression.removeprefix("rate(").removesuffix(")").split()
    seconds = int(number) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return MONTH_S / seconds


def terraform_defaults(root: str = "prod", checkout: Path = ROOT) -> Deployment:
    """The deployment `environments/<root>` describes, module defaults filled in."""
    module = checkout / "modules" / "loki-ingest"
    root_dir = checkout / "environments" / root
    variables = _variable_defaults(module / "variables.tf")
    root_variables = _variable_defaults(root_dir / "variables.tf")
    main = _hcl(root_dir / "main.tf")
    arguments = next(iter(_blocks(main, "module").values()))
    for name, value in arguments.items():
        known, literal = _literal(value, root_variables)
        if known and name in variables:
            variables[name] = literal
    monitoring = {name: value for block in _hcl(module / "monitoring.tf")["locals"] for name, value in block.items()}
    canary_schedule = variables.get("canary_schedule_expression")
    alarm_metrics = 0
    if variables.get("alarms_enabled", True):
        alarm_metrics = len(monitoring.get("metric_alarms", {})) + 2 * len(monitoring.get("rate_alarms", {}))
        alarm_metrics += 1 if canary_schedule else 0  # canary.tf: one alarm on CanarySuccess
    canary_functions = _blocks(_resources(module / "canary.tf"), "aws_lambda_function")
    kms_keys = sum(len(_blocks(_resources(path), "aws_kms_key")) for path in root_dir.glob("*.tf"))
    from loki_ingest.settings import Settings

    declared = {setting.name: setting.default for setting in Settings.declared()}
    return Deployment(
        root=root,
        memory_mb=int(variables["lambda_memory_mb"]),
        tracing_mode=str(variables["tracing_mode"]),
        system_log_level=str(variables.get("system_log_level") or "INFO"),  # INFO before the variable existed
        log_every_request=bool(declared.get("log_every_request", True)),  # every request before the setting
        metrics_interval_s=int(declared.get("metrics_interval_seconds", 0)),
        secret_cache_ttl_s=int(declared["secret_cache_ttl_seconds"]),
        buffer_mb=int(variables["firehose_buffering_size_mb"]),
        buffer_interval_s=int(variables["firehose_buffering_interval_seconds"]),
        transition_to_ia_days=variables.get("transition_to_ia_days"),
        alarm_metrics=alarm_metrics,
        dashboards=1 if variables.get("dashboard_enabled", True) else 0,
        canary_runs_per_month=_rate_per_month(canary_schedule),
        canary_memory_mb=int(next(iter(canary_functions.values())).get("memory_size", 256)),
        kms_keys=kms_keys,
    )


def _resources(path: Path) -> dict[str, Any]:
    """{resource type: [{name: body}]} of one file, shaped like _blocks expects."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for block in _hcl(path).get("resource", []):
        for kind, named in block.items():
            by_type.setdefault(_unquote(kind), []).append(named)
    return by_type

"""moto server with the fidelity fixes and the persistence the local stack needs.

    python -m local.emulator.moto_server --state-file .local/emulator-state.pickle -H 127.0.0.1 -p 4599

Fixes, each applied before moto's own server entry point runs unchanged:

* LoggingConfig: moto 5.2 drops a Lambda function's LoggingConfig, so every plan after an
  apply would show `logging_config` as a change. It is kept, as AWS returns it.
* Firehose S3 delivery: moto ignores `!{timestamp:...}` prefix expressions (and appends its
  own YYYY/MM/DD/HH/), the file extension and GZIP compression. Objects are written as
  Firehose writes them: expressions evaluated at arrival time (UTC), the default time
  prefix only when the prefix has no timestamp expression, the configured extension, and
  gzipped when CompressionFormat is GZIP. Local objects then have the same keys and bytes
  layout as on AWS, and the Athena-shaped view of `make query` sees the same partitions.
  A delivery that fails (a deleted bucket) does not fail PutRecordBatch, as on AWS, where
  delivery happens after the records are accepted: the handler answers 200 and the line
  never lands, which is what `make verify` exists to catch.
* aws:SecureTransport: moto's policy evaluation ignores the `Bool` condition operator, so
  the module's deny-unless-TLS bucket policy denied every object request. The emulator
  stands in for AWS's HTTPS endpoints, so requests are evaluated as having arrived over
  TLS, and the dev root keeps its TLS-only policy locally too.
* Saved queries: moto 5.2 has no CloudWatch Logs query definitions (PutQueryDefinition,
  DescribeQueryDefinitions, DeleteQueryDefinition) and no Athena DeleteNamedQuery, which the
  module's queries.tf needs to apply and to destroy. They are implemented here, with the
  request and answer shapes of the API references
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html,
  https://docs.aws.amazon.com/athena/latest/APIReference/API_DeleteNamedQuery.html).
* Lambda resource policies: moto 5.2 keeps AddPermission's FunctionUrlAuthType and
  InvokedViaFunctionUrl as raw keys of the statement; Lambda renders them as conditions
  (`StringEquals lambda:FunctionUrlAuthType`, `Bool lambda:InvokedViaFunctionUrl`), and so
  does this wrapper. A repeated statement id is a 409 ResourceConflictException, as on AWS.
* CloudFormation AWS::Lambda::Permission: moto 5.2 appends the template's properties to the
  policy as they are and never removes them. Here they go through AddPermission, with the
  resource's physical id as statement id, and a stack update that drops the resource or
  DeleteStack removes the statement (the module's InvokeFunction statement is such a stack).

Persistence (persistence.py): with --state-file, the services' state is saved when the
server stops and loaded at the next start; the outcome of the load is written next to it
(<state-file>.status.json) for `local.emulator.control` to report.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import gzip
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.awslambda import exceptions as lambda_exceptions
from moto.awslambda import models as lambda_models
from moto.awslambda import policy as lambda_policy
from moto.firehose import models as firehose_models
from moto.iam import access_control, policy_conditions
from moto.s3.models import s3_backends
from moto.server import main as moto_main

from local.emulator.persistence import install_save_on_stop, load_state, running_marker

_PATCHED = "_loki_ingest_patched"


def _patched(cls: type) -> bool:
    return bool(getattr(cls, _PATCHED, False))


def _install(cls: type, methods: dict[str, Callable[..., Any] | classmethod[Any, Any, Any]]) -> None:
    """Set (or add) methods on one of moto's classes and mark it patched. mypy does not
    follow monkeypatching; each replacement's own signature and body are checked where it
    is defined."""
    for name, method in methods.items():
        setattr(cls, name, method)
    setattr(cls, _PATCHED, True)


def _logging_config(function: lambda_models.LambdaFunction, spec: dict[str, Any] | None) -> dict[str, Any]:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
    config.update(spec or {})
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    return config


def patch_lambda_logging_config() -> None:
    cls = lambda_models.LambdaFunction
    if _patched(cls):
        return
    original_init = cls.__init__
    original_get = cls.get_configuration
    original_update = cls.update_configuration

    # `self: Any` where the patch adds logging_config, which moto's LambdaFunction does not
    # declare (it is pickled with the function, so a saved state keeps it).
    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], region: str, version: str | int = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.logging_config = _logging_config(self, spec.get("LoggingConfig"))

    @functools.wraps(original_get)
    def get_configuration(self: lambda_models.LambdaFunction, on_create: bool = False) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, on_create)
        config["LoggingConfig"] = getattr(self, "logging_config", None) or _logging_config(self, None)
        return config

    @functools.wraps(original_update)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = _logging_config(self, config_updates["LoggingConfig"])
        if "TracingConfig" in config_updates:
            self.tracing_config = config_updates["TracingConfig"]
        result: dict[str, Any] = original_update(self, config_updates)
        return result

    _install(
        cls, {"__init__": init, "get_configuration": get_configuration, "update_configuration": update_configuration}
    )


def _bool_equals(expected_value: list[str] | str, actual_value: str) -> bool:
    """`Bool`, with the signature of moto's own condition operations."""
    values = expected_value if isinstance(expected_value, list) else [expected_value]
    return str(actual_value).lower() in [str(value).lower() for value in values]


def patch_secure_transport() -> None:
    """Evaluate `Bool` conditions, with aws:SecureTransport true for every request, and let
    a statement whose condition does not hold simply not apply (moto denies instead)."""
    statement = access_control.IAMPolicyStatement
    if _patched(statement):
        return
    policy_conditions.CONDITION_OPERATIONS["Bool"] = _bool_equals
    original_permitted = statement.is_action_permitted
    check_conditions = statement._check_conditions

    @functools.wraps(original_permitted)
    def is_action_permitted(
        self: access_control.IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> access_control.PermissionResult:
        incoming = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        if self._statement.get("Condition") and not check_conditions(self, incoming):
            return access_control.PermissionResult.NEUTRAL
        return original_permitted(self, action, resource, principal, incoming)

    _install(statement, {"is_action_permitted": is_action_permitted})


_EXPRESSION = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")
# Java DateTimeFormatter patterns Firehose prefixes use, as strftime directives.
_JAVA_TIME = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


def _java_time(pattern: str, when: datetime.datetime) -> str:
    out = []
    for index, part in enumerate(pattern.split("'")):
        if index % 2:  # quoted literal
            out.append(part)
            continue
        directives = part
        for java, directive in _JAVA_TIME:
            directives = directives.replace(java, directive)
        out.append(when.strftime(directives))
    return "".join(out)


def firehose_object_key(stream: str, version: str, destination: dict[str, Any], when: datetime.datetime) -> str:
    """The S3 key Firehose gives a delivered object:
    https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html"""
    prefix = destination.get("Prefix", "") or ""

    def evaluate(match: re.Match[str]) -> str:
        namespace, value = match.groups()
        if namespace == "timestamp":
            return _java_time(value, when)
        if value == "random-string":
            return uuid.uuid4().hex[:11]
        return match.group(0)

    # Without a timestamp expression Firehose appends its default UTC time prefix.
    prefix = _EXPRESSION.sub(evaluate, prefix) if _EXPRESSION.search(prefix) else f"{prefix}{when:%Y/%m/%d/%H}/"
    extension = destination.get("FileExtension") or (".gz" if destination.get("CompressionFormat") == "GZIP" else "")
    return f"{prefix}{stream}-{version}-{when:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}{extension}"


def patch_firehose_s3_delivery() -> None:
    cls = firehose_models.FirehoseBackend
    if _patched(cls):
        return

    def put_s3_records(
        self: firehose_models.FirehoseBackend,
        delivery_stream_name: str,
        version_id: str,
        s3_destination: dict[str, Any],
        records: list[Any],
    ) -> list[dict[str, str]]:
        bucket_name = s3_destination["BucketARN"].split(":")[-1]
        key = firehose_object_key(delivery_stream_name, version_id, s3_destination, datetime.datetime.now(datetime.UTC))
        data = b"".join(record["Data"] for record in records)
        if s3_destination.get("CompressionFormat") == "GZIP":
            data = gzip.compress(data, mtime=0)
        try:
            s3_backends[self.account_id][self.partition].put_object(bucket_name, key, data)
        except Exception as exc:  # noqa: BLE001 - delivery is asynchronous on AWS, see below
            # Firehose accepts records before it delivers them: a failing delivery (deleted
            # bucket, denied PUT) never fails PutRecordBatch; Firehose retries and logs to its
            # CloudWatch log group. Here the records are dropped, and the log says so.
            print(f"firehose {delivery_stream_name}: delivery to s3://{bucket_name}/{key} failed: {exc!r}", flush=True)
        return [{"RecordId": str(uuid.uuid4())} for _ in records]

    _install(cls, {"put_s3_records": put_s3_records})


def _query_definitions(backend: Any) -> dict[str, dict[str, Any]]:
    """The backend's saved Logs Insights queries (an attribute added here, so a state saved
    before it existed still loads)."""
    if not hasattr(backend, "loki_query_definitions"):
        backend.loki_query_definitions = {}
    found: dict[str, dict[str, Any]] = backend.loki_query_definitions
    return found


def patch_saved_queries() -> None:
    from moto.athena import responses as athena_responses
    from moto.logs import exceptions as logs_exceptions
    from moto.logs import responses as logs_responses

    logs = logs_responses.LogsResponse
    if _patched(logs):
        return

    def put_query_definition(self: logs_responses.LogsResponse) -> str:
        definitions = _query_definitions(self.logs_backend)
        query_id = self._get_param("queryDefinitionId") or str(uuid.uuid4())
        if self._get_param("queryDefinitionId") and query_id not in definitions:
            raise logs_exceptions.ResourceNotFoundException("The query definition does not exist.")
        definitions[query_id] = {
            "queryLanguage": self._get_param("queryLanguage") or "CWLI",
            "queryDefinitionId": query_id,
            "name": self._get_param("name"),
            "queryString": self._get_param("queryString"),
            "lastModified": int(time.time() * 1000),
            "logGroupNames": self._get_param("logGroupNames") or [],
        }
        return json.dumps({"queryDefinitionId": query_id})

    def describe_query_definitions(self: logs_responses.LogsResponse) -> str:
        prefix = self._get_param("queryDefinitionNamePrefix") or ""
        found = [d for d in _query_definitions(self.logs_backend).values() if d["name"].startswith(prefix)]
        return json.dumps({"queryDefinitions": sorted(found, key=lambda d: d["name"])})

    def delete_query_definition(self: logs_responses.LogsResponse) -> str:
        if _query_definitions(self.logs_backend).pop(self._get_param("queryDefinitionId"), None) is None:
            raise logs_exceptions.ResourceNotFoundException("The query definition does not exist.")
        return json.dumps({"success": True})

    _install(
        logs,
        {
            "put_query_definition": put_query_definition,
            "describe_query_definitions": describe_query_definitions,
            "delete_query_definition": delete_query_definition,
        },
    )

    athena = athena_responses.AthenaResponse
    original_get = athena.get_named_query

    def delete_named_query(self: athena_responses.AthenaResponse) -> str | tuple[str, dict[str, int]]:
        if self.athena_backend.named_queries.pop(self._get_param("NamedQueryId"), None) is None:
            return self.error("NamedQuery does not exist", 400)
        return json.dumps({})

    @functools.wraps(original_get)
    def get_named_query(self: athena_responses.AthenaResponse) -> str | tuple[str, dict[str, int]]:
        # moto answers a 500 (an AttributeError) for an unknown id; AWS a 400.
        if self.athena_backend.get_named_query(self._get_param("NamedQueryId")) is None:
            return self.error("NamedQuery does not exist", 400)
        return original_get(self)

    # moto annotates get_named_query `-> str`; its dispatcher also takes the (body, headers)
    # tuple its own error() returns, which is how the 400 above is answered.
    _install(athena, {"delete_named_query": delete_named_query, "get_named_query": get_named_query})


# --- Lambda resource policies ---------------------------------------------------------------

# AddPermission parameters that Lambda renders as a condition of the statement
# (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html shows both).
_PERMISSION_CONDITIONS: dict[str, Callable[[Any], dict[str, dict[str, str]]]] = {
    "FunctionUrlAuthType": lambda value: {"StringEquals": {"lambda:FunctionUrlAuthType": value}},
    "InvokedViaFunctionUrl": lambda value: {"Bool": {"lambda:InvokedViaFunctionUrl": str(value).lower()}},
}
# What Lambda answers to a second AddPermission with a statement id already in the policy.
_DUPLICATE_SID = "The statement id ({sid}) provided already exists. " + (
    "Please provide a new statement id, or remove the existing statement."
)


class StatementIdConflict(lambda_exceptions.LambdaClientError):
    code = 409

    def __init__(self, sid: str) -> None:
        super().__init__("ResourceConflictException", _DUPLICATE_SID.format(sid=sid))


def patch_lambda_permissions() -> None:
    """AddPermission as Lambda renders it: FunctionUrlAuthType and InvokedViaFunctionUrl become
    Condition entries (moto 5.2 keeps them as raw keys of the statement), and a statement id
    that is already in the policy is a 409 ResourceConflictException (moto adds a second one)."""
    policy_cls = lambda_policy.Policy
    if _patched(policy_cls):
        return
    original_decode = policy_cls.decode_policy
    original_add = policy_cls.add_statement

    @functools.wraps(original_decode)
    def decode_policy(self: Any, obj: dict[str, Any]) -> Any:
        conditions: dict[str, dict[str, Any]] = {}
        for key, render in _PERMISSION_CONDITIONS.items():
            if key in obj:
                value = obj.pop(key)
                if value is not None and value is not False:
                    for operator, keys in render(value).items():
                        conditions.setdefault(operator, {}).update(keys)
        decoded = original_decode(self, obj)
        if conditions:
            statement = decoded.statements[0]
            for operator, keys in conditions.items():
                statement.setdefault("Condition", {}).setdefault(operator, {}).update(keys)
        return decoded

    @functools.wraps(original_add)
    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> tuple[Any, str]:
        sid = json.loads(raw).get("StatementId")
        if sid is not None and any(statement.get("Sid") == sid for statement in self.statements):
            raise StatementIdConflict(sid)
        result: tuple[Any, str] = original_add(self, raw, qualifier)
        return result

    _install(policy_cls, {"decode_policy": decode_policy, "add_statement": add_statement})


# CloudFormation's AWS::Lambda::Permission properties that AddPermission takes as they are
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-permission.html).
_CFN_PERMISSION_PROPERTIES = (
    "Action",
    "Principal",
    "SourceArn",
    "SourceAccount",
    "EventSourceToken",
    "PrincipalOrgID",
    "FunctionUrlAuthType",
    "InvokedViaFunctionUrl",
)
_STATEMENT_ID_MAX = 100  # AddPermission's StatementId length limit


class CloudFormationPermission:
    """One statement a stack's AWS::Lambda::Permission added: deleting the resource (a stack
    update that drops it, or DeleteStack) removes the statement, as on AWS."""

    def __init__(self, account_id: str, region: str, function_name: str, statement_id: str) -> None:
        self.account_id = account_id
        self.region = region
        self.function_name = function_name
        self.physical_resource_id = statement_id

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        backend = lambda_models.lambda_backends[account_id][region_name]
        # The function (and its policy) may be gone already: nothing is left to remove then.
        with contextlib.suppress(lambda_exceptions.UnknownFunctionException, lambda_exceptions.UnknownPolicyException):
            backend.remove_permission(self.function_name, self.physical_resource_id)


def patch_cloudformation_lambda_permission() -> None:
    """moto 5.2 creates AWS::Lambda::Permission by appending the raw template properties to the
    policy (FunctionName among them, a random statement id) and never removes it: not on a stack
    update and not on DeleteStack. Here the properties go through AddPermission with the
    resource's physical id as statement id, and deleting the resource removes the statement."""
    cls = lambda_models.Permission
    if _patched(cls):
        return

    def create(
        _cls: Any,
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> CloudFormationPermission:
        properties = cloudformation_json["Properties"]
        function_name = str(properties["FunctionName"])
        statement_id = re.sub(r"[^A-Za-z0-9_-]", "-", resource_name)[:_STATEMENT_ID_MAX]
        request = {key: properties[key] for key in _CFN_PERMISSION_PROPERTIES if key in properties}
        request["StatementId"] = statement_id
        backend = lambda_models.lambda_backends[account_id][region_name]
        backend.add_permission(function_name, properties.get("Qualifier"), json.dumps(request))
        return CloudFormationPermission(account_id, region_name, function_name, statement_id)

    def update(
        _cls: Any,
        /,
        original_resource: CloudFormationPermission,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudFormationPermission:
        # Every property of AWS::Lambda::Permission requires replacement: the new statement is
        # added first, then the old one removed.
        created = create(_cls, new_resource_name, cloudformation_json, account_id, region_name)
        original_resource.delete(account_id, region_name)
        return created

    _install(
        cls,
        {
            "create_from_cloudformation_json": classmethod(create),
            "update_from_cloudformation_json": classmethod(update),
        },
    )


# The services environments/dev uses, touched once at start (see warm_up).
WARM_SERVICES = (
    "sts",
    "iam",
    "s3",
    "lambda",
    "firehose",
    "secretsmanager",
    "logs",
    "glue",
    "cloudwatch",
    "athena",
    "cloudformation",
)


def warm_up() -> None:
    """Import and initialise the backends Terraform is about to call (IAM loads its AWS
    managed policies, modules compile) while Terraform itself is still starting, instead
    of inside its first requests."""
    from moto.backends import get_backend
    from moto.core.models import DEFAULT_ACCOUNT_ID

    for service in WARM_SERVICES:
        with contextlib.suppress(Exception):
            # get_backend is overloaded on each literal service name; these are plain strings.
            backends = get_backend(service)  # type: ignore[call-overload]
            account = backends[DEFAULT_ACCOUNT_ID]
            _ = account["aws" if service in ("s3", "iam", "sts") else "us-east-1"]


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--state-file", type=Path)
    args, moto_args = parser.parse_known_args()
    patch_lambda_logging_config()
    patch_secure_transport()
    patch_firehose_s3_delivery()
    patch_saved_queries()
    patch_lambda_permissions()
    patch_cloudformation_lambda_permission()
    if args.state_file is not None:
        status = load_state(args.state_file)
        marker = running_marker(args.state_file)
        if marker.exists():
            status["unclean_stop"] = True
            status["saved_at"] = args.state_file.stat().st_mtime if args.state_file.exists() else None
        marker.write_text(f"{os.getpid()}\n")
        args.state_file.with_name(args.state_file.name + ".status.json").write_text(json.dumps(status) + "\n")
        install_save_on_stop(args.state_file)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    sys.argv = [sys.argv[0], *moto_args]
    moto_main()


if __name__ == "__main__":
    main()

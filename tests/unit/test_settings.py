"""The settings registry: loading, bounds, and that everything else derives from it."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from loki_ingest.settings import ENV_NAMES, ConfigError, Settings
from tests.conftest import ROOT
from tests.support.scripts import load_script

BASE = {"FIREHOSE_DELIVERYSTREAM_NAME": "s", "AUTH_SECRET_ARN": "arn"}
MODULE = ROOT / "modules" / "loki-ingest"


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
        pytest.param({**BASE, "SINK": "kafka"}, id="unknown-sink"),
        pytest.param({**BASE, "MAX_BODY_BYTES": str(6 * 1024 * 1024 + 1)}, id="body-over-the-function-url-limit"),
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
        ({"DELIVERY_READ_TIMEOUT_SECONDS": "2.5"}, "delivery_read_timeout_seconds", 2.5),
        # What users set before the sink-neutral names still works; the new name wins.
        ({"FIREHOSE_READ_TIMEOUT_SECONDS": "2.5"}, "delivery_read_timeout_seconds", 2.5),
        (
            {"FIREHOSE_READ_TIMEOUT_SECONDS": "2.5", "DELIVERY_READ_TIMEOUT_SECONDS": "4"},
            "delivery_read_timeout_seconds",
            4.0,
        ),
        ({"SINK": "Firehose"}, "sink", "firehose"),
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
    assert (MODULE / "handler_settings.tf").read_text() == docs.handler_settings_tf(registry), "run `make docs`"


def test_a_sink_setting_is_required_only_under_its_sink() -> None:
    setting = Settings.firehose_stream_name
    assert setting.sink == "firehose" and setting.required
    with pytest.raises(ConfigError, match="FIREHOSE_DELIVERYSTREAM_NAME"):
        Settings.load({"AUTH_SECRET_ARN": "arn"})
    # Declared for another sink, the same requirement does not apply under this one.
    original = setting.sink
    setting.sink = "elsewhere"
    try:
        assert Settings.load({"AUTH_SECRET_ARN": "arn"}).firehose_stream_name == ""
    finally:
        setting.sink = original


def test_every_sink_the_setting_accepts_is_registered() -> None:
    from loki_ingest.delivery.registry import SINKS

    assert Settings.sink.choices is not None
    assert set(Settings.sink.choices.values()) == set(SINKS)


@pytest.mark.parametrize(
    "setting", [s for s in Settings.declared() if s.module == "handler_settings"], ids=lambda s: s.env
)
def test_terraform_validates_each_setting_with_the_handlers_own_bounds(setting: Any) -> None:
    generated = docs.handler_settings_tf([setting])
    for attribute in [setting.env.lower(), *(alias.lower() for alias in setting.aliases)]:
        assert f"    {attribute}" in generated
        if setting.low is not None:
            assert f"var.handler_settings.{attribute} >= {setting.low}" in generated
        if setting.high is not None:
            assert f"var.handler_settings.{attribute} <= {setting.high}" in generated


NEW_SETTINGS = """
    max_widgets = Setting("MAX_WIDGETS", 7, "How many widgets a push may carry.", low=1, high=99)
    widget_mode = Setting("WIDGET_MODE", "fast", "How widgets are made.", choices={"FAST": "fast", "SAFE": "safe"})
    widgets_on = Setting("WIDGETS_ON", False, "Whether widgets are made at all.")
"""


def registry_with_new_settings(tmp_path: Path) -> Any:
    """A copy of the package with three more declarations (a number, a string, a bool)."""
    source = (ROOT / "lambda" / "loki_ingest" / "settings.py").read_text()
    anchor = "    # --- construction"
    assert anchor in source
    package = tmp_path / "loki_ingest_copy"
    shutil.copytree(ROOT / "lambda" / "loki_ingest", package, ignore=shutil.ignore_patterns("__pycache__"))
    text = source.replace(anchor, NEW_SETTINGS + "\n" + anchor, 1).replace("loki_ingest.", "loki_ingest_copy.")
    (package / "settings.py").write_text(text)
    for path in package.rglob("*.py"):
        path.write_text(path.read_text().replace("from loki_ingest.", "from loki_ingest_copy."))
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("loki_ingest_copy.settings")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("loki_ingest_copy")]:
            sys.modules.pop(name)
    return module


def test_adding_a_setting_is_one_declaration(tmp_path: Path) -> None:
    copy = registry_with_new_settings(tmp_path)
    registry = list(copy.Settings.declared())
    variables_tf, lambda_tf = module_texts()

    # The declaration alone: the handler reads it, the local server passes it through, and
    # `make docs` generates its README row, its typed Terraform attribute with the same bounds,
    # and the plans that prove Terraform refuses what the handler would.
    settings = copy.Settings.load({**BASE, "MAX_WIDGETS": "9", "WIDGET_MODE": "safe", "WIDGETS_ON": "yes"})
    assert (settings.max_widgets, settings.widget_mode, settings.widgets_on) == (9, "safe", True)
    assert {"MAX_WIDGETS", "WIDGET_MODE", "WIDGETS_ON"} <= copy.ENV_NAMES
    assert "`MAX_WIDGETS` | `handler_settings.max_widgets` | 7 | 1 to 99 |" in docs.settings_table(registry)
    generated = docs.handler_settings_tf(registry)
    assert "max_widgets                        = optional(number)" in generated
    assert "widget_mode                        = optional(string)" in generated
    assert "widgets_on                         = optional(bool)" in generated
    assert "var.handler_settings.max_widgets >= 1 && var.handler_settings.max_widgets <= 99" in generated
    assert 'contains(["FAST", "SAFE"], upper(var.handler_settings.widget_mode))' in generated
    tftest = docs.settings_tftest(registry)
    assert 'run "max_widgets_above_maximum_is_refused"' in tftest
    assert 'run "widget_mode_not_a_choice_is_refused"' in tftest
    # lambda.tf passes every attribute through by name: nothing to edit there.
    assert docs.terraform_problems(registry, variables_tf, lambda_tf) == []


def test_the_check_notices_a_setting_the_module_does_not_wire() -> None:
    variables_tf, lambda_tf = module_texts()
    registry = list(Settings.declared())
    unwired = lambda_tf.replace("LOG_LEVEL                    = var.log_level", "")
    assert docs.terraform_problems(registry, variables_tf, unwired) == [
        "LOG_LEVEL is not set in lambda.tf's environment map"
    ]
    no_pass_through = lambda_tf.replace("var.handler_settings : upper(name)", "var.handler_settings : name")
    assert docs.terraform_problems(registry, variables_tf, no_pass_through) == [
        "lambda.tf does not pass handler_settings through to the environment"
    ]
    hand_written = variables_tf + '\nvariable "handler_settings" {}\n'
    assert docs.terraform_problems(registry, hand_written, lambda_tf) == [
        "variables.tf declares handler_settings, which handler_settings.tf generates"
    ]


@pytest.mark.parametrize("name", ["MAX_ENTRIES_PER_PUSH", "MAX_STREAMS_PER_PUSH"])
def test_a_retired_setting_is_named_in_a_start_up_warning(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from loki_ingest.handler import App

    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AUTH_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:x",
        "FIREHOSE_DELIVERYSTREAM_NAME": "s",
        name: "50000",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    App.from_environment(env)
    out = capsys.readouterr()
    warning = next(line for line in (out.out + out.err).splitlines() if "retired setting" in line)
    assert name in warning and "WORK_BUDGET_UNITS" in warning

"""The READMEs' inputs/outputs tables are generated from the module's .tf files."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_module_readme_tables_are_up_to_date() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.tfdocs",
            "--check",
            str(ROOT / "README.md"),
            str(ROOT / "modules" / "loki-ingest" / "README.md"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_every_variable_and_output_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for tf in ("variables.tf", "outputs.tf"):
        text = (ROOT / "modules" / "loki-ingest" / tf).read_text()
        kind = "variable" if tf == "variables.tf" else "output"
        names = [line.split('"')[1] for line in text.splitlines() if line.startswith(f'{kind} "')]
        assert names
        for name in names:
            assert f"| `{name}` |" in readme, f"{name} missing from the module README"

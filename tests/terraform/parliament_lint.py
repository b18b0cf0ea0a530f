"""Run parliament (an IAM policy linter) over policy documents; runs in parliament's own venv.

    .venv-parliament/bin/python tests/terraform/parliament_lint.py < policies.json > findings.json

Input: a JSON list of {"name": ..., "policy": <policy JSON as a string>}.
Output: a JSON list of {"name", "issue", "severity", "title", "detail", "location"}, with
parliament's default severities and its community auditors on, as its CLI would report.
This file must not import the test suite: parliament lives in .venv-parliament, not .venv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import parliament

COMMUNITY_CONFIG = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"


def lint(policies: list[dict[str, str]]) -> list[dict[str, Any]]:
    if COMMUNITY_CONFIG.exists():
        parliament.override_config(str(COMMUNITY_CONFIG))
    findings: list[dict[str, Any]] = []
    for item in policies:
        policy = parliament.analyze_policy_string(item["policy"], include_community_auditors=True)
        for finding in policy.findings:
            finding = parliament.enhance_finding(finding)
            findings.append(
                {
                    "name": item["name"],
                    "issue": finding.issue,
                    "severity": finding.severity,
                    "title": finding.title,
                    "detail": finding.detail,
                    "location": finding.location,
                }
            )
    return findings


if __name__ == "__main__":
    json.dump(lint(json.load(sys.stdin)), sys.stdout, default=str, indent=1)

"""Helpers of the Terraform suite: run terraform, read `terraform show -json` state, evaluate
IAM statements, and find the inline suppressions (#checkov:skip, #parliament:skip) in sources."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, terraform_env

TIMEOUT = 900  # the AWS provider retries emulator errors for 10+ minutes; never wait forever


def terraform(
    *args: str, cwd: Path, data_dir: Path, timeout: int = TIMEOUT, extra_env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("terraform")
    assert binary, "terraform is not installed"
    env = {**terraform_env(data_dir), **(extra_env or {})}
    return subprocess.run(
        [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


# --- state ---------------------------------------------------------------------------------


def walk_modules(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from walk_modules(child)


def state_resources(shown: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> resource instance of `terraform show -json` (values, depends_on, ...)."""
    root = shown.get("values", {}).get("root_module", {})
    return {resource["address"]: resource for resource in walk_modules(root)}


def of_type(resources: Mapping[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {address: r for address, r in resources.items() if r["type"] == kind and r["mode"] == "managed"}


# --- IAM evaluation (the subset this stack's policies use) ----------------------------------


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    # IAM wildcards: * and ? only; fnmatch's [] classes do not exist in IAM.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


CONDITION_OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _matches,
    "ArnEquals": lambda pattern, value: pattern == value,
    "ArnLike": _matches,
    "Bool": lambda pattern, value: pattern.lower() == value.lower(),
}


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    """Every operator/key must match (AND); any listed value may (OR). A key missing from
    the request context fails the condition, as in IAM without ...IfExists."""
    for operator, keys in condition.items():
        compare = CONDITION_OPERATORS[operator]  # KeyError: an operator this helper does not know
        for key, values in keys.items():
            if key not in context or not any(compare(str(v), context[key]) for v in as_list(values)):
                return False
    return True


def allows(policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether an identity policy's Allow statements grant the request (no Deny in ours)."""
    for statement in as_list(policy["Statement"]):
        if statement.get("Effect") != "Allow":
            continue
        if not any(_matches(a, action, case_sensitive=False) for a in as_list(statement.get("Action", []))):
            continue
        if not any(_matches(r, resource) for r in as_list(statement.get("Resource", []))):
            continue
        if condition_holds(statement.get("Condition", {}), context):
            return True
    return False


# --- inline suppressions in the sources ----------------------------------------------------

# `#parliament:skip=ISSUE[text the finding's detail contains]:reason` (the [...] is optional);
# a trailing noqa comment (long lines in Python sources) is not part of the reason.
SKIP = re.compile(
    r"#\s*(checkov|parliament):skip=([A-Z0-9_]+)(?:\[([^\]]*)\])?:(.*?)(?:\s+#\s*noqa\b.*)?$", re.MULTILINE
)


@dataclass(frozen=True)
class Skip:
    tool: str
    issue: str
    selector: str  # must occur in the finding's detail or location ("" = any finding of that issue)
    reason: str
    where: str

    def covers(self, finding: Mapping[str, Any]) -> bool:
        described = json.dumps([finding.get("detail"), finding.get("location")])
        return self.issue == finding["issue"] and (not self.selector or self.selector in described)


def block_text(files: list[Path], header: str) -> tuple[Path, str] | None:
    """The text of a top-level block such as `data "aws_iam_policy_document" "kms"`."""
    for path in files:
        text = path.read_text()
        start = text.find(header + " {")
        if start < 0:
            continue
        depth, i = 0, text.index("{", start)
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return path, text[start : j + 1]
    return None


def skips_in(text: str, where: str, tool: str) -> list[Skip]:
    return [
        Skip(m.group(1), m.group(2), m.group(3) or "", m.group(4).strip(), where)
        for m in SKIP.finditer(text)
        if m.group(1) == tool
    ]


def source_files(address: str, root_dir: Path) -> list[Path]:
    """The .tf files a state address comes from: the module's for module.loki_ingest.*."""
    directory = ROOT / "modules" / "loki-ingest" if address.startswith("module.loki_ingest.") else root_dir
    return sorted(directory.glob("*.tf"))


def block_header(address: str) -> str:
    """`module.x.data.aws_iam_policy_document.kms_use["lambda"]` -> `data "aws_iam_policy_document" "kms_use"`."""
    parts = re.sub(r"\[[^\]]*\]$", "", address).split(".")
    parts = parts[2:] if parts[0] == "module" else parts
    if parts[0] == "data":
        return f'data "{parts[1]}" "{parts[2]}"'
    return f'resource "{parts[0]}" "{parts[1]}"'

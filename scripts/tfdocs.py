"""Generate the module's inputs/outputs tables from variables.tf (+ handler_settings.tf) and outputs.tf, between
<!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> markers (what terraform-docs does, which is
not installable offline). `--check` fails when a README is out of date.

    python scripts/tfdocs.py [--check] README.md modules/loki-ingest/README.md
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from scripts.generated import ROOT, between, write_or_check

MODULE = ROOT / "modules" / "loki-ingest"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def blocks(text: str, kind: str) -> list[tuple[str, str]]:
    """(name, body) of each top-level `kind "name" { ... }` block, brace-matched."""
    found = []
    for match in re.finditer(rf'^{kind} "([^"]+)" \{{', text, re.MULTILINE):
        depth, i, in_string = 1, match.end(), False
        while depth:
            char = text[i]
            if in_string:
                if char == "\\":
                    i += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            i += 1
        found.append((match.group(1), text[match.end() : i - 1]))
    return found


def attribute(body: str, name: str) -> str | None:
    """A top-level attribute's expression text (nested blocks are skipped)."""
    depth = 0
    for line in body.splitlines():
        stripped = line.strip()
        if depth == 0:
            match = re.match(rf"{name}\s*=\s*(.+)$", stripped)
            if match:
                return match.group(1).strip()
        depth += stripped.count("{") - stripped.count("}")
    return None


def unquote(expr: str) -> str:
    if expr.startswith('"') and expr.endswith('"'):
        return expr[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return expr


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    # handler_settings.tf is generated from the handler's settings registry (settings_docs.py).
    variables = [
        block
        for name in ("variables.tf", "handler_settings.tf")
        for block in blocks((MODULE / name).read_text(), "variable")
    ]
    outputs = blocks((MODULE / "outputs.tf").read_text(), "output")
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, body in variables:
        default = attribute(body, "default")
        description = cell(unquote(attribute(body, "description") or ""))
        validated = " (validated)" if "validation {" in body else ""
        kind = cell(attribute(body, "type") or "any")
        kind = "object({...})" if kind.startswith("object({") else kind
        shown = f"`{cell(default)}`" if default is not None else "n/a"
        required = "no" if default is not None else "yes"
        lines.append(f"| `{name}` | {description}{validated} | `{kind}` | {shown} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in outputs:
        lines.append(f"| `{name}` | {cell(unquote(attribute(body, 'description') or ''))} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    tables = render()
    write_or_check(
        {path: between(path.read_text(), BEGIN, END, tables, str(path)) for path in args.files}, check=args.check
    )


if __name__ == "__main__":
    main()

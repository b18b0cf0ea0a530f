"""Generate the module's inputs/outputs tables from variables.tf and outputs.tf, between
<!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> markers (what terraform-docs does, which is
not installable offline). `--check` fails when a README is out of date.

    python scripts/tfdocs.py [--check] README.md modules/loki-ingest/README.md
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent / "modules" / "loki-ingest"
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
    variables = blocks((MODULE / "variables.tf").read_text(), "variable")
    outputs = blocks((MODULE / "outputs.tf").read_text(), "output")
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name, body in variables:
        default = attribute(body, "default")
        description = cell(unquote(attribute(body, "description") or ""))
        validated = " (validated)" if "validation {" in body else ""
        kind = cell(attribute(body, "type") or "any")
        shown = f"`{cell(default)}`" if default is not None else "n/a"
        required = "no" if default is not None else "yes"
        lines.append(f"| `{name}` | {description}{validated} | `{kind}` | {shown} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in outputs:
        lines.append(f"| `{name}` | {cell(unquote(attribute(body, 'description') or ''))} |")
    return "\n".join(lines)


def update(path: Path, check: bool) -> bool:
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: missing {BEGIN} / {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{BEGIN}\n{render()}\n{END}{tail}"
    if fresh == text:
        return True
    if check:
        return False
    path.write_text(fresh)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    stale = [str(f) for f in args.files if not update(f, args.check)]
    if stale:
        sys.exit(f"out of date, run `make docs`: {', '.join(stale)}")


if __name__ == "__main__":
    main()

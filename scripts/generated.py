"""What the generators of scripts/ share: a block between two markers, and writing (or, with
--check, only comparing) the files they generate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def between(text: str, begin: str, end: str, fresh: str, where: str) -> str:
    """`text` with what stands between the `begin` and `end` markers replaced by `fresh`."""
    if begin not in text or end not in text:
        raise SystemExit(f"{where}: missing {begin} / {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{fresh}\n{end}{tail}"


def write_or_check(targets: Mapping[Path, str], *, check: bool) -> None:
    """Write each file whose text differs; with `check`, exit non-zero naming them instead."""
    stale = []
    for path, fresh in targets.items():
        if path.exists() and path.read_text() == fresh:
            continue
        if check:
            stale.append(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path))
        else:
            path.write_text(fresh)
    if stale:
        sys.exit(f"out of date, run `make docs`: {', '.join(stale)}")


def readme_block_main(doc: str | None, markers: tuple[str, str], render: Callable[[Any], str], figures: Path) -> None:
    """The command line of a generator that renders one README block from a JSON figures file:
    `--check` compares instead of writing, `--figures` reads another file."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--figures", type=Path, default=figures)
    args = parser.parse_args()
    readme = ROOT / "README.md"
    fresh = render(json.loads(args.figures.read_text()))
    write_or_check({readme: between(readme.read_text(), *markers, fresh, str(readme))}, check=args.check)

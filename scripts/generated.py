"""What the generators of scripts/ share: a block between two markers, and writing (or, with
--check, only comparing) the files they generate."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

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

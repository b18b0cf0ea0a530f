"""`detected_level`, as Loki's distributor derives it (`discover_log_levels`, on by default since
Loki 3.1): grafana/loki pkg/distributor/field_detection.go (`extractLogLevel`,
`detectLogLevelFromLogEntry`, `extractLogLevelFromLogLine`, `detectLevelFromLogLine`) with the
default `log_level_fields` and `log_level_from_json_max_depth` (2), called from
pkg/distributor/distributor.go `Push` after the entry was validated, so the pair it appends is
not counted against the structured-metadata limits.

The order, first match wins:

1. an entry that already has `detected_level` keeps it, its value normalised (first such pair);
2. a stream label, then a structured-metadata pair, named one of LEVEL_FIELDS (in that list's
   order; the first pair with the name), its value normalised;
3. `severity_number` in the metadata (the OTLP mapping puts it there): by OTLP ranges
   (1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal; not an integer:
   info; anything else: unknown);
4. the line: a JSON object's first string field named one of LEVEL_FIELDS (two levels deep),
   else a logfmt line's key (case-insensitive, the earliest field name in LEVEL_FIELDS wins),
   normalised when it is a known level; else a keyword scan of the line ("unknown" when none).

Loki compares bytes; here a model string (ingest/model.py's text invariant) is compared as
text, which is the same for every valid UTF-8 value and for every known level word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from loki_ingest.ingest.budget import Costs
from loki_ingest.wire import DETECTED_LEVEL

__all__ = ["DETECTED_LEVEL", "LEVEL_FIELDS"]

#: Loki's defaultAllowedLevelFields, in order.
LEVEL_FIELDS = (
    "level",
    "LEVEL",
    "Level",
    "log.level",
    "severity",
    "SEVERITY",
    "Severity",
    "SeverityText",
    "lvl",
    "LVL",
    "Lvl",
    "severity_text",
    "Severity_Text",
    "SEVERITY_TEXT",
)
LEVEL_FIELD_SET = frozenset(LEVEL_FIELDS)
#: A logfmt key, case-folded -> the earliest index of a LEVEL_FIELDS name it matches.
_LOGFMT_RANK: dict[str, int] = {}
for _index, _name in enumerate(LEVEL_FIELDS):
    _LOGFMT_RANK.setdefault(_name.lower(), _index)

# Whether a line can hold a level field at all, with substring searches (C speed), so the
# token-by-token scans below run (and are charged) only for lines that may have one: a JSON key
# that is a level field name is spelled so in the line unless it uses a \\u escape; a logfmt
# key that is one, case-folded, is followed by its "=".
_JSON_KEYS = tuple(f'"{name}"' for name in LEVEL_FIELDS)
_LOGFMT_KEYS = tuple(f"{name}=" for name in _LOGFMT_RANK)
#: Every byte but the ones a logfmt token can end at (<= " ", "=", '"'): deleted to count those.
_NOT_SEPARATORS = bytes(b for b in range(256) if b > 0x20 and b not in b'="')
SEVERITY_NUMBER = "severity_number"  # Loki's push.OTLPSeverityNumber

#: normalizeLogLevel: case-insensitive words -> Loki's level constants.
_KNOWN = {
    "trace": "trace",
    "trc": "trace",
    "debug": "debug",
    "dbg": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "warn": "warn",
    "wrn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "critical": "critical",
    "fatal": "fatal",
}
UNKNOWN = "unknown"
_INT = re.compile(r"[+-]?[0-9]+\Z")  # Go's strconv.Atoi syntax (ASCII digits, optional sign)
_INT64 = 1 << 63
JSON_MAX_DEPTH = 2  # Loki's default log_level_from_json_max_depth


def _known(value: str) -> str | None:
    # bytes.EqualFold is Unicode simple folding; every known word is ASCII, and only ASCII
    # letters (plus U+017F and U+212A for s and k, which no word holds) fold to them.
    if len(value) > 11:
        return None
    return _KNOWN.get(value.lower()) if value.isascii() else None


def normalize(value: str) -> str:
    """normalizeLogLevel: a known level word (any case) as Loki's constant, else unchanged."""
    return _known(value) or value


def from_severity_number(text: str) -> str:
    """detectLogLevelFromLogEntry's OTLP branch, for a non-empty severity_number value."""
    if not _INT.match(text):
        return "info"
    # Past 20 significant digits it is out of int64 range; int() of over 4,300 digits raises.
    if len(text.lstrip("+-").lstrip("0")) > 20:
        return "info"  # Atoi's range error
    number = int(text)
    if not -_INT64 <= number < _INT64:
        return "info"  # Atoi's range error
    if number == 0:
        return UNKNOWN
    for top, level in ((4, "trace"), (8, "debug"), (12, "info"), (16, "warn"), (20, "error"), (24, "fatal")):
        if number <= top:
            return level
    return UNKNOWN


def first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first value of each name that level detection reads (what labels.Get returns)."""
    found: dict[str, str] = {}
    for name, value in pairs:
        if (name in LEVEL_FIELD_SET or name in (SEVERITY_NUMBER, DETECTED_LEVEL)) and name not in found:
            found[name] = value
    return found


def from_fields(labels: Mapping[str, str], metadata: Mapping[str, str]) -> str | None:
    """Steps 2 and 3: the level from a label or metadata field (first values by name, as
    first_values gives them), or None when the line decides. An empty value gives ""."""
    for fields in (labels, metadata):
        for name in LEVEL_FIELDS:
            if name in fields:
                return normalize(fields[name])
    number = metadata.get(SEVERITY_NUMBER, "")
    if number:
        return from_severity_number(number)
    return None


def _free(units: float) -> None:
    pass


def from_line(line: str, charge: Callable[[float], None] = _free) -> str:
    """extractLogLevelFromLogLine. A line that may hold a level field is parsed token by token
    in Python: `charge` is called first with what that costs (Costs.LINE_TOKEN per token)."""
    if _is_json(line):
        value = _json_level(line, charge)
    elif "=" in line:
        value = _logfmt_level(line, charge)
    else:
        return keyword_level(line)
    known = _known(value) if value else None
    return known or keyword_level(line)


def keyword_level(line: str) -> str:
    """detectLevelFromLogLine: the first keyword group found (info before error before warn...)."""
    if "info" in line or "INFO" in line:  # covers "info:", "[info]" and their upper-case forms
        return "info"
    if any(word in line for word in ("err:", "ERR:", "[err]", "[ERR]", "[error]", "[ERROR]")):
        return "error"
    if any(word in line for word in ("warn:", "WARN:", "[warn]", "[WARN]", "warning", "WARNING")):
        return "warn"
    if any(word in line for word in ("critical:", "CRITICAL:", "[critical]", "[CRITICAL]")):
        return "critical"
    if "debug" in line or "DEBUG" in line:
        return "debug"
    return UNKNOWN


def _is_json(line: str) -> bool:
    """isJSON: the first non-space character is "{" and the last non-space one "}"."""
    stripped = line.strip()
    return stripped[:1] == "{" and stripped[-1:] == "}"


class _Found(Exception):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return pairs  # keeps every key in order, duplicates too, as jsonparser walks them


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook)


def _json_level(line: str, charge: Callable[[float], None]) -> str:
    """getLevelUsingJSONParser: depth-first, the first string value under a level field name,
    in the object and in objects nested at most JSON_MAX_DEPTH - 1 levels. (jsonparser reads
    an invalid document up to its first error; here it gives no value, and the keyword scan
    decides.)"""
    if "\\u" not in line and not any(key in line for key in _JSON_KEYS):
        return ""
    # Every value but the first in an object or array follows a "," and every member has a ":".
    charge(Costs.LINE_TOKEN * (line.count(",") + line.count(":") + line.count("[") + line.count("{") + 1))
    try:
        doc = _DECODER.decode(line)
    except (ValueError, RecursionError):
        return ""
    if type(doc) is not list:
        return ""

    def walk(pairs: list[tuple[str, Any]], depth: int) -> str | None:
        if depth >= JSON_MAX_DEPTH:
            return None
        for key, value in pairs:
            if type(value) is str:
                if key in LEVEL_FIELD_SET:
                    return value
            elif type(value) is list and (not value or type(value[0]) is tuple):
                # an object (a list of pairs); JSON arrays are lists of values, never tuples
                found = walk(value, depth + 1)
                if found is not None:
                    return found
        return None

    return walk(doc, 0) or ""


def _logfmt_level(line: str, charge: Callable[[float], None]) -> str:
    """getValueUsingLogfmtParser over Loki's logfmt decoder (pkg/logql/log/logfmt/decode.go):
    keys compared case-insensitively (casefold, as Go's strings.EqualFold folds U+017F (long s) to "s"; the
    level names hold no letter whose full folding differs from its simple one), the earliest
    name in LEVEL_FIELDS wins, scanning stops at the first syntax error."""
    folded = line.casefold()
    if not any(key in folded for key in _LOGFMT_KEYS):
        return ""
    separators = line.encode("utf-8", "surrogatepass").translate(None, _NOT_SEPARATORS)
    charge(Costs.LINE_TOKEN * (len(separators) + 1) + Costs.LINE_CHAR * len(line))
    best, position = "", len(LEVEL_FIELDS)
    rank = _LOGFMT_RANK.get
    for key, value in _logfmt(line):
        index = rank(key.casefold(), position)
        if index < position:
            best, position = value, index
            if index == 0:
                return best
    return best


def _logfmt(line: str) -> Iterable[tuple[str, str]]:
    """(key, value) pairs as Loki's logfmt Decoder scans them."""
    i, end = 0, len(line)
    while i < end:
        while i < end and line[i] <= " ":
            i += 1
        if i >= end:
            return
        start = i
        while i < end and line[i] > " " and line[i] not in '="':
            i += 1
        if i < end and line[i] == '"':
            return  # unexpected quote in a key
        key = line[start:i]
        if i >= end or line[i] <= " ":
            yield key, ""
            continue
        # line[i] == "="
        if not key:
            return
        i += 1
        if i >= end or line[i] <= " ":
            yield key, ""
            continue
        if line[i] == '"':
            j, escaped, has_escape = i + 1, False, False
            while j < end:
                char = line[j]
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = has_escape = True
                elif char == '"':
                    break
                j += 1
            if j >= end:
                return  # unterminated quoted value
            quoted = line[i : j + 1]
            if has_escape:
                try:
                    value = json.loads(quoted)
                except ValueError:
                    return
            else:
                value = quoted[1:-1]
            i = j + 1
            yield key, value
            continue
        start = i
        while i < end and line[i] > " ":
            if line[i] in '="':
                return
            i += 1
        yield key, line[start:i]

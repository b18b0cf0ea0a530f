"""The work budget of one push: every decoded element is charged what it costs the whole push
path (decode, validate, render, pack, deliver), against one budget per push, so that a push
that would not finish in time is refused (413) before the expensive work, whatever its shape.

One unit is one microsecond of CPU on one core of the machine the costs were measured on
(`python -m bench.elements` measures every element kind through the real push path, `make
bench-limits` the costliest push the budget accepts per decoder), or 100 bytes of peak
memory, whichever the element costs more of: a push within the budget takes
at most WORK_BUDGET_UNITS microseconds of that CPU and WORK_BUDGET_UNITS * MEMORY_PER_UNIT bytes
of memory over the runtime's own. The Terraform module refuses a memory size and timeout that
cannot hold the budget (scripts/settings_docs.py writes that rule from the numbers here).

Elements are counted before they are built (decoding/prepass.py): JSON by its structural bytes,
protobuf by a walk of field keys that allocates nothing, so a push over the budget is refused in
a fraction of the time it would take to decode.
"""

from __future__ import annotations

from typing import Final

from loki_ingest.errors import PayloadTooLarge

#: The default budget: a default Promtail/Alloy batch (batch_size 1 MiB of line bytes) of 4-byte
#: lines in snappy protobuf is 262,144 entries, ~1.9M units; at 512 MB (0.29 vCPU) the budget
#: is ~8.6 s of the 15 s timeout, and ~250 MB of memory.
WORK_BUDGET_DEFAULT: Final = 2_500_000
#: Bytes of peak memory per unit (RSS growth per element / CPU per element, bench/elements.py).
MEMORY_PER_UNIT: Final = 100
#: Lambda gives a function one full vCPU at 1,769 MB and a share in proportion below it
#: (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
FULL_VCPU_MB: Final = 1769
#: The share of the function's timeout a push at the budget may take at the configured memory:
#: the rest is for the runtime, authentication and the wait on the sink.
TIMEOUT_SHARE: Final = 0.6
#: Memory of the runtime with boto3 loaded, before any push (MiB).
RUNTIME_MEMORY_MIB: Final = 100
#: The body and its decompressed form sit in memory beside the decoded push.
BODY_COPIES: Final = 2


class Costs:
    """Units per element, measured per decoder (max of CPU microseconds and memory / 100 bytes
    through the whole path), rounded up. Changing one is a bench run, not a guess."""

    # Every decompressed byte: inflating, UTF-8 checks, copies into records.
    BYTE: Final = 0.02
    # JSON, counted from the structural bytes before parsing: each value or member is preceded
    # by one of `[ { ,` and each member has a `:`; the whole path of a v1 entry
    # (["ts","line"], 4.4 us) is three of those plus two strings.
    JSON_OPEN_OR_COMMA: Final = 1.3
    JSON_COLON: Final = 1.4
    JSON_STRING: Final = 0.2
    STREAM: Final = 22.0  # a stream's labels parsed, canonicalised, hashed and rendered once
    LABEL_BYTE: Final = 0.06  # a Prometheus-style label string, parsed
    # Protobuf, counted by a walk over the keys. Every field occurrence is charged: a scalar,
    # string or bytes field PB_FIELD (a repeated one is read again each time), an unknown one
    # PB_OTHER_FIELD; a message field its element's cost on top of its own fields'. A Loki
    # entry (timestamp, seconds, nanos, line) is thus 3 + 4 = 7, a metadata pair 2 + 2 = 4.
    PB_FIELD: Final = 1.0
    PB_OTHER_FIELD: Final = 2.0
    PB_ENTRY: Final = 3.0
    PB_METADATA_PAIR: Final = 2.0
    # A varint byte past the fifth (a key, length or scalar spelled long: up to 10 bytes), which
    # the walk and the decoder step through one at a time: a field of two 10-byte varints
    # (key and value) takes ~3.9 us, 2.5 us more than its PB_FIELD and bytes.
    PB_LONG_VARINT_BYTE: Final = 0.25
    # OTLP (protobuf and JSON share the mapping's cost per element); the protobuf walk adds
    # PB_FIELD per scalar (a record's timestamps, severity, ids; a key; a string value).
    OTLP_RECORD: Final = 12.0
    OTLP_ATTRIBUTE: Final = 3.0
    OTLP_VALUE: Final = 2.0  # an AnyValue, empty or not
    OTLP_GROUP: Final = 21.0  # a resource_logs or scope_logs
    # OTLP JSON's structure costs this much more per element than Loki JSON's (the mapping's
    # object per record, attribute and AnyValue; `make bench-limits`: 1.35 us per unit at 1.0).
    OTLP_JSON_SCALE: Final = 1.4
    # A resource or scope attribute rendered again for every record of the scope: only when the
    # shared pairs cannot be spliced in as rendered once (records/render.py shared_units).
    OTLP_SHARED_PAIR: Final = 1.0
    # Line content that is parsed token by token in Python: per "," ":" "[" "{" of a line
    # stored as a JSON object (its strict parse, records/render.py: a bracket costs as much
    # as a member), and per token of an OTLP line scanned for its level (the same four in a
    # JSON object, a logfmt line's separators).
    JSON_LINE_TOKEN: Final = 0.6
    LINE_TOKEN: Final = 1.0
    LINE_CHAR: Final = 0.1  # a logfmt line scanned for its level is walked character by character
    # A label name or value that Go's strconv.Quote must escape is quoted character by
    # character for the stream's canonical form (decoding/labels.py go_quote), ~0.26 us each.
    LABEL_QUOTED_CHAR: Final = 0.3
    # Content-Encoding.
    GZIP_MEMBER: Final = 5.0
    SNAPPY_ELEMENT: Final = 0.3


class Budget:
    """What one push may still spend. `charge` raises the 413 once the total passes the limit."""

    __slots__ = ("limit", "lines_charged", "spent")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.spent = 0.0
        # True once the pre-pass charged the JSON tokens of every line (decoding/prepass.py):
        # building the records then has nothing left to charge for them.
        self.lines_charged = False

    def charge(self, units: float) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise self.exceeded()

    def would_exceed(self, units: float) -> bool:
        return self.spent + units > self.limit

    def exceeded(self) -> PayloadTooLarge:
        parts = max(2, int(self.spent // self.limit) + 1)
        return PayloadTooLarge(
            f"push needs more work than one push may take (WORK_BUDGET_UNITS={int(self.limit)}; it had used "
            f"{int(self.spent)} when refused, and was not fully counted): send it as {parts} or more smaller "
            "pushes (fewer entries, metadata pairs or attributes each; e.g. a lower batch_size in Promtail or Alloy)",
            reason="over_work_budget",
        )


#: No budget at all (decoder unit tests).
def unlimited() -> Budget:
    return Budget(float("inf"))


def seconds_at(units: float, memory_mb: int) -> float:
    """CPU seconds a push of `units` takes at a Lambda memory size (the measuring core = 1 vCPU)."""
    return units / 1e6 * max(1.0, FULL_VCPU_MB / memory_mb)

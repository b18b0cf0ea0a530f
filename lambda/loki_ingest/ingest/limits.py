"""What one push may hold, built from the settings in one place (`Limits.from_settings`).

Two kinds of limit live here:

* the work budget of a push (ingest/budget.py), charged before decoding, so that a push that
  would not finish in time gets its 413 before the expensive stages run;
* Loki's validation limits (`limits_config`), which refuse single entries or streams
  (partial success, docs/loki-protocol.md#validation).

`keep_labels` and `keep_metadata` are how many label pairs per stream and metadata pairs per
entry a decoder keeps: one more than validation can accept, so a stream or entry with more is
still refused (by validation, like Loki), but costs no memory per extra pair. A quoted label
name or value longer than `label_token_chars` is not unescaped (decoding/labels.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from loki_ingest.ingest.budget import Budget

if TYPE_CHECKING:
    from loki_ingest.settings import Settings

_NONE = 1 << 62


class Limits(NamedTuple):
    # --- caps on the whole push (413) ------------------------------------------------------------
    work_budget: float = float("inf")
    keep_labels: int = _NONE
    keep_metadata: int = _NONE
    label_token_chars: int = _NONE
    max_decompressed_bytes: int = _NONE
    # --- Loki's per-entry and per-stream limits (partial success) --------------------------------
    max_line_bytes: int = _NONE
    max_label_names: int = _NONE
    max_label_name_bytes: int = _NONE
    max_label_value_bytes: int = _NONE
    max_metadata_bytes: int = _NONE
    max_metadata_entries: int = _NONE
    reject_old_samples_max_age_seconds: int = 0  # 0: any age
    creation_grace_period_seconds: int = 0  # 0: any time in the future

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            work_budget=settings.work_budget_units,
            # Past max_label_names + 1 (service_name is not counted) a label set has too many
            # names or a duplicate: either way validation refuses it.
            keep_labels=settings.max_label_names + 2,
            keep_metadata=settings.max_metadata_entries + 1,
            # An escape spells at least one byte in at most 4 characters, plus 2 quotes.
            label_token_chars=4 * max(settings.max_label_name_bytes, settings.max_label_value_bytes) + 2,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_line_bytes=settings.max_line_bytes,
            max_label_names=settings.max_label_names,
            max_label_name_bytes=settings.max_label_name_bytes,
            max_label_value_bytes=settings.max_label_value_bytes,
            max_metadata_bytes=settings.max_metadata_bytes,
            max_metadata_entries=settings.max_metadata_entries,
            reject_old_samples_max_age_seconds=settings.reject_old_samples_max_age_seconds,
            creation_grace_period_seconds=settings.creation_grace_period_seconds,
        )

    def budget(self) -> Budget:
        """A fresh budget for one push."""
        return Budget(self.work_budget)


#: No caps at all (decoder unit tests).
UNLIMITED = Limits()

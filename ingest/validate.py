"""Row checks: each rejected row gets the field and a reason in words; fixes are noted.

The checks run on whole columns. A row is rejected for the first reason found; a row
that is loaded after a fix (latitude and longitude swapped) or without its unusable
coordinates gets a note instead (table ``import_notes``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Verdicts:
    """Per-row rejection reasons and notes, filled by the checks."""

    n: int
    field: np.ndarray = dataclasses.field(init=False)
    reason: np.ndarray = dataclasses.field(init=False)
    notes: list[tuple[np.ndarray, str, object]] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.field = np.full(self.n, None, dtype=object)
        self.reason = np.full(self.n, None, dtype=object)

    @property
    def rejected(self) -> np.ndarray:
        return self.reason != None  # noqa: E711  (elementwise on an object array)

    def reject(self, mask, field_name: str, reason) -> None:
        """Reject rows in ``mask`` not rejected yet; ``reason`` a string or per-row strings."""
        m = np.asarray(mask, dtype=bool) & ~self.rejected
        if not m.any():
            return
        self.field[m] = field_name
        if isinstance(reason, str):
            self.reason[m] = reason
        else:
            self.reason[m] = np.asarray(reason, dtype=object)[m]

    def note(self, mask, field_name: str, text) -> None:
        """Record a note for rows in ``mask`` (a fix or a value set aside)."""
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.notes.append((m, field_name, text))


def quoted(values: pd.Series, limit: int = 60) -> np.ndarray:
    """'value' strings for messages, cut to ``limit`` characters."""
    s = values.astype("string").fillna("").str.slice(0, limit)
    return ("'" + s + "'").to_numpy(dtype=object)


def fmt_times(values: pd.Series) -> np.ndarray:
    """Timestamps as 'YYYY-MM-DD HH:MM' for messages."""
    return values.dt.strftime("%Y-%m-%d %H:%M").fillna("").to_numpy(dtype=object)

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
        self._rejected = np.zeros(self.n, dtype=bool)

    @property
    def rejected(self) -> np.ndarray:
        """Rows rejected so far (read-only view)."""
        view = self._rejected.view()
        view.flags.writeable = False
        return view

    def reject(self, mask, field_name: str, reason) -> None:
        """Reject rows in ``mask`` not rejected yet.

        ``reason``: a string, or a function of the row positions returning one message per
        position (so messages are only built for the rows that need them).
        """
        m = np.asarray(mask, dtype=bool) & ~self.rejected
        if not m.any():
            return
        self._rejected |= m
        self.field[m] = field_name
        self.reason[m] = reason if isinstance(reason, str) else _messages(reason, m)

    def note(self, mask, field_name: str, text) -> None:
        """Record a note for rows in ``mask`` (a fix or a value set aside); text as for reject."""
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.notes.append((m, field_name, text if isinstance(text, str)
                               else _full(_messages(text, m), m)))


def quoted(values: pd.Series, limit: int = 60) -> np.ndarray:
    """'value' strings for messages, cut to ``limit`` characters."""
    s = values.astype("string").fillna("").str.slice(0, limit)
    return ("'" + s + "'").to_numpy(dtype=object)


def fmt_times(values: pd.Series) -> np.ndarray:
    """Timestamps as 'YYYY-MM-DD HH:MM' for messages."""
    return values.dt.strftime("%Y-%m-%d %H:%M").fillna("").to_numpy(dtype=object)


def _messages(reason, m: np.ndarray) -> np.ndarray:
    pos = np.flatnonzero(m)
    out = reason(pos) if callable(reason) else np.asarray(reason, dtype=object)[pos]
    return np.asarray(out, dtype=object)


def _full(values: np.ndarray, m: np.ndarray) -> np.ndarray:
    res = np.full(len(m), None, dtype=object)
    res[m] = values
    return res


def quoted_at(values: pd.Series, pos: np.ndarray, limit: int = 60) -> np.ndarray:
    """'value' strings of the rows at ``pos``, for messages."""
    return quoted(values.iloc[pos], limit)


def times_at(values: pd.Series, pos: np.ndarray) -> np.ndarray:
    """Timestamps of the rows at ``pos`` as 'YYYY-MM-DD HH:MM', for messages."""
    return fmt_times(values.iloc[pos])

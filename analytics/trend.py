"""Change against an earlier period (环比) and its arrow: one definition for the wall, the
backlog page and every other place that shows ▲ / ▼ / ＝.

Counts compare exactly. Rates are shown as percentages with one decimal, so a rate that
moved by less than 0.05 percentage points (:data:`RATE_TOLERANCE`) reads as unchanged: the
arrow never contradicts the two figures printed beside it.
"""

from __future__ import annotations

import math

#: Smallest change of a rate (a fraction) that gets ▲ or ▼: 0.05 percentage points.
RATE_TOLERANCE = 0.0005


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or str(x) in ("<NA>", "NaT")


def arrow(now, before, tolerance: float = 0.0) -> str:
    """▲ when ``now`` exceeds ``before`` by more than ``tolerance``, ▼ when it falls short
    by more, ＝ otherwise; ``''`` when either side is missing."""
    if _missing(now) or _missing(before):
        return ""
    d = float(now) - float(before)
    return "▲" if d > tolerance else "▼" if d < -tolerance else "＝"


def change_pp(now, before) -> float | None:
    """The change of a rate in percentage points, None when either side is missing."""
    if _missing(now) or _missing(before):
        return None
    return (float(now) - float(before)) * 100


def rate_change_text(now, before) -> str:
    """``83.5% ▲0.3``: last period's rate, the arrow and the change in points; ``—`` when
    there was no rate last period, the rate alone when there is none now."""
    if _missing(before):
        return "—"
    if _missing(now):
        return f"{float(before):.1%}"
    a = arrow(now, before, RATE_TOLERANCE)
    return f"{float(before):.1%} {a}{abs(change_pp(now, before)):.1f}"

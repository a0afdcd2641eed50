"""One arrow rule (analytics/trend.py) for the wall and the backlog page."""

from __future__ import annotations

import math

from analytics.trend import RATE_TOLERANCE, arrow, change_pp, rate_change_text


def test_counts_compare_exactly():
    assert (arrow(2, 1), arrow(1, 2), arrow(1, 1)) == ("▲", "▼", "＝")
    assert arrow(None, 1) == arrow(1, None) == arrow(math.nan, 1) == ""


def test_rates_within_a_twentieth_of_a_point_read_as_unchanged():
    # 83.52% against 83.48%: both print as 83.5%, so no arrow may claim a change
    assert arrow(0.8352, 0.8348, RATE_TOLERANCE) == "＝"
    assert arrow(0.8360, 0.8348, RATE_TOLERANCE) == "▲"
    assert arrow(0.8300, 0.8348, RATE_TOLERANCE) == "▼"
    assert change_pp(0.836, 0.8348) == (0.836 - 0.8348) * 100
    assert change_pp(None, 0.5) is None


def test_the_backlog_table_s_change_text():
    assert rate_change_text(0.838, 0.835) == "83.5% ▲0.3"
    assert rate_change_text(0.80, 0.86) == "86.0% ▼6.0"
    assert rate_change_text(0.8352, 0.8348) == "83.5% ＝0.0"
    assert rate_change_text(0.5, None) == "—"
    assert rate_change_text(math.nan, 0.4) == "40.0%"


def test_the_wall_tile_uses_the_rate_tolerance():
    from ui.wall_html import tile

    same = tile("按期结案率", "83.5%", 0.8352, 0.8348, "83.5%", higher_is_bad=False,
                tolerance=RATE_TOLERANCE)
    assert "＝" in same and "▲" not in same
    up = tile("按期结案率", "84.0%", 0.840, 0.8348, "83.5%", higher_is_bad=False,
              tolerance=RATE_TOLERANCE)
    assert "▲" in up and "wall-down" in up  # a higher rate is better: green

"""The city's clock (store/clock.py): a server whose system clock runs on UTC still counts
"today" and stamps imports in Beijing time (UTC+8, no daylight saving since 1991)."""

from __future__ import annotations

import datetime as dt

import pytest

#: 2026-12-07 17:56:40 UTC, i.e. 2026-12-08 01:56:40 in Nanning.
TS = (dt.datetime(2026, 12, 7, 17, 56, 40, tzinfo=dt.UTC)
      - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()
BEIJING = dt.datetime(2026, 12, 8, 1, 56, 40)


def test_local_time_is_utc_plus_eight():
    from store.clock import local_time

    assert local_time(TS) == BEIJING


def test_the_wall_reads_the_city_clock_not_the_server_s(monkeypatch):
    import views.wall as wall

    monkeypatch.delenv("GRID_TODAY", raising=False)
    monkeypatch.setattr(wall.time, "time", lambda: TS)
    now, slot = wall.now_local(60)
    assert now == dt.datetime(2026, 12, 8, 1, 56) and slot == int(TS // 60)


@pytest.mark.parametrize("module", ["ingest.boundaries", "ingest.zones", "ingest.pipeline",
                                    "ui.common", "analytics.briefing"])
def test_modules_take_now_from_the_one_clock(module):
    """No module that stamps or judges times keeps a clock of its own."""
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(module))
    for own in ("datetime.now(", "date.today(", "fromtimestamp("):
        assert own not in source, f"{module} reads the clock itself: {own}"
    assert "local_now" in source

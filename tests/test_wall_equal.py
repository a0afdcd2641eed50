"""The wall shows the same numbers as the staff app and the weekly briefing for the same
period: the demo city on Sunday 2026-11-22 (GRID_TODAY), i.e. the ISO week 2026-W47 as of
its end (the next midnight).

Three consumers of the analytics are read side by side: ``wall_numbers`` and the wall page,
``weekly_briefing`` (what the export writes), and the staff pages /backlog (default period:
the seven days ending today, which on a Sunday is the ISO week) and the situation map with
the period 本周. A difference in period handling, filters or rounding shows up here.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import pytest

from analytics.briefing import weekly_briefing
from analytics.wall import wall_numbers
from config.settings import Settings
from tests.apptest import page_script, run_page

SUNDAY = "2026-11-22"
T = dt.datetime(2026, 11, 23)  # the end of SUNDAY


@pytest.fixture(scope="module")
def both(demo_city):
    db, _ = demo_city
    con = duckdb.connect(str(db), read_only=True)
    try:
        n = wall_numbers(con, T, None, Settings())
        b = weekly_briefing(con, "2026-W47", Settings(), today=dt.date(2026, 11, 23))
    finally:
        con.close()
    return n, b


def test_wall_equals_the_weekly_briefing(both):
    n, b = both
    this, last = b.numbers["this"], b.numbers["last"]
    assert this["complaints"] > 0 and this["overdue"] > 0
    assert (n.complaints_week, n.complaints_week_last_week) == (this["complaints"],
                                                               last["complaints"])
    assert (n.open, n.open_last_week) == (this["open"], last["open"])
    assert (n.overdue, n.overdue_last_week) == (this["overdue"], last["overdue"])
    assert n.on_time_rate == pytest.approx(this["on_time_rate"], abs=1e-12)
    assert n.on_time_rate_last_week == pytest.approx(last["on_time_rate"], abs=1e-12)
    assert (n.hot_cells, n.hot_cells_last_week) == (this["hot_cells"], last["hot_cells"])
    fringe = b.fringe[b.fringe["kind"] == "fringe"].iloc[0]
    assert n.hot_cells_fringe == int(fringe["hot_cells_in"]) > 0
    # the top ten by count among the briefing's hot cells (which it ranks by z)
    top = b.top_hotspots.sort_values(["count", "gi_z", "h3"], ascending=[False, False, True])
    assert n.top_hotspots["h3"].tolist() == top["h3"].head(10).tolist()
    # the overdue ranking and the newest overdue cases from the briefing's overdue list
    per = b.overdue["district"].astype(object).fillna("（未定位）").value_counts()
    per = per.rename_axis("jurisdiction").reset_index(name="overdue")
    per = per.sort_values(["overdue", "jurisdiction"], ascending=[False, True]).head(5)
    assert n.overdue_units.to_dict("list") == per.reset_index(drop=True).to_dict("list")
    newest = b.overdue.sort_values(["received_at", "kind", "case_id"],
                                   ascending=[False, True, True]).head(30)
    assert len(n.newest_overdue) == 30
    assert n.newest_overdue["received_at"].tolist() == newest["received_at"].tolist()
    assert n.newest_overdue["hours_overdue"].tolist() == pytest.approx(
        newest["hours_overdue"].tolist())


def _apptest(script, monkeypatch, db, settings_file, **state):
    monkeypatch.setenv("GRID_DB", str(db))
    monkeypatch.setenv("GRID_TODAY", SUNDAY)
    monkeypatch.setenv("GRID_SETTINGS", str(settings_file))
    return run_page(script, timeout=240, **state)


def test_wall_page_equals_the_staff_pages(demo_city, both, tmp_path, monkeypatch):
    db, _ = demo_city
    n, b = both
    settings = tmp_path / "settings.toml"
    settings.write_text("[wall]\nstale_minutes = 100000\n", encoding="utf-8")
    wall = _apptest(page_script(tmp_path, "wall"), monkeypatch, db, settings)
    tiles_html = next(m.value for m in wall.markdown if '<div class="wall-tiles">' in m.value)
    labels = re.findall(r'class="wall-label">([^<]*)<', tiles_html)
    figures = re.findall(r'class="wall-figure">([^<]*)<', tiles_html)
    tiles = dict(zip(labels, figures, strict=True))

    backlog = _apptest(page_script(tmp_path, "backlog"), monkeypatch, db, settings)
    staff = {m.label: m.value for m in backlog.metric}
    for label in ("未结案", "超期未结", "按期结案率"):
        assert tiles[label] == staff[label], label
    assert tiles["未结案"] == f"{b.numbers['this']['open']:,}"
    assert tiles["按期结案率"] == f"{b.numbers['this']['on_time_rate']:.1%}"

    situation = _apptest(page_script(tmp_path, "situation"), monkeypatch, db, settings,
                         map_period_zh="this_week")
    kpis = {m.label: m.value for m in situation.metric}
    assert tiles["热点网格"] == kpis["热点单元（Gi* ≥ 95%）"] == f"{n.hot_cells:,}"
    assert tiles["城乡结合部热点"] == kpis["城乡结合部热点单元"] == f"{n.hot_cells_fringe:,}"
    assert tiles["本周受理"] == f"{b.numbers['this']['complaints']:,}"
    week = pd.Timestamp(SUNDAY)
    assert tiles["今日受理"] == f"{_complaints_on(db, week):,}"


def _complaints_on(db, day: pd.Timestamp) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        df = con.execute("SELECT received_at, status FROM complaints").df()
    finally:
        con.close()
    same = (df.received_at >= day) & (df.received_at < day + pd.Timedelta(days=1))
    return int((same & (df.status != "void")).sum())

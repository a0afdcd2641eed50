"""The wall dashboard (/wall): its numbers against independent SQL / pandas on the synthetic
city, and the page in Streamlit's AppTest (renders, stale banner, ?district= filter)."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import duckdb
import pandas as pd
import pytest

from analytics.cases import overdue_cases
from analytics.hotspots import HotspotQuery, compute_hotspots
from analytics.wall import arrow, is_stale, wall_numbers
from config.settings import Settings
from tests.apptest import page_script, run_page

NOW = dt.datetime(2026, 11, 22, 18, 0)  # a Sunday inside the synthetic city's four weeks


@pytest.fixture(scope="module")
def city(synthetic_city, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wall")
    db = shutil.copy(synthetic_city[0], tmp / "grid.duckdb")
    return tmp, db


def _frame(db) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT received_at, status, district, category "
                           "FROM complaints").df()
    finally:
        con.close()


def _numbers(db, district=None, now=NOW):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return wall_numbers(con, now, district, Settings())
    finally:
        con.close()


@pytest.mark.parametrize("district", [None, "青秀区"])
def test_counts_match_pandas(city, district):
    _, db = city
    n = _numbers(db, district)
    df = _frame(db)
    df = df[df.status != "void"]
    if district:
        df = df[df.district == district]
    t = df.received_at
    day0 = dt.datetime(2026, 11, 22)
    monday = dt.datetime(2026, 11, 16)
    wk = dt.timedelta(days=7)

    def between(a, b):
        return int(((t >= a) & (t < b)).sum())

    assert n.complaints_today == between(day0, NOW) > 0
    assert n.complaints_today_last_week == between(day0 - wk, NOW - wk) > 0
    assert n.complaints_week == between(monday, NOW) > n.complaints_today
    assert n.complaints_week_last_week == between(monday - wk, NOW - wk)
    week = df[(t >= monday) & (t < NOW)]
    want = week.category.fillna("（未分类）").value_counts()
    got = n.category_mix.set_index("category")["count"]
    assert got.sort_index().to_dict() == want.sort_index().to_dict()
    # no case of the synthetic city is closed: open = received by now (not void)
    assert n.open == int((t <= NOW).sum())
    assert n.data_as_of == _frame(db).received_at.max()


def test_overdue_hotspots_and_lists(city):
    _, db = city
    n = _numbers(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        cases = overdue_cases(con, NOW)
        hot = compute_hotspots(con, HotspotQuery(dt.date(2026, 11, 16), dt.date(2026, 11, 22)))
        prev = compute_hotspots(con, HotspotQuery(dt.date(2026, 11, 9), dt.date(2026, 11, 15)))
        last = con.execute("SELECT max(finished_at) FROM import_batches").fetchone()[0]
    finally:
        con.close()
    assert n.overdue == len(cases)
    per = cases.district.fillna("（未定位）").value_counts()
    assert n.overdue_units.overdue.tolist() == sorted(per.to_list(), reverse=True)[:5]
    assert len(n.overdue_units) == min(5, len(per))
    newest = cases.sort_values("received_at", ascending=False).received_at.head(30)
    assert n.newest_overdue.received_at.tolist() == newest.tolist()
    is_hot = hot.cells.gi_bin >= 2
    assert n.hot_cells == int(is_hot.sum()) > 0
    assert n.hot_cells_fringe == int((is_hot & hot.cells.in_fringe.fillna(False)).sum())
    was_hot = prev.cells.gi_bin >= 2
    assert n.hot_cells_last_week == int(was_hot.sum()) > 0
    assert n.hot_cells_fringe_last_week == int((was_hot & prev.cells.in_fringe.fillna(False)
                                                ).sum())
    top = hot.cells[is_hot].sort_values("count", ascending=False)["count"].head(10)
    assert n.top_hotspots["count"].tolist() == top.tolist()
    assert n.last_import_at == last


def test_district_numbers_are_the_districts(city):
    _, db = city
    a, b = _numbers(db), _numbers(db, "青秀区")
    assert b.complaints_week < a.complaints_week
    assert b.overdue < a.overdue
    assert b.hot_cells <= a.hot_cells
    assert "青秀区" in set(b.top_hotspots.district)  # border cells may carry a neighbour


def test_stale_and_arrows():
    t = dt.datetime(2026, 11, 23, 12)
    assert is_stale(None, t, 60)
    assert is_stale(t - dt.timedelta(minutes=61), t, 60)
    assert not is_stale(t - dt.timedelta(minutes=59), t, 60)
    assert (arrow(2, 1), arrow(1, 2), arrow(1, 1), arrow(None, 1)) == ("▲", "▼", "＝", "")


# --- the page in AppTest -----------------------------------------------------------------

def _app(city, monkeypatch, stale_minutes=None, check=True, **params):
    tmp, db = city
    script = page_script(tmp, "wall")
    monkeypatch.setenv("GRID_DB", str(db))
    monkeypatch.setenv("GRID_TODAY", "2026-11-22")
    if stale_minutes is not None:
        cfg = tmp / f"settings-{stale_minutes}.toml"
        cfg.write_text(f"[wall]\nstale_minutes = {stale_minutes}\n", encoding="utf-8")
        monkeypatch.setenv("GRID_SETTINGS", str(cfg))
    else:
        monkeypatch.delenv("GRID_SETTINGS", raising=False)
    return run_page(script, timeout=180, query=params, check=check)


def _tiles(at) -> list[str]:
    html = next(m.value for m in at.markdown if '<div class="wall-tiles">' in m.value)
    return re.findall(r'class="wall-figure">([^<]*)<', html)


def _stale(at) -> bool:
    return any("数据已超过" in m.value and 'class="wall-stale"' in m.value for m in at.markdown)


def test_page_renders_and_warns_when_stale(city, monkeypatch):
    at = _app(city, monkeypatch)  # now = 2026-11-22 24:00, newest complaint 09:00
    assert _stale(at)
    assert len(_tiles(at)) == 7
    fresh = _app(city, monkeypatch, stale_minutes=100_000)
    assert not _stale(fresh)
    assert "数据截至 11-22 09:00" in " ".join(m.value for m in fresh.markdown)


def test_district_parameter_filters(city, monkeypatch):
    _, db = city
    now = dt.datetime(2026, 11, 23)  # GRID_TODAY 2026-11-22 ends at the next midnight
    city_n, dist_n = _numbers(db, None, now), _numbers(db, "青秀区", now)
    got_city = _tiles(_app(city, monkeypatch, stale_minutes=100_000))
    got_dist = _tiles(_app(city, monkeypatch, stale_minutes=100_000, district="青秀区"))
    assert got_city[1] == f"{city_n.complaints_week:,}"
    assert got_dist[1] == f"{dist_n.complaints_week:,}"
    assert got_dist[3] == f"{dist_n.overdue:,}" != got_city[3]


def test_untrusted_text_is_escaped_in_the_wall_html():
    """Category and street names come from imported files: they reach the page as text."""
    from ui.wall_html import header_html, legend_html, mix_bars, rolling_table, table_html

    evil = '<img src=x onerror="alert(1)">'
    df = pd.DataFrame({"street": [evil] * 12, "count": range(12)})
    cols = {"street": "街道", "count": "件数"}
    html_table = table_html("t", df, cols)
    html_roll = rolling_table("t", df, cols, visible=10)
    mix = pd.DataFrame({"category": [evil, "b"], "count": [5, 2]})
    html_mix = mix_bars(mix)
    html_legend = legend_html([("#d62f27", evil)], "zh")
    html_head = header_html(evil, 3, data_as_of=None, last_import_at=None,
                            refreshed=dt.datetime(2026, 11, 23))
    for text in (html_table, html_roll, html_mix, html_legend, html_head):
        assert "<img" not in text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    # the rolling list holds every row twice and scrolls 3 s per row
    assert html_roll.count("<tr><td>") == 24 and "animation-duration:36s" in html_roll
    assert "11-22 24:00" in html_head
    assert 'style="width:100.0%"' in html_mix and 'style="width:40.0%"' in html_mix


def test_category_mix_keeps_the_total():
    from ui.wall_html import mix_rows

    mix = pd.DataFrame({"category": list("abcdefghij"), "count": range(10, 0, -1)})
    rows = mix_rows(mix, top=8)
    assert rows["category"].tolist() == list("abcdefg") + ["其他"]
    assert rows["count"].sum() == mix["count"].sum() and rows["count"].iloc[-1] == 3 + 2 + 1
    assert mix_rows(mix.head(8), top=8)["category"].tolist() == list("abcdefgh")


def test_unknown_district_is_named_with_the_choices(city, monkeypatch):
    at = _app(city, monkeypatch, check=False, district="不存在区")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "未知区县“不存在区”" in errors and "青秀区" in errors
    assert not any('class="wall-tiles"' in m.value for m in at.markdown)  # no zeros shown


def test_a_busy_database_keeps_the_last_screen_and_says_so(city, monkeypatch):
    import views.wall as wall_view
    from store.database import DatabaseBusyError

    at = _app(city, monkeypatch, stale_minutes=100_000)
    first = _tiles(at)

    def busy(*args, **kwargs):
        raise DatabaseBusyError("another import is writing grid.duckdb; waited 10 s")

    monkeypatch.setattr(wall_view, "_numbers", busy)
    at.run()
    assert not at.exception and not at.error
    assert _tiles(at) == first
    header = next(m.value for m in at.markdown if 'class="wall-title"' in m.value)
    assert "数据库忙，显示的是 11-22 24:00 的数据" in header

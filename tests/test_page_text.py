"""What the Chinese pages show, as text: no ``None``, ``nan``, ``NaN`` or English codes on
any page (tests/pagetext.py reads every element, table cell and option), and an archive
whose newest record is in 2015 opens on its own dates, not on an empty "this week".

The pinned today is 2026-11-23 (GRID_TODAY); nothing here reads the real clock.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.apptest import page_script, run_page
from tests.conftest import NANNING, NOW
from tests.pagetext import FORBIDDEN, forbidden_words

TODAY = "2026-11-23"
PAGES = ("situation", "backlog", "fringe", "briefing", "data_import", "settings", "wall")
#: The 2015 archive: complaints from 2015-10-01 to its newest, 2015-12-31 18:00.
LAST_2015 = dt.datetime(2015, 12, 31, 18, 0)


@pytest.fixture(scope="module")
def archive_2015(tmp_path_factory):
    """Nanning's districts and 900 complaints of late 2015 in central Nanning (WGS-84):
    two thirds closed one to six days after they came in, the rest still open. Returns
    (database path, the complaints as written)."""
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file

    tmp = tmp_path_factory.mktemp("archive2015")
    db = tmp / "grid.duckdb"
    load_boundaries(db, NANNING, "district", crs="gcj02")
    rng = np.random.default_rng(2015)
    n = 900
    first = pd.Timestamp("2015-10-01 08:00")
    span_min = int((pd.Timestamp(LAST_2015) - first) / pd.Timedelta(minutes=1))
    received = first + pd.to_timedelta(np.sort(rng.integers(0, span_min, n)), "min")
    received = received.to_numpy().copy()
    received[-1] = np.datetime64(LAST_2015)  # the newest record fixes the last day
    closed = pd.Series(received + rng.integers(60, 6 * 1440, n).astype("timedelta64[m]"))
    is_closed = rng.random(n) < 2 / 3
    closed[~is_closed] = pd.NaT
    df = pd.DataFrame({
        "工单编号": [f"A15{i:05d}" for i in range(n)],
        "受理时间": pd.Series(received).dt.strftime("%Y-%m-%d %H:%M"),
        "问题类型": rng.choice(["市容环境", "街面秩序", "宣传广告"], n),
        "问题描述": "群众反映",
        "经度": rng.uniform(108.30, 108.36, n).round(6),
        "纬度": rng.uniform(22.80, 22.84, n).round(6),
        "处理状态": np.where(is_closed, "已办结", "处理中"),
        "办结时间": closed.dt.strftime("%Y-%m-%d %H:%M").fillna(""),
    })
    csv = tmp / "archive2015.csv"
    df.to_csv(csv, index=False, encoding="utf-8")
    res = ingest_file(db, "complaints", csv, crs="wgs84", now=NOW)
    assert (res.inserted, res.rejected) == (n, 0)
    df["received"] = pd.Series(received)
    df["closed"] = closed
    return db, df


def _env(monkeypatch, db) -> None:
    monkeypatch.setenv("GRID_DB", str(db))
    monkeypatch.setenv("GRID_TODAY", TODAY)
    monkeypatch.delenv("GRID_SETTINGS", raising=False)


def _first_cell(db) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT h3_r9 FROM records_h3 WHERE kind = 'complaints' "
                           "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    finally:
        con.close()


def _scan(tmp_path, db) -> dict[str, list[str]]:
    """Forbidden words per page run: every page, the map with a cell picked, the backlog
    drilled down to the district with most records."""
    found = {}
    for page in PAGES:
        at = run_page(page_script(tmp_path, page))
        found[page] = forbidden_words(at)
    at = run_page(page_script(tmp_path, "situation"), query={"cell": _first_cell(db)})
    found["situation?cell"] = forbidden_words(at)
    con = duckdb.connect(str(db), read_only=True)
    try:
        top = con.execute("SELECT district FROM complaints WHERE district IS NOT NULL "
                          "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        jid = con.execute("SELECT jurisdiction_id FROM jurisdictions WHERE level = 'district' "
                          "AND name = ?", [top]).fetchone()
    finally:
        con.close()
    unit = {"level": "district", "id": jid[0] if jid else None, "name": top}
    at = run_page(page_script(tmp_path, "backlog"), backlog_path=[unit])
    found["backlog/district"] = forbidden_words(at)
    return {k: v for k, v in found.items() if v}


def test_the_scanner_sees_what_it_must_refuse():
    """The scan itself: each forbidden word is caught as a word, file names are not."""
    for text in ("None", "结案率 nan", "NaN", "NaT", "complaints", "boundaries:grid",
                 "zones:fringe-derived", "new_hotspot", "状态 open"):
        assert FORBIDDEN.search(text), text
    for text in ("complaints.csv", "python cli.py", "Gi* z值", "H3", "GeoJSON", "—",
                 "2026-11-22", "Nanning", "nanning_districts_gcj02.geojson"):
        assert not FORBIDDEN.search(text), text


@pytest.mark.slow
def test_no_page_of_the_demo_city_shows_python_values_or_english_codes(
        demo_city, tmp_path, monkeypatch):
    db = shutil.copy(demo_city[0], tmp_path / "grid.duckdb")
    _env(monkeypatch, db)
    assert _scan(tmp_path, db) == {}


def test_no_page_of_the_2015_archive_shows_python_values_or_english_codes(
        archive_2015, tmp_path, monkeypatch):
    _env(monkeypatch, archive_2015[0])
    assert _scan(tmp_path, archive_2015[0]) == {}


def test_map_page_opens_on_the_archive_s_last_four_weeks(archive_2015, tmp_path, monkeypatch):
    db, df = archive_2015
    _env(monkeypatch, db)
    at = run_page(page_script(tmp_path, "situation"))
    assert any("数据截至 2015-12-31" in i.value for i in at.info)
    # the default period: the 28 days ending on the newest record's day
    start, end = pd.Timestamp("2015-12-04"), pd.Timestamp("2016-01-01")
    want = int(((df.received >= start) & (df.received < end)).sum())
    kpis = {m.label: m.value for m in at.metric}
    assert kpis["期间记录数"] == f"{want:,}" and want > 200


def test_backlog_page_opens_as_of_the_archive_s_last_day(archive_2015, tmp_path, monkeypatch):
    db, df = archive_2015
    _env(monkeypatch, db)
    at = run_page(page_script(tmp_path, "backlog"))
    assert at.date_input(key="backlog_as_of").value == dt.date(2015, 12, 31)
    assert any("数据截至 2015-12-31" in i.value for i in at.info)
    t = pd.Timestamp("2016-01-01")  # the end of 2015-12-31
    open_at_t = (df.received <= t) & (df.closed.isna() | (df.closed > t))
    kpis = {m.label: m.value for m in at.metric}
    assert kpis["未结案"] == f"{int(open_at_t.sum()):,}" and open_at_t.sum() > 200
    # the picker goes back to the archive's first day, not only ten years
    assert at.date_input(key="backlog_as_of").min <= dt.date(2015, 10, 1)


def test_wall_over_the_archive_says_the_year_of_its_stale_data(archive_2015, tmp_path,
                                                              monkeypatch):
    _env(monkeypatch, archive_2015[0])
    at = run_page(page_script(tmp_path, "wall"))
    header = " ".join(m.value for m in at.markdown if "wall-title" in m.value)
    assert "数据截至 2015-12-31 18:00" in header


def test_briefing_offers_the_weeks_up_to_the_archive_s_last(archive_2015, tmp_path,
                                                           monkeypatch):
    _env(monkeypatch, archive_2015[0])
    at = run_page(page_script(tmp_path, "briefing"))
    # 2015-12-31 is a Thursday of ISO week 2015-W53 (2015 has 53 ISO weeks)
    assert dt.date(2015, 12, 31).isocalendar()[:2] == (2015, 53)
    weeks = at.selectbox(key="briefing_week").options
    assert weeks[0] == "2015-W53" and weeks[1] == "2015-W52" and len(weeks) == 12

"""The weekly briefing (export-weekly): files read back and checked against the analytics."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import NOW

WEEK = "2026-W47"
MONDAY = dt.date(2026, 11, 16)
TODAY = NOW.date()


def _font_or_fail() -> None:
    from ui.fonts import cjk_font_name

    if cjk_font_name() is None:
        pytest.fail("no CJK font for the briefing map: apt-get install fonts-noto-cjk")


@pytest.fixture(scope="module")
def exported(demo_city, tmp_path_factory):
    """Two exports of the same week into two folders, and one of a week with no data."""
    from ui.briefing_files import export_weekly

    _font_or_fail()
    db, _ = demo_city
    base = tmp_path_factory.mktemp("briefing")
    a = export_weekly(db, WEEK, base / "a", today=TODAY)
    b = export_weekly(db, WEEK, base / "b", today=TODAY)
    empty = export_weekly(db, "2025-W10", base / "empty", today=TODAY)
    return db, a, b, empty


def _by_ext(paths):
    return {p.suffix: p for p in paths}


def _summary_rows(path) -> dict[str, tuple]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["汇总"]
    rows = {}
    for r in ws.iter_rows(min_row=4, values_only=True):
        if r[0] and r[1] is not None:
            rows[r[0]] = r
    return rows


def test_summary_sheet_matches_the_analytics(exported):
    import openpyxl

    from analytics.backlog import BacklogQuery, compute_backlog
    from analytics.hotspots import HotspotQuery, compute_hotspots
    from store.database import read_connection

    db, files, _, _ = exported
    rows = _summary_rows(_by_ext(files)[".xlsx"])
    start = dt.datetime.combine(MONDAY, dt.time())
    stop = start + dt.timedelta(days=7)
    with read_connection(db) as conn:
        n = conn.execute("SELECT count(*) FROM complaints WHERE status <> 'void' AND "
                         "received_at >= ? AND received_at < ?", [start, stop]).fetchone()[0]
        n_prev = conn.execute("SELECT count(*) FROM complaints WHERE status <> 'void' AND "
                              "received_at >= ? AND received_at < ?",
                              [start - dt.timedelta(days=7), start]).fetchone()[0]
        hot = compute_hotspots(conn, HotspotQuery(MONDAY, MONDAY + dt.timedelta(days=6)))
        city = compute_backlog(conn, BacklogQuery(stop, start)).level(
            "district").iloc[-1]
    assert n > 0
    assert rows["受理投诉（件）"][1:4] == (n, n_prev, n - n_prev)
    assert rows["热点网格（个）"][1] == int((hot.cells.gi_bin >= 2).sum())
    assert rows["未结案（件）"][1] == city.open
    assert rows["超期未结（件）"][1] == city.overdue
    assert rows["按期结案率"][1] == pytest.approx(city.on_time_rate)
    wb = openpyxl.load_workbook(_by_ext(files)[".xlsx"])
    assert wb.sheetnames[0] == "汇总"
    for name in ("热点网格", "新增热点", "消失热点", "城乡结合部", "区县积案排名", "街道积案排名",
                 "超期案件清单"):
        assert name in wb.sheetnames
        assert wb[name].freeze_panes == "A4"
    assert wb["汇总"]["B9"].number_format == "0.0%"  # on-time rate
    top = wb["热点网格"]
    assert top["B3"].value == "H3网格"
    assert top.max_row - 3 == rows["热点网格（个）"][1]
    overdue = wb["超期案件清单"]
    assert overdue.max_row - 3 == city.overdue


def test_docx_title_and_summary(exported):
    import docx

    _, files, _, _ = exported
    d = docx.Document(str(_by_ext(files)[".docx"]))
    rows = _summary_rows(_by_ext(files)[".xlsx"])
    assert d.paragraphs[0].text == "城市网格化管理周报（2026年第47周）"
    assert d.core_properties.title == "城市网格化管理周报（2026年第47周）"
    text = "\n".join(p.text for p in d.paragraphs)
    assert f"本周共受理投诉{rows['受理投诉（件）'][1]}件" in text
    assert "环比" in text
    assert len(d.tables) >= 3
    assert len(d.inline_shapes) == 1  # the map


def test_png_map_is_drawn_with_a_cjk_font(exported):
    from PIL import Image

    _font_or_fail()
    _, files, _, _ = exported
    img = Image.open(_by_ext(files)[".png"]).convert("RGB")
    w, h = img.size
    assert abs(w - 1600) <= 50 and abs(h - 1200) <= 50
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200


def test_geojson_is_the_weeks_hot_cells(exported):
    from analytics.hotspots import HotspotQuery, compute_hotspots
    from store.database import read_connection

    db, files, _, _ = exported
    doc = json.loads(_by_ext(files)[".geojson"].read_text(encoding="utf-8"))
    with read_connection(db) as conn:
        hot = compute_hotspots(conn, HotspotQuery(MONDAY, MONDAY + dt.timedelta(days=6)))
    want = sorted(hot.cells.loc[hot.cells.gi_bin >= 2, "h3"])
    assert [f["properties"]["h3"] for f in doc["features"]] == want
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 107 < lon < 109.5 and 21.5 < lat < 24


def test_same_database_and_week_give_the_same_files(exported):
    import docx

    _, a, b, _ = exported
    a, b = _by_ext(a), _by_ext(b)
    assert a[".xlsx"].read_bytes() == b[".xlsx"].read_bytes()
    assert a[".geojson"].read_bytes() == b[".geojson"].read_bytes()

    def text(p):
        d = docx.Document(str(p))
        return [x.text for x in d.paragraphs] + [c.text for t in d.tables for r in t.rows
                                                 for c in r.cells]

    assert text(a[".docx"]) == text(b[".docx"])


def test_week_without_data_says_so(exported):
    import docx
    import openpyxl

    _, _, _, empty = exported
    files = _by_ext(empty)
    wb = openpyxl.load_workbook(files[".xlsx"])
    texts = [c for r in wb["汇总"].iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert any("本周无数据" in t for t in texts)
    assert _summary_rows(files[".xlsx"])["受理投诉（件）"][1] == 0
    d = docx.Document(str(files[".docx"]))
    assert any("本周无数据" in p.text for p in d.paragraphs)
    assert json.loads(files[".geojson"].read_text(encoding="utf-8"))["features"] == []


@pytest.mark.parametrize("week, words", [("2026-47", "ISO week"), ("2026-W54", "W01 to W53"),
                                         ("2027-W10", "after today")])
def test_bad_weeks_are_refused(week, words):
    from analytics.briefing import parse_iso_week

    with pytest.raises(ValueError, match=words):
        parse_iso_week(week, TODAY)


def test_iso_week_bounds():
    from analytics.briefing import parse_iso_week

    assert parse_iso_week(WEEK, TODAY) == (MONDAY, dt.date(2026, 11, 22))
    assert parse_iso_week("2026-W48", TODAY)[0] == TODAY  # the week that began today
    assert parse_iso_week("2020-W53", TODAY) == (dt.date(2020, 12, 28), dt.date(2021, 1, 3))


@pytest.mark.parametrize("week", ["2026-47", "2027-W10"])
def test_cli_exit_2_for_bad_weeks(week, tmp_path, capsys, monkeypatch):
    import analytics.briefing as briefing
    from cli import main

    # the command line judges a future week by the local date: pin it to TODAY, so that
    # 2027-W10 is in the future whatever day the test runs on
    real = briefing.parse_iso_week
    monkeypatch.setattr(briefing, "parse_iso_week", lambda w, today=None: real(w, today or TODAY))
    assert main(["--db", str(tmp_path / "none.duckdb"), "export-weekly", "--week", week,
                 "--out", str(tmp_path / "out")]) == 2
    assert "--week" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""The situation map page (/ and /map) in Streamlit's AppTest, on a copy of the synthetic
city (Nanning's districts, 6,800 complaints 2026-10-26 … 2026-11-22).

The page's figures must be the analytics' for the same filters: with GRID_TODAY =
2026-11-23 the default period is the last four ISO weeks, 2026-10-26 to 2026-11-22.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import h3
import pytest

from analytics.celldetail import cell_detail
from analytics.hotspots import HotspotQuery, compute_hotspots
from tests.apptest import no_failure as _no_failure
from tests.apptest import page_script, run_page
from tests.conftest import CLUSTER

START, END = dt.date(2026, 10, 26), dt.date(2026, 11, 22)
RECORDS, HOT, DRAWN, FRINGE_HOT = ("期间记录数", "热点单元（Gi* ≥ 95%）", "地图显示单元",
                                   "城乡结合部热点单元")


@pytest.fixture(scope="module")
def app_env(synthetic_city, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app_map")
    db = shutil.copy(synthetic_city[0], tmp / "grid.duckdb")
    script = page_script(tmp, "situation")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRID_DB", str(db))
        mp.setenv("GRID_TODAY", "2026-11-23")
        mp.delenv("GRID_SETTINGS", raising=False)
        yield {"db": db, "script": script, "tmp": tmp}


def _run(app_env, query: dict | None = None, **state):
    return run_page(app_env["script"], query=query, **state)


def _kpis(at) -> dict[str, int]:
    return {m.label: int(m.value.replace(",", "")) for m in at.metric}


def _hotspots(db, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_hotspots(con, HotspotQuery(START, END, **kw))
    finally:
        con.close()


def test_the_page_renders_with_the_analytics_figures(app_env):
    at = _run(app_env)
    assert at.title[0].value == "态势地图"
    hot = _hotspots(app_env["db"], res=9)
    k = _kpis(at)
    assert k[RECORDS] == hot.n_records > 4000   # the 6,800 less those outside the districts
    assert k[HOT] == int((hot.cells.gi_bin >= 2).sum()) > 0
    assert k[DRAWN] == len(hot.rows())        # 89k cells in S: only the notable ones drawn
    assert k[FRINGE_HOT] == 0                 # no fringe loaded in this city
    assert any("只显示有记录" in c.value for c in at.caption)
    assert any("在地图上点击" in i.value for i in at.info)  # the panel says how to use it
    # the data ends on 2026-11-22, the day before the pinned today: the page says so
    assert any("数据截至 2026-11-22" in i.value for i in at.info)
    legend = [m.value for m in at.markdown if "background:" in m.value]
    assert legend and "件数" in legend[0] and "≥" in legend[0]


def test_a_category_changes_the_figures_as_the_analytics_say(app_env):
    at = _run(app_env)
    before = _kpis(at)
    at.multiselect(key="map_categories_complaints").set_value(["街面秩序"]).run()
    _no_failure(at)
    after = _kpis(at)
    hot = _hotspots(app_env["db"], res=9, categories=["街面秩序"])
    assert after[RECORDS] == hot.n_records < before[RECORDS]
    assert after[HOT] == int((hot.cells.gi_bin >= 2).sum())
    assert after[DRAWN] == len(hot.rows())
    at.select_slider(key="map_res").set_value(8).run()
    _no_failure(at)
    hot8 = _hotspots(app_env["db"], res=8, categories=["街面秩序"])
    assert _kpis(at)[HOT] == int((hot8.cells.gi_bin >= 2).sum())
    assert _kpis(at)[DRAWN] == len(hot8.cells)   # at res 8 every cell of S fits


def test_a_district_and_every_layer_mode(app_env):
    at = _run(app_env)
    at.selectbox(key="map_district__zh").set_value("青秀区").run()
    _no_failure(at)
    hot = _hotspots(app_env["db"], res=9, district="青秀区")
    assert _kpis(at)[RECORDS] == hot.n_records
    for mode in ("density", "gi_bin", "emerging", "count"):
        at.radio(key="map_mode").set_value(mode).run()
        _no_failure(at)
        assert _kpis(at)[RECORDS] == hot.n_records
    at.checkbox(key="map_outlines").uncheck().run()
    _no_failure(at)
    at.session_state["lang"] = "en"          # the choices carry over to the other language
    at.run()
    _no_failure(at)
    assert at.selectbox(key="map_district__en").value == "青秀区"
    assert int(at.metric[0].value.replace(",", "")) == hot.n_records


def test_a_cell_in_the_address_opens_its_detail(app_env):
    cell = h3.cell_to_parent(h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], 12), 9)
    at = _run(app_env, query={"cell": cell})
    con = duckdb.connect(str(app_env["db"]), read_only=True)
    try:
        d = cell_detail(con, cell, START, END)
    finally:
        con.close()
    metrics = [m for m in at.metric if m.label == RECORDS]
    assert int(metrics[-1].value.replace(",", "")) == d.n_records > 0
    tables = [t.value for t in at.table]
    where = tables[0]
    assert where.iloc[0, 1] == md("西乡塘区") or where.iloc[0, 1] == md(d.jurisdiction["district"])
    by_cat = tables[1]
    assert by_cat.iloc[:, -1].sum() == d.n_records
    latest = tables[2]
    assert len(latest) == min(20, d.n_records)
    assert not at.info or "在地图上点击" not in at.info[-1].value


def md(text):
    from views.situation import md_text

    return md_text(text)


def test_a_click_on_the_map_selects_the_cell(app_env):
    cell = h3.cell_to_parent(h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], 12), 9)
    click = {"last_active_drawing": {"type": "Feature", "properties": {"h3": cell, "n": 3}},
             "last_object_clicked": {"lat": CLUSTER[1], "lng": CLUSTER[0]}}
    at = _run(app_env, situation_map=click)
    assert at.query_params["cell"] == [cell] or at.query_params["cell"] == cell
    assert len(at.table) >= 3
    # a click on something without a cell id (a point far from any feature): the cell under it
    lat, lon = 22.9, 108.4
    other = h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 12), 9)
    at2 = _run(app_env, situation_map={"last_active_drawing": {"properties": {"n": "x"}},
                                       "last_object_clicked": {"lat": lat, "lng": lon}})
    assert at2.session_state["map_cell"] == other


def test_the_budget_switch_is_said_on_screen(app_env, monkeypatch):
    from ui import webmap

    hot8 = _hotspots(app_env["db"], res=8)
    budget = len(hot8.rows())            # res 9 has more notable cells, res 8 just fits
    assert budget < len(_hotspots(app_env["db"], res=9).rows())
    monkeypatch.setattr(webmap, "MAX_CELLS", budget)
    at = _run(app_env)
    assert any("地图改用分辨率 8" in i.value for i in at.info), [i.value for i in at.info]
    assert _kpis(at)[DRAWN] == budget
    assert _kpis(at)[RECORDS] == hot8.n_records
    assert _kpis(at)[HOT] == int((hot8.cells.gi_bin >= 2).sum())


def test_english_and_a_missing_database(app_env, tmp_path, monkeypatch):
    at = _run(app_env, lang="en")
    assert at.title[0].value == "Situation map"
    assert "Records in period" in [m.label for m in at.metric]
    monkeypatch.setenv("GRID_DB", str(tmp_path / "none.duckdb"))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app_env["script"]), default_timeout=60).run()
    assert not at.exception
    assert at.warning and "python cli.py demo" in at.warning[0].value


def test_untrusted_text_is_made_literal_for_markdown():
    from views.situation import md_text

    for raw in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "${alert(1)}",
                "`alert(1)`", "**b** [l](http://x) ![i](http://x/i.png)"):
        out = md_text(raw)
        assert not any(c in out.replace("&#", "").replace(";", "") for c in "<>`$[]()*!")
        import html

        assert html.unescape(out) == raw
    assert md_text(None) == "" and md_text("a\nb") == "a b"
    assert md_text(dt.datetime(2026, 11, 20, 10, 5)) == "2026&#45;11&#45;20 10&#58;05"


def test_a_bad_cell_in_the_address_is_said_and_dropped(app_env):
    at = _run(app_env, query={"cell": "<script>alert(1)</script>"})
    assert at.warning and "单元编号无效" in at.warning[0].value
    assert "<script>" not in at.warning[0].value
    assert "cell" not in at.query_params
    assert "在地图上点击" in at.info[-1].value

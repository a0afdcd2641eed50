"""The fringe page (/fringe) in Streamlit's AppTest, on the small city of test_cases: its
figures are fringe_focus's, category_mix's and find_blindspots' for the same inputs."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics.blindspots import find_blindspots
from analytics.cases import category_mix
from analytics.fringe import fringe_focus
from analytics.hotspots import HotspotQuery
from tests.apptest import no_failure as _no_failure
from tests.apptest import page_script, run_page
from tests.conftest import ROOT
from tests.test_cases import build_city

#: The page's default period: the 4 ISO weeks before GRID_TODAY's week.
START, END = dt.date(2026, 10, 26), dt.date(2026, 11, 22)
RATIO = "密度比(区内/区外)"


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app_fringe")
    (tmp / "zoned").mkdir()
    (tmp / "bare").mkdir()
    city = build_city(tmp / "zoned")
    bare = build_city(tmp / "bare", zones=False)
    script = page_script(tmp, "fringe")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRID_DB", str(city["db"]))
        mp.setenv("GRID_TODAY", "2026-11-23")
        mp.delenv("GRID_SETTINGS", raising=False)
        yield {"db": city["db"], "bare": bare["db"], "script": script}


def _run(app_env, **state):
    return run_page(app_env["script"], **state)


def _kpis(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


#: A column only each of the page's tables has.
_MARK = {"fringe_summary": "指标", "fringe_ranked": "rank", "fringe_mix": "count_in",
         "fringe_blind": "nearest_point_name"}


def _frame(at, name: str) -> pd.DataFrame:
    """One of the page's tables, told apart by a column only it has."""
    for d in at.dataframe:
        if _MARK[name] in d.value.columns:
            return d.value
    raise AssertionError(f"no table {name}")


def _with(db, fn):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return fn(con)
    finally:
        con.close()


def _focus(db, res=9, source="complaints"):
    return _with(db, lambda c: fringe_focus(c, HotspotQuery(START, END, res, source=source),
                                            kinds=["fringe"]))


def test_page_renders_and_density_ratio_equals_fringe_focus(app_env):
    at = _run(app_env)
    assert at.title[0].value == "城乡结合部"
    row = _focus(app_env["db"]).summary.iloc[0]
    assert row.density_ratio > 2  # the planted cluster lies in the fringe
    got = _kpis(at)
    assert got[RATIO] == f"{row.density_ratio:.2f}"
    assert got["区内每平方公里件数"] == f"{row.per_km2_in:.2f}"
    assert got["区外每平方公里件数"] == f"{row.per_km2_out:.2f}"
    assert got["热点网格落在区内的占比"] == f"{row.hot_share_in:.1%}"
    assert got["区内网格占全部网格的比例"] == f"{row.cell_share_in:.1%}"
    table = _frame(at, "fringe_summary").set_index("指标")
    assert row.per_km2_in / row.per_km2_out == pytest.approx(row.density_ratio, rel=1e-12)
    assert table.loc["每平方公里件数", "区内"] == f"{row.per_km2_in:,.2f}"
    # counts without decimals (the table once showed 3146.00)
    assert table.loc["件数", "区内"] == f"{int(row.records_in):,}"
    assert table.loc["件数", "区外"] == f"{int(row.records_out):,}"
    assert table.loc["热点网格数", "区内"] == f"{int(row.hot_cells_in):,}"


def test_hot_cells_mix_and_blindspots_equal_the_analytics(app_env):
    at = _run(app_env)
    db = app_env["db"]
    ranked = _frame(at, "fringe_ranked")
    want = _focus(db).ranked
    assert len(ranked) == len(want) > 0
    assert list(ranked.h3) == list(want.h3) and list(ranked.district) == list(want.district)
    assert set(ranked.district) == {"二区"}
    mix = _frame(at, "fringe_mix")
    pd.testing.assert_frame_equal(mix.reset_index(drop=True),
                                  _with(db, lambda c: category_mix(c, START, END)),
                                  check_dtype=False)
    blind = _frame(at, "fringe_blind")
    want_b = _with(db, lambda c: find_blindspots(c, HotspotQuery(START, END, 9)))
    assert list(blind.h3) == list(want_b.h3) and len(blind) > 0
    assert blind.in_fringe.any()
    at.checkbox(key="fringe_blind_only").check().run()
    _no_failure(at)
    assert _frame(at, "fringe_blind").in_fringe.all()
    assert len(at.get("download_button")) == 1


def test_resolution_and_source_follow_fringe_focus(app_env):
    at = _run(app_env)
    at.selectbox(key="fringe_res").set_value(8).run()
    _no_failure(at)
    row8 = _focus(app_env["db"], res=8).summary.iloc[0]
    assert _kpis(at)["热点网格落在区内的占比"] == f"{row8.hot_share_in:.1%}"
    at.radio(key="fringe_source").set_value("inspections").run()
    _no_failure(at)
    row = _focus(app_env["db"], res=8, source="inspections").summary.iloc[0]
    assert row.records_in == 0  # every inspection point lies in the first district
    assert _kpis(at)[RATIO] == f"{row.density_ratio:.2f}"


def test_no_fringe_loaded_is_a_clear_message(app_env, monkeypatch):
    monkeypatch.setenv("GRID_DB", str(app_env["bare"]))
    at = _run(app_env)
    assert any("还没有加载城乡结合部范围" in i.value for i in at.info)
    assert not at.metric
    assert len(_frame(at, "fringe_blind")) > 0  # blind spots need no zone


def test_english_labels(app_env):
    at = _run(app_env, lang="en")
    assert at.title[0].value == "Urban-rural fringe"
    assert "Density ratio (in/out)" in _kpis(at)


def test_no_unsafe_html():
    src = (ROOT / "views" / "fringe.py").read_text(encoding="utf-8")
    assert "unsafe_allow_html" not in src

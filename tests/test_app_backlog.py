"""The backlog page (/backlog) in Streamlit's AppTest, on the small city of test_cases, and
the download files (ui/downloads) read back with openpyxl and pandas.

The page's figures must be compute_backlog's for the same inputs: as of the end of the
pinned today (GRID_TODAY = 2026-11-23), period start seven days earlier.
"""

from __future__ import annotations

import datetime as dt
import io

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from analytics.backlog import BacklogQuery, compute_backlog
from analytics.cases import overdue_cases
from tests.apptest import no_failure as _no_failure
from tests.apptest import page_script, run_page
from tests.conftest import ROOT
from tests.test_cases import EVIL_ADDR, EVIL_DESC, build_city
from ui.downloads import HEADERS_ZH, to_csv_bytes, to_xlsx_bytes

AS_OF = dt.datetime(2026, 11, 24)  # the end of GRID_TODAY


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app_backlog")
    city = build_city(tmp)
    script = page_script(tmp, "backlog")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRID_DB", str(city["db"]))
        mp.setenv("GRID_TODAY", "2026-11-23")
        mp.delenv("GRID_SETTINGS", raising=False)
        yield {"db": city["db"], "script": script}


def _run(app_env, **state):
    return run_page(app_env["script"], **state)


def _kpis(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _backlog(db, as_of=AS_OF, source="all"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_backlog(con, BacklogQuery(as_of, as_of - dt.timedelta(days=7),
                                                 source=source))
    finally:
        con.close()


def _expect(row) -> dict[str, str]:
    return {"未结案": f"{int(row.open):,}", "超期未结": f"{int(row.overdue):,}",
            "即将超期(24小时内)": f"{int(row.due_soon):,}",
            "积案(30天以上)": f"{int(row.backlog_30d):,}",
            "按期结案率": "—" if pd.isna(row.on_time_rate) else f"{row.on_time_rate:.1%}"}


def _level_frame(at) -> pd.DataFrame:
    """The drill-down table (the first dataframe, keyed backlog_table_…)."""
    return at.dataframe[0].value


def _pick(at, name: str):
    """Drill down to ``name`` with the page's selectbox."""
    box = next(s for s in at.selectbox if str(s.key).startswith("backlog_pick_"))
    return box.select_index(box.options.index(name)).run()


def test_page_renders_and_kpis_equal_the_city_row(app_env):
    at = _run(app_env)
    assert at.title[0].value == "积案督办"
    res = _backlog(app_env["db"])
    city = res.table[res.table.level == "city"].iloc[0]
    got = _kpis(at)
    assert {k: got[k] for k in _expect(city)} == _expect(city)
    delta = next(m for m in at.metric if m.label == "按期结案率").delta
    want = (city.on_time_rate - city.on_time_rate_prev) * 100
    assert delta == f"{want:+.1f} 个百分点"
    # the district table: every district row with rank, grade and the previous rates
    frame = _level_frame(at)
    districts = res.level("district", with_city=False)
    assert sorted(frame.jurisdiction) == sorted(districts.jurisdiction)
    one = frame.set_index("jurisdiction").loc["一区"]
    src = districts.set_index("jurisdiction").loc["一区"]
    assert one.overdue == src.overdue and one["rank"] == src["rank"] and one.grade == src.grade
    assert one.on_time_rate == pytest.approx(src.on_time_rate)
    d = (src.on_time_rate - src.on_time_rate_prev) * 100
    arrow = "▲" if d > 0.05 else ("▼" if d < -0.05 else "＝")
    assert one.on_time_rate_change == f"{src.on_time_rate_prev:.1%} {arrow}{abs(d):.1f}"


def test_source_filter_changes_the_figures_as_compute_backlog_says(app_env):
    at = _run(app_env)
    all_city = _backlog(app_env["db"]).table.query("level == 'city'").iloc[0]
    for source in ("complaints", "inspections"):
        at.radio(key="backlog_source").set_value(source).run()
        _no_failure(at)
        city = _backlog(app_env["db"], source=source).table.query("level == 'city'").iloc[0]
        got = _kpis(at)
        assert {k: got[k] for k in _expect(city)} == _expect(city)
        assert city.overdue != all_city.overdue
        assert got["超期未结"] != f"{int(all_city.overdue):,}"


def test_as_of_changes_the_figures(app_env):
    at = _run(app_env)
    at.date_input(key="backlog_as_of").set_value(dt.date(2026, 11, 5)).run()
    _no_failure(at)
    t = dt.datetime(2026, 11, 6)
    city = _backlog(app_env["db"], as_of=t).table.query("level == 'city'").iloc[0]
    got = _kpis(at)
    assert {k: got[k] for k in _expect(city)} == _expect(city)


def test_drill_down_to_children_and_back(app_env):
    at = _run(app_env)
    res = _backlog(app_env["db"])
    table = res.table
    at = _pick(at, "二区")
    _no_failure(at)
    district = table[(table.level == "district") & (table.jurisdiction_id == "450102")].iloc[0]
    got = _kpis(at)
    assert {k: got[k] for k in _expect(district)} == _expect(district)
    frame = _level_frame(at)
    assert sorted(frame.jurisdiction) == ["二区北街道", "二区南街道"]  # its streets only
    streets = table[(table.level == "street") & table.jurisdiction.isin(frame.jurisdiction)]
    assert frame.overdue.sum() == streets.overdue.sum() == district.overdue
    # the overdue list is the district's
    cases = at.dataframe[1].value
    con = duckdb.connect(str(app_env["db"]), read_only=True)
    try:
        want = overdue_cases(con, AS_OF, "district", "450102")
    finally:
        con.close()
    assert list(cases.case_id) == list(want.case_id) and len(cases) == district.overdue
    # further down: street → community → grid
    at = _pick(at, "二区南街道")
    assert sorted(_level_frame(at).jurisdiction) == ["二区南东社区", "二区南西社区"]
    at = _pick(at, "二区南东社区")
    assert sorted(_level_frame(at).jurisdiction) == ["二区南东社区第1网格", "二区南东社区第2网格"]
    at = _pick(at, "二区南东社区第1网格")
    _no_failure(at)
    grid = table[(table.level == "grid") & (table.jurisdiction_id == "450102001002001")].iloc[0]
    got = _kpis(at)
    assert {k: got[k] for k in _expect(grid)} == _expect(grid)
    assert any("最小管理单元" in c.value for c in at.caption)
    # breadcrumbs: back to the whole city
    labels = [b.label for b in at.button if str(b.key).startswith("backlog_crumb_")]
    assert labels[0] == "全市" and len(labels) == 5
    at.button(key="backlog_crumb_1").click().run()
    assert sorted(_level_frame(at).jurisdiction) == ["二区北街道", "二区南街道"]
    at.button(key="backlog_crumb_0").click().run()
    _no_failure(at)
    city = table[table.level == "city"].iloc[0]
    got = _kpis(at)
    assert {k: got[k] for k in _expect(city)} == _expect(city)


def test_name_only_district_drills_to_its_named_streets(app_env):
    at = _pick(_run(app_env), "三区")
    _no_failure(at)
    assert sorted(_level_frame(at).jurisdiction) == ["三区乙街道", "三区甲街道"]


def test_untrusted_text_only_in_dataframes(app_env):
    at = _run(app_env)
    cases = at.dataframe[-1].value
    assert EVIL_DESC in set(cases.description) and EVIL_ADDR in set(cases.address)
    for el in list(at.markdown) + list(at.caption) + list(at.subheader):
        assert "<script>" not in el.value
    src = (ROOT / "views" / "backlog.py").read_text(encoding="utf-8")
    assert "unsafe_allow_html" not in src
    assert len(at.get("download_button")) == 2


def test_english_labels(app_env):
    at = _run(app_env, lang="en")
    assert at.title[0].value == "Backlog supervision"
    assert "Overdue" in _kpis(at)


def test_missing_database_is_a_message(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("GRID_DB", str(tmp_path / "none.duckdb"))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app_env["script"]), default_timeout=60).run()
    assert not at.exception
    assert at.warning and "python cli.py demo" in at.warning[0].value


# --------------------------------------------------------------------------------------
# downloads


def _sample() -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": ["A1", "A2", "A3"],
        "received_at": pd.to_datetime(["2026-11-01 08:30", "2026-11-02 09:00", None]),
        "description": [EVIL_DESC, "=1+2", "-3"],
        "on_time_rate": [0.5, np.nan, 1.0],
        "on_time_rate_prev": [0.25, 0.5, np.nan],
        "open": pd.array([3, 0, 7], dtype="int64"),
        "score": [71.234, 80.0, np.nan],
        "district": pd.array(["青秀区", None, "很长很长的区名" * 10], dtype="string"),
    })


def test_xlsx_round_trip():
    df = _sample()
    data = to_xlsx_bytes({"超期/未结": df, "空表": pd.DataFrame({"a": []})}, "超期未结案件")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["超期_未结", "空表"]
    ws = wb["超期_未结"]
    assert ws["A1"].value == "超期未结案件"
    assert [c.value for c in ws[2]] == [HEADERS_ZH[c] for c in df.columns]
    assert ws.freeze_panes == "A3"
    assert ws["B3"].value == dt.datetime(2026, 11, 1, 8, 30) and ws["B3"].is_date
    assert ws["B5"].value is None
    assert ws["C3"].value == EVIL_DESC
    assert ws["C4"].value == "=1+2" and ws["C4"].data_type == "s"  # text, not a formula
    assert ws["D3"].value == 0.5 and "%" in ws["D3"].number_format
    assert ws["D4"].value is None and "%" in ws["E3"].number_format
    assert ws["F5"].value == 7 and "%" not in ws["F5"].number_format
    assert ws.column_dimensions["H"].width == pytest.approx(60, abs=1)  # capped
    assert ws.column_dimensions["A"].width >= len("编号") * 2
    back = pd.read_excel(io.BytesIO(data), sheet_name="超期_未结", header=1)
    assert list(back["编号"]) == ["A1", "A2", "A3"]
    assert back["按期结案率"].iloc[0] == 0.5
    # without a title the header is row 1; labels={} keeps the names
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"s": df}, labels={})))["s"]
    assert ws["A1"].value == "case_id" and ws.freeze_panes == "A2"


def test_csv_round_trip():
    df = _sample()
    data = to_csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == [HEADERS_ZH[c] for c in df.columns]
    assert list(back["问题描述"]) == [EVIL_DESC, "'=1+2", "'-3"]  # formulas defused
    assert back["受理时间"].iloc[0] == "2026-11-01 08:30:00"
    assert back["按期结案率"].iloc[0] == 0.5 and back["未结案"].tolist() == [3, 0, 7]
    assert df["description"].iloc[1] == "=1+2"  # the caller's frame is untouched

"""The overview page's numbers, against an independent computation; the page renders."""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.overview import cell_counts, district_overview
from tests.conftest import NANNING

NOW = pd.Timestamp("2026-11-23 12:00").to_pydatetime()


@pytest.fixture(scope="module")
def small_city(tmp_path_factory):
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file

    tmp = tmp_path_factory.mktemp("city")
    db = tmp / "city.duckdb"
    load_boundaries(db, NANNING, "district", crs="gcj02")
    rng = np.random.default_rng(5)
    n = 3000
    lon = rng.uniform(107.9, 108.9, n)
    lat = rng.uniform(22.5, 23.5, n)
    lon[:30] = np.nan  # no coordinates: placed by name
    lat[:30] = np.nan
    df = pd.DataFrame({
        "工单编号": [f"T{i:05d}" for i in range(n)], "受理时间": "2026/11/20 10:00",
        "经度": lon, "纬度": lat,
        "处理状态": rng.choice(["已办结", "处置中", "已作废"], n),
        "办结时间": "", "所属区县": np.where(np.arange(n) < 30, "青秀区", ""),
    })
    csv = tmp / "c.csv"
    df.to_csv(csv, index=False)
    ingest_file(db, "complaints", csv, crs="wgs84", now=NOW)
    return db, df


def test_district_counts_match_independent_point_in_polygon(small_city):
    db, df = small_city
    con = duckdb.connect(str(db), read_only=True)
    table = district_overview(con)
    polys = con.execute("SELECT name, geometry FROM jurisdictions WHERE level='district'").df()
    con.close()
    # independent: shapely contains on each district polygon (WGS-84 as stored)
    geoms = shapely.from_wkt(polys.geometry.to_numpy())
    x, y = df["经度"].to_numpy(), df["纬度"].to_numpy()
    want = {name: int(shapely.contains_xy(g, x, y).sum()) for name, g in zip(polys.name, geoms, strict=True)}
    want["青秀区"] += 30  # the 30 records without coordinates name 青秀区
    rows = table.set_index("district")
    for name, count in want.items():
        assert rows.loc[name, "complaints"] == count, name
    assert len(polys) == 7
    city = rows.loc["全市"]
    body = table[table.district != "全市"]
    for col in ("complaints", "open_complaints", "points", "inspections"):
        assert body[col].sum() == city[col]
    assert city.complaints == len(df)
    status = df["处理状态"]
    assert city.open_complaints == int((status == "处置中").sum())


def test_cell_counts_sum_and_resolution(small_city):
    db, df = small_city
    con = duckdb.connect(str(db), read_only=True)
    cells = cell_counts(con, res=8)
    con.close()
    assert cells["count"].sum() == df["经度"].notna().sum()
    assert cells.h3.str.len().eq(15).all() and cells.h3.str[1].eq("8").all()
    with pytest.raises(ValueError, match="res must be one of"):
        cell_counts(duckdb.connect(), res=12)


def test_app_opens_on_the_situation_map(small_city, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from analytics.hotspots import HotspotQuery, compute_hotspots

    db, df = small_city
    monkeypatch.setenv("GRID_DB", str(db))
    monkeypatch.setenv("GRID_TODAY", "2026-11-23")
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                            default_timeout=120)
    app.run()
    assert not app.exception
    assert app.title[0].value == "态势地图"
    con = duckdb.connect(str(db), read_only=True)
    want = compute_hotspots(con, HotspotQuery(pd.Timestamp("2026-10-26").date(),
                                              pd.Timestamp("2026-11-22").date())).n_records
    con.close()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["期间记录数"] == f"{want:,}"


def test_app_without_database_says_what_to_do(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRID_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.setenv("GRID_TODAY", "2026-11-23")  # the page's periods never read the clock
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                            default_timeout=60)
    app.run()
    assert not app.exception
    assert "python cli.py demo" in app.warning[0].value

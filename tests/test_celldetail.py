"""The situation map's numbers (analytics/celldetail.py) against an independent pandas + h3
computation from the input files: a record's cell at resolution r is
``h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 12), r)``.

The city: district D1 = [108.30, 108.40] × [22.80, 22.90] split into the streets 西街道
(west of 108.35) and 东街道 (east), a drawn fringe, 1,600 complaints over 13 weeks (some
void, some outside D1, every one at its own minute so that "latest" has one answer),
inspection points and inspections that found problems or not.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest

from analytics.celldetail import (
    LATEST_N,
    MODES,
    TREND_WEEKS,
    busy_cells,
    cell_detail,
    cell_layer,
    layer_kpis,
    parse_cell,
)
from analytics.emerging import EmergingQuery, compute_emerging
from analytics.hotspots import HotspotQuery, compute_hotspots
from tests.conftest import NOW, ROOT

START, END = dt.date(2026, 10, 26), dt.date(2026, 11, 22)
FIX = ROOT / "tests" / "fixtures" / "boundaries"
CENTRES = [(108.33, 22.83), (108.37, 22.87), (108.315, 22.885)]
CATS = {"市容环境": ["暴露垃圾", "道路不洁", "私搭乱建"], "街面秩序": ["店外经营", "机动车乱停放"],
        "宣传广告": ["非法小广告"]}
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "${alert(1)}", "`x`"]


def _complaints(n: int = 1600, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, len(CENTRES) + 1, n)   # the last index: scattered anywhere
    cx = np.array([c[0] for c in CENTRES] + [108.35])
    cy = np.array([c[1] for c in CENTRES] + [22.85])
    sd = np.where(centre == len(CENTRES), 0.06, 0.004)
    lon, lat = cx[centre] + rng.normal(0, 1, n) * sd, cy[centre] + rng.normal(0, 1, n) * sd
    cat = rng.choice(list(CATS), n)
    sub = [rng.choice(CATS[c]) for c in cat]
    minutes = rng.permutation(13 * 7 * 24 * 60)[:n]           # distinct minutes, 13 weeks
    when = pd.Timestamp("2026-08-24 00:00") + pd.to_timedelta(np.sort(minutes), "min")
    status = rng.choice(["处置中", "已办结", "作废"], n, p=[0.3, 0.6, 0.1])
    return pd.DataFrame({
        "工单编号": [f"C{i:05d}" for i in range(n)], "受理时间": when.strftime("%Y-%m-%d %H:%M"),
        "问题大类": cat, "问题小类": sub, "问题描述": [f"描述{i}" for i in range(n)],
        "地址": [f"地址{i % 97}" for i in range(n)], "处理状态": status,
        "经度": lon.round(6), "纬度": lat.round(6)})


POINTS = pd.DataFrame({
    "点位编号": ["P1", "P2", "P3", "P4"],
    "点位名称": ["七星路口", XSS[0], "南湖市场", XSS[2]],
    "点位类型": ["主次干道", "背街小巷", "农贸市场", "背街小巷"],
    "经度": [108.3301, 108.3302, 108.3701, 108.3151],
    "纬度": [22.8301, 22.8302, 22.8701, 22.8851]})


def _inspections() -> pd.DataFrame:
    rows = []
    for i in range(60):
        pid = POINTS["点位编号"][i % 4]
        day = pd.Timestamp("2026-09-01 09:00") + pd.Timedelta(days=int(i * 1.4), minutes=i)
        problems = 0 if i % 5 == 0 else 1 + i % 3
        rows.append({"督查编号": f"I{i:03d}", "点位编号": pid,
                     "检查时间": day.strftime("%Y-%m-%d %H:%M"),
                     "问题类别": "无" if problems == 0 else ["暴露垃圾", "店外经营"][i % 2],
                     "问题数": problems, "督查组": f"第{i % 3 + 1}组"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """(database, complaints, points, inspections) of the city in the module docstring."""
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file
    from ingest.zones import load_zones

    tmp = tmp_path_factory.mktemp("celldetail")
    db = tmp / "g.duckdb"
    load_boundaries(db, FIX / "district_square.geojson", "district", crs="wgs84")
    load_boundaries(db, FIX / "streets_clean.geojson", "street", crs="wgs84")
    load_zones(db, FIX / "fringe_drawn.geojson", "fringe", crs="wgs84")
    comp, ins = _complaints(), _inspections()
    for kind, frame in (("complaints", comp), ("points", POINTS), ("inspections", ins)):
        csv = tmp / f"{kind}.csv"
        frame.to_csv(csv, index=False)
        res = ingest_file(db, kind, csv, crs="wgs84", now=NOW)
        assert res.rejected == 0, kind
    return db, comp, POINTS, ins


@pytest.fixture
def conn(city):
    con = duckdb.connect(str(city[0]), read_only=True)
    yield con
    con.close()


# ---------------------------------------------------------------- the independent computation
def _cells(lon, lat, res: int) -> list[str]:
    return [h3.cell_to_parent(h3.latlng_to_cell(y, x, 12), res) for x, y in zip(lon, lat,
                                                                                 strict=True)]


def _inside(lon, lat) -> np.ndarray:
    return (lon > 108.30) & (lon < 108.40) & (lat > 22.80) & (lat < 22.90)


def _counted(comp: pd.DataFrame, res: int, start=START, end=END, cats=()) -> pd.DataFrame:
    """Complaints the map counts (not void, inside D1, in the period) with their cell."""
    t = pd.to_datetime(comp["受理时间"])
    keep = ((comp["处理状态"] != "作废") & _inside(comp["经度"], comp["纬度"])
            & (t >= pd.Timestamp(start)) & (t < pd.Timestamp(end + dt.timedelta(days=1))))
    if cats:
        keep &= comp["问题大类"].isin(cats)
    out = comp[keep].copy()
    out["cell"] = _cells(out["经度"], out["纬度"], res)
    out["t"] = pd.to_datetime(out["受理时间"])
    return out


def _inspected(ins: pd.DataFrame, points: pd.DataFrame, res: int, start=START,
               end=END) -> pd.DataFrame:
    df = ins.merge(points, on="点位编号")
    t = pd.to_datetime(df["检查时间"])
    df = df[(df["问题数"] > 0) & (t >= pd.Timestamp(start))
            & (t < pd.Timestamp(end + dt.timedelta(days=1)))].copy()
    df["cell"] = _cells(df["经度"], df["纬度"], res)
    return df


# ---------------------------------------------------------------- the layer
@pytest.mark.parametrize("res", [8, 9, 10])
def test_layer_counts_are_the_records_of_each_cell(conn, city, res):
    _, comp, _, _ = city
    layer = cell_layer(conn, HotspotQuery(START, END, res=res), "count")
    truth = _counted(comp, res).groupby("cell").size()
    got = layer.cells.set_index("h3")["count"]
    assert got[got > 0].sort_index().to_dict() == truth.sort_index().to_dict()
    assert layer.n_records == int(truth.sum()) == int(got.sum())
    assert (layer.cells["value"] == layer.cells["count"]).all()
    assert (layer.cells["res"] == res).all() and layer.cells["h3"].is_unique
    # every cell of the study area is there, the empty ones not notable
    hot = compute_hotspots(conn, HotspotQuery(START, END, res=res))
    assert set(layer.cells.h3) == set(hot.cells.h3)
    notable = (layer.cells["count"] > 0) | (layer.cells["gi_bin"] != 0)
    assert (layer.cells["notable"] == notable).all()
    q = HotspotQuery(START, END, res=res)
    assert busy_cells(conn, q) == int((layer.cells["count"] > 0).sum()) == len(truth)
    assert busy_cells(conn, HotspotQuery(START, END, res=res, zone="fringe")) is None


def test_layer_density_is_count_over_the_cell_area(conn):
    layer = cell_layer(conn, HotspotQuery(START, END, res=9), "density").cells
    busy = layer[layer["count"] > 0]
    area = np.array([h3.cell_area(c, unit="km^2") for c in busy.h3])
    np.testing.assert_allclose(busy["value"].to_numpy(), busy["count"].to_numpy() / area,
                               rtol=1e-12)
    assert (layer.loc[layer["count"] == 0, "value"] == 0).all()


def test_layer_gi_bin_and_emerging_are_those_of_the_analyses(conn):
    q = HotspotQuery(START, END, res=9, categories=["市容环境"])
    gi = cell_layer(conn, q, "gi_bin").cells.set_index("h3")
    hot = compute_hotspots(conn, q).cells.set_index("h3")
    assert (gi["value"] == hot.loc[gi.index, "gi_bin"]).all()
    assert (gi["gi_bin"] >= 2).sum() > 0, "the planted centres must show as hot spots"
    em = cell_layer(conn, q, "emerging").cells.set_index("h3")
    truth = compute_emerging(conn, EmergingQuery(END, weeks=TREND_WEEKS, res=9,
                                                 categories=["市容环境"])).cells.set_index("h3")
    assert set(truth.index) <= set(em.index)
    assert (em.loc[truth.index, "value"] == truth["category"]).all()
    assert (em.loc[truth.index, "category"] == truth["category"]).all()
    only_hot = sorted(set(em.index) - set(truth.index))
    assert (em.loc[only_hot, "category"] == "no_pattern").all()
    patterned = em["category"] != "no_pattern"
    assert em.loc[patterned, "notable"].all()


def test_layer_filters_categories_and_street(conn, city):
    _, comp, _, _ = city
    q = HotspotQuery(START, END, res=9, categories=["街面秩序"])
    layer = cell_layer(conn, q, "count")
    assert layer.n_records == len(_counted(comp, 9, cats=["街面秩序"]))
    west = cell_layer(conn, HotspotQuery(START, END, res=9), "count", street="西街道")
    assert (west.cells["street"] == "西街道").all()
    lon, _ = h3cells_lonlat(west.cells.h3)
    assert (lon < 108.35).all()
    truth = _counted(comp, 9)
    assert west.n_records == int(truth["cell"].isin(set(west.cells.h3)).sum()) > 0
    with pytest.raises(ValueError, match="mode"):
        cell_layer(conn, q, "heat")


def h3cells_lonlat(hexes) -> tuple[np.ndarray, np.ndarray]:
    ll = np.array([h3.cell_to_latlng(h) for h in hexes])
    return ll[:, 1], ll[:, 0]


def test_kpis_count_hot_cells_and_fringe_hot_cells(conn):
    q = HotspotQuery(START, END, res=9)
    layer = cell_layer(conn, q, "count")
    k = layer_kpis(layer.cells, layer.n_records)
    hot = compute_hotspots(conn, q)
    assert k["records"] == hot.n_records
    assert k["hot_cells"] == int((hot.cells.gi_bin >= 2).sum()) > 0
    assert k["fringe_hot_cells"] == int(((hot.cells.gi_bin >= 2) & hot.cells.in_fringe).sum())


def test_every_mode_runs(conn):
    for mode in MODES:
        layer = cell_layer(conn, HotspotQuery(START, END, res=8), mode)
        assert len(layer.cells) and layer.mode == mode and layer.res == 8


# ---------------------------------------------------------------- one cell
def _busiest(comp: pd.DataFrame, res: int) -> str:
    return _counted(comp, res)["cell"].value_counts().index[0]


@pytest.mark.parametrize("res", [9, 10])
def test_cell_detail_matches_pandas(conn, city, res):
    _, comp, _, _ = city
    cell = _busiest(comp, res)
    d = cell_detail(conn, cell, START, END)
    mine = _counted(comp, res)
    mine = mine[mine["cell"] == cell]
    assert d.h3 == cell and d.res == res and d.n_records == len(mine) > 0
    layer = cell_layer(conn, HotspotQuery(START, END, res=res), "count").cells
    assert d.n_records == int(layer.set_index("h3").loc[cell, "count"])
    # counts by category and subcategory
    truth = mine.groupby(["问题大类", "问题小类"]).size().to_dict()
    got = {(r.category, r.subcategory): r.count for r in d.by_category.itertuples()}
    assert got == truth
    assert (d.by_category["source"] == "complaints").all()
    assert d.by_category["count"].is_monotonic_decreasing
    # the latest records
    latest = mine.sort_values("t", ascending=False).head(LATEST_N)
    assert len(d.latest) == min(LATEST_N, len(mine))
    assert d.latest["received_at"].tolist() == latest["t"].tolist()
    assert d.latest["description"].tolist() == latest["问题描述"].tolist()
    assert d.latest["address"].tolist() == latest["地址"].tolist()
    assert d.latest["subcategory"].tolist() == latest["问题小类"].tolist()
    assert set(d.latest["status"]) <= {"open", "closed"}
    # 12 ISO weeks ending with the week of END, zeros included
    every = _counted(comp, res, start=dt.date(2026, 1, 1))
    every = every[every["cell"] == cell]
    first = END - dt.timedelta(days=END.weekday()) - dt.timedelta(weeks=TREND_WEEKS - 1)
    weeks = [(first + dt.timedelta(weeks=i)) for i in range(TREND_WEEKS)]
    labels = [f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}" for w in weeks]
    iso = every["t"].dt.isocalendar()
    per = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).value_counts()
    assert d.weekly["week"].tolist() == labels == [f"2026-W{w}" for w in range(36, 48)]
    assert d.weekly["count"].tolist() == [int(per.get(w, 0)) for w in labels]
    # the cell lies in D1 and, by most of its records, in one street
    assert d.jurisdiction["district"] == "方区" and d.jurisdiction["located_by"] == "records"
    lon = every["经度"].to_numpy()
    street = "西街道" if (lon < 108.35).mean() > 0.5 else "东街道"
    assert d.jurisdiction["street"] == street
    assert abs(d.area_km2 - h3.cell_area(cell, unit="km^2")) < 1e-12
    assert (d.lat, d.lon) == pytest.approx(h3.cell_to_latlng(cell))


def test_cell_detail_categories_and_sources(conn, city):
    _, comp, points, ins = city
    cell = h3.cell_to_parent(h3.latlng_to_cell(22.8301, 108.3301, 12), 9)
    only = cell_detail(conn, cell, START, END, "complaints", ["宣传广告"])
    mine = _counted(comp, 9, cats=["宣传广告"])
    assert only.n_records == int((mine["cell"] == cell).sum()) > 0
    assert set(only.by_category["category"]) == {"宣传广告"}
    start = dt.date(2026, 9, 1)
    insp = cell_detail(conn, cell, start, END, "inspections")
    truth = _inspected(ins, points, 9, start=start)
    truth = truth[truth["cell"] == cell]
    assert insp.n_records == len(truth) > 0
    assert ({(r.category, r.count) for r in insp.by_category.itertuples()}
            == set(truth.groupby("问题类别").size().items()))
    assert (insp.by_category["source"] == "inspections").all()
    assert set(insp.latest["address"]) <= set(points["点位名称"])  # the point's name
    both = cell_detail(conn, cell, start, END, "all")
    assert both.n_records == insp.n_records + cell_detail(conn, cell, start, END).n_records
    # the points of the cell, untrusted names kept as they are (escaping is the page's job)
    in_cell = points[[c == cell for c in _cells(points["经度"], points["纬度"], 9)]]
    assert sorted(both.points["point_id"]) == sorted(in_cell["点位编号"]) == ["P1", "P2"]
    assert XSS[0] in set(both.points["name"])


def test_an_empty_cell_takes_its_jurisdiction_from_the_centre(conn, city):
    _, comp, points, _ = city
    used = set(_cells(comp["经度"], comp["纬度"], 9)) | set(_cells(points["经度"],
                                                                   points["纬度"], 9))
    empty = next(c for c in h3.grid_disk(h3.latlng_to_cell(22.895, 108.395, 9), 3)
                 if c not in used and 108.36 < h3.cell_to_latlng(c)[1] < 108.399)
    d = cell_detail(conn, empty, START, END)
    assert d.n_records == 0 and d.latest.empty and d.by_category.empty
    assert d.weekly["count"].sum() == 0 and len(d.weekly) == TREND_WEEKS
    assert d.jurisdiction == {"located_by": "centre", "district": "方区", "street": "东街道",
                              "community": None, "grid_id": None}
    outside = h3.latlng_to_cell(22.5, 108.0, 9)
    assert cell_detail(conn, outside, START, END).jurisdiction["district"] is None


def test_bad_cells_and_periods_are_refused(conn):
    for bad in ("zzz", "", "8928308280fffff0", h3.latlng_to_cell(22.8, 108.3, 5)):
        with pytest.raises(ValueError):
            parse_cell(bad)
    assert parse_cell(h3.latlng_to_cell(22.8, 108.3, 9).upper())[1] == 9
    cell = h3.latlng_to_cell(22.83, 108.33, 9)
    with pytest.raises(ValueError, match="before"):
        cell_detail(conn, cell, END, START)
    with pytest.raises(ValueError, match="source"):
        cell_detail(conn, cell, START, END, "tweets")


def test_the_synthetic_city_cluster(synthetic_city, tmp_path):
    """On the shared synthetic city: the planted cluster's cell adds up both ways."""
    db = shutil.copy(synthetic_city[0], tmp_path / "s.duckdb")
    _, df = synthetic_city
    con = duckdb.connect(str(Path(db)), read_only=True)
    try:
        layer = cell_layer(con, HotspotQuery(START, END, res=9), "count")
        top = layer.cells.sort_values("count").iloc[-1]
        d = cell_detail(con, top.h3, START, END)
        cells = _cells(df["经度"], df["纬度"], 9)
        assert d.n_records == int(top["count"]) == sum(c == top.h3 for c in cells)
        assert d.weekly["count"].sum() == d.n_records        # all 4 weeks are within the 12
        counts = pd.Series([c for c in cells if c == top.h3]).size
        assert counts == d.by_category["count"].sum()
    finally:
        con.close()

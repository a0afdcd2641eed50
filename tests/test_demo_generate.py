"""The demo-city generator: reproducible files that look like a city's own exports.

A small city (5,000 complaints over 8 weeks) is written three times: twice with seed 7
(must be byte-identical) and once with seed 8 (must differ).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import h3
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from democity.build import DISTRICTS_FILE, write_demo_files
from democity.population import fringe_band, geom_to_km
from grids.crs import gcj02_to_wgs84, transform_geometry

SMALL = {"end": date(2026, 11, 22), "weeks": 8, "complaints": 5_000}
FILES = ("streets.geojson", "communities.geojson", "grids.geojson", "core.geojson",
         "points.geojson", "inspections.xlsx", "complaints.csv", "truth.json")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for label, seed in (("a", 7), ("b", 7), ("c", 8)):
        folder = tmp_path_factory.mktemp(f"demo_{label}")
        write_demo_files(folder, seed=seed, **SMALL)
        out[label] = folder
    return out


@pytest.fixture(scope="module")
def demo(runs) -> Path:
    return runs["a"]


@pytest.fixture(scope="module")
def truth(demo) -> dict:
    return json.loads((demo / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def complaints(demo) -> pd.DataFrame:
    return pd.read_csv(demo / "complaints.csv", encoding="gbk", dtype=str, keep_default_na=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _features(path: Path) -> tuple[dict, list[dict], np.ndarray]:
    data = json.loads(path.read_text(encoding="utf-8"))
    feats = data["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in feats], dtype=object)
    return data, [f["properties"] for f in feats], geoms


def test_same_seed_same_bytes_other_seed_other_city(runs):
    for name in FILES:
        assert _digest(runs["a"] / name) == _digest(runs["b"] / name), name
    for name in ("streets.geojson", "grids.geojson", "complaints.csv", "inspections.xlsx"):
        assert _digest(runs["a"] / name) != _digest(runs["c"] / name), name


@pytest.mark.parametrize("child_file, parent_file, level", [
    ("streets.geojson", None, "street"),
    ("communities.geojson", "streets.geojson", "community"),
    ("grids.geojson", "communities.geojson", "grid"),
])
def test_children_tile_their_parents(demo, child_file, parent_file, level):
    data, props, geoms = _features(demo / child_file)
    assert data["crs_note"].startswith("GCJ-02")
    assert all(set(p) == {"id", "name", "level", "parent_id"} for p in props)
    assert {p["level"] for p in props} == {level}
    assert len({p["id"] for p in props}) == len(props)
    assert all(shapely.is_valid(geoms))
    if parent_file is None:
        _, pprops, pgeoms = _features(DISTRICTS_FILE)
        pids = [p["adcode"] for p in pprops]
    else:
        _, pprops, pgeoms = _features(demo / parent_file)
        pids = [p["id"] for p in pprops]
    pos = {pid: i for i, pid in enumerate(pids)}
    parent_of = np.array([pos[p["parent_id"]] for p in props])
    # ids nest: district 6 digits, then 3 digits per level
    assert all(p["id"].startswith(p["parent_id"]) and len(p["id"]) == len(p["parent_id"]) + 3
               for p in props)
    # every child inside its parent, up to float noise: coordinates carry 7 decimals
    # (about 1 cm), so what pokes out is a seam a few millimetres wide on average
    outside = shapely.area(shapely.difference(geoms, pgeoms[parent_of]))
    seam_m = outside / shapely.length(geoms) * 111_000
    assert seam_m.max() < 0.01, seam_m.max()
    # children tile each parent: their areas add up to the parent's
    sums = np.bincount(parent_of, weights=shapely.area(geoms), minlength=len(pgeoms))
    ratio = sums / shapely.area(pgeoms)
    assert np.allclose(ratio, 1.0, atol=0.005), ratio


def test_jurisdiction_names_look_chinese(demo):
    _, streets, _ = _features(demo / "streets.geojson")
    _, comms, _ = _features(demo / "communities.geojson")
    _, grids, _ = _features(demo / "grids.geojson")
    assert all(p["name"].endswith(("街道", "镇")) for p in streets)
    assert all(p["name"].endswith(("社区", "村")) for p in comms)
    names = {p["id"]: p["name"] for p in comms}
    assert all(g["name"].startswith(names[g["parent_id"]]) and g["name"].endswith("网格")
               for g in grids)


def test_complaints_are_gbk_not_utf8(demo):
    raw = (demo / "complaints.csv").read_bytes()
    text = raw.decode("gbk")
    assert text.startswith("工单编号,受理时间,来源渠道,问题大类,问题小类,问题描述,事发地址,经度,纬度,")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\r\n" in raw[:400]


def test_complaint_values(complaints, truth):
    df = complaints
    t = df["受理时间"][df["受理时间"] != ""]
    parsed = pd.to_datetime(t, format="%Y/%m/%d %H:%M")
    assert parsed.min() >= pd.Timestamp(truth["parameters"]["first_day"])
    assert parsed.max() <= pd.Timestamp("2026-11-22 23:59")
    assert set(df["处理状态"]) <= {"已办结", "已派遣", "处置中", "待核查", "返工", "已作废", "挂账"}
    assert set(df["满意度"]) <= {"满意", "基本满意", "不满意", "未评价"}
    closed = df["处理状态"] == "已办结"
    assert (df.loc[closed, "办结时间"] != "").all()
    assert (df.loc[~closed, "办结时间"] == "").all()
    lon = pd.to_numeric(df["经度"], errors="coerce")
    ok = lon > 90
    assert df.loc[ok, "经度"].str.fullmatch(r"\d+\.\d{6}").all()
    # GCJ-02: converted back to WGS-84 the points move by a few hundred metres
    wlon, _ = gcj02_to_wgs84(lon[ok].to_numpy(), pd.to_numeric(df["纬度"][ok]).to_numpy())
    shift = (lon[ok].to_numpy() - wlon) * 111_000 * np.cos(np.radians(22.8))
    assert 300 < np.median(shift) < 700


def test_inspection_ledger_has_a_merged_title_row(demo, truth):
    wb = openpyxl.load_workbook(demo / "inspections.xlsx")
    ws = wb.worksheets[0]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:I1"]
    assert ws["A1"].value == "南宁市文明城市创建常态化督查台账（2026年）"
    header = [c.value for c in ws[2]]
    assert header == ["督查编号", "点位编号", "督查时间", "督查组", "问题类型", "问题数量", "扣分",
                      "整改时限", "整改完成时间"]
    assert isinstance(ws["C3"].value, datetime)
    assert wb.properties.created == wb.properties.modified == datetime(2026, 11, 23, 8, 0)
    assert ws.max_row - 2 == truth["files"]["inspections.xlsx"]["rows"]


def test_truth_counts_match_the_files(demo, truth, complaints):
    files = truth["files"]
    for name in ("streets.geojson", "communities.geojson", "grids.geojson", "points.geojson"):
        assert len(_features(demo / name)[1]) == files[name]["features"], name
    c = truth["complaints"]
    df = complaints
    assert len(df) == files["complaints.csv"]["rows"] == c["rows"] == SMALL["complaints"]
    assert (df["受理时间"] == "").sum() == c["rows_without_received_time"] >= 2
    assert (df["经度"] == "").sum() == c["rows_without_coordinates"] >= 2
    swapped = pd.to_numeric(df["经度"], errors="coerce") < 90
    assert swapped.sum() == c["rows_with_lon_lat_swapped"] >= 2
    assert sum(h["planted_complaints"] for h in truth["hotspots"]) == c["planted_hotspot_rows"]
    assert c["planted_hotspot_rows"] + c["background_rows"] == c["rows"]
    loadable = df[df["受理时间"] != ""]
    assert (loadable["处理状态"] == "已作废").sum() == c["void"]
    assert len(truth["backlog"]["streets"]) in (3, 4)
    kinds = {h["kind"] for h in truth["hotspots"]}
    assert kinds == {"persistent", "intensifying", "new"}
    assert sum(h["in_fringe"] for h in truth["hotspots"]) >= 3


def test_hotspot_cells_are_the_cells_within_radius(truth):
    for h in truth["hotspots"]:
        lon, lat = h["centre_wgs84"]
        near = h3.grid_disk(h3.latlng_to_cell(lat, lon, 9), 4)
        within = {c for c in near
                  if h3.great_circle_distance((lat, lon), h3.cell_to_latlng(c), unit="m")
                  <= h["radius_m"]}
        assert within == set(h["cells_res9"]), h["id"]
        assert set(h["source_cells_res9"]) <= within
        assert 1 <= len(h["source_cells_res9"]) <= 3


def test_fringe_points_and_hotspots_lie_in_the_band(demo, truth):
    _, _, core = _features(demo / "core.geojson")
    _, _, dists = _features(DISTRICTS_FILE)
    core_km = geom_to_km(transform_geometry(core[0], "gcj02", "wgs84"))
    city_km = shapely.union_all([geom_to_km(g) for g in transform_geometry(dists, "gcj02",
                                                                            "wgs84")])
    band = fringe_band(core_km, city_km, 3.0)
    area = shapely.area(core_km)
    assert 150 < area < 600, area
    _, props, pts = _features(demo / "points.geojson")
    assert set(props[0]) == {"点位编号", "点位名称", "点位类型", "所属区县", "所属街道"}
    assert len({p["点位类型"] for p in props}) == 26
    fringe = np.array([p["点位类型"] == "城乡结合部" for p in props])
    lon, lat = gcj02_to_wgs84(shapely.get_x(pts[fringe]), shapely.get_y(pts[fringe]))
    assert shapely.contains(band, geom_to_km(shapely.points(lon, lat))).all()
    for h in truth["hotspots"]:
        c = geom_to_km(shapely.Point(*h["centre_wgs84"]))
        assert bool(shapely.contains(band, c)) == h["in_fringe"], h["id"]

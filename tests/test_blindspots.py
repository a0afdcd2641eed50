"""Blind spots: hot complaint cells with no inspection point and no inspection nearby."""

import datetime as dt
import json
import math
import shutil
import subprocess
import sys

import duckdb
import h3
import pandas as pd
import pytest

from analytics.blindspots import BLINDSPOT_COLUMNS, find_blindspots
from analytics.hotspots import HotspotQuery, compute_hotspots
from tests.conftest import CLUSTER, NOW, ROOT

FAR = (108.10, 22.60)  # a point far from the cluster (WGS-84)


def _copy(synthetic_city, tmp_path):
    db, _ = synthetic_city
    return shutil.copy(db, tmp_path / "b.duckdb")


def _ingest(db, tmp_path, kind, rows):
    from ingest.pipeline import ingest_file

    path = tmp_path / f"{kind}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    res = ingest_file(db, kind, path, crs="wgs84", now=NOW)
    assert res.rejected == 0, res.summary_line()


def _q(**kw):
    base = {"start": dt.date(2026, 10, 26), "end": dt.date(2026, 11, 22), "res": 9}
    base.update(kw)
    return HotspotQuery(**base)


def _run(db, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return find_blindspots(con, _q(**kw)), compute_hotspots(con, _q(**kw)).cells
    finally:
        con.close()


def _haversine_m(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def test_hot_cells_without_points_are_blind_with_the_nearest_point(synthetic_city, tmp_path):
    db = _copy(synthetic_city, tmp_path)
    _ingest(db, tmp_path, "points", [{"点位编号": "P-FAR", "点位名称": "远处市场",
                                      "点位类型": "农贸市场", "经度": FAR[0], "纬度": FAR[1]}])
    blind, cells = _run(db)
    hot = set(cells.h3[cells.gi_bin >= 2])
    assert hot and set(blind.h3) == hot  # the far point is no hot cell's neighbour
    assert list(blind.columns) == BLINDSPOT_COLUMNS
    assert blind.gi_z.is_monotonic_decreasing
    assert (blind.nearest_point_id == "P-FAR").all()
    for row in blind.head(5).itertuples():
        assert row.nearest_point_m == pytest.approx(
            _haversine_m(row.lon, row.lat, FAR[0], FAR[1]), abs=0.1)


def test_a_point_or_an_inspection_in_the_period_reaches_its_neighbourhood(synthetic_city,
                                                                          tmp_path):
    db = _copy(synthetic_city, tmp_path)
    at = (CLUSTER[0] + 0.002, CLUSTER[1])
    _ingest(db, tmp_path, "points", [{"点位编号": "P1", "点位名称": "中心点", "点位类型": "主次干道",
                                      "经度": at[0], "纬度": at[1]}])
    blind, cells = _run(db)
    hot = set(cells.h3[cells.gi_bin >= 2])
    reached = set(h3.grid_disk(h3.latlng_to_cell(at[1], at[0], 9), 1))
    assert hot & reached and hot - reached
    assert set(blind.h3) == hot - reached  # hot cells whose ring holds the point are reached
    assert (blind.nearest_point_id == "P1").all()

    # an inspection with its own coordinates, in the period, reaches its ring too;
    # one outside the period does not
    (tmp_path / "x").mkdir()
    db2 = _copy(synthetic_city, tmp_path / "x")
    at2 = (CLUSTER[0] - 0.003, CLUSTER[1] + 0.001)
    at3 = (CLUSTER[0] + 0.000, CLUSTER[1] - 0.004)
    _ingest(db2, tmp_path, "inspections", [
        {"督查编号": "I1", "检查时间": "2026-11-10 10:00", "经度": at2[0], "纬度": at2[1]},
        {"督查编号": "I2", "检查时间": "2026-10-01 10:00", "经度": at3[0], "纬度": at3[1]}])
    blind2, cells2 = _run(db2)
    hot2 = set(cells2.h3[cells2.gi_bin >= 2])
    ring2 = set(h3.grid_disk(h3.latlng_to_cell(at2[1], at2[0], 9), 1))
    assert hot2 & ring2 and hot2 - ring2
    ring3 = set(h3.grid_disk(h3.latlng_to_cell(at3[1], at3[0], 9), 1))
    assert (hot2 & ring3) - ring2  # the October inspection would have reached these
    assert set(blind2.h3) == hot2 - ring2
    assert blind2.nearest_point_id.isna().all()  # no points at all


def test_nothing_hot_gives_an_empty_table(synthetic_city):
    db, _ = synthetic_city
    blind, _ = _run(db, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 7))
    assert len(blind) == 0 and list(blind.columns) == BLINDSPOT_COLUMNS


def test_cli_blindspots(synthetic_city, tmp_path):
    db, _ = synthetic_city
    out = tmp_path / "b.geojson"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "blindspots",
                        "--start", "2026-10-26", "--end", "2026-11-22", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["features"] and list(doc["features"][0]["properties"]) == BLINDSPOT_COLUMNS
    assert "blind_spots=" in r.stdout

"""Fringe focus: density inside vs outside a zone, hot-cell share, ranked hot cells."""

import datetime as dt
import json
import shutil
import subprocess
import sys

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from analytics.fringe import RANKED_COLUMNS, SUMMARY_COLUMNS, fringe_focus
from analytics.hotspots import HotspotQuery, compute_hotspots
from analytics.studyarea import StudyAreaError
from tests.conftest import CLUSTER, ROOT

# a 4 km × 3 km "fringe" box around the synthetic cluster, and a "market" box elsewhere
FRINGE = shapely.box(CLUSTER[0] - 0.02, CLUSTER[1] - 0.015, CLUSTER[0] + 0.02, CLUSTER[1] + 0.015)
MARKET = shapely.box(108.40, 22.70, 108.45, 22.75)


@pytest.fixture(scope="module")
def zoned(synthetic_city, tmp_path_factory):
    from ingest.zones import load_zones

    db0, df = synthetic_city
    tmp = tmp_path_factory.mktemp("fringe")
    db = shutil.copy(db0, tmp / "f.duckdb")
    for kind, geom in (("fringe", FRINGE), ("market", MARKET)):
        path = tmp / f"{kind}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": kind},
             "geometry": json.loads(shapely.to_geojson(geom))}]}), encoding="utf-8")
        load_zones(db, path, kind, crs="wgs84")
    return db, df


def _q(**kw):
    base = {"start": dt.date(2026, 10, 26), "end": dt.date(2026, 11, 22), "res": 9}
    base.update(kw)
    return HotspotQuery(**base)


def test_fringe_focus_against_shapely_and_pyproj(zoned):
    db, df = zoned
    con = duckdb.connect(str(db), read_only=True)
    try:
        focus = fringe_focus(con, _q())
        cells = compute_hotspots(con, _q()).cells
        wkt = [r[0] for r in con.execute(
            "SELECT geometry FROM jurisdictions WHERE level = 'district'").fetchall()]
    finally:
        con.close()
    assert list(focus.summary.columns) == SUMMARY_COLUMNS
    assert focus.summary.kind.tolist() == ["fringe", "market"]  # fringe first
    districts = shapely.union_all(shapely.from_wkt(wkt))
    lon, lat = df["经度"].to_numpy(), df["纬度"].to_numpy()
    counted = shapely.contains_xy(districts, lon, lat)
    geod = Geod(ellps="WGS84")
    total_km2 = abs(geod.geometry_area_perimeter(districts)[0]) / 1e6
    for row, box in zip(focus.summary.itertuples(), (FRINGE, MARKET), strict=True):
        zone = box.intersection(districts)
        a_in = abs(geod.geometry_area_perimeter(zone)[0]) / 1e6
        n_in = int((counted & shapely.contains_xy(zone, lon, lat)).sum())
        n_out = int(counted.sum()) - n_in
        assert row.area_in_km2 == pytest.approx(a_in, rel=1e-4)
        assert row.area_out_km2 == pytest.approx(total_km2 - a_in, rel=1e-4)
        assert (row.records_in, row.records_out) == (n_in, n_out)
        assert row.per_km2_in == pytest.approx(n_in / a_in, rel=1e-4)
        assert row.density_ratio == pytest.approx((n_in / a_in) / (n_out / (total_km2 - a_in)),
                                                  rel=1e-3)
        centres = np.array([h3.cell_to_latlng(c) for c in cells.h3])
        inside = shapely.contains_xy(box, centres[:, 1], centres[:, 0])
        hot = (cells.gi_bin >= 2).to_numpy()
        assert row.hot_cells_in == int((hot & inside).sum())
        assert row.hot_share_in == pytest.approx((hot & inside).sum() / hot.sum())
        assert row.cells_in == int(inside.sum())
    fringe_row = focus.summary.iloc[0]
    assert fringe_row.density_ratio > 10 and fringe_row.hot_share_in > 0.9  # the cluster is there
    ranked = focus.ranked[focus.ranked.kind == "fringe"]
    assert list(ranked.columns) == RANKED_COLUMNS
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked.gi_z.is_monotonic_decreasing and (ranked.gi_bin >= 2).all()
    assert h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], 9) in set(ranked.h3)


def test_no_zones_is_a_clear_error(synthetic_city):
    db, _ = synthetic_city
    con = duckdb.connect(str(db), read_only=True)
    try:
        with pytest.raises(StudyAreaError, match="no zones are loaded"):
            fringe_focus(con, _q())
    finally:
        con.close()


def test_cli_fringe(zoned, tmp_path):
    db, _ = zoned
    out, cells_out = tmp_path / "f.csv", tmp_path / "cells.csv"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "fringe",
                        "--start", "2026-10-26", "--end", "2026-11-22", "--kind", "fringe",
                        "--out", str(out), "--cells-out", str(cells_out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = pd.read_csv(out, encoding="utf-8-sig")
    assert summary.kind.tolist() == ["fringe"]
    assert len(pd.read_csv(cells_out, encoding="utf-8-sig")) == summary.hot_cells_in[0]

"""Hotspots over H3 cells: esda as the oracle, planted clusters, filters, degenerate input."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.hotspots import HotspotError, HotspotQuery, compute_hotspots

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 23, 12, 0)
CLUSTER = (108.33, 22.83)  # WGS-84, central Nanning


@pytest.fixture(scope="module")
def city(synthetic_city):
    return synthetic_city


def _query(**kw):
    base = {"start": dt.date(2026, 10, 26), "end": dt.date(2026, 11, 22), "res": 8}
    base.update(kw)
    return HotspotQuery(**base)


def _run(db, **kw):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_hotspots(con, _query(**kw))
    finally:
        con.close()


def test_z_equals_esda_with_independent_h3_neighbours(city):
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    db, _ = city
    res = _run(db, res=8)
    cells = res.cells.h3.tolist()
    members = set(cells)
    neighbours = {c: [d for d in h3.grid_disk(c, 1) if d in members and d != c] for c in cells}
    w = libpysal.weights.W(neighbours, silence_warnings=True)
    y = res.cells.set_index("h3").loc[w.id_order, "count"].to_numpy(dtype=float)
    ref = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    ours = res.cells.set_index("h3").loc[w.id_order, "gi_z"].to_numpy()
    np.testing.assert_allclose(ours, ref.Zs, rtol=1e-9, atol=1e-12)


def test_study_area_includes_zero_cells(city):
    db, df = city
    res = _run(db, res=8)
    con = duckdb.connect(str(db), read_only=True)
    wkt = [r[0] for r in con.execute("SELECT geometry FROM jurisdictions").fetchall()]
    con.close()
    union = shapely.union_all(shapely.from_wkt(wkt))
    inside = set()
    for part in shapely.get_parts(union):
        shell = [(y, x) for x, y in part.exterior.coords]
        holes = [[(y, x) for x, y in r.coords] for r in part.interiors]
        inside |= set(h3.polygon_to_cells(h3.LatLngPoly(shell, *holes), 8))
    got = set(res.cells.h3)
    assert inside <= got
    assert (res.cells["count"] == 0).sum() > 0.5 * len(res.cells)
    assert res.n_records == int(res.cells["count"].sum())
    assert not res.cells.gi_z.isna().any()


def test_planted_cluster_is_hot_and_filters_count_exactly(city):
    db, df = city
    res = _run(db, res=9)
    centre = h3.latlng_to_cell(CLUSTER[1], CLUSTER[0], 9)
    row = res.cells.set_index("h3").loc[centre]
    assert row.gi_bin == 3 and row.gi_z > 5
    con = duckdb.connect(str(db), read_only=True)
    wkt = [r[0] for r in con.execute("SELECT geometry FROM jurisdictions").fetchall()]
    con.close()
    union = shapely.union_all(shapely.from_wkt(wkt))
    inside = shapely.contains_xy(union, df["经度"].to_numpy(), df["纬度"].to_numpy())
    assert res.n_records == int(inside.sum())
    con = duckdb.connect(str(db), read_only=True)
    names = con.execute("SELECT name, geometry FROM jurisdictions").df()
    con.close()
    lon_c, lat_c = h3.cell_to_latlng(centre)[::-1]
    holder = [n for n, g in zip(names.name, shapely.from_wkt(names.geometry), strict=True)
              if shapely.contains_xy(g, lon_c, lat_c)]
    assert [row.district] == holder
    only = _run(db, res=9, categories=["街面秩序"])
    assert only.n_records == int((inside & (df["问题大类"] == "街面秩序")).sum())
    week = _run(db, res=9, start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 8))
    received = pd.to_datetime(df["受理时间"])
    in_week = (received >= "2026-11-02") & (received < "2026-11-09")
    assert week.n_records == int((inside & in_week).sum())


def test_degenerate_queries(city):
    db, df = city
    empty = _run(db, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 7))
    assert empty.note == "no records match the period and filters"
    assert (empty.cells.gi_bin == 0).all() and not empty.cells.gi_z.isna().any()
    assert len(empty.rows()) == 0
    nothing = _run(db, categories=["没有这个类别"])
    assert nothing.n_records == 0 and nothing.note
    with pytest.raises(HotspotError, match="no district named"):
        _run(db, district="不存在区")
    with pytest.raises(HotspotError, match="no zone of kind"):
        _run(db, zone="fringe")
    with pytest.raises(HotspotError, match="resolution 12 is not one of 7, 8, 9, 10"):
        _run(db, res=12)
    con = duckdb.connect(str(db), read_only=True)
    wkt = con.execute("SELECT geometry FROM jurisdictions WHERE name = '青秀区'").fetchall()[0][0]
    con.close()
    one = _run(db, district="青秀区", res=7)
    x, y = df["经度"].to_numpy(), df["纬度"].to_numpy()
    assert one.n_records == int(shapely.contains_xy(shapely.from_wkt(wkt), x, y).sum()) > 0
    whole = _run(db, res=7)
    assert one.n_cells < whole.n_cells


@pytest.mark.parametrize("ext", [".csv", ".geojson", ".parquet"])
def test_cli_writes_the_contract_columns(city, tmp_path, ext):
    db, _ = city
    out = tmp_path / f"hot{ext}"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "hotspots",
                        "--start", "2026-10-26", "--end", "2026-11-22", "--res", "8",
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    cols = ["h3", "res", "count", "gi_z", "p_value", "gi_bin", "district", "street",
            "in_fringe", "lon", "lat"]
    if ext == ".csv":
        assert out.read_bytes()[:3] == b"\xef\xbb\xbf"
        frame = pd.read_csv(out, encoding="utf-8-sig")
        assert list(frame.columns) == cols
    elif ext == ".parquet":
        frame = pd.read_parquet(out)
        assert list(frame.columns) == cols
    else:
        doc = json.loads(out.read_text(encoding="utf-8"))
        feat = doc["features"][0]
        assert list(feat["properties"]) == cols and feat["geometry"]["type"] == "Polygon"
        frame = pd.DataFrame([f["properties"] for f in doc["features"]])
    assert ((frame["count"] > 0) | (frame["gi_bin"] != 0)).all()


def _ingest_rows(db, tmp_path, rows):
    from ingest.pipeline import ingest_file

    csv = tmp_path / "c.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    assert ingest_file(db, "complaints", csv, crs="wgs84", now=NOW).rejected == 0


def test_a_single_record_gives_defined_scores_and_a_warning(district_db, tmp_path):
    _ingest_rows(district_db, tmp_path, [{"工单编号": "ONE", "受理时间": "2026-11-02 10:00",
                                          "经度": 108.35, "纬度": 22.85}])
    res = _run(district_db, res=8)
    assert res.n_records == 1 and res.n_cells >= 149
    assert np.isfinite(res.cells.gi_z).all() and np.isfinite(res.cells.p_value).all()
    assert "only 1 records" in res.note
    cell = h3.cell_to_parent(h3.latlng_to_cell(22.85, 108.35, 12), 8)
    # exactly the cells whose neighbourhood holds the record score above the mean
    assert set(res.cells.h3[res.cells.gi_z > 0]) == set(h3.grid_disk(cell, 1)) & set(res.cells.h3)


def test_a_district_of_one_cell(tmp_path):
    from ingest.boundaries import load_boundaries

    centre = h3.latlng_to_cell(22.85, 108.35, 7)
    lat, lon = h3.cell_to_latlng(centre)
    box = shapely.box(lon - 0.003, lat - 0.003, lon + 0.003, lat + 0.003)
    path = tmp_path / "tiny.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "T1", "name": "小区"},
         "geometry": json.loads(shapely.to_geojson(box))}]}), encoding="utf-8")
    db = tmp_path / "tiny.duckdb"
    load_boundaries(db, path, "district", crs="wgs84")
    _ingest_rows(db, tmp_path, [{"工单编号": f"T{i}", "受理时间": "2026-11-02 10:00",
                                 "经度": lon + 0.001 * (i % 3), "纬度": lat} for i in range(5)])
    res = _run(db, res=7)
    assert res.n_cells == 1 and res.n_records == 5
    assert res.note == "a single cell: Gi* needs at least two"
    assert res.cells.gi_z.tolist() == [0.0] and res.cells.gi_bin.tolist() == [0]

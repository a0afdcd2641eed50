"""Jurisdiction boundaries: reading, coordinates, upsert and hierarchy checks.

Sizes are checked against areas computed here independently, with ``pyproj.Geod`` on the
vertices of hand-made rectangles (fixtures in tests/fixtures/boundaries, see its README),
and against the published total area of Nanning's seven districts.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Polygon, box

from grids.areas import COVER_EPS_DEG
from ingest import boundaries
from ingest.boundaries import SLIVER_KM2, BoundaryError, load_boundaries
from tests.conftest import NANNING

FIX = Path(__file__).parent / "fixtures" / "boundaries"
NANNING_ADCODES = {"450102", "450103", "450105", "450107", "450108", "450109", "450110"}
#: The published total area of the seven districts: about 9,840 km².
NANNING_KM2 = 9840.0
GEOD = pyproj.Geod(ellps="WGS84")


def rect_km2(x0, y0, x1, y1) -> float:
    """Geodesic area of the lon/lat rectangle with these four corners (independent truth)."""
    area, _ = GEOD.polygon_area_perimeter([x0, x1, x1, x0], [y0, y0, y1, y1])
    return abs(area) / 1e6


def geod_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e6


def query(db, sql, params=()):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, list(params)).df()


def issues_of(report, kind):
    return {(i.jurisdiction_id, i.other_id): i for i in report.issues if i.issue == kind}


# ------------------------------------------------------------------ Nanning, real data


@pytest.fixture(scope="module")
def nanning_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("nanning") / "grid.duckdb"
    report = load_boundaries(db, NANNING, "district", crs="gcj02")
    return db, report


def test_nanning_districts_load_with_published_area(nanning_db):
    db, report = nanning_db
    assert (report.rows, report.inserted, report.updated) == (7, 7, 0)
    df = query(db, "SELECT * FROM jurisdictions ORDER BY jurisdiction_id")
    assert set(df.jurisdiction_id) == NANNING_ADCODES
    assert set(df.level) == {"district"}
    assert "青秀区" in set(df.name)
    assert set(df.parent_id) == {"450100"}      # the city: not loaded, fine at the top level
    assert df.area_km2.sum() == pytest.approx(NANNING_KM2, rel=0.02)
    # the stored area is the geodesic area of the stored polygon, measured here by Geod
    geoms = shapely.from_wkt(df.geometry.to_numpy(dtype=object))
    np.testing.assert_allclose(df.area_km2, [geod_km2(g) for g in geoms], rtol=1e-9)
    assert report.issues == []          # the seven real districts tile without overlaps


def test_nanning_gcj02_is_converted_to_wgs84(nanning_db):
    db, _ = nanning_db
    raw = gpd.read_file(NANNING).set_index("adcode").geometry
    df = query(db, "SELECT jurisdiction_id, geometry FROM jurisdictions").set_index(
        "jurisdiction_id")
    for adcode, wkt in df.geometry.items():
        stored = shapely.from_wkt(wkt)
        assert stored.is_valid
        # the same vertex, moved by the GCJ-02 offset (300-600 m in Nanning)
        va = shapely.get_coordinates(raw[adcode])[0]
        vb = shapely.get_coordinates(stored)[0]
        shift = GEOD.inv(va[0], va[1], vb[0], vb[1])[2]
        assert 200 < shift < 800, (adcode, shift)


def test_nanning_reload_changes_nothing(nanning_db, tmp_path):
    db0, first = nanning_db
    db = tmp_path / "again.duckdb"
    shutil.copy(db0, db)
    before = query(db, "SELECT * EXCLUDE (batch_id) FROM jurisdictions ORDER BY 1")
    again = load_boundaries(db, NANNING, "district", crs="gcj02")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    after = query(db, "SELECT * EXCLUDE (batch_id) FROM jurisdictions ORDER BY 1")
    assert after.equals(before)
    assert set(query(db, "SELECT batch_id FROM jurisdictions").batch_id) == {first.batch_id}
    batches = query(db, "SELECT * FROM import_batches ORDER BY batch_id")
    sha = hashlib.sha256(NANNING.read_bytes()).hexdigest()
    assert list(batches.kind) == ["boundaries:district"] * 2
    assert set(batches.sha256) == {sha}
    assert list(batches.rows_inserted) == [7, 0] and list(batches.rows_unchanged) == [0, 7]
    assert json.loads(batches.mapping[0])["jurisdiction_id"] == "adcode"
    assert set(batches.crs) == {"gcj02"}


def test_undeclared_lonlat_warns_about_amap(tmp_path):
    report = load_boundaries(tmp_path / "g.duckdb", FIX / "district_square.geojson", "district")
    assert any("--crs gcj02" in w and "declares no coordinate system" in w
               for w in report.warnings)
    assert "--crs gcj02" in report.summary()
    quiet = load_boundaries(tmp_path / "h.duckdb", FIX / "district_square.geojson", "district",
                            crs="wgs84")
    assert quiet.warnings == []


# ------------------------------------------------------------------ hierarchy checks

# streets_flawed.geojson, built on district D1 = [108.30, 108.40] x [22.80, 22.90]:
SPILL = rect_km2(108.40, 22.80, 108.41, 22.85)     # S2 reaches 0.01 deg east of D1
OVERLAP = rect_km2(108.34, 22.86, 108.35, 22.90)   # S3 starts 0.01 deg inside S1
GAP = rect_km2(108.35, 22.85, 108.40, 22.86)       # between S2 (to 22.85) and S3 (from 22.86)


def _check_flawed(report):
    spill = issues_of(report, "spills_out_of_parent")
    assert list(spill) == [("S2", "D1")]
    assert spill["S2", "D1"].area_km2 == pytest.approx(SPILL, rel=0.02)
    over = issues_of(report, "overlaps_sibling")
    assert list(over) == [("S1", "S3")]
    assert over["S1", "S3"].area_km2 == pytest.approx(OVERLAP, rel=0.02)
    gap = issues_of(report, "gap_in_parent")
    assert list(gap) == [("D1", None)]
    assert gap["D1", None].level == "district"
    assert gap["D1", None].area_km2 == pytest.approx(GAP, rel=0.02)
    assert list(issues_of(report, "no_parent")) == [("S4", "D9")]
    assert len(report.issues) == 4


def test_spill_overlap_gap_no_parent_with_sizes(tmp_path, district_db):
    db = district_db
    report = load_boundaries(db, FIX / "streets_flawed.geojson", "street", crs="wgs84")
    assert report.inserted == 4
    _check_flawed(report)
    stored = query(db, "SELECT * FROM boundary_issues ORDER BY issue")
    assert set(stored.batch_id) == {report.batch_id}
    got = dict(zip(stored.issue, stored.area_km2, strict=True))
    assert got["spills_out_of_parent"] == pytest.approx(SPILL, rel=0.02)
    assert got["gap_in_parent"] == pytest.approx(GAP, rel=0.02)
    text = report.summary()
    assert "spills out of its district D1" in text and "S4" in text
    # parents come from the Chinese property names 编码 / 名称 / 上级编码
    df = query(db, "SELECT jurisdiction_id, name, parent_id FROM jurisdictions "
                   "WHERE level = 'street' ORDER BY 1")
    assert list(df.parent_id) == ["D1", "D1", "D1", "D9"] and df.name[0] == "西街道"


def test_checks_rerun_when_the_level_above_comes_later(tmp_path):
    db = tmp_path / "g.duckdb"
    first = load_boundaries(db, FIX / "streets_flawed.geojson", "street", crs="wgs84")
    # no districts yet: only the overlap between siblings can be seen
    assert {i.issue for i in first.issues} == {"overlaps_sibling"}
    report = load_boundaries(db, FIX / "district_square.geojson", "district", crs="wgs84")
    _check_flawed(report)
    assert len(query(db, "SELECT * FROM boundary_issues")) == 4


def test_repairing_the_hierarchy_clears_the_issues(tmp_path, district_db):
    db = district_db
    load_boundaries(db, FIX / "streets_flawed.geojson", "street", crs="wgs84")
    fixed = gpd.read_file(FIX / "streets_flawed.geojson")
    fixed = fixed[fixed["编码"] != "S4"].copy()
    fixed.geometry = [box(108.30, 22.80, 108.35, 22.90), box(108.35, 22.80, 108.40, 22.85),
                      box(108.35, 22.85, 108.40, 22.90)]
    fixed.to_file(tmp_path / "fixed.geojson")
    report = load_boundaries(db, tmp_path / "fixed.geojson", "street", crs="wgs84")
    assert (report.inserted, report.updated, report.unchanged) == (0, 3, 0)
    # S4 is still stored (an upsert never deletes) and still has no parent
    assert [(i.jurisdiction_id, i.issue) for i in report.issues] == [("S4", "no_parent")]
    assert list(query(db, "SELECT issue FROM boundary_issues").issue) == ["no_parent"]


def test_parent_inferred_from_largest_overlap(tmp_path):
    db = tmp_path / "g.duckdb"
    # streets without a parent field, loaded before their district
    first = load_boundaries(db, FIX / "streets_clean.geojson", "street", crs="wgs84")
    assert first.issues == []
    report = load_boundaries(db, FIX / "district_square.geojson", "district", crs="wgs84")
    inferred = issues_of(report, "parent_inferred")
    assert set(inferred) == {("T1", "D1"), ("T2", "D1")}
    half = rect_km2(108.30, 22.80, 108.35, 22.90)
    assert inferred["T1", "D1"].area_km2 == pytest.approx(half, rel=0.02)
    assert "100.0%" in inferred["T1", "D1"].detail
    assert set(query(db, "SELECT parent_id FROM jurisdictions WHERE level = 'street'")
               .parent_id) == {"D1"}
    assert len(report.issues) == 2     # T1 and T2 tile D1: no gap, spill or overlap
    again = load_boundaries(db, FIX / "streets_clean.geojson", "street", crs="wgs84")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert set(issues_of(again, "parent_inferred")) == {("T1", "D1"), ("T2", "D1")}


def test_tiling_has_no_issues_after_gcj02_conversion(tmp_path):
    """144 streets tiling a district, both converted from GCJ-02: slivers stay unreported."""
    db = tmp_path / "g.duckdb"
    x0, y0, n = 108.30, 22.80, 12
    step = 0.1 / n
    d = gpd.GeoDataFrame({"id": ["D1"], "name": ["D"]},
                         geometry=[shapely.segmentize(box(x0, y0, x0 + 0.1, y0 + 0.1), 0.001)])
    cells = [shapely.segmentize(box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step,
                                    y0 + (j + 1) * step), 0.001)
             for i in range(n) for j in range(n)]
    s = gpd.GeoDataFrame({"id": [f"S{k}" for k in range(n * n)], "parent_id": "D1",
                          "name": "s"}, geometry=cells)
    d.to_file(tmp_path / "d.geojson")
    s.to_file(tmp_path / "s.geojson")
    load_boundaries(db, tmp_path / "d.geojson", "district", crs="gcj02")
    report = load_boundaries(db, tmp_path / "s.geojson", "street", crs="gcj02")
    assert report.issues == []
    areas = query(db, "SELECT level, sum(area_km2) AS a FROM jurisdictions GROUP BY level")
    a = dict(zip(areas.level, areas.a, strict=True))
    assert a["street"] == pytest.approx(a["district"], rel=1e-6)


def test_bow_tie_is_repaired_and_reported(tmp_path):
    db = tmp_path / "g.duckdb"
    report = load_boundaries(db, FIX / "grid_bowtie.geojson", "grid", crs="wgs84")
    rep = issues_of(report, "invalid_repaired")
    assert list(rep) == [("G-BOW", None)]
    # the bow-tie over a 0.01 deg square at the equator keeps two triangles: half the square
    assert rep["G-BOW", None].area_km2 == pytest.approx(rect_km2(0, 0, 0.01, 0.01) / 2,
                                                        rel=0.02)
    assert "Self-intersection" in rep["G-BOW", None].detail
    assert "repaired" in report.summary()
    df = query(db, "SELECT jurisdiction_id, geometry, area_km2 FROM jurisdictions ORDER BY 1")
    geoms = shapely.from_wkt(df.geometry.to_numpy(dtype=object))
    assert shapely.is_valid(geoms).all()
    assert df.area_km2[1] == pytest.approx(rect_km2(0.02, 0, 0.03, 0.01), rel=1e-9)
    assert query(db, "SELECT rows_fixed FROM import_batches").rows_fixed[0] == 1


# ------------------------------------------------------------------ coordinate systems

NANNING_SHAPE = Polygon([(108.30, 22.80), (108.36, 22.79), (108.41, 22.84), (108.39, 22.90),
                         (108.33, 22.91), (108.29, 22.86)])
WUHAN_SHAPE = shapely.affinity.translate(NANNING_SHAPE, 6.0, 7.8)


@pytest.mark.parametrize(("shape", "epsg", "suffix"), [
    (NANNING_SHAPE, 32649, ".geojson"),    # UTM zone 49N
    (WUHAN_SHAPE, 4547, ".gpkg"),          # CGCS2000 / 3-degree Gauss-Kruger CM 114E
])
def test_projected_file_lands_in_place(tmp_path, shape, epsg, suffix):
    path = tmp_path / f"projected{suffix}"
    src = gpd.GeoDataFrame({"adcode": ["P1"], "name": ["投影区"]}, geometry=[shape], crs=4326)
    src.to_crs(epsg).to_file(path)
    assert abs(shapely.get_coordinates(gpd.read_file(path).geometry.iloc[0])).max() > 1000
    db = tmp_path / "g.duckdb"
    report = load_boundaries(db, path, "district")
    assert report.warnings == [] and f"EPSG:{epsg}" in report.crs
    got = shapely.from_wkt(query(db, "SELECT geometry FROM jurisdictions").geometry[0])
    c0, c1 = shape.centroid, got.centroid
    assert GEOD.inv(c0.x, c0.y, c1.x, c1.y)[2] < 1.0          # metres
    assert report.area_km2 == pytest.approx(geod_km2(shape), rel=1e-4)


@pytest.mark.parametrize("suffix", [".shp", ".geojson"])
def test_undeclared_projected_file_is_refused(tmp_path, suffix):
    path = tmp_path / f"metres{suffix}"
    metres = gpd.GeoDataFrame({"adcode": ["P1"]}, geometry=[NANNING_SHAPE], crs=4326)
    metres = metres.to_crs(32649).set_crs(None, allow_override=True)
    with pytest.warns(UserWarning):
        metres.to_file(path)
    db = tmp_path / "g.duckdb"
    with pytest.raises(BoundaryError) as err:
        load_boundaries(db, path, "district")
    msg = str(err.value)
    assert str(path) in msg and "feature 1" in msg
    assert "not longitude/latitude" in msg and "declares no coordinate system" in msg
    assert "EPSG:4547" in msg                                  # says how to fix it
    assert not db.exists()                                     # nothing written


def test_crs_argument_overrides_and_accepts_epsg(tmp_path):
    path = tmp_path / "metres.shp"
    metres = gpd.GeoDataFrame({"adcode": ["P1"]}, geometry=[NANNING_SHAPE], crs=4326)
    metres.to_crs(32649).set_crs(None, allow_override=True).to_file(path)
    report = load_boundaries(tmp_path / "g.duckdb", path, "district", crs="EPSG:32649")
    assert report.area_km2 == pytest.approx(geod_km2(NANNING_SHAPE), rel=1e-4)
    with pytest.raises(BoundaryError, match="--crs 'mars'"):
        load_boundaries(tmp_path / "g.duckdb", path, "district", crs="mars")
    with pytest.raises(BoundaryError, match="--crs gcj02 says they are"):
        load_boundaries(tmp_path / "g.duckdb", path, "district", crs="gcj02")


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet"])
def test_other_formats(tmp_path, suffix):
    gdf = gpd.read_file(FIX / "district_square.geojson").set_crs(4326, allow_override=True)
    path = tmp_path / f"d{suffix}"
    gdf.to_parquet(path) if suffix == ".parquet" else gdf.to_file(path)
    report = load_boundaries(tmp_path / "g.duckdb", path, "district")
    assert report.warnings == []
    assert report.area_km2 == pytest.approx(rect_km2(108.30, 22.80, 108.40, 22.90), rel=1e-9)


# ------------------------------------------------------------------ bad input


def _write(tmp_path, features, name="bad.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for p, g in features]}),
        encoding="utf-8")
    return path


SQ = shapely.geometry.mapping(box(108.30, 22.80, 108.31, 22.81))
SQ2 = shapely.geometry.mapping(box(108.31, 22.80, 108.32, 22.81))


@pytest.mark.parametrize(("features", "expected"), [
    ([({"code": "A"}, SQ), ({"code": None}, SQ2)], ["feature 2", "'code'", "empty"]),
    ([({"code": "A"}, SQ), ({"code": "A"}, SQ2)], ["feature 1", "appears more than once",
                                                   "features 1, 2"]),
    ([({"code": "A"}, SQ), ({"code": "B"}, None)], ["feature 2", "geometry is empty"]),
    ([({"code": "A"}, {"type": "Point", "coordinates": [108.3, 22.8]})],
     ["feature 1", "Point", "expected a Polygon or MultiPolygon"]),
    ([({"名字": "A"}, SQ)], ["no id property", "adcode", "名字", "--id-field"]),
])
def test_bad_features_are_refused_with_file_feature_and_field(tmp_path, features, expected):
    path = _write(tmp_path, features)
    db = tmp_path / "g.duckdb"
    with pytest.raises(BoundaryError) as err:
        load_boundaries(db, path, "street", crs="wgs84")
    assert str(path) in str(err.value)
    for word in expected:
        assert word in str(err.value)
    assert not db.exists()


def test_unreadable_file_wrong_level_and_missing_field(tmp_path):
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not geojson", encoding="utf-8")
    with pytest.raises(BoundaryError, match="cannot read"):
        load_boundaries(tmp_path / "g.duckdb", junk, "street")
    with pytest.raises(BoundaryError, match="file not found"):
        load_boundaries(tmp_path / "g.duckdb", tmp_path / "nope.geojson", "street")
    with pytest.raises(BoundaryError, match="--level 'city'"):
        load_boundaries(tmp_path / "g.duckdb", FIX / "district_square.geojson", "city")
    with pytest.raises(BoundaryError, match="--id-field 'gid' is not a property"):
        load_boundaries(tmp_path / "g.duckdb", FIX / "district_square.geojson", "district",
                        id_field="gid")
    assert issubclass(BoundaryError, ValueError)


def test_bad_file_leaves_the_database_as_it_was(tmp_path, district_db):
    db = district_db
    before = db.read_bytes()
    with pytest.raises(BoundaryError):
        load_boundaries(db, _write(tmp_path, [({"code": "A"}, SQ), ({"code": "A"}, SQ2)]),
                        "street")
    assert db.read_bytes() == before


def test_chinese_field_patterns_and_explicit_fields(tmp_path):
    path = _write(tmp_path, [({"社区编码": "C1", "社区名称": "一社区", "所属街道编码": "S1"}, SQ),
                             ({"社区编码": "C2", "社区名称": "二社区", "所属街道编码": "S1"}, SQ2)])
    db = tmp_path / "g.duckdb"
    report = load_boundaries(db, path, "community", crs="wgs84")
    df = query(db, "SELECT jurisdiction_id, name, parent_id FROM jurisdictions ORDER BY 1")
    assert list(df.jurisdiction_id) == ["C1", "C2"] and df.name[0] == "一社区"
    assert set(df.parent_id) == {"S1"} and report.issues == []
    # the same file with explicit names: the name field read as the id instead
    other = load_boundaries(tmp_path / "h.duckdb", path, "community", crs="wgs84",
                            id_field="社区名称", name_field="社区编码", parent_field="所属街道编码")
    assert other.inserted == 2
    assert set(query(tmp_path / "h.duckdb", "SELECT jurisdiction_id FROM jurisdictions")
               .jurisdiction_id) == {"一社区", "二社区"}


def test_a_changed_name_is_an_update(tmp_path, district_db):
    db = district_db
    gdf = gpd.read_file(FIX / "district_square.geojson")
    gdf["name"] = "新方区"
    gdf.to_file(tmp_path / "renamed.geojson")
    report = load_boundaries(db, tmp_path / "renamed.geojson", "district", crs="wgs84")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    assert query(db, "SELECT name FROM jurisdictions").name[0] == "新方区"


@pytest.mark.parametrize(("overlap_m2", "reported"), [(500, False), (2000, True)])
def test_overlaps_under_the_sliver_tolerance_are_not_reported(tmp_path, overlap_m2, reported):
    x, y = 108.30, 22.80
    lon_m = GEOD.inv(x, y, x + 0.001, y)[2] / 0.001         # metres per degree of longitude
    height_m = GEOD.inv(x, y, x, y + 0.001)[2]
    dx = overlap_m2 / (lon_m * height_m)
    path = _write(tmp_path, [({"id": "A"}, shapely.geometry.mapping(box(x, y, x + 0.001, y + 0.001))),
                             ({"id": "B"}, shapely.geometry.mapping(
                                 box(x + 0.001 - dx, y, x + 0.002 - dx, y + 0.001)))])
    report = load_boundaries(tmp_path / "g.duckdb", path, "grid", crs="wgs84")
    assert SLIVER_KM2 * 1e6 == 1000
    over = issues_of(report, "overlaps_sibling")
    assert bool(over) is reported
    if reported:
        assert over["A", "B"].area_km2 * 1e6 == pytest.approx(overlap_m2, rel=0.02)


def test_docs_list_every_recognised_name_and_the_tolerances():
    text = (Path(__file__).resolve().parents[1] / "docs" / "boundaries.md").read_text(
        encoding="utf-8")
    for name in (boundaries.ID_FIELDS + boundaries.NAME_FIELDS + boundaries.PARENT_FIELDS):
        assert f"`{name}`" in text, name
    for const, value in (("SLIVER_KM2", SLIVER_KM2), ("COVER_EPS_DEG", COVER_EPS_DEG)):
        documented = re.search(rf"`{const} = ([-+.0-9e]+)`", text)
        assert documented and float(documented.group(1)) == value, const
    for issue in ("spills_out_of_parent", "overlaps_sibling", "gap_in_parent", "no_parent",
                  "parent_inferred", "invalid_repaired"):
        assert f"`{issue}`" in text

"""Zones: drawn polygons (load_zones) and the derived urban-rural fringe (derive_fringe).

The derived band is compared with a band built here independently: buffered in UTM zone
49N (EPSG:32649) instead of the module's azimuthal-equidistant projection, clipped to the
district rectangle, measured with ``pyproj.Geod``.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import box

from ingest.boundaries import BoundaryError, load_boundaries
from ingest.zones import derive_fringe, load_zones

FIX = Path(__file__).parent / "fixtures" / "boundaries"
GEOD = pyproj.Geod(ellps="WGS84")
DISTRICT = box(108.30, 22.80, 108.40, 22.90)       # district_square.geojson
CORE = box(108.31, 22.84, 108.33, 22.86)           # core.geojson: 1 km from D1's west edge


def geod_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e6


def query(db, sql):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).df()


def utm_band(width_km: float, *, clip: bool = True):
    """The fringe built independently: buffer in UTM 49N, minus core, within the district."""
    fwd = pyproj.Transformer.from_crs(4326, 32649, always_xy=True)
    back = pyproj.Transformer.from_crs(32649, 4326, always_xy=True)
    core_m = shapely.transform(shapely.segmentize(CORE, 0.0005), lambda x, y: fwd.transform(x, y),
                               interleaved=False)
    band_m = core_m.buffer(width_km * 1000, quad_segs=64).difference(core_m)
    band = shapely.transform(band_m, lambda x, y: back.transform(x, y), interleaved=False)
    return band.intersection(shapely.segmentize(DISTRICT, 0.001)) if clip else band


@pytest.fixture
def db(district_db):
    """A database holding district D1 only (see conftest.district_db)."""
    return district_db


def test_derive_fringe_matches_independent_band(db):
    report = derive_fringe(db, FIX / "core.geojson", width_km=3)
    zones = query(db, "SELECT * FROM zones")
    assert list(zones.zone_id) == ["fringe-derived"]
    assert zones.kind[0] == "fringe"
    assert zones.name[0] == "城乡结合部（核心区外3公里）"
    got = shapely.from_wkt(zones.geometry[0])
    truth = utm_band(3.0)
    assert zones.area_km2[0] == pytest.approx(geod_km2(truth), rel=0.01)
    assert report.area_km2 == pytest.approx(zones.area_km2[0])
    assert geod_km2(got.symmetric_difference(truth)) < 0.01 * geod_km2(truth)
    # clipped to the district, outside the core, and really clipped (the core is 1 km in)
    assert geod_km2(got.difference(DISTRICT)) < 1e-6
    assert geod_km2(got.intersection(CORE)) < 1e-6
    assert geod_km2(got) < 0.95 * geod_km2(utm_band(3.0, clip=False))
    assert "3 km band" in report.summary()


def test_band_reaches_its_width_on_the_ground(db):
    derive_fringe(db, FIX / "core.geojson", width_km=3)
    got = shapely.from_wkt(query(db, "SELECT geometry FROM zones").geometry[0])
    # east of the core the band ends 3 km from the core's east edge, along the parallel
    y = 22.85
    east = shapely.intersection(got, shapely.LineString([(108.33, y), (108.40, y)]))
    far = max(x for x, _ in shapely.get_coordinates(east))
    assert GEOD.inv(108.33, y, far, y)[2] == pytest.approx(3000, abs=5)


def test_derive_fringe_replaces_the_earlier_one(db):
    first = derive_fringe(db, FIX / "core.geojson", width_km=3)
    same = derive_fringe(db, FIX / "core.geojson", width_km=3.0)
    assert (first.inserted, same.inserted, same.updated, same.unchanged) == (1, 0, 0, 1)
    narrower = derive_fringe(db, FIX / "core.geojson", width_km=1.5)
    assert (narrower.inserted, narrower.updated) == (0, 1)
    zones = query(db, "SELECT * FROM zones")
    assert len(zones) == 1 and zones.name[0] == "城乡结合部（核心区外1.5公里）"
    assert zones.area_km2[0] == pytest.approx(geod_km2(utm_band(1.5)), rel=0.01)
    kinds = query(db, "SELECT kind FROM import_batches ORDER BY batch_id").kind
    assert list(kinds[-3:]) == ["zones:fringe-derived"] * 3


@pytest.mark.parametrize("width", [0, -2, float("nan")])
def test_derive_fringe_needs_a_positive_width(db, width):
    with pytest.raises(BoundaryError, match="--width-km"):
        derive_fringe(db, FIX / "core.geojson", width_km=width)
    assert query(db, "SELECT count(*) AS n FROM zones").n[0] == 0


def test_derive_fringe_needs_districts(tmp_path):
    db = tmp_path / "g.duckdb"
    load_boundaries(db, FIX / "streets_clean.geojson", "street", crs="wgs84")
    with pytest.raises(BoundaryError, match="no districts are loaded.*--level district"):
        derive_fringe(db, FIX / "core.geojson")
    assert query(db, "SELECT count(*) AS n FROM zones").n[0] == 0


def test_derive_fringe_far_from_districts(db, tmp_path):
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame(geometry=[box(110.0, 25.0, 110.01, 25.01)], crs=4326).to_file(far)
    with pytest.raises(BoundaryError, match="outside every loaded district"):
        derive_fringe(db, far, width_km=3)


def test_load_zones_upsert(db, tmp_path):
    report = load_zones(db, FIX / "fringe_drawn.geojson", "fringe", crs="wgs84")
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    zones = query(db, "SELECT * FROM zones ORDER BY zone_id")
    assert list(zones.zone_id) == ["fringe-1", "fringe-2"]      # no id in the file
    assert list(zones.name) == ["北片", "南片"] and set(zones.kind) == {"fringe"}
    truth = [geod_km2(box(108.30, 22.88, 108.32, 22.90)), geod_km2(box(108.30, 22.80, 108.32, 22.82))]
    np.testing.assert_allclose(zones.area_km2, truth, rtol=1e-9)
    again = load_zones(db, FIX / "fringe_drawn.geojson", "fringe", crs="wgs84")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert query(db, "SELECT count(*) AS n FROM zones").n[0] == 2
    # a later export where the northern piece grew
    gdf = gpd.read_file(FIX / "fringe_drawn.geojson")
    gdf.loc[0, "geometry"] = box(108.30, 22.87, 108.32, 22.90)
    gdf.to_file(tmp_path / "grown.geojson")
    grown = load_zones(db, tmp_path / "grown.geojson", "fringe", crs="wgs84")
    assert (grown.inserted, grown.updated, grown.unchanged) == (0, 1, 1)
    area = query(db, "SELECT area_km2 FROM zones WHERE zone_id = 'fringe-1'").area_km2[0]
    assert area == pytest.approx(geod_km2(box(108.30, 22.87, 108.32, 22.90)), rel=1e-9)


def test_load_zones_ids_from_the_file_and_kinds(db, tmp_path):
    path = tmp_path / "markets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"zone_id": "M7", "名称": "农贸市场"},
         "geometry": shapely.geometry.mapping(box(108.35, 22.85, 108.351, 22.851))}]},
        ensure_ascii=False), encoding="utf-8")
    report = load_zones(db, path, "market", crs="wgs84")
    assert report.zone_ids == ["M7"]
    load_zones(db, FIX / "fringe_drawn.geojson", "fringe", crs="wgs84")
    zones = query(db, "SELECT zone_id, kind FROM zones ORDER BY zone_id")
    assert list(zones.zone_id) == ["M7", "fringe-1", "fringe-2"]
    assert list(zones.kind) == ["market", "fringe", "fringe"]
    # another kind numbering its zones the same way does not overwrite them
    school = tmp_path / "school.geojson"
    school.write_text(path.read_text(encoding="utf-8").replace("农贸市场", "学校"),
                      encoding="utf-8")
    assert load_zones(db, school, "school", crs="wgs84").inserted == 1
    both = query(db, "SELECT kind, name FROM zones WHERE zone_id = 'M7' ORDER BY kind")
    assert list(both.itertuples(index=False, name=None)) == [("market", "农贸市场"),
                                                             ("school", "学校")]
    with pytest.raises(BoundaryError, match="--kind"):
        load_zones(db, path, "two words")

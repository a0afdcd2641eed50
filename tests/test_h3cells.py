"""The H3 adapter against the h3 package's own functions, and the SQL macros against both."""

import h3
import numpy as np
import pytest

from grids import h3cells
from store.database import read_connection, write_transaction
from tests.conftest import NANNING


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(3)
    return rng.uniform(107.9, 108.8, 2000), rng.uniform(22.4, 23.4, 2000)


def test_lonlat_to_cells_matches_h3(points):
    lon, lat = points
    got = h3cells.lonlat_to_cells(lon, lat, 12)
    want = [h3.str_to_int(h3.latlng_to_cell(a, b, 12)) for a, b in zip(lat, lon, strict=True)]
    assert got.dtype == np.uint64
    assert got.tolist() == want


def test_missing_coordinates_give_zero():
    got = h3cells.lonlat_to_cells(np.array([np.nan, 108.3, 200.0]), np.array([22.8, np.nan, 22.8]))
    assert got.tolist() == [0, 0, 0]


@pytest.mark.parametrize("res", [7, 8, 9, 10, 11])
def test_parent_bit_arithmetic_matches_h3(points, res):
    cells = h3cells.lonlat_to_cells(*points, 12)
    got = h3cells.cells_to_parent(cells, res)
    want = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) for c in cells]
    assert got.tolist() == want


@pytest.mark.parametrize("res", [7, 9, 11])
def test_sql_macro_matches_h3(tmp_path, points, res):
    cells = h3cells.lonlat_to_cells(*points, 12)[:200]
    db = tmp_path / "m.duckdb"
    with write_transaction(db) as conn:
        conn.execute("CREATE TABLE t (cell UBIGINT)")
        conn.executemany("INSERT INTO t VALUES (?)", [[int(c)] for c in cells])
    with read_connection(db) as conn:
        got = [r[0] for r in conn.execute(
            f"SELECT h3_hex(h3_parent(cell, {res})) FROM t ORDER BY rowid").fetchall()]
    want = [h3.cell_to_parent(h3.int_to_str(int(c)), res) for c in cells]
    assert got == want
    with read_connection(db) as conn:
        kind = conn.execute(f"SELECT typeof(h3_parent(cell, {res})) FROM t LIMIT 1").fetchall()
        ints = conn.execute(f"SELECT h3_parent(cell, {res}) AS p FROM t ORDER BY rowid").df()
    assert kind[0][0] == "UBIGINT"
    assert ints.p.tolist() == [h3.str_to_int(w) for w in want]  # no float round trip


def test_hex_round_trip(points):
    cells = h3cells.lonlat_to_cells(*points, 9)
    hexes = h3cells.cells_to_hex(cells)
    assert hexes[0] == h3.int_to_str(int(cells[0]))
    assert h3cells.hex_to_cells(hexes).tolist() == cells.tolist()


def test_grid_disk_pairs_against_h3():
    centre = h3.latlng_to_cell(22.82, 108.35, 9)
    cells_hex = sorted(h3.grid_disk(centre, 3))
    cells = h3cells.hex_to_cells(cells_hex)
    src, dst = h3cells.grid_disk_pairs(cells, 1)
    got = {(cells_hex[i], cells_hex[j]) for i, j in zip(src, dst, strict=True)}
    members = set(cells_hex)
    want = {(a, b) for a in cells_hex for b in h3.grid_disk(a, 1) if b in members}
    assert got == want


def test_polygon_to_cells_centre_containment():
    import shapely
    square = shapely.box(108.30, 22.80, 108.34, 22.84)
    got = set(h3cells.cells_to_hex(h3cells.polygon_to_cells(square, 9)))
    lon, lat = h3cells.cells_to_lonlat(h3cells.hex_to_cells(sorted(got)))
    assert shapely.contains_xy(square, lon, lat).all()
    # every res-9 cell whose centre is inside is found: compare with a brute-force scan
    ring = h3.grid_disk(h3.latlng_to_cell(22.82, 108.32, 9), 30)
    brute = {c for c in ring if shapely.contains_xy(square, h3.cell_to_latlng(c)[1],
                                                    h3.cell_to_latlng(c)[0])}
    assert got == brute


@pytest.fixture(scope="module")
def nanning_wgs84():
    import json

    import shapely

    from grids.crs import transform_geometry

    doc = json.loads(NANNING.read_text(encoding="utf-8"))
    geoms = [transform_geometry(shapely.geometry.shape(f["geometry"]), "gcj02", "wgs84")
             for f in doc["features"]]
    return shapely.union_all(geoms)


def _h3_polygon_to_cells(geom, res):
    import shapely

    out = set()
    for part in shapely.get_parts(geom):
        shell = [(y, x) for x, y in part.exterior.coords]
        holes = [[(y, x) for x, y in r.coords] for r in part.interiors]
        out |= set(h3.polygon_to_cells(h3.LatLngPoly(shell, *holes), res))
    return out


@pytest.mark.parametrize("res", [7, 8, 9])
def test_polygon_to_cells_equals_h3_on_real_districts(nanning_wgs84, res):
    got = set(h3cells.cells_to_hex(h3cells.polygon_to_cells(nanning_wgs84, res)))
    assert got == _h3_polygon_to_cells(nanning_wgs84, res)


@pytest.mark.parametrize("res", [7, 8, 9, 10])
def test_ring_pairs_equal_h3_grid_disk_on_a_city(nanning_wgs84, res):
    import shapely

    # a 20 km window of the city at fine resolutions, the whole city at coarse ones
    area = nanning_wgs84 if res <= 8 else nanning_wgs84.intersection(
        shapely.box(108.25, 22.75, 108.45, 22.95))
    cells = h3cells.polygon_to_cells(area, res)
    src, dst = h3cells.grid_disk_pairs(cells, 1)
    hexes = h3cells.cells_to_hex(cells)
    got = set(zip(hexes[src], hexes[dst], strict=True))
    members = set(hexes)
    want = {(a, b) for a in hexes for b in h3.grid_disk(a, 1) if b in members}
    assert len(got) == len(src)  # no pair twice
    assert got == want


def test_ring_pairs_kdtree_across_a_pentagon_and_far_apart_cells():
    # a pentagon's neighbourhood (distorted spacing) and cells on two continents
    pent = h3.get_pentagons(7)[3]
    near = sorted(h3.grid_disk(pent, 6))
    far = sorted(h3.grid_disk(h3.latlng_to_cell(22.8, 108.3, 7), 5))
    hexes = near + far
    cells = h3cells.hex_to_cells(hexes)
    src, dst = h3cells.grid_disk_pairs(cells, 1)
    got = {(hexes[i], hexes[j]) for i, j in zip(src, dst, strict=True)}
    members = set(hexes)
    assert got == {(a, b) for a in hexes for b in h3.grid_disk(a, 1) if b in members}


def test_grid_disk_pairs_k2_against_h3():
    centre = h3.latlng_to_cell(22.82, 108.35, 9)
    hexes = sorted(h3.grid_disk(centre, 5))
    cells = h3cells.hex_to_cells(hexes)
    src, dst = h3cells.grid_disk_pairs(cells, 2)
    got = {(hexes[i], hexes[j]) for i, j in zip(src, dst, strict=True)}
    members = set(hexes)
    assert got == {(a, b) for a in hexes for b in h3.grid_disk(a, 2) if b in members}


def test_cells_to_hex_and_centres_vectorised(points):
    cells = h3cells.lonlat_to_cells(*points, 10)
    cells[5] = 0
    hexes = h3cells.cells_to_hex(cells)
    assert hexes[5] is None
    assert [h for i, h in enumerate(hexes) if i != 5] == [
        h3.int_to_str(int(c)) for i, c in enumerate(cells) if i != 5]
    lon, lat = h3cells.cells_to_lonlat(cells[:50][cells[:50] != 0])
    want = [h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells[:50] if c]
    np.testing.assert_allclose(lat, [w[0] for w in want], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lon, [w[1] for w in want], rtol=0, atol=1e-12)

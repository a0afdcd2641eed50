"""The H3 adapter against the h3 package's own functions, and the SQL macros against both."""

import h3
import numpy as np
import pytest

from grids import h3cells
from store.database import read_connection, write_transaction


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

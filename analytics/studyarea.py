"""The study area of a cell statistic: H3 cells, their centres, names and neighbours.

docs/hotspots.md: S at resolution r is the set of cells whose centre lies in the
union of the loaded districts (or of the chosen district or zone), plus any cell holding a
counted record that lies inside a district. Every statistic over cells (Gi*, emerging hot
spots, blind spots, the fringe focus) draws its cells from here, so they agree.

The part that depends only on the boundaries (the polygon's cells, their centres, the
district and street each centre falls in, whether it is in the fringe) is cached in the
process, keyed on a digest of the loaded boundaries and zones: a new boundary load gives a
new key, a new ingest of records does not touch it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import duckdb
import numpy as np
import scipy.sparse as sp
import shapely

from grids import h3cells
from grids.pip import points_in_polygons

#: The H3 resolutions of the cell statistics (hotspots, emerging, fringe, the map).
RESOLUTIONS = (7, 8, 9, 10)


def resolution_message(res: int) -> str:
    """The words of a resolution that is not one of :data:`RESOLUTIONS`."""
    return (f"resolution {res} is not one of "
            f"{', '.join(str(r) for r in RESOLUTIONS)}")


class StudyAreaError(ValueError):
    """The study area cannot be drawn (no districts loaded, unknown district or zone)."""


@dataclass
class Cells:
    """Cells (sorted ``uint64``) with centre, district, street and fringe flag of each."""

    cells: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    district: np.ndarray
    street: np.ndarray
    in_fringe: np.ndarray

    def __len__(self) -> int:
        return len(self.cells)

    def take(self, index: np.ndarray) -> Cells:
        return Cells(self.cells[index], self.lon[index], self.lat[index],
                     self.district[index], self.street[index], self.in_fringe[index])

    def index_of(self, cells: np.ndarray) -> np.ndarray:
        """Positions of ``cells`` (all members) in this set."""
        return np.searchsorted(self.cells, np.asarray(cells, dtype=np.uint64))

    def contains(self, cells: np.ndarray) -> np.ndarray:
        cells = np.asarray(cells, dtype=np.uint64)
        if len(self.cells) == 0:
            return np.zeros(len(cells), dtype=bool)
        pos = np.minimum(np.searchsorted(self.cells, cells), len(self.cells) - 1)
        return self.cells[pos] == cells


_CACHE: OrderedDict[tuple, Cells] = OrderedDict()
_CACHE_SIZE = 12
_LOCK = Lock()


def geography_key(conn: duckdb.DuckDBPyConnection) -> str:
    """Digest of every loaded jurisdiction and zone (ids, levels, kinds and geometry)."""
    row = conn.execute(
        "SELECT (SELECT md5(coalesce(string_agg(jurisdiction_id || '|' || level || '|' || "
        "coalesce(name, '') || '|' || geometry, '#' ORDER BY level, jurisdiction_id), ''))"
        " FROM jurisdictions), "
        "(SELECT md5(coalesce(string_agg(zone_id || '|' || kind || '|' || geometry, '#' "
        "ORDER BY kind, zone_id), '')) FROM zones)").fetchall()[0]
    return f"{row[0]}:{row[1]}"


def area_polygon(conn: duckdb.DuckDBPyConnection, district: str | None = None,
                 zone: str | None = None):
    """The polygon S is drawn from: all districts, one district (name or id), or a zone kind."""
    if zone:
        rows = conn.execute("SELECT geometry FROM zones WHERE kind = ?", [zone]).fetchall()
        if not rows:
            kinds = [r[0] for r in conn.execute(
                "SELECT DISTINCT kind FROM zones ORDER BY 1").fetchall()]
            raise StudyAreaError(f"no zone of kind {zone!r} is loaded; loaded kinds: "
                                 + (", ".join(kinds) or "none (python cli.py load-zones or "
                                    "derive-fringe)"))
        return shapely.union_all(shapely.from_wkt([r[0] for r in rows]))
    if district:
        rows = conn.execute("SELECT geometry FROM jurisdictions WHERE level = 'district' "
                            "AND (name = ? OR jurisdiction_id = ?)", [district, district]
                            ).fetchall()
        if not rows:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM jurisdictions WHERE level = 'district' ORDER BY 1").fetchall()]
            raise StudyAreaError(f"no district named {district!r}; loaded districts: "
                                 + (", ".join(names) or "none"))
        return shapely.union_all(shapely.from_wkt([r[0] for r in rows]))
    rows = conn.execute("SELECT geometry FROM jurisdictions WHERE level = 'district'").fetchall()
    if not rows:
        raise StudyAreaError("no district boundaries are loaded: cell statistics need the "
                             "study area (python cli.py load-boundaries FILE --level district)")
    return shapely.union_all(shapely.from_wkt([r[0] for r in rows]))


def describe_cells(conn: duckdb.DuckDBPyConnection, cells: np.ndarray) -> Cells:
    """Centre, district, street and fringe flag of each cell (centre point-in-polygon)."""
    cells = np.unique(np.asarray(cells, dtype=np.uint64))
    lon, lat = h3cells.cells_to_lonlat(cells)
    names = []
    for level in ("district", "street"):
        df = conn.execute("SELECT name, geometry FROM jurisdictions WHERE level = ? "
                          "ORDER BY jurisdiction_id", [level]).df()
        out = np.full(len(cells), None, dtype=object)
        if len(df) and len(cells):
            hit = points_in_polygons(lon, lat, shapely.from_wkt(df.geometry.to_numpy(dtype=object)))
            out[hit >= 0] = df.name.to_numpy(dtype=object)[hit[hit >= 0]]
        names.append(out)
    fringe = np.zeros(len(cells), dtype=bool)
    rows = conn.execute("SELECT geometry FROM zones WHERE kind = 'fringe'").fetchall()
    if rows and len(cells):
        geom = shapely.union_all(shapely.from_wkt([r[0] for r in rows]))
        fringe = points_in_polygons(lon, lat, np.array([geom], dtype=object)) == 0
    return Cells(cells, lon, lat, names[0], names[1], fringe)


def base_cells(conn: duckdb.DuckDBPyConnection, res: int, district: str | None = None,
               zone: str | None = None) -> Cells:
    """Cells whose centre lies in the area polygon, described; cached per boundaries."""
    if res not in RESOLUTIONS:
        raise StudyAreaError(resolution_message(res))
    key = (geography_key(conn), res, district or None, zone or None)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    polygon = area_polygon(conn, district, zone)
    found = describe_cells(conn, h3cells.polygon_to_cells(polygon, res))
    with _LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def study_area(conn: duckdb.DuckDBPyConnection, res: int, record_cells: np.ndarray,
               district: str | None = None, zone: str | None = None) -> Cells:
    """S: the area's cells plus the cells of ``record_cells`` (records inside a district).

    With a zone, records outside the zone's cells are not part of S (the zone is the
    study area), so ``record_cells`` outside it are dropped by the caller.
    """
    base = base_cells(conn, res, district, zone)
    record_cells = np.unique(np.asarray(record_cells, dtype=np.uint64))
    extra = record_cells[~base.contains(record_cells)]
    if len(extra) == 0:
        return base
    more = describe_cells(conn, extra)
    order = np.argsort(np.concatenate([base.cells, more.cells]), kind="stable")
    return Cells(*(np.concatenate([getattr(base, f), getattr(more, f)])[order]
                   for f in ("cells", "lon", "lat", "district", "street", "in_fringe")))


def ring_weights(area: Cells | np.ndarray, k: int) -> sp.csr_matrix:
    """Binary weights: 1 where grid distance ≤ k (self included), both cells in the area."""
    cells = area.cells if isinstance(area, Cells) else np.asarray(area, dtype=np.uint64)
    lonlat = (area.lon, area.lat) if isinstance(area, Cells) else None
    i, j = h3cells.grid_disk_pairs(cells, k, lonlat=lonlat)
    n = len(cells)
    return sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def clear_cache() -> None:
    """Forget cached study areas (tests; the key makes this unnecessary in use)."""
    with _LOCK:
        _CACHE.clear()

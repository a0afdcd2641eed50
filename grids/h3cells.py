"""The one adapter around the ``h3`` package (H3 v4, integer API).

Every H3 call in the project goes through this module. Cells travel as ``numpy.uint64``
arrays; ``0`` stands for "no cell" (a record without usable coordinates), since no
valid H3 index is zero. Hex strings are the 15-character lower-case form ``h3`` prints.

References
----------
Uber H3, "H3 index representation", https://h3geo.org/docs/core-library/h3Indexing
(resolution in bits 52-55, one 3-bit digit per resolution, unused digits set to 7).
"""

from __future__ import annotations

from itertools import repeat

import h3.api.basic_int as h3i
import numpy as np
import shapely

#: Resolution of the one fine cell stored with every record.
FINE_RES = 12
#: Resolutions that analyses use; all derive from the fine cell.
ANALYSIS_RESOLUTIONS = (7, 8, 9, 10, 11)

_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT


def lonlat_to_cells(lon: np.ndarray, lat: np.ndarray, res: int = FINE_RES) -> np.ndarray:
    """H3 cell of each WGS-84 point, as ``uint64``; 0 where a coordinate is missing.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 degrees. NaN marks a missing coordinate.
    res : int
        H3 resolution, 0-15.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    out = np.zeros(len(lon), dtype=np.uint64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if ok.any():
        out[ok] = np.fromiter(
            map(h3i.latlng_to_cell, lat[ok].tolist(), lon[ok].tolist(), repeat(res)),
            dtype=np.uint64,
            count=int(ok.sum()),
        )
    return out


def cells_to_parent(cells: np.ndarray, res: int) -> np.ndarray:
    """Parent of each cell at ``res`` by bit arithmetic (same as ``h3.cell_to_parent``).

    Cells coarser than ``res`` and zeros are returned unchanged.
    """
    cells = np.asarray(cells, dtype=np.uint64)
    cur = (cells & _RES_MASK) >> _RES_SHIFT
    fill = np.uint64((1 << (3 * (15 - res))) - 1)
    parent = (cells & ~_RES_MASK & ~fill) | (np.uint64(res) << _RES_SHIFT) | fill
    keep = (cells == 0) | (cur < res)
    return np.where(keep, cells, parent)


def cells_to_hex(cells: np.ndarray) -> np.ndarray:
    """Lower-case hex strings (object array); ``None`` for 0."""
    cells = np.asarray(cells, dtype=np.uint64)
    return np.array([format(int(c), "x") if c else None for c in cells.tolist()], dtype=object)


def hex_to_cells(hexes) -> np.ndarray:
    """Inverse of :func:`cells_to_hex`."""
    return np.array([int(h, 16) if h else 0 for h in hexes], dtype=np.uint64)


def cells_to_lonlat(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (lon, lat) of each cell, WGS-84."""
    cells = np.asarray(cells, dtype=np.uint64)
    lat = np.empty(len(cells))
    lon = np.empty(len(cells))
    for i, c in enumerate(cells.tolist()):
        lat[i], lon[i] = h3i.cell_to_latlng(c)
    return lon, lat


def cells_to_polygons(cells: np.ndarray) -> np.ndarray:
    """Shapely polygons (lon, lat) of the cells' boundaries."""
    out = []
    for c in np.asarray(cells, dtype=np.uint64).tolist():
        ring = h3i.cell_to_boundary(c)
        out.append([(lng, lat) for lat, lng in ring])
    return shapely.polygons(out) if out else np.array([], dtype=object)


def polygon_to_cells(geom, res: int) -> np.ndarray:
    """Cells at ``res`` whose centre lies in ``geom`` (a WGS-84 shapely (Multi)Polygon)."""
    parts = shapely.get_parts(geom)
    found: list[int] = []
    for part in parts:
        if part.is_empty or part.geom_type != "Polygon":
            continue
        outer = [(y, x) for x, y in part.exterior.coords]
        holes = [[(y, x) for x, y in ring.coords] for ring in part.interiors]
        found.extend(h3i.polygon_to_cells(h3i.LatLngPoly(outer, *holes), res))
    return np.unique(np.array(found, dtype=np.uint64))


def grid_disk_pairs(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) index pairs with grid distance(cells[i], cells[j]) <= k, both in ``cells``.

    The neighbourhood includes the cell itself. Returns two ``int64`` index arrays.
    """
    cells = np.asarray(cells, dtype=np.uint64)
    order = np.argsort(cells)
    sorted_cells = cells[order]
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    for i, c in enumerate(cells.tolist()):
        disk = np.fromiter(h3i.grid_disk(c, k), dtype=np.uint64)
        pos = np.searchsorted(sorted_cells, disk)
        pos[pos >= len(sorted_cells)] = 0
        hit = sorted_cells[pos] == disk
        js = order[pos[hit]]
        src.append(np.full(len(js), i, dtype=np.int64))
        dst.append(js.astype(np.int64))
    if not src:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    return np.concatenate(src), np.concatenate(dst)


def cell_area_km2(cells: np.ndarray) -> np.ndarray:
    """Exact area of each cell in km²."""
    return np.array(
        [h3i.cell_area(c, unit="km^2") for c in np.asarray(cells, dtype=np.uint64).tolist()]
    )


def resolution(cells: np.ndarray) -> np.ndarray:
    """Resolution of each cell."""
    return ((np.asarray(cells, dtype=np.uint64) & _RES_MASK) >> _RES_SHIFT).astype(np.int64)

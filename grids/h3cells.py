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

from itertools import chain, repeat

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
    """Lower-case hex strings (object array); ``None`` for 0.

    Vectorised: the big-endian bytes of all cells are hex-encoded at once and cut into
    16-character pieces; an H3 index's top hex digit is always 0, so it is dropped.
    """
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.array([], dtype=object)
    raw = np.frombuffer(cells.astype(">u8").tobytes().hex().encode("ascii"), dtype="S1")
    fifteen = np.ascontiguousarray(raw.reshape(-1, 16)[:, 1:]).view("S15").ravel()
    out = fifteen.astype("U15").astype(object)
    out[cells == 0] = None
    return out


def hex_to_cells(hexes) -> np.ndarray:
    """Inverse of :func:`cells_to_hex`."""
    return np.array([int(h, 16) if h else 0 for h in hexes], dtype=np.uint64)


def cells_to_lonlat(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (lon, lat) of each cell, WGS-84."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.array([]), np.array([])
    ll = np.fromiter(chain.from_iterable(map(h3i.cell_to_latlng, cells.tolist())),
                     dtype=np.float64, count=2 * len(cells)).reshape(-1, 2)
    return ll[:, 1].copy(), ll[:, 0].copy()


def cells_to_polygons(cells: np.ndarray) -> np.ndarray:
    """Shapely polygons (lon, lat) of the cells' boundaries."""
    out = []
    for c in np.asarray(cells, dtype=np.uint64).tolist():
        ring = h3i.cell_to_boundary(c)
        out.append([(lng, lat) for lat, lng in ring])
    return shapely.polygons(out) if out else np.array([], dtype=object)


def _h3_shape(geom) -> h3i.H3Shape | None:
    polys = []
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        outer = [(y, x) for x, y in part.exterior.coords]
        holes = [[(y, x) for x, y in ring.coords] for ring in part.interiors]
        polys.append(h3i.LatLngPoly(outer, *holes))
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else h3i.LatLngMultiPoly(*polys)


def cells_to_boundaries(cells: np.ndarray) -> list[tuple[tuple[float, float], ...]]:
    """Each cell's boundary as h3 gives it: a tuple of (lat, lon) vertices, not closed."""
    return list(map(h3i.cell_to_boundary, np.asarray(cells, dtype=np.uint64).tolist()))


def is_valid_cell(cell: int) -> bool:
    """Whether ``cell`` is a valid H3 cell index."""
    return bool(h3i.is_valid_cell(int(cell)))


def polygon_to_cells(geom, res: int) -> np.ndarray:
    """Cells at ``res`` whose centre lies in ``geom`` (a WGS-84 shapely (Multi)Polygon).

    Same set as ``h3.polygon_to_cells`` (centre containment), found faster on detailed
    boundaries: the cells two resolutions coarser that overlap ``geom``, plus their first
    ring (a cell's descendants never reach beyond its neighbours), give the candidate
    children, whose centres are then tested against ``geom`` with the vectorised
    point-in-polygon of :mod:`grids.pip`.
    """
    from grids.pip import points_in_polygons

    shape = _h3_shape(geom)
    if shape is None:
        return np.array([], dtype=np.uint64)
    coarse_res = max(res - 2, 0)
    coarse = h3i.h3shape_to_cells_experimental(shape, coarse_res, contain="overlap")
    coarse = np.unique(np.fromiter(
        chain.from_iterable(map(h3i.grid_disk, coarse, repeat(1))), dtype=np.uint64))
    if coarse_res == res:
        candidates = coarse
    else:
        candidates = np.fromiter(
            chain.from_iterable(map(h3i.cell_to_children, coarse.tolist(), repeat(res))),
            dtype=np.uint64)
    lon, lat = cells_to_lonlat(candidates)
    inside = points_in_polygons(lon, lat, np.array([geom], dtype=object)) == 0
    return np.unique(candidates[inside])


#: Neighbour pairs closer than this many reference spacings are certain (first ring at
#: about 1.0, second ring at about 1.73); between this and _KD_QUERY they are checked
#: with h3 itself.
_KD_SURE = 1.25
_KD_QUERY = 1.5


def grid_disk_pairs(cells: np.ndarray, k: int, *,
                    lonlat: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) index pairs with grid distance(cells[i], cells[j]) <= k, both in ``cells``.

    The neighbourhood includes the cell itself. Returns two ``int64`` index arrays, in no
    particular order. All cells must have the same resolution; ``lonlat`` may pass their
    centres when the caller has them already.

    For ``k = 1`` the pairs come from a k-d tree over the cell centres (unit vectors in
    3-D, so no projection is involved): within one resolution, first-ring neighbours lie
    about one centre spacing apart and everything else at least √3 spacings, so a
    pair closer than 1.25 reference spacings is certain, and the rare pair between 1.25
    and 1.5 spacings (none in a city; distortion near pentagons) is settled by
    ``h3.grid_distance``. The reference spacing is measured from h3's own rings around
    sampled cells; if the samples disagree by more than 10 %, or for ``k > 1``, every
    cell's ring comes from ``h3.grid_disk`` instead.
    """
    cells = np.asarray(cells, dtype=np.uint64)
    n = len(cells)
    if n == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    if k == 1 and n >= 64:
        pairs = _ring1_pairs_kdtree(cells, lonlat)
        if pairs is not None:
            return pairs
    return grid_disk_pairs_exact(cells, k)


def grid_disk_pairs_exact(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`grid_disk_pairs` from ``h3.grid_disk`` of every cell (any k)."""
    cells = np.asarray(cells, dtype=np.uint64)
    n = len(cells)
    if n == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    src, flat = grid_disk_neighbours(cells, k)
    order = np.argsort(cells)
    sorted_cells = cells[order]
    pos = np.minimum(np.searchsorted(sorted_cells, flat), n - 1)
    hit = sorted_cells[pos] == flat
    src = src[hit]
    dst = order[pos[hit]].astype(np.int64)
    return src, dst


def grid_disk_neighbours(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every cell within grid distance ``k`` of each cell (itself included), any cell.

    Returns ``(src, cell)``: the index into ``cells`` and the neighbouring cell (``uint64``).
    """
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.uint64)
    disks = list(map(h3i.grid_disk, cells.tolist(), repeat(k)))
    sizes = np.fromiter(map(len, disks), dtype=np.int64, count=len(cells))
    flat = np.fromiter(chain.from_iterable(disks), dtype=np.uint64, count=int(sizes.sum()))
    return np.repeat(np.arange(len(cells), dtype=np.int64), sizes), flat


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _ring1_pairs_kdtree(cells: np.ndarray, lonlat: tuple[np.ndarray, np.ndarray] | None
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    from scipy.spatial import cKDTree

    n = len(cells)
    xyz = _unit_vectors(*(lonlat if lonlat is not None else cells_to_lonlat(cells)))
    # reference spacing: h3's own first ring around up to 32 evenly spread cells
    sample = cells[np.linspace(0, n - 1, min(n, 32)).astype(np.int64)]
    gaps = []
    for c in sample.tolist():
        ring = np.fromiter(h3i.grid_ring(c, 1), dtype=np.uint64)
        d = np.linalg.norm(_unit_vectors(*cells_to_lonlat(ring))
                           - _unit_vectors(*cells_to_lonlat(np.array([c], dtype=np.uint64))),
                           axis=1)
        gaps.append(d)
    gaps = np.concatenate(gaps)
    spacing = float(np.median(gaps))
    if gaps.max() > 1.1 * gaps.min():
        return None
    tree = cKDTree(xyz)
    pairs = tree.query_pairs(_KD_QUERY * spacing, output_type="ndarray")
    if len(pairs):
        dist = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
        unsure = dist >= _KD_SURE * spacing
        if unsure.any():
            a, b = cells[pairs[unsure, 0]].tolist(), cells[pairs[unsure, 1]].tolist()
            near = np.array([h3i.grid_distance(x, y) <= 1 for x, y in zip(a, b, strict=True)])
            keep = ~unsure
            keep[np.flatnonzero(unsure)[near]] = True
            pairs = pairs[keep]
    diag = np.arange(n, dtype=np.int64)
    src = np.concatenate([pairs[:, 0], pairs[:, 1], diag]).astype(np.int64)
    dst = np.concatenate([pairs[:, 1], pairs[:, 0], diag]).astype(np.int64)
    return src, dst


def cell_area_km2(cells: np.ndarray) -> np.ndarray:
    """Exact area of each cell in km²."""
    return np.array(
        [h3i.cell_area(c, unit="km^2") for c in np.asarray(cells, dtype=np.uint64).tolist()]
    )


def resolution(cells: np.ndarray) -> np.ndarray:
    """Resolution of each cell."""
    return ((np.asarray(cells, dtype=np.uint64) & _RES_MASK) >> _RES_SHIFT).astype(np.int64)

"""Geodesic areas, the areas where polygon sets disagree, and local metric projections.

Areas are measured on the WGS-84 ellipsoid with ``pyproj.Geod`` (Karney's algorithm,
edges taken as geodesics), so they do not depend on any map projection. Distances that
have to be laid out on the ground (the fringe band of ``ingest.zones.derive_fringe``)
are drawn in an azimuthal-equidistant projection centred on the shape itself, where
distances from the centre are true and the scale error at 30 km from it is under 0.01 %.

The hierarchy checks of ``ingest.boundaries`` use the array functions at the end
(`largest_overlap`, `outside_areas`, `overlapping_pairs`, `uncovered_areas`): shapely
arrays and an STRtree throughout, never all pairs, and exact geodesic areas only for
pieces a planar estimate does not already show to be slivers under `SLIVER_KM2`.

References
----------
C. F. F. Karney, "Algorithms for geodesics", J. Geodesy 87 (2013) 43-55
(``pyproj.Geod.geometry_area_perimeter``).
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely

#: The ellipsoid every area is measured on.
GEOD = pyproj.Geod(ellps="WGS84")
WGS84 = pyproj.CRS.from_epsg(4326)
M2_PER_KM2 = 1_000_000.0
#: Overlaps, spills and gaps smaller than this (km², i.e. 1,000 m²) are slivers: not reported.
SLIVER_KM2 = 0.001
#: A polygon within this distance (degrees, about 1 mm) of another's boundary counts as
#: inside it: coordinate conversion moves shared edges of parent and child by far less.
COVER_EPS_DEG = 1e-8


def geodesic_area_km2(geoms) -> np.ndarray:
    """Area on the WGS-84 ellipsoid of each geometry, in km².

    Parameters
    ----------
    geoms : shapely geometry or array_like of them
        Longitude/latitude in WGS-84 degrees. Non-polygonal parts, None and empty
        geometries count 0.

    Returns
    -------
    numpy.ndarray of float64
        One area per geometry (a 1-element array for a single geometry).

    Notes
    -----
    Each ring is measured with ``Geod.polygon_area_perimeter`` whatever its orientation;
    exterior rings add, holes subtract (same as ``Geod.geometry_area_perimeter`` on
    oriented polygons, without its per-vertex Python overhead).
    """
    arr = np.atleast_1d(np.asarray(geoms, dtype=object))
    out = np.zeros(len(arr), dtype=np.float64)
    polys, owner = shapely.get_parts(arr, return_index=True)
    keep = shapely.get_type_id(polys) == 3          # Polygon parts only
    polys, owner = polys[keep], owner[keep]
    if not len(polys):
        return out
    rings, poly_of = shapely.get_rings(polys, return_index=True)
    first = np.r_[True, poly_of[1:] != poly_of[:-1]]   # exterior ring of each polygon
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    cuts = np.flatnonzero(np.diff(ring_of)) + 1
    area = GEOD.polygon_area_perimeter
    ring_area = np.fromiter(
        (abs(area(c[:, 0], c[:, 1])[0]) for c in np.split(xy, cuts)), dtype=np.float64,
        count=len(rings))
    signed = np.where(first, ring_area, -ring_area)
    np.add.at(out, owner[poly_of], signed)
    return out / M2_PER_KM2


def lonlat_shaped(geoms: np.ndarray) -> np.ndarray:
    """Whether every coordinate of each geometry is finite and within ±180° / ±90°."""
    b = shapely.bounds(geoms)
    return (np.isfinite(b).all(axis=1) & (np.abs(b[:, [0, 2]]) <= 180).all(axis=1)
            & (np.abs(b[:, [1, 3]]) <= 90).all(axis=1))


def repair_polygons(geoms: np.ndarray) -> tuple[np.ndarray, dict[int, str], int | None]:
    """Repair invalid polygons with ``shapely.make_valid``, keeping polygonal parts only.

    Returns
    -------
    geoms, reasons, empty : ndarray, dict, int or None
        The geometries (repaired in place of the invalid ones), the GEOS reason for each
        repaired index (e.g. ``Self-intersection[108.3 22.8]``) and the first index left
        with no area at all (None when there is none).
    """
    geoms = np.array(geoms, dtype=object)
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(~shapely.is_valid(geoms)).tolist():
        reasons[i] = shapely.is_valid_reason(geoms[i])
        parts = [q for q in shapely.get_parts(shapely.make_valid(geoms[i]))
                 if q.geom_type in ("Polygon", "MultiPolygon")]
        fixed = shapely.union_all(parts) if parts else shapely.Polygon()
        if fixed.is_empty or fixed.geom_type not in ("Polygon", "MultiPolygon"):
            return geoms, reasons, i
        geoms[i] = fixed
    return geoms, reasons, None


def local_aeqd(lon0: float, lat0: float) -> pyproj.CRS:
    """Azimuthal-equidistant projection on WGS-84 centred on (lon0, lat0), metres."""
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.8f} +lon_0={lon0:.8f} +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


def transform_with(geoms, transformer: pyproj.Transformer):
    """Apply a pyproj transformer (``always_xy=True``) to shapely geometries, vectorised."""

    def func(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return transformer.transform(x, y)

    return shapely.transform(geoms, func, interleaved=False)


def to_local_metres(geoms, lon0: float, lat0: float):
    """WGS-84 geometries to metres in :func:`local_aeqd` and the transformer back.

    Returns
    -------
    projected, back : shapely geometries, pyproj.Transformer
        ``back`` turns projected geometries into WGS-84 (use :func:`transform_with`).
    """
    crs = local_aeqd(lon0, lat0)
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    return transform_with(geoms, fwd), back


# ------------------------------------------------------- where polygon sets disagree


def rough_km2(geoms: np.ndarray) -> np.ndarray:
    """Planar estimate of km² from square degrees (within about 1 %), for filtering only."""
    if not len(geoms):
        return np.zeros(0)
    lat = np.radians(shapely.bounds(geoms)[:, [1, 3]].mean(axis=1))
    return shapely.area(geoms) * 111.32 ** 2 * np.cos(np.nan_to_num(lat))


def areas_over(geoms: np.ndarray, floor: float = SLIVER_KM2 / 2) -> np.ndarray:
    """Geodesic km² of each geometry; 0 where the planar estimate is below ``floor``."""
    out = np.zeros(len(geoms))
    keep = np.flatnonzero(rough_km2(geoms) > floor)
    out[keep] = geodesic_area_km2(geoms[keep])
    return out


def grown(geoms: np.ndarray, eps: float = COVER_EPS_DEG) -> np.ndarray:
    """Polygons grown by ``eps`` degrees and prepared, for "lies inside" tests."""
    out = shapely.buffer(geoms, eps, quad_segs=1)
    shapely.prepare(out)
    return out


def largest_overlap(geoms: np.ndarray, area: np.ndarray, targets: np.ndarray,
                    targets_grown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the target sharing the largest area with each geometry, and that area.

    Parameters
    ----------
    geoms, area : arrays
        Geometries (WGS-84) and their km².
    targets, targets_grown : arrays
        Candidate polygons and the same from :func:`grown`.

    Returns
    -------
    best, shared : ndarray
        -1 and 0 where a geometry meets no target. A geometry inside a target takes it
        with its whole area, without computing an intersection.
    """
    n = len(geoms)
    best, shared = np.full(n, -1), np.zeros(n)
    if n == 0 or not len(targets):
        return best, shared
    ci, ti = shapely.STRtree(targets).query(geoms, predicate="intersects")
    inside = shapely.covers(targets_grown[ti], geoms[ci])
    best[ci[inside]] = ti[inside]
    shared[ci[inside]] = area[ci[inside]]
    rest = best[ci] < 0
    ci, ti = ci[rest], ti[rest]
    common = shapely.intersection(geoms[ci], targets[ti])
    flat = shapely.area(common)             # planar degrees: enough to rank within one child
    order = np.lexsort((-flat, ci))         # per geometry, largest area first
    ci, ti, flat, common = ci[order], ti[order], flat[order], common[order]
    first = np.r_[True, ci[1:] != ci[:-1]] & (flat > 0)
    best[ci[first]] = ti[first]
    shared[ci[first]] = geodesic_area_km2(common[first])
    return best, shared


def outside_areas(geoms: np.ndarray, holders: np.ndarray,
                  holders_grown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside, km² outside): whether each geometry lies in its holder, and how much does not.

    ``holders[k]`` is the polygon that should hold ``geoms[k]``; areas under half of
    `SLIVER_KM2` count 0.
    """
    inside = shapely.covers(holders_grown, geoms)
    out = np.zeros(len(geoms))
    k = np.flatnonzero(~inside)
    out[k] = areas_over(shapely.difference(geoms[k], holders[k]))
    return inside, out


def overlapping_pairs(geoms: np.ndarray, groups: np.ndarray):
    """Pairs (a < b) in the same group whose interiors overlap.

    Returns ``a, b, area, rough``: geodesic km² of each overlap (0 under half of
    `SLIVER_KM2`) and a planar estimate that is never 0 for a real overlap.
    """
    if len(geoms) < 2:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0), np.zeros(0)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (a < b) & (groups[a] == groups[b])
    a, b = a[keep], b[keep]
    keep = ~shapely.touches(geoms[a], geoms[b])
    a, b = a[keep], b[keep]
    common = shapely.intersection(geoms[a], geoms[b])
    area = areas_over(common)
    return a, b, area, np.maximum(area, rough_km2(common))


def uncovered_areas(parents: np.ndarray, parent_area: np.ndarray, kids: np.ndarray,
                    kid_area: np.ndarray, kid_parent: np.ndarray, kid_inside: np.ndarray,
                    pair_a: np.ndarray, pair_rough: np.ndarray):
    """km² of each parent covered by none of its children (parents with children only).

    Parameters
    ----------
    parents, parent_area : arrays
        Parent polygons and their km².
    kids, kid_area, kid_parent, kid_inside : arrays
        Child polygons, km², index of their parent (-1: none) and whether each lies
        inside it (:func:`outside_areas`).
    pair_a, pair_rough : arrays
        First member and rough km² of each overlapping sibling pair
        (:func:`overlapping_pairs`).

    Returns
    -------
    holders, n_children, gap : ndarray
        Parent indices that have children, their number of children, uncovered km².

    Notes
    -----
    With every child inside its parent, gap <= parent - sum(children) + sum(pairwise
    overlaps) (Bonferroni); where that bound is under half of `SLIVER_KM2` the union of
    the children is not computed at all.
    """
    has = np.flatnonzero(kid_parent >= 0)
    holders, slot_has, counts = np.unique(kid_parent[has], return_inverse=True,
                                          return_counts=True)
    gap = np.zeros(len(holders))
    if not len(has):
        return holders, counts, gap
    slot = np.full(len(kids), -1)
    slot[has] = slot_has
    m = len(holders)
    bound = parent_area[holders] - np.bincount(slot_has, kid_area[has], m)
    in_group = slot[pair_a] >= 0
    bound += np.bincount(slot[pair_a[in_group]], pair_rough[in_group], m)
    spilt = np.bincount(slot_has, ~kid_inside[has], m) > 0
    todo = np.flatnonzero(spilt | (bound >= SLIVER_KM2 / 2))
    if len(todo):
        order = np.argsort(slot_has, kind="stable")
        members = np.split(has[order], np.cumsum(counts)[:-1])
        unions = np.array([shapely.union_all(kids[members[t]]) for t in todo], dtype=object)
        gap[todo] = areas_over(shapely.difference(parents[holders[todo]], unions))
    return holders, counts, gap

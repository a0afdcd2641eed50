"""Longitude/latitude conversion between WGS-84, GCJ-02, BD-09 and CGCS2000.

The project stores WGS-84 only; this module turns what arrives (Amap/Tencent GCJ-02,
Baidu BD-09, GPS or Tianditu WGS-84/CGCS2000) into WGS-84 and back. Every function works
on whole numpy arrays; scalars and lists are accepted and come back as float64 arrays of
the broadcast input shape (0-d for scalars). A point with a NaN coordinate comes back as
(NaN, NaN). Outside mainland China (`in_mainland_china`) every conversion is the
identity, BD-09's own offset included.

CGCS2000 (EPSG:4490) is treated as identical to WGS-84 (EPSG:4326): the frames differ by
well under a metre, far below an H3 resolution-12 cell (about 10 m across).

Notes
-----
GCJ-02 is not published officially. The formula here is the one in the widely used open
implementations googollee/eviltransform (``c/transform.c``, ``python/eviltransform.py``)
and wandergis/coordtransform (``index.js``): a trigonometric offset in metres turned into
degrees on the Krasovsky 1940 ellipsoid, a = 6378245.0 m, e^2 = 0.00669342162296594323.
BD-09 rotates and scales GCJ-02 about (0, 0) with x_pi = pi * 3000 / 180, then adds
(0.0065, 0.006) degrees (same sources). Neither has an exact closed-form inverse; the
inverses here iterate to `INVERSE_TOL_DEG` (about 0.1 mm).

The mainland outline is the rectangle set (regions minus excludes for Taiwan, northern
Vietnam and Laos, the Russian Far East) that circulates in many open GCJ-02 utilities
(``GpsUtils``-style region/exclude tables). Hong Kong and Macau are deliberately left
*inside*: a Hong Kong rectangle would also cut out central Shenzhen (Futian, Luohu and
Nanshan lie at 22.5 N), providers differ on whether they shift the two SARs, and the
published bounding-box implementations (eviltransform, coordtransform) shift both.
Unshifted Hong Kong or Macau data must be declared ``wgs84``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

CRS_NAMES = ("wgs84", "gcj02", "bd09", "cgcs2000")

_ALIASES: dict[str, tuple[str, ...]] = {
    "wgs84": ("wgs84", "wgs-84", "wgs 84", "epsg:4326", "4326", "gps"),
    "gcj02": ("gcj02", "gcj-02", "gcj", "amap", "gaode", "高德", "tencent", "腾讯",
              "火星坐标", "火星"),
    "bd09": ("bd09", "bd-09", "bd09ll", "baidu", "百度"),
    "cgcs2000": ("cgcs2000", "cgcs-2000", "epsg:4490", "4490", "tianditu", "天地图",
                 "国家2000"),
}
_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

#: Krasovsky 1940 semi-major axis (m) and squared eccentricity used by GCJ-02.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
#: BD-09 angular constant and false origin (degrees).
BD_X_PI = np.pi * 3000.0 / 180.0
BD_DLON, BD_DLAT = 0.0065, 0.006
#: Inverses stop once re-applying the forward shift reproduces the input to this (degrees).
INVERSE_TOL_DEG = 1e-9
INVERSE_MAX_ITER = 30

# (north, west, south, east), degrees. Mainland = inside some region and no exclude.
_REGIONS = np.array([
    (49.2204, 79.4462, 42.8899, 96.3300),
    (54.1415, 109.6872, 39.3742, 135.0002),
    (42.8899, 73.1246, 29.5297, 124.143255),
    (29.5297, 82.9684, 26.7186, 97.0352),
    (29.5297, 97.0253, 20.414096, 124.367395),
    (20.414096, 107.975793, 17.871542, 111.744104),
])
_EXCLUDES = np.array([
    (25.398623, 119.921265, 21.785006, 122.497559),  # Taiwan
    (22.2840, 101.8652, 20.0988, 106.6650),  # northern Laos and Vietnam
    (21.5422, 106.4525, 20.4878, 108.0510),  # Vietnam, Gulf of Tonkin coast
    (55.8175, 109.0323, 50.3257, 119.1270),  # Russia, Transbaikal
    (55.8175, 127.4568, 49.5574, 137.0227),  # Russia, Amur
    (44.8922, 131.2662, 42.5692, 137.0227),  # Russia, Primorye
])


def normalize_crs(name: str) -> str:
    """Canonical name (one of `CRS_NAMES`) for a coordinate-system name or alias.

    Parameters
    ----------
    name : str
        Case-insensitive, e.g. ``"WGS-84"``, ``"EPSG:4326"``, ``"amap"``, ``"高德"``,
        ``"baidu"``, ``"天地图"``.

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"cgcs2000"``.

    Raises
    ------
    ValueError
        If the name is unknown; the message names it and lists every accepted name.
    """
    key = " ".join(str(name).strip().lower().split())
    if key in _LOOKUP:
        return _LOOKUP[key]
    accepted = "; ".join(f"{k} ({', '.join(v)})" for k, v in _ALIASES.items())
    raise ValueError(f"unknown coordinate system {name!r}; expected one of: {accepted}")


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Float64 copies of ``lon`` and ``lat``, broadcast to one shape."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                   np.asarray(lat, dtype=np.float64))
    return lon.copy(), lat.copy()


def _in_rects(lon: np.ndarray, lat: np.ndarray, rects: np.ndarray) -> np.ndarray:
    lon, lat = lon[..., None], lat[..., None]
    n, w, s, e = rects.T
    return ((lat <= n) & (lat >= s) & (lon >= w) & (lon <= e)).any(axis=-1)


def in_mainland_china(lon, lat) -> np.ndarray:
    """Whether each point lies where the GCJ-02 shift applies.

    Parameters
    ----------
    lon, lat : array_like of float
        Degrees, in any of the four systems (they differ by at most about 1.6 km).

    Returns
    -------
    numpy.ndarray of bool
        True in mainland China, Hainan, Hong Kong and Macau; False in Taiwan, elsewhere
        and for NaN.

    Notes
    -----
    Rectangles, so approximate within some tens of km of land borders (parts of eastern
    Mongolia and northern North Korea count as inside); the South China Sea islands are
    outside. See the module Notes for the source and the Hong Kong/Macau choice.
    """
    lon, lat = _arrays(lon, lat)
    return _in_rects(lon, lat, _REGIONS) & ~_in_rects(lon, lat, _EXCLUDES)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at WGS-84 points, in degrees (no mainland check)."""
    x, y = lon - 105.0, lat - 35.0
    xp, yp = x * np.pi, y * np.pi
    common = (20.0 * np.sin(6.0 * xp) + 20.0 * np.sin(2.0 * xp)) * 2.0 / 3.0
    sqrt_x = np.sqrt(np.abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_x + common
            + (20.0 * np.sin(yp) + 40.0 * np.sin(yp / 3.0)) * 2.0 / 3.0
            + (160.0 * np.sin(yp / 12.0) + 320.0 * np.sin(yp / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_x + common
            + (20.0 * np.sin(xp) + 40.0 * np.sin(xp / 3.0)) * 2.0 / 3.0
            + (150.0 * np.sin(xp / 12.0) + 300.0 * np.sin(xp / 30.0)) * 2.0 / 3.0)
    rad = np.radians(lat)
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / (KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + BD_DLON, z * np.sin(theta) + BD_DLAT


def _invert(forward: Callable, lon: np.ndarray, lat: np.ndarray,
            x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``(x, y)``.

    The shifts vary slowly (gradient < 0.02), so each whole-array step shrinks the
    error 50-fold or more. A point stops once it has converged, so its result does not
    depend on the rest of the batch.
    """
    todo = np.arange(lon.size)
    for _ in range(INVERSE_MAX_ITER):
        fx, fy = forward(x[todo], y[todo])
        rx, ry = fx - lon[todo], fy - lat[todo]
        left = np.maximum(np.abs(rx), np.abs(ry)) >= INVERSE_TOL_DEG
        todo, rx, ry = todo[left], rx[left], ry[left]
        if todo.size == 0:
            break
        x[todo] -= rx
        y[todo] -= ry
    return x, y


def _masked(lon, lat, step: Callable) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``step`` inside mainland China; NaN in either coordinate gives (NaN, NaN)."""
    lon, lat = _arrays(lon, lat)
    inside = in_mainland_china(lon, lat)
    if inside.any():
        lon[inside], lat[inside] = step(lon[inside], lat[inside])
    missing = np.isnan(lon) | np.isnan(lat)
    lon[missing] = lat[missing] = np.nan
    return lon, lat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to GCJ-02 (Amap, Tencent): eviltransform ``wgs2gcj``, coordtransform ``wgs84togcj02``.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 degrees.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        GCJ-02 degrees; unchanged outside mainland China.
    """
    return _masked(lon, lat, _wgs_to_gcj)


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (Amap, Tencent) to WGS-84, exact to well under 1 mm.

    Parameters
    ----------
    lon, lat : array_like of float
        GCJ-02 degrees.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        WGS-84 degrees; unchanged outside mainland China.

    Notes
    -----
    The usual one-step inverse ``gcj - offset(gcj)`` (coordtransform ``gcj02towgs84``) is
    off by up to about 4 m; this starts there and iterates, as eviltransform's
    ``gcj2wgs_exact`` does point by point.
    """
    def step(x, y):
        dx, dy = _gcj_offset(x, y)
        return _invert(_wgs_to_gcj, x, y, x - dx, y - dy)
    return _masked(lon, lat, step)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to BD-09 (Baidu ``bd09ll``): coordtransform ``gcj02tobd09``, eviltransform ``gcj2bd``.

    Parameters
    ----------
    lon, lat : array_like of float
        GCJ-02 degrees.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        BD-09 degrees; unchanged outside mainland China.
    """
    return _masked(lon, lat, _gcj_to_bd)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) to GCJ-02, exact to well under 1 mm.

    Parameters
    ----------
    lon, lat : array_like of float
        BD-09 degrees.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        GCJ-02 degrees; unchanged outside mainland China.

    Notes
    -----
    Starts from the closed-form inverse of coordtransform ``bd09togcj02``, which alone is
    off by up to about 0.2 m, and iterates.
    """
    def step(x, y):
        x0, y0 = x - BD_DLON, y - BD_DLAT
        z = np.hypot(x0, y0) - 0.00002 * np.sin(y0 * BD_X_PI)
        theta = np.arctan2(y0, x0) - 0.000003 * np.cos(x0 * BD_X_PI)
        return _invert(_gcj_to_bd, x, y, z * np.cos(theta), z * np.sin(theta))
    return _masked(lon, lat, step)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to BD-09: `wgs84_to_gcj02` then `gcj02_to_bd09`; same arguments."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to WGS-84: `bd09_to_gcj02` then `gcj02_to_wgs84`; same arguments."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_DIRECT: dict[tuple[str, str], Callable] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02, ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09, ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09, ("bd09", "wgs84"): bd09_to_wgs84,
}


def _datum(name: str) -> str:
    canonical = normalize_crs(name)
    return "wgs84" if canonical == "cgcs2000" else canonical


def convert(lon, lat, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert points from coordinate system ``src`` to ``dst``.

    Parameters
    ----------
    lon, lat : array_like of float
        Degrees in ``src``.
    src, dst : str
        Names or aliases accepted by `normalize_crs`; CGCS2000 is handled as WGS-84.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        Degrees in ``dst``; new arrays even when nothing moves.
    """
    pair = (_datum(src), _datum(dst))
    if pair[0] == pair[1]:
        return _arrays(lon, lat)
    fn = _DIRECT[pair]
    lon, lat = _arrays(lon, lat)
    if lon.ndim != 1 or lon.size < _PARALLEL_MIN:
        return fn(lon, lat)
    # numpy releases the GIL: convert chunks on all cores (each point is independent)
    parts = np.array_split(np.arange(lon.size), _WORKERS)
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        done = list(pool.map(lambda idx: fn(lon[idx], lat[idx]), parts))
    return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])


#: Arrays at least this long are converted in parallel chunks.
_PARALLEL_MIN = 200_000
_WORKERS = max(1, min(8, os.cpu_count() or 1))


def to_wgs84(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert points in ``crs`` (any `normalize_crs` alias) to WGS-84; see `convert`."""
    return convert(lon, lat, crs, "wgs84")


def from_wgs84(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 points to ``crs`` (any `normalize_crs` alias); see `convert`."""
    return convert(lon, lat, "wgs84", crs)


def transform_geometry(geoms, src: str, dst: str = "wgs84"):
    """Convert shapely geometries between coordinate systems, vertex by vertex.

    Parameters
    ----------
    geoms : shapely.Geometry or array_like of shapely.Geometry
        One geometry, or an array of them (None stays None).
    src, dst : str
        Names or aliases accepted by `normalize_crs`.

    Returns
    -------
    shapely.Geometry or numpy.ndarray of shapely.Geometry
        Same kind and shape as ``geoms``; Z values are kept.

    Notes
    -----
    Only vertices move and edges stay straight. The shift bends by about 0.1 m over a
    1 km edge but metres over 5 km: densify long edges first, e.g.
    ``shapely.segmentize(geoms, 0.01)``.
    """
    src, dst = normalize_crs(src), normalize_crs(dst)

    def func(x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> tuple:
        x, y = convert(x, y, src, dst)
        return (x, y) if z is None else (x, y, z)
    return shapely.transform(geoms, func, include_z=None, interleaved=False)

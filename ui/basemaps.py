"""Basemaps of the app's map (none by default) and the coordinates they are drawn in.

``map.basemap``: ``none``, ``osm``, ``tianditu`` (needs ``map.tianditu_key``), ``amap`` or an
XYZ URL template. Amap tiles are GCJ-02, so with ``amap`` everything drawn is shifted from
WGS-84 to GCJ-02 (:mod:`grids.crs`) and clicks are shifted back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np

from grids import crs

#: Decimals of drawn coordinates: 1e-5 degree is about 1 m.
COORD_DECIMALS = 5

# --- basemaps ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TileSpec:
    url: str
    attr: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """Tile layers to draw under the data and the coordinate system they are drawn in."""

    name: str
    tiles: tuple[TileSpec, ...] = ()
    display_crs: str = "wgs84"
    warning: str | None = None


OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
AMAP_URL = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}")
TIANDITU_URL = ("https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
_TEMPLATE_OK = re.compile(r"^(https?://|/)[^\s\"'<>]+$")


def basemap_spec(setting: str | None, tianditu_key: str = "") -> Basemap:
    """The basemap of the setting ``map.basemap`` (see the module docstring).

    A setting that cannot be used (tianditu without a key, a template without {z}/{x}/{y}
    or not starting with http(s):// or /) gives no basemap and a ``warning`` in words.
    """
    name = (setting or "none").strip()
    low = name.lower()
    if low in ("", "none"):
        return Basemap("none")
    if low == "osm":
        return Basemap("osm", (TileSpec(OSM_URL, "© OpenStreetMap contributors", "abc", 19),))
    if low == "amap":
        return Basemap("amap", (TileSpec(AMAP_URL, "© 高德地图 AutoNavi", "1234", 18),),
                       display_crs="gcj02")
    if low == "tianditu":
        key = (tianditu_key or "").strip()
        if not key:
            return Basemap("none", warning="map.basemap = tianditu needs map.tianditu_key "
                                           "(a Tianditu key); drawing without a basemap")
        k = quote(key, safe="")
        return Basemap("tianditu", tuple(
            TileSpec(TIANDITU_URL.format(layer=layer, key=k), "© 天地图 Tianditu", "01234567")
            for layer in ("vec", "cva")))
    if (all(p in name for p in ("{z}", "{x}", "{y}")) and _TEMPLATE_OK.match(name)
            and not re.search(r"\{[{%#]", name)):
        return Basemap("custom", (TileSpec(name, "basemap: map.basemap"),))
    return Basemap("none", warning=f"map.basemap = {name!r} is not none, osm, tianditu, amap or "
                                   "an XYZ URL template with {z}, {x} and {y}; drawing "
                                   "without a basemap")


# --- coordinates ------------------------------------------------------------------------

def _convert(lon, lat, display_crs: str, convert) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if display_crs == "wgs84":
        return lon, lat
    return convert(lon, lat, display_crs)


def to_display(lon, lat, display_crs: str = "wgs84") -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 points in the basemap's system (GCJ-02 for Amap), as float arrays."""
    return _convert(lon, lat, display_crs, crs.from_wgs84)


def from_display(lon, lat, display_crs: str = "wgs84") -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_display` (a click on the map back to WGS-84)."""
    return _convert(lon, lat, display_crs, crs.to_wgs84)


def _geoms_to_display(geoms: np.ndarray, display_crs: str) -> np.ndarray:
    if display_crs == "wgs84":
        return geoms
    return crs.transform_geometry(geoms, "wgs84", display_crs)


def _rounded(geom: dict) -> dict:
    """A GeoJSON geometry dict with its coordinates rounded to COORD_DECIMALS."""
    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(c[0]), COORD_DECIMALS), round(float(c[1]), COORD_DECIMALS)]
        return [rnd(x) for x in c]
    return {"type": geom["type"], "coordinates": rnd(geom["coordinates"])}

"""Reading polygon files (GeoJSON, GeoPackage, Shapefile, GeoParquet) in any declared system.

Shared by jurisdiction boundaries (``ingest.boundaries``) and zones (``ingest.zones``):
finds the coordinate system (the ``--crs`` given, else the file's declared CRS, else
WGS-84 with a warning), converts to WGS-84 (``grids.crs``, ``grids.areas``), repairs
invalid polygons, and picks the id / name / parent properties.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from grids.areas import lonlat_shaped, repair_polygons, transform_with
from grids.crs import normalize_crs, transform_geometry
from ingest.errors import InputError

_GEOGRAPHIC_EPSG = {4326: "wgs84", 4490: "cgcs2000"}
_NAMED_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}

class BoundaryError(InputError):
    """A boundary or zone file that cannot be loaded; names file, feature and field."""



@dataclass
class PolygonFile:
    """Polygons of one file in WGS-84, with their properties."""

    path: Path
    properties: pd.DataFrame
    geoms: np.ndarray                  # shapely (Multi)Polygons, WGS-84, valid
    crs: str                           # in words, e.g. "GCJ-02, converted to WGS-84"
    crs_code: str                      # for import_batches.crs: wgs84 | gcj02 | EPSG:4547 ...
    warnings: list[str] = field(default_factory=list)
    repaired: dict[int, str] = field(default_factory=dict)   # feature index -> reason

    def label(self, i: int, ids=None) -> str:
        """'<file>, feature 5 (id 450102)': the 1-based feature number in the file."""
        ident = f" (id {ids[i]})" if ids is not None and ids[i] is not None else ""
        return f"{self.path}, feature {i + 1}{ident}"


def _read_frame(p: Path) -> gpd.GeoDataFrame:
    if not p.is_file():
        raise BoundaryError(f"{p}: file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if p.suffix.lower() in (".parquet", ".geoparquet"):
                return gpd.read_parquet(p)
            return gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise BoundaryError(
            f"{p}: cannot read the file as GeoJSON, GeoPackage, Shapefile or GeoParquet "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _geojson_declares_crs(p: Path) -> bool:
    """Whether a GeoJSON file has a "crs" member (GDAL reports EPSG:4326 either way)."""
    with open(p, "rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(max(p.stat().st_size - (1 << 16), len(head)))
        return bool(re.search(rb'"crs"\s*:', head + fh.read()))


def _source_crs(p: Path, gdf: gpd.GeoDataFrame, crs: str | None):
    """(named system or pyproj.CRS, how it was decided, declared?) for the file."""
    if crs is not None:
        try:
            return normalize_crs(crs), "given", True
        except ValueError as exc:
            try:
                user = pyproj.CRS.from_user_input(crs)
            except pyproj.exceptions.CRSError:
                raise BoundaryError(
                    f"{p}: --crs {crs!r} is not a coordinate system this program knows: "
                    f"{exc}; or an EPSG code such as EPSG:4547"
                ) from None
            return _GEOGRAPHIC_EPSG.get(user.to_epsg() or 0, user), "given", True
    declared = gdf.crs
    if declared is not None and p.suffix.lower() in (".geojson", ".json"):
        declared = declared if _geojson_declares_crs(p) else None
    if declared is None:
        return "wgs84", "assumed", False
    epsg = declared.to_epsg() or 0
    if epsg in _GEOGRAPHIC_EPSG or declared.equals(pyproj.CRS("OGC:CRS84")):
        return _GEOGRAPHIC_EPSG.get(epsg, "wgs84"), "declared", True
    return declared, "declared", True


def _crs_words(src, how: str) -> tuple[str, str]:
    if isinstance(src, str):
        code, name = src, _NAMED_LABEL[src]
    else:
        epsg = src.to_epsg()
        code = f"EPSG:{epsg}" if epsg else src.name
        name = f"{src.name} ({code})" if epsg else src.name
    if how == "assumed":
        return f"{name}, assumed (the file declares none)", code
    if code in ("wgs84", "cgcs2000"):
        return f"{name} ({how})", code
    return f"{name} ({how}), converted to WGS-84", code


def _first_bad(mask: np.ndarray) -> int | None:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if len(bad) else None


def read_polygons(path, *, crs: str | None = None, what: str = "boundary") -> PolygonFile:
    """Read a polygon file into WGS-84 (see ``docs/boundaries.md``, "Coordinates").

    Parameters
    ----------
    path : path-like
        GeoJSON, GeoPackage (first layer), Shapefile or GeoParquet.
    crs : str, optional
        wgs84 | gcj02 | bd09 | cgcs2000 (any alias of ``grids.crs.normalize_crs``) or an
        EPSG code; overrides what the file declares.
    what : str
        Word for the file's contents in warnings.

    Raises
    ------
    BoundaryError
        Unreadable file; empty or non-polygon geometry; coordinates that do not fit the
        coordinate system (e.g. metres in a file that declares none).
    """
    p = Path(path)
    gdf = _read_frame(p)
    if len(gdf) == 0:
        raise BoundaryError(f"{p}: the file holds no features")
    src, how, declared = _source_crs(p, gdf, crs)
    words, code = _crs_words(src, how)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    out = PolygonFile(p, pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), geoms, words, code)

    i = _first_bad(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if i is not None:
        raise BoundaryError(f"{out.label(i)}: geometry is empty; expected a Polygon or "
                            f"MultiPolygon")
    kinds = shapely.get_type_id(geoms)
    i = _first_bad(~np.isin(kinds, [3, 6]))
    if i is not None:
        raise BoundaryError(f"{out.label(i)}: geometry is a {geoms[i].geom_type}; expected "
                            f"a Polygon or MultiPolygon")
    geoms = shapely.force_2d(geoms)
    b, degrees = shapely.bounds(geoms), lonlat_shaped(geoms)
    if isinstance(src, str) or src.is_geographic:
        i = _first_bad(~degrees)
        if i is not None:
            said = {"given": f"--crs {crs} says they are",
                    "declared": f"the file declares {code}, which needs them",
                    "assumed": "the file declares no coordinate system, so they must be"}[how]
            raise BoundaryError(
                f"{out.label(i)}: coordinates such as ({b[i, 0]:.1f}, {b[i, 1]:.1f}) are not "
                f"longitude/latitude degrees, but {said}; expected longitude -180..180 and "
                f"latitude -90..90. A file in metres (for example CGCS2000 3-degree "
                f"Gauss-Kruger, EPSG:4547, or UTM 49N, EPSG:32649) must declare its coordinate "
                f"system (.prj, GeoPackage or GeoJSON crs) or be loaded with --crs EPSG:<code>"
            )
        if not declared:
            out.warnings.append(
                f"{p.name} declares no coordinate system; its longitude/latitude are taken as "
                f"WGS-84. If the {what} file came from Amap (Gaode) or Tencent, load it again "
                f"with --crs gcj02 (from Baidu: --crs bd09); otherwise it sits 300-600 m off"
            )
        if src in ("gcj02", "bd09"):
            geoms = transform_geometry(geoms, src, "wgs84")
        elif not isinstance(src, str):
            geoms = transform_with(geoms, pyproj.Transformer.from_crs(src, 4326, always_xy=True))
    else:
        if degrees.all():
            raise BoundaryError(
                f"{p}: coordinates such as ({b[0, 0]:.5f}, {b[0, 1]:.5f}) look like "
                f"longitude/latitude degrees, but {code} ({src.name}) is in metres; load it "
                f"with --crs wgs84 (or gcj02, bd09) if the degrees are right"
            )
        geoms = transform_with(geoms, pyproj.Transformer.from_crs(src, 4326, always_xy=True))
    i = _first_bad(~lonlat_shaped(geoms))
    if i is not None:
        raise BoundaryError(f"{out.label(i)}: the coordinates cannot be converted from {code} "
                            f"to longitude/latitude; check the coordinate system")
    geoms, out.repaired, i = repair_polygons(geoms)
    if i is not None:
        raise BoundaryError(f"{out.label(i)}: the polygon has no area ({out.repaired[i]}); "
                            f"expected a Polygon or MultiPolygon with an area")
    out.geoms = geoms
    return out


def pick_field(pf: PolygonFile, given: str | None, candidates, *, role: str,
               pattern: re.Pattern | None = None, required: bool = False) -> str | None:
    """Column of ``pf`` that holds ``role`` (id, name, parent): the given one or a known name."""
    cols = [str(c) for c in pf.properties.columns]
    lower = {c.strip().lower(): c for c in reversed(cols)}
    if given:
        if given in cols or given.strip().lower() in lower:
            return given if given in cols else lower[given.strip().lower()]
        raise BoundaryError(f"{pf.path}: --{role}-field {given!r} is not a property of the "
                            f"file; it has: {', '.join(cols) or 'no properties'}")
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    if pattern is not None:
        for c in cols:
            if pattern.match(c.strip()):
                return c
    if required:
        raise BoundaryError(
            f"{pf.path}: no {role} property found; expected one of "
            f"{', '.join(candidates)} (or name it with --{role}-field); the file has: "
            f"{', '.join(cols) or 'no properties'}"
        )
    return None


def id_strings(values) -> np.ndarray:
    """Ids as strings: integral floats lose their '.0', blanks and NaN become None."""
    def one(x):
        if x is None or x is pd.NA or (isinstance(x, float) and not np.isfinite(x)):
            return None
        return (str(int(x)) if isinstance(x, float) and x.is_integer() else str(x).strip()) or None
    return np.array([one(x) for x in pd.Series(values, dtype=object).tolist()], dtype=object)


def checked_ids(pf: PolygonFile, col: str) -> np.ndarray:
    """Ids of column ``col``; BoundaryError on a missing or repeated id."""
    ids = id_strings(pf.properties[col])
    i = _first_bad(pd.isna(ids))
    if i is not None:
        raise BoundaryError(f"{pf.label(i)}: field {col!r} is empty; every feature needs an id")
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    i = _first_bad(dup)
    if i is not None:
        again = [k + 1 for k in np.flatnonzero(ids == ids[i])]
        raise BoundaryError(f"{pf.label(i)}: field {col!r}: id {ids[i]} appears more than once "
                            f"(features {', '.join(map(str, again))}); ids must be unique")
    return ids


"""Writing result tables as README.md promises: .csv (UTF-8 with BOM), .geojson or .parquet."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from grids.h3cells import cells_to_polygons, hex_to_cells

FORMATS = (".csv", ".geojson", ".parquet")


def write_table(frame: pd.DataFrame, path: str | Path, *, cell_column: str | None = "h3") -> Path:
    """Write ``frame`` by the extension of ``path``.

    CSV is UTF-8 with a BOM so Excel and WPS open Chinese text correctly; GeoJSON gives
    each row the polygon of its H3 cell (WGS-84) with the other columns as properties, or
    where a row has no cell, the point at its ``lon``/``lat``, or no geometry.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"--out {p}: expected a file ending in {', '.join(FORMATS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        frame.to_csv(p, index=False, encoding="utf-8-sig")
    elif ext == ".parquet":
        frame.to_parquet(p, index=False)
    else:
        features = [
            {"type": "Feature", "properties": {k: _plain(v) for k, v in row.items()},
             "geometry": None if geom is None else json.loads(shapely.to_geojson(geom))}
            for row, geom in zip(frame.astype(object).where(frame.notna(), None)
                                 .to_dict("records"), _geometries(frame, cell_column),
                                 strict=True)
        ]
        doc = {"type": "FeatureCollection", "features": features}
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _geometries(frame: pd.DataFrame, cell_column: str | None) -> list:
    geoms: list = [None] * len(frame)
    if len(frame) and "lon" in frame and "lat" in frame:
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        pts = shapely.points(lon, lat)
        geoms = [p if o else None for p, o in zip(pts, ok, strict=True)]
    if len(frame) and cell_column and cell_column in frame:
        cells = frame[cell_column].astype(object).where(frame[cell_column].notna(), None)
        has = np.array([bool(c) for c in cells])
        if has.any():
            polys = cells_to_polygons(hex_to_cells(cells[has]))
            for i, poly in zip(np.flatnonzero(has), polys, strict=True):
                geoms[i] = poly
    return geoms


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v

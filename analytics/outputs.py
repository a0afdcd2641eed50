"""Writing result tables as README.md promises: .csv (UTF-8 with BOM), .geojson or .parquet.

It also holds the one rule against spreadsheet formula injection (OWASP "CSV injection"),
:func:`formula_like`, with its CSV form :func:`guard_text` / :func:`guard_cells` (a leading
apostrophe), used for every CSV and XLSX file the project writes: the command line's
``--out`` and ``--rejected-out`` CSV, the pages' downloads and the weekly briefing workbook
(:mod:`ui.downloads`, whose XLSX cells carry Excel's quote prefix instead). GeoJSON and
Parquet are not spreadsheets: their values are written as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from grids.h3cells import cells_to_polygons, hex_to_cells

FORMATS = (".csv", ".geojson", ".parquet")
#: How a spreadsheet formula (or a cell Excel / WPS would read as one) can begin.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Put in front of such text in a CSV file, so that a spreadsheet shows it as text.
GUARD = "'"


def formula_like(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula: a ``str`` beginning
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP "CSV injection").

    Numbers (negative ones included), dates and missing values are never formula-like: only
    text is guarded. In a CSV file such text gets a leading apostrophe (:func:`guard_text`);
    in an XLSX file it is a text cell with Excel's quote prefix (:mod:`ui.downloads`), the
    same thing Excel stores when someone types the apostrophe.

    Parameters
    ----------
    value : object
        One cell's value.

    Returns
    -------
    bool
    """
    return isinstance(value, str) and value.startswith(FORMULA_START)


def guard_text(value: object) -> object:
    """``value`` made safe for a CSV cell: formula-like text (:func:`formula_like`) gets a
    leading apostrophe; anything else is returned unchanged.

    Parameters
    ----------
    value : object
        One cell's value.

    Returns
    -------
    object
        ``"'" + value`` for formula-like text, else ``value`` itself.
    """
    return GUARD + value if formula_like(value) else value


def guard_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for a CSV file, :func:`guard_text` applied to every text cell.

    Numeric, boolean and datetime columns are left as they are (a negative number stays a
    number); in text (object, string or categorical) columns only the ``str`` values that
    begin like a formula change.

    Parameters
    ----------
    frame : DataFrame
        The table about to be written as CSV or XLSX.

    Returns
    -------
    DataFrame
        The guarded copy (same columns, index and dtypes of the untouched columns).
    """
    out = frame.copy()
    for j in range(out.shape[1]):
        s = out.iloc[:, j]
        if (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
                or pd.api.types.is_datetime64_any_dtype(s.dtype)):
            continue
        hit = _formula_like(s)
        if hit.any():
            values = s.to_numpy(dtype=object, copy=True)
            values[hit] = GUARD + values[hit]
            out.isetitem(j, pd.Series(values, index=out.index, name=s.name))
    return out


def _formula_like(s: pd.Series) -> np.ndarray:
    """:func:`formula_like` of each cell of ``s``, vectorised."""
    try:
        hit = s.astype(object).str.startswith(FORMULA_START, na=False)
    except AttributeError:  # no text in the column at all (e.g. Python ints or dates)
        return np.zeros(len(s), dtype=bool)
    return hit.to_numpy(dtype=bool)


def write_table(frame: pd.DataFrame, path: str | Path, *, cell_column: str | None = "h3") -> Path:
    """Write ``frame`` by the extension of ``path``.

    CSV is UTF-8 with a BOM so Excel and WPS open Chinese text correctly, its text cells
    guarded against formulas (:func:`guard_cells`); GeoJSON gives
    each row the polygon of its H3 cell (WGS-84) with the other columns as properties, or
    where a row has no cell, the point at its ``lon``/``lat``, or no geometry.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"--out {p}: expected a file ending in {', '.join(FORMATS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        guard_cells(frame).to_csv(p, index=False, encoding="utf-8-sig")
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

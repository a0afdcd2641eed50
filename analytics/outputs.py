"""Writing result tables the contract's way: .csv (UTF-8 with BOM), .geojson or .parquet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from grids.h3cells import cells_to_polygons, hex_to_cells

FORMATS = (".csv", ".geojson", ".parquet")


def write_table(frame: pd.DataFrame, path: str | Path, *, cell_column: str = "h3") -> Path:
    """Write ``frame`` by the extension of ``path``.

    CSV is UTF-8 with a BOM so Excel and WPS open Chinese text correctly; GeoJSON gives
    each row the polygon of its H3 cell (WGS-84) with the other columns as properties.
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
        polys = cells_to_polygons(hex_to_cells(frame[cell_column])) if len(frame) else []
        props = frame.astype(object).where(frame.notna(), None)
        features = [
            {"type": "Feature", "properties": {k: _plain(v) for k, v in row.items()},
             "geometry": json.loads(shapely.to_geojson(poly))}
            for row, poly in zip(props.to_dict("records"), polys, strict=True)
        ]
        doc = {"type": "FeatureCollection", "features": features}
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v

"""Fringe focus (城乡结合部): how much more the problems concentrate in a zone.

For each zone kind loaded (the urban-rural fringe first, then the others by name), over
the part of the city inside the loaded districts:

* records per km² inside the zone and outside it, and their ratio;
* how many of the period's hotspot cells lie in the zone, as a share of all hot cells
  (and the zone's share of the study area's cells, the share it would have by chance);
* the hot cells inside the zone ranked by Gi* z, with their district and street.

Records are counted as in :mod:`analytics.hotspots` (same period, source and category
filters; records located inside a district), and placed in or out of the zone by their
own coordinates. A cell is in the zone when its centre is. Areas are geodesic (WGS-84
ellipsoid, :func:`grids.areas.geodesic_area_km2`). Hot means ``gi_bin ≥ min_bin``
(default 2: significant at 0.05 after the Benjamini–Hochberg correction).

References
----------
Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286–306.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd
import shapely

from analytics.hotspots import HotspotQuery, compute_hotspots, records_of
from analytics.studyarea import StudyAreaError, area_polygon
from grids.areas import geodesic_area_km2
from grids.pip import points_in_polygons

SUMMARY_COLUMNS = ["kind", "area_in_km2", "area_out_km2", "records_in", "records_out",
                   "per_km2_in", "per_km2_out", "density_ratio", "cells_in", "cells_total",
                   "hot_cells_in", "hot_cells_total", "hot_share_in", "cell_share_in"]
RANKED_COLUMNS = ["kind", "rank", "h3", "count", "gi_z", "gi_bin", "district", "street",
                  "lon", "lat"]


@dataclass
class FringeFocus:
    """One summary row per zone kind, and the ranked hot cells inside each."""

    summary: pd.DataFrame
    ranked: pd.DataFrame
    note: str | None = None


def _zone_kinds(conn: duckdb.DuckDBPyConnection) -> list[str]:
    kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM zones ORDER BY 1").fetchall()]
    return sorted(kinds, key=lambda k: (k != "fringe", k))


def _record_points(conn: duckdb.DuckDBPyConnection, q: HotspotQuery) -> pd.DataFrame:
    """lon, lat of the records the hotspot query counts (those with coordinates)."""
    sql, params = replace(records_of(q), needs=("lon",)).select(("lon", "lat"))
    return conn.execute(sql, params).df()


def fringe_focus(conn: duckdb.DuckDBPyConnection, q: HotspotQuery, min_bin: int = 2,
                 kinds: list[str] | None = None) -> FringeFocus:
    """Concentration of records and hotspots inside each zone kind versus outside.

    Parameters
    ----------
    conn : read connection
    q : HotspotQuery
        Period, resolution, k, source, categories and district (``q.zone`` is ignored:
        the comparison needs the whole area).
    min_bin : int
        Weakest ``gi_bin`` counted as hot.
    kinds : list of str, optional
        Zone kinds to compare; default every loaded kind, the fringe first.
    """
    q.check()
    all_kinds = _zone_kinds(conn)
    if not all_kinds:
        raise StudyAreaError("no zones are loaded: python cli.py derive-fringe --core FILE "
                             "or load-zones FILE --kind fringe")
    kinds = kinds or all_kinds
    unknown = [k for k in kinds if k not in all_kinds]
    if unknown:
        raise StudyAreaError(f"no zone of kind {unknown[0]!r} is loaded; loaded kinds: "
                             + ", ".join(all_kinds))
    whole_q = HotspotQuery(q.start, q.end, q.res, q.k, q.source, list(q.categories), q.district,
                           scope=q.scope)
    hot = compute_hotspots(conn, whole_q)
    cells = hot.cells
    area = area_polygon(conn, q.district)
    area_total = float(geodesic_area_km2(np.array([area], dtype=object))[0])
    pts = _record_points(conn, whole_q)
    lon, lat = pts.lon.to_numpy(dtype=float), pts.lat.to_numpy(dtype=float)
    summary, ranked = [], []
    is_hot = (cells.gi_bin >= min_bin).to_numpy()
    clon, clat = cells.lon.to_numpy(dtype=float), cells.lat.to_numpy(dtype=float)
    for kind in kinds:
        rows = conn.execute("SELECT geometry FROM zones WHERE kind = ?", [kind]).fetchall()
        zone = shapely.intersection(shapely.union_all(shapely.from_wkt([r[0] for r in rows])),
                                    area)
        a_in = float(geodesic_area_km2(np.array([zone], dtype=object))[0]) if not zone.is_empty \
            else 0.0
        a_out = max(area_total - a_in, 0.0)
        zone_arr = np.array([zone], dtype=object)
        rec_in = int((points_in_polygons(lon, lat, zone_arr) == 0).sum()) if len(lon) else 0
        rec_out = len(lon) - rec_in
        cell_in = points_in_polygons(clon, clat, zone_arr) == 0 if len(clon) else \
            np.zeros(0, dtype=bool)
        d_in = rec_in / a_in if a_in > 0 else np.nan
        d_out = rec_out / a_out if a_out > 0 else np.nan
        n_hot = int(is_hot.sum())
        summary.append({
            "kind": kind, "area_in_km2": round(a_in, 3), "area_out_km2": round(a_out, 3),
            "records_in": rec_in, "records_out": rec_out,
            "per_km2_in": d_in, "per_km2_out": d_out,
            "density_ratio": d_in / d_out if d_out and d_out > 0 else np.nan,
            "cells_in": int(cell_in.sum()), "cells_total": len(cells),
            "hot_cells_in": int((is_hot & cell_in).sum()), "hot_cells_total": n_hot,
            "hot_share_in": (is_hot & cell_in).sum() / n_hot if n_hot else np.nan,
            "cell_share_in": cell_in.sum() / len(cells) if len(cells) else np.nan,
        })
        inside = cells[is_hot & cell_in].sort_values(["gi_z", "h3"], ascending=[False, True])
        inside = inside.assign(kind=kind, rank=np.arange(1, len(inside) + 1))
        ranked.append(inside[RANKED_COLUMNS])
    summary_df = pd.DataFrame(summary, columns=SUMMARY_COLUMNS)
    ranked_df = (pd.concat(ranked, ignore_index=True) if ranked
                 else pd.DataFrame(columns=RANKED_COLUMNS))
    return FringeFocus(summary_df, ranked_df, hot.note)

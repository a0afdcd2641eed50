"""Blind spots: complaint hotspots that inspections do not reach (巡查盲区).

A cell of the study area is a blind spot for a period when

* its complaints make it a hotspot: Gi* ``gi_bin ≥ 2`` (significant at 0.05 after the
  Benjamini–Hochberg correction; see :mod:`analytics.hotspots`), and
* no inspection took place in the period within its neighbourhood, and
* no inspection point lies within its neighbourhood,

where the neighbourhood is the Gi* neighbourhood: the cells within ``k`` grid steps,
the cell itself included. Each blind spot carries the nearest inspection point (by
great-circle distance from the cell centre), which is where a city would look first to
extend its inspection route.

References
----------
Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286–306.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analytics.hotspots import HotspotQuery, compute_hotspots
from analytics.records import day_bounds
from grids import h3cells

BLINDSPOT_COLUMNS = ["h3", "res", "count", "gi_z", "p_value", "gi_bin", "district", "street",
                     "in_fringe", "lon", "lat", "nearest_point_id", "nearest_point_name",
                     "nearest_point_type", "nearest_point_m"]

#: Hotspots at this bin or stronger can be blind spots.
MIN_BIN = 2
_EARTH_RADIUS_M = 6_371_008.8


def _haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lo1, la1, lo2, la2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = (np.sin((la2 - la1) / 2) ** 2
         + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2)
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def _reached_cells(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                   res: int) -> np.ndarray:
    """Cells at ``res`` holding an inspection point or an inspection of the period.

    Every inspection reaches its cell, whether it found problems or not, so this is not
    the record set of :mod:`analytics.records`; the period's bounds are the same.
    """
    lo, hi = day_bounds(start, end)
    rows = conn.execute(
        f"SELECT DISTINCT h3_parent(cell, {int(res)}) FROM ("
        "SELECT cell FROM inspection_points WHERE cell IS NOT NULL UNION ALL "
        "SELECT cell FROM inspections WHERE cell IS NOT NULL AND inspected_at >= $lo "
        "AND inspected_at < $hi)", {"lo": lo, "hi": hi}).fetchall()
    return np.sort(np.array([r[0] for r in rows], dtype=np.uint64))


def _nearest_points(conn: duckdb.DuckDBPyConnection, lon: np.ndarray, lat: np.ndarray
                    ) -> pd.DataFrame:
    pts = conn.execute("SELECT point_id, name, point_type, lon, lat FROM inspection_points "
                       "WHERE lon IS NOT NULL ORDER BY point_id").df()
    out = pd.DataFrame({"nearest_point_id": pd.Series([None] * len(lon), dtype=object),
                        "nearest_point_name": pd.Series([None] * len(lon), dtype=object),
                        "nearest_point_type": pd.Series([None] * len(lon), dtype=object),
                        "nearest_point_m": np.full(len(lon), np.nan)})
    if len(pts) == 0 or len(lon) == 0:
        return out
    from scipy.spatial import cKDTree

    def xyz(lo, la):
        lo, la = np.radians(lo), np.radians(la)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    px, py = pts.lon.to_numpy(dtype=float), pts.lat.to_numpy(dtype=float)
    _, idx = cKDTree(xyz(px, py)).query(xyz(lon, lat))  # chord order = great-circle order
    out["nearest_point_id"] = pts.point_id.to_numpy(dtype=object)[idx]
    out["nearest_point_name"] = pts.name.to_numpy(dtype=object)[idx]
    out["nearest_point_type"] = pts.point_type.to_numpy(dtype=object)[idx]
    out["nearest_point_m"] = np.round(_haversine_m(lon, lat, px[idx], py[idx]), 1)
    return out


def find_blindspots(conn: duckdb.DuckDBPyConnection, q: HotspotQuery,
                    min_bin: int = MIN_BIN) -> pd.DataFrame:
    """Complaint hotspots with no inspection point and no inspection in their neighbourhood.

    Parameters
    ----------
    conn : read connection
    q : HotspotQuery
        Period, resolution, ``k`` and filters of the complaint hotspots; ``q.source`` must
        be ``"complaints"`` (inspections cannot be their own blind spot).
    min_bin : int
        Weakest ``gi_bin`` that counts as a hotspot (2: significant at 0.05 after FDR).

    Returns
    -------
    DataFrame
        :data:`BLINDSPOT_COLUMNS`, strongest hotspot first.
    """
    if q.source != "complaints":
        raise ValueError("blind spots are complaint hotspots: use source 'complaints'")
    hot = compute_hotspots(conn, q).cells
    hot = hot[hot.gi_bin >= min_bin].reset_index(drop=True)
    if len(hot) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BLINDSPOT_COLUMNS})
    cells = hot["cell"].to_numpy(np.uint64)
    reached = _reached_cells(conn, q.start, q.end, q.res)
    src, dst = h3cells.grid_disk_neighbours(cells, q.k)
    if len(reached):
        pos = np.minimum(np.searchsorted(reached, dst), len(reached) - 1)
        touched = np.zeros(len(cells), dtype=bool)
        touched[src[reached[pos] == dst]] = True
    else:
        touched = np.zeros(len(cells), dtype=bool)
    blind = hot[~touched].reset_index(drop=True)
    near = _nearest_points(conn, blind.lon.to_numpy(dtype=float), blind.lat.to_numpy(dtype=float))
    blind = pd.concat([blind, near], axis=1)
    blind = blind.sort_values(["gi_z", "h3"], ascending=[False, True], kind="stable")
    return blind[BLINDSPOT_COLUMNS].reset_index(drop=True)

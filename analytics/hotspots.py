"""Hotspots: Getis–Ord Gi* over H3 cells of the study area, with FDR bins (docs/hotspots.md).

Study area S at resolution r: the cells whose centre lies in the union of the loaded
districts (or of the chosen district / zone), plus any cell holding a counted record that
lies inside a district. Cells with zero records are part of S: leaving them out biases
every z-score. Weights: w_ij = 1 when the grid distance between i and j is at most k (the
cell itself included), both in S. The statistic and the FDR step are in
:mod:`analytics.gistar` (Ord & Getis 1995; Benjamini & Hochberg 1995).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.gistar import gi_star
from analytics.studyarea import StudyAreaError, base_cells, ring_weights, study_area
from grids import h3cells

HOTSPOT_COLUMNS = ["h3", "res", "count", "gi_z", "p_value", "gi_bin", "district", "street",
                   "in_fringe", "lon", "lat"]
SOURCES = ("complaints", "inspections", "all")
#: Below this many records a note warns that significance means little (as ArcGIS's Hot
#: Spot Analysis warns below 30 features).
FEW_RECORDS = 30


#: A query that cannot be answered (bad resolution, unknown district or zone, no districts).
HotspotError = StudyAreaError


@dataclass
class HotspotQuery:
    """What to count, where and when. Dates are inclusive local days."""

    start: dt.date
    end: dt.date
    res: int = 9
    k: int = 1
    source: str = "complaints"
    categories: list[str] = field(default_factory=list)
    district: str | None = None
    zone: str | None = None

    def check(self) -> None:
        if self.res not in (7, 8, 9, 10):
            raise HotspotError(f"--res must be 7, 8, 9 or 10, got {self.res}")
        if self.k < 1:
            raise HotspotError(f"--k must be at least 1, got {self.k}")
        if self.source not in SOURCES:
            raise HotspotError(f"--source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.end < self.start:
            raise HotspotError(f"--end {self.end} is before --start {self.start}")


@dataclass
class HotspotResult:
    """All cells of S with their statistic; ``note`` says why nothing can be hot, if so."""

    cells: pd.DataFrame
    note: str | None
    n_cells: int
    n_records: int

    def rows(self, all_cells: bool = False) -> pd.DataFrame:
        """The default rows (count > 0 or gi_bin ≠ 0, docs/hotspots.md), or every cell of S."""
        if all_cells:
            return self.cells
        keep = (self.cells["count"] > 0) | (self.cells["gi_bin"] != 0)
        return self.cells[keep].reset_index(drop=True)


def _records_sql(q: HotspotQuery) -> tuple[str, list]:
    """SQL of the counted records (cell, rec_at) for the query's period and filters.

    Complaints that are not void; inspections that found problems. Only records located
    inside a district by their coordinates.
    """
    parts = []
    params: list = []
    cat_sql = ""
    if q.categories:
        cat_sql = " AND {col} IN (" + ",".join("?" * len(q.categories)) + ")"
    where_place = " AND district_id IS NOT NULL AND located_by = 'polygon'"
    if q.district:
        where_place += " AND (district = ? OR district_id = ?)"
    start = dt.datetime.combine(q.start, dt.time())
    stop = dt.datetime.combine(q.end + dt.timedelta(days=1), dt.time())
    if q.source in ("complaints", "all"):
        parts.append("SELECT cell, received_at AS rec_at FROM complaints WHERE cell IS NOT NULL "
                     "AND status <> 'void' AND received_at >= ? AND received_at < ?"
                     + where_place + cat_sql.format(col="category"))
        params += [start, stop] + ([q.district, q.district] if q.district else []) + q.categories
    if q.source in ("inspections", "all"):
        parts.append("SELECT cell, inspected_at AS rec_at FROM inspections WHERE cell IS NOT NULL "
                     "AND problems > 0 AND inspected_at >= ? AND inspected_at < ?"
                     + where_place + cat_sql.format(col="problem_category"))
        params += [start, stop] + ([q.district, q.district] if q.district else []) + q.categories
    return " UNION ALL ".join(parts), params


def _counts(conn: duckdb.DuckDBPyConnection, q: HotspotQuery) -> pd.DataFrame:
    """Records per cell at q.res, for records located inside a district."""
    sql, params = _records_sql(q)
    return conn.execute(f"SELECT h3_parent(cell, {int(q.res)}) AS cell, count(*) AS n "
                        f"FROM ({sql}) GROUP BY 1", params).df()


def weekly_cell_counts(conn: duckdb.DuckDBPyConnection, q: HotspotQuery,
                       first_monday: dt.date) -> pd.DataFrame:
    """Records per (cell at q.res, week index from ``first_monday``): columns cell, week, n."""
    sql, params = _records_sql(q)
    origin = dt.datetime.combine(first_monday, dt.time())
    return conn.execute(
        f"SELECT h3_parent(cell, {int(q.res)}) AS cell, "
        "CAST(floor(date_diff('second', ?::TIMESTAMP, rec_at) / 604800.0) AS BIGINT) AS week, "
        f"count(*) AS n FROM ({sql}) GROUP BY 1, 2", [origin] + params).df()


def compute_hotspots(conn: duckdb.DuckDBPyConnection, q: HotspotQuery) -> HotspotResult:
    """Gi* for every cell of the study area, with district, street and fringe of each."""
    q.check()
    counts = _counts(conn, q)
    rec_cells = counts["cell"].to_numpy(dtype=np.uint64)
    if q.zone:  # records counted only where S is (the zone), not the whole district
        keep = base_cells(conn, q.res, q.district, q.zone).contains(rec_cells)
        counts, rec_cells = counts[keep], rec_cells[keep]
    area = study_area(conn, q.res, rec_cells, q.district, q.zone)
    x = np.zeros(len(area))
    x[area.index_of(rec_cells)] = counts["n"].to_numpy(dtype=float)
    res = gi_star(x, ring_weights(area, q.k))
    note = res.note
    if len(area) and x.sum() == 0:
        note = "no records match the period and filters"
    elif note is None and x.sum() < FEW_RECORDS:
        note = (f"only {int(x.sum())} records: too few for Gi* significance to mean much "
                f"(at least {FEW_RECORDS} are advised); read the bins with care")
    frame = pd.DataFrame({
        "h3": h3cells.cells_to_hex(area.cells), "res": q.res, "count": x.astype(np.int64),
        "gi_z": res.z, "p_value": res.p_value, "gi_bin": res.gi_bin.astype(np.int64),
        "district": area.district, "street": area.street, "in_fringe": area.in_fringe,
        "lon": area.lon, "lat": area.lat,
    })
    return HotspotResult(frame[HOTSPOT_COLUMNS], note, len(area), int(x.sum()))

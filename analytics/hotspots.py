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
from analytics.records import SOURCES, Records, day_bounds, week_index
from analytics.studyarea import (
    RESOLUTIONS,
    StudyAreaError,
    base_cells,
    resolution_message,
    ring_weights,
    study_area,
)
from grids import h3cells

HOTSPOT_COLUMNS = ["h3", "res", "count", "gi_z", "p_value", "gi_bin", "district", "street",
                   "in_fringe", "lon", "lat"]
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
    #: District-level jurisdiction ids whose records count (:class:`analytics.records.Records`);
    #: None is every district. The study area stays the whole city (or district / zone).
    scope: tuple[str, ...] | None = None

    def check(self) -> None:
        if self.res not in RESOLUTIONS:
            raise HotspotError(resolution_message(self.res))
        if self.k < 1:
            raise HotspotError(f"the neighbourhood k must be at least 1, not {self.k}")
        if self.source not in SOURCES:
            raise HotspotError(f"the source {self.source!r} is not one of "
                               f"{', '.join(SOURCES)}")
        if self.end < self.start:
            raise HotspotError(f"the period ends ({self.end}) before it starts ({self.start})")


@dataclass
class HotspotResult:
    """All cells of S with their statistic; ``note`` says why nothing can be hot, if so.

    ``cells`` has :data:`HOTSPOT_COLUMNS` and ``cell``, the H3 index as an unsigned 64-bit
    integer: code inside works on it, the hex ``h3`` is for files, URLs and the screen.
    """

    cells: pd.DataFrame
    note: str | None
    n_cells: int
    n_records: int

    def rows(self, all_cells: bool = False) -> pd.DataFrame:
        """The output table: the default rows (count > 0 or gi_bin ≠ 0, docs/hotspots.md),
        or every cell of S, with :data:`HOTSPOT_COLUMNS` (the integer ``cell`` stays
        inside)."""
        cells = self.cells[HOTSPOT_COLUMNS]
        if all_cells:
            return cells
        keep = (cells["count"] > 0) | (cells["gi_bin"] != 0)
        return cells[keep].reset_index(drop=True)


def records_of(q: HotspotQuery) -> Records:
    """The records the query counts (:mod:`analytics.records`): complaints not void and/or
    inspections that found problems, in the period, categories, district and scope,
    located inside a district by their coordinates, with a cell."""
    start, stop = day_bounds(q.start, q.end)
    return Records(q.source, start, stop, tuple(q.categories), q.district, q.scope,
                   located=True, needs=("cell",))


def _counts(conn: duckdb.DuckDBPyConnection, q: HotspotQuery) -> pd.DataFrame:
    """Records per cell at q.res, for records located inside a district."""
    sql, params = records_of(q).select(("cell", "rec_at"))
    return conn.execute(f"SELECT h3_parent(cell, {int(q.res)}) AS cell, count(*) AS n "
                        f"FROM ({sql}) GROUP BY 1", params).df()


def weekly_cell_counts(conn: duckdb.DuckDBPyConnection, q: HotspotQuery,
                       first_monday: dt.date) -> pd.DataFrame:
    """Records per (cell at q.res, week index from ``first_monday``): columns cell, week, n."""
    sql, params = records_of(q).select(("cell", "rec_at"))
    origin = dt.datetime.combine(first_monday, dt.time())
    return conn.execute(
        f"SELECT h3_parent(cell, {int(q.res)}) AS cell, {week_index()} AS week, "
        f"count(*) AS n FROM ({sql}) GROUP BY 1, 2",
        {"week_origin": origin} | params).df()


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
    frame["cell"] = area.cells  # the H3 index as an integer, for the work inside
    return HotspotResult(frame[HOTSPOT_COLUMNS + ["cell"]], note, len(area), int(x.sum()))

"""The situation map's numbers: the cells to draw with a value per layer mode, and the
detail of one clicked cell.

Both count the records the hotspot analysis counts (docs/hotspots.md): complaints
that are not void and inspections that found problems, located inside a district by their
coordinates, in the period and categories asked for. A record's cell at resolution r is the
parent (SQL macro ``h3_parent(cell, r)``) of the fine cell stored with it, so the numbers of
a cell's detail add up to the count the map shows for it.

Layer modes (:data:`MODES`):

* ``count``: records in the period per cell;
* ``density``: records per km² (the cell's exact area from H3);
* ``gi_bin``: the Gi* bin of :func:`analytics.hotspots.compute_hotspots` (−3 … +3);
* ``emerging``: the emerging hot-spot category of :func:`analytics.emerging.compute_emerging`
  over the 12 ISO weeks ending with the week of the period's end.

Every function here runs without Streamlit; the page only lays out what they return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import shapely

from analytics.emerging import EmergingQuery, compute_emerging
from analytics.hotspots import HotspotQuery, compute_hotspots, weekly_cell_counts
from analytics.records import SOURCES, Records, day_bounds, in_cell, week_index
from grids import h3cells
from grids.locate import LEVELS
from grids.pip import points_in_polygons

MODES = ("count", "density", "gi_bin", "emerging")
#: Weekly bins of the emerging layer and of a cell's trend (the ``emerging`` default).
TREND_WEEKS = 12
#: Records listed in a cell's detail.
LATEST_N = 20

LAYER_COLUMNS = ["h3", "res", "count", "value", "gi_bin", "category", "district", "street",
                 "in_fringe", "lon", "lat", "notable", "cell"]


@dataclass
class CellLayer:
    """The cells of the study area with the value of one mode.

    ``cells`` has :data:`LAYER_COLUMNS`; ``notable`` marks the cells worth drawing when the
    map must leave some out (count > 0, gi_bin ≠ 0, or an emerging pattern).
    """

    cells: pd.DataFrame
    mode: str
    res: int
    n_records: int
    note: str | None = None


def cell_layer(conn: duckdb.DuckDBPyConnection, query: HotspotQuery, mode: str = "count",
               street: str | None = None) -> CellLayer:
    """Every cell of the study area of ``query`` with its value for ``mode``.

    Parameters
    ----------
    query : HotspotQuery
        Period, resolution, source, categories, district and zone, as for the hotspots.
    mode : str
        One of :data:`MODES`.
    street : str, optional
        Keep only the cells whose centre lies in this street (the statistic still runs over
        the whole study area of ``query``, so a street's hot spots are judged against their
        district or city). ``n_records`` then counts the records of those cells.

    Returns
    -------
    CellLayer
        ``value`` is the count, the count per km², the Gi* bin, or the category code.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    hot = compute_hotspots(conn, query)
    frame = hot.cells.copy()
    frame["category"] = None
    notes = [hot.note] if hot.note else []
    if mode == "emerging":
        em = compute_emerging(conn, EmergingQuery(
            end=query.end, weeks=TREND_WEEKS, res=query.res, k=query.k, source=query.source,
            categories=list(query.categories), district=query.district, zone=query.zone))
        frame = frame.drop(columns="category").merge(
            em.cells[["cell", "h3", "category", "district", "street", "in_fringe"]],
            on="cell", how="outer", suffixes=("", "_em"))
        for col in ("h3", "district", "street", "in_fringe"):
            frame[col] = frame[col].where(frame[col].notna(), frame.pop(f"{col}_em"))
        missing = frame["lon"].isna()
        if missing.any():  # a cell with records in the 12 weeks but none in the period
            lon, lat = h3cells.cells_to_lonlat(frame.loc[missing, "cell"].to_numpy(np.uint64))
            frame.loc[missing, "lon"], frame.loc[missing, "lat"] = lon, lat
        frame["res"] = query.res
        frame["count"] = frame["count"].fillna(0).astype(np.int64)
        frame["gi_bin"] = frame["gi_bin"].fillna(0).astype(np.int64)
        frame["category"] = frame["category"].fillna("no_pattern")
        frame["in_fringe"] = frame["in_fringe"].astype(bool)
        if em.note:
            notes.append(em.note)
    if street:
        frame = frame[frame["street"] == street]
    frame = frame.sort_values("h3", kind="stable").reset_index(drop=True)
    counts = frame["count"].to_numpy(dtype=np.int64)
    if mode == "count":
        value = counts.astype(float)
    elif mode == "density":
        value = np.zeros(len(frame))
        has = counts > 0  # the area only matters where there are records
        if has.any():
            area = h3cells.cell_area_km2(frame.loc[has, "cell"].to_numpy(np.uint64))
            value[has] = counts[has] / area
    elif mode == "gi_bin":
        value = frame["gi_bin"].to_numpy(dtype=float)
    else:
        value = frame["category"].to_numpy(dtype=object)
    frame["value"] = value
    notable = (counts > 0) | (frame["gi_bin"].to_numpy() != 0)
    if mode == "emerging":
        notable |= frame["category"].to_numpy(dtype=object) != "no_pattern"
    frame["notable"] = notable
    n_records = int(counts.sum()) if street else hot.n_records
    return CellLayer(frame[LAYER_COLUMNS], mode, query.res, n_records,
                     "; ".join(notes) or None)


def busy_cells(conn: duckdb.DuckDBPyConnection, query: HotspotQuery) -> int | None:
    """How many cells at ``query.res`` hold at least one counted record (no Gi* needed).

    A lower bound of the notable cells of :func:`cell_layer`, cheap enough to decide that a
    resolution has too many cells to draw before computing it. None with a zone filter
    (records outside the zone are dropped by the study area, so the bound would not hold).
    """
    if query.zone:
        return None
    query.check()
    counts = weekly_cell_counts(conn, query, query.start)
    return int(counts["cell"].nunique())


def layer_kpis(cells: pd.DataFrame, n_records: int) -> dict[str, int]:
    """The page's tiles: records in the period, hot cells (gi_bin ≥ 2), fringe hot cells."""
    hot = cells["gi_bin"].to_numpy() >= 2
    return {"records": int(n_records), "hot_cells": int(hot.sum()),
            "fringe_hot_cells": int((hot & cells["in_fringe"].to_numpy(dtype=bool)).sum())}


# --- one cell ---------------------------------------------------------------------------

@dataclass
class CellDetail:
    """What the side panel shows for one cell.

    Attributes
    ----------
    by_category : DataFrame
        source, category, subcategory, count (most first) for the period.
    weekly : DataFrame
        week (ISO label like ``2026-W47``), count: the 12 ISO weeks ending with the week of
        the period's end, zeros included.
    latest : DataFrame
        The latest :data:`LATEST_N` records of the period: received_at, category,
        subcategory, description, address, status (and source).
    jurisdiction : dict
        district, street, community, grid_id; ``located_by`` says whether they are the most
        frequent among the cell's records (``records``) or from the jurisdiction polygons
        at the cell centre (``centre``).
    points : DataFrame
        Inspection points inside the cell: point_id, name, point_type.
    """

    h3: str
    res: int
    lon: float
    lat: float
    area_km2: float
    n_records: int
    by_category: pd.DataFrame
    weekly: pd.DataFrame
    latest: pd.DataFrame
    jurisdiction: dict = field(default_factory=dict)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)


def parse_cell(h3_hex: str) -> tuple[int, int]:
    """(cell as int, resolution) of an H3 hex string at resolution 7–12; ValueError else."""
    text = str(h3_hex).strip().lower()
    try:
        cell = int(text, 16)
    except ValueError:
        raise ValueError(f"not an H3 cell id: {h3_hex!r} (expected 15 hex digits)") from None
    if not h3cells.is_valid_cell(cell):
        raise ValueError(f"not an H3 cell id: {h3_hex!r} (expected 15 hex digits)")
    res = int(h3cells.resolution(np.array([cell], dtype=np.uint64))[0])
    if not 7 <= res <= h3cells.FINE_RES:
        raise ValueError(f"cell {h3_hex} has resolution {res}; expected 7 to {h3cells.FINE_RES}")
    return cell, res


def _cell_records(source: str, categories: list[str], cell: int, res: int,
                  start: dt.datetime, stop: dt.datetime) -> tuple[str, dict]:
    """Records of one cell in ``[start, stop)``: the records the hotspots count
    (:mod:`analytics.records`), with the columns of the detail."""
    if source not in SOURCES:
        raise ValueError(f"the source {source!r} is not one of {', '.join(SOURCES)}")
    rec = Records(source, start, stop, tuple(categories), located=True, cell=(cell, res))
    return rec.select(
        ("source", "rec_at", "category", "subcategory", "description", "address", "status"),
        alias={"inspections": "i."}, tables={"complaints": "complaints",
                             "inspections": "inspections i LEFT JOIN inspection_points p "
                                            "USING (point_id)"},
        exprs={"inspections": {"description": "i.team", "address": "p.name",
                               "status": "CASE WHEN i.rectified_at IS NOT NULL THEN "
                                         "'rectified' ELSE 'open' END"}})


def _jurisdiction(conn: duckdb.DuckDBPyConnection, cell: int, res: int, lon: float,
                  lat: float) -> dict:
    cond = in_cell(res)
    row = conn.execute(
        "SELECT district, street, community, grid_id, count(*) AS n FROM ("
        f"SELECT district, street, community, grid_id FROM complaints WHERE {cond} "
        f"UNION ALL SELECT district, street, community, grid_id FROM inspections WHERE {cond} "
        f"UNION ALL SELECT district, street, community, grid_id FROM inspection_points "
        f"WHERE {cond}) WHERE district IS NOT NULL "
        "GROUP BY ALL ORDER BY n DESC, district, street NULLS LAST, community NULLS LAST, "
        "grid_id NULLS LAST LIMIT 1", {"cell": cell}).fetchall()
    if row:
        d, s, c, g, _ = row[0]
        return {"district": d, "street": s, "community": c, "grid_id": g,
                "located_by": "records"}
    out: dict = {"located_by": "centre"}
    for level in LEVELS:
        df = conn.execute("SELECT jurisdiction_id, name, geometry FROM jurisdictions "
                          "WHERE level = ? ORDER BY jurisdiction_id", [level]).df()
        name = None
        if len(df):
            hit = points_in_polygons(np.array([lon]), np.array([lat]),
                                     shapely.from_wkt(df.geometry.to_numpy(dtype=object)))
            if hit[0] >= 0:
                name = df.jurisdiction_id.iloc[hit[0]] if level == "grid" else df.name.iloc[hit[0]]
        out["grid_id" if level == "grid" else level] = name
    return out


def cell_detail(conn: duckdb.DuckDBPyConnection, h3_hex: str, start: dt.date, end: dt.date,
                source: str = "complaints", categories: list[str] | tuple = ()) -> CellDetail:
    """Counts by category, 12-week trend, latest records, jurisdiction and points of a cell.

    Parameters
    ----------
    h3_hex : str
        The cell (resolution 7–12) as a hex string.
    start, end : date
        Inclusive local days of the period (counts by category and latest records).
    source : str
        complaints, inspections or all.
    categories : sequence of str
        Complaint categories / inspection problem categories; empty means all.
    """
    cell, res = parse_cell(h3_hex)
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    categories = list(categories)
    lo, hi = day_bounds(start, end)
    sql, params = _cell_records(source, categories, cell, res, lo, hi)
    by_cat = conn.execute(
        f"SELECT source, category, subcategory, count(*) AS count FROM ({sql}) GROUP BY ALL "
        "ORDER BY count DESC, source, category NULLS LAST, subcategory NULLS LAST",
        params).df()
    by_cat["count"] = by_cat["count"].astype(np.int64)
    latest = conn.execute(
        f"SELECT rec_at AS received_at, category, subcategory, description, address, status, "
        f"source FROM ({sql}) "
        "ORDER BY rec_at DESC, source, category NULLS LAST, description NULLS LAST "
        f"LIMIT {LATEST_N}", params).df()
    first = EmergingQuery(end, weeks=TREND_WEEKS).first_monday()  # the emerging layer's weeks
    origin = dt.datetime.combine(first, dt.time())
    sql, params = _cell_records(source, categories, cell, res, origin, hi)
    wk = conn.execute(
        f"SELECT {week_index()} AS w, count(*) AS n FROM ({sql}) GROUP BY 1",
        {"week_origin": origin} | params).df()
    counts = np.zeros(TREND_WEEKS, dtype=np.int64)
    if len(wk):
        counts[wk["w"].to_numpy(dtype=np.int64)] = wk["n"].to_numpy(dtype=np.int64)
    labels = []
    for i in range(TREND_WEEKS):
        y, w, _ = (first + dt.timedelta(weeks=i)).isocalendar()
        labels.append(f"{y}-W{w:02d}")
    weekly = pd.DataFrame({"week": labels, "count": counts})
    lon, lat = h3cells.cells_to_lonlat(np.array([cell], dtype=np.uint64))
    points = conn.execute(
        f"SELECT point_id, name, point_type FROM inspection_points WHERE {in_cell(res)} "
        "ORDER BY point_type NULLS LAST, name NULLS LAST, point_id", {"cell": cell}).df()
    return CellDetail(
        h3=h3cells.cells_to_hex(np.array([cell], dtype=np.uint64))[0], res=res,
        lon=float(lon[0]), lat=float(lat[0]),
        area_km2=float(h3cells.cell_area_km2(np.array([cell], dtype=np.uint64))[0]),
        n_records=int(by_cat["count"].sum()), by_category=by_cat, weekly=weekly,
        latest=latest, jurisdiction=_jurisdiction(conn, cell, res, float(lon[0]), float(lat[0])),
        points=points)

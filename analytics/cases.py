"""Case lists behind the backlog figures, the drill-down between levels, and the category
mix inside and outside a zone.

* :func:`overdue_cases` lists every case (complaint or inspection problem) that is open
  and overdue as of T, by exactly the definitions of :mod:`analytics.backlog` (its case SQL
  with deadlines filled from the working-day calendar, its "open at T" condition): the
  count per jurisdiction equals the ``overdue`` column of
  :func:`analytics.backlog.compute_backlog` for the same T, source and categories.
* :func:`children_of` / :func:`select_children` give the units one level down from a
  jurisdiction (``jurisdictions.parent_id``; for units known by name only, the names the
  records carry), so a page can drill from district to street, community and grid.
* :func:`category_mix` counts complaints per category inside a zone kind (the urban-rural
  fringe by default) and outside it, with shares, as :mod:`analytics.fringe` places them:
  non-void complaints of the period located inside a district by their coordinates, in the
  zone when their own point is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import numpy as np
import pandas as pd
import shapely

from analytics.backlog import (
    LEVEL_ID,
    LEVEL_NAME,
    SOURCES,
    UNLOCATED,
    BacklogError,
    BacklogQuery,
    Cases,
    open_at,
    prepare_cases,
)
from analytics.records import Records, day_bounds
from grids.locate import LEVELS

#: Kind labels of the two sources of cases.
KIND_COMPLAINT = "投诉"
KIND_INSPECTION = "督查问题"
#: The stored status (docs/schema.md) in the words of the case lists and their exports.
STATUS_LABELS = {"open": "办理中", "closed": "已办结", "void": "已作废"}

CASE_COLUMNS = ["kind", "case_id", "received_at", "due_at", "hours_overdue", "category",
                "subcategory", "description", "address", "status", "district", "street",
                "community", "grid_id"]
MIX_COLUMNS = ["category", "count_in", "count_out", "share_in", "share_out", "share_diff"]
#: Per source: the description and address a case list shows (an inspection problem: the
#: problems found, the deduction and the team; the inspection point's name).
_CASE_TEXT = {
    "complaints": "SELECT 'complaints' AS source, complaint_id AS case_id, description, address "
                  "FROM complaints",
    "inspections": "SELECT 'inspections' AS source, i.inspection_id AS case_id, '发现问题 ' || "
                   "coalesce(i.problems, 0) || ' 处' || coalesce('，扣分 ' || i.deduction, '') "
                   "|| coalesce('（' || i.team || '）', '') AS description, p.name AS address "
                   "FROM inspections i LEFT JOIN inspection_points p USING (point_id)",
}
#: Category label of complaints without one.
NO_CATEGORY = "（未分类）"


def _unit_filter(level: str | None, jurisdiction_id: str | None,
                 jurisdiction_name: str | None) -> tuple[str, dict]:
    """SQL condition (on the case columns) selecting one jurisdiction of ``level``.

    By id when one is given; by name otherwise (any id); the name ``（未定位）`` selects
    the cases with neither id nor name at the level, as the backlog's unlocated row does.
    """
    if level is None:
        if jurisdiction_id is not None or jurisdiction_name is not None:
            raise BacklogError("a jurisdiction filter needs its level "
                               f"({', '.join(LEVELS)})")
        return "true", {}
    if level not in LEVELS:
        raise BacklogError(f"level {level!r}: expected one of {', '.join(LEVELS)}")
    id_col, name_col = LEVEL_ID[level], LEVEL_NAME[level]
    if jurisdiction_id is not None:
        return f"{id_col} = $unit", {"unit": str(jurisdiction_id)}
    if jurisdiction_name is None:
        return "true", {}
    if jurisdiction_name == UNLOCATED:
        return f"{id_col} IS NULL AND {name_col} IS NULL", {}
    return f"{name_col} = $unit", {"unit": str(jurisdiction_name)}


def overdue_cases(conn: duckdb.DuckDBPyConnection, as_of: dt.datetime, level: str | None = None,
                  jurisdiction_id: str | None = None, jurisdiction_name: str | None = None,
                  settings: Mapping | None = None, limit: int | None = None, *,
                  source: str = "all", categories: list[str] | None = None,
                  cases: Cases | None = None) -> pd.DataFrame:
    """Every case open and overdue as of ``as_of``, most overdue first.

    Parameters
    ----------
    conn : read connection
    as_of : datetime
        T, naive local wall-clock time. Open: received by T, not void, not closed by T;
        overdue: open and due before T (a missing deadline filled as the backlog fills it).
    level, jurisdiction_id, jurisdiction_name : optional
        Keep one jurisdiction of ``level`` (district, street, community, grid): by id, else
        by name; ``（未定位）`` keeps the cases with no jurisdiction at that level.
    settings : Mapping, optional
        Settings (:mod:`store.settings`): the handling limits that fill missing deadlines.
    limit : int, optional
        At most this many rows (the most overdue).
    source : str
        ``all``, ``complaints`` or ``inspections`` (as :class:`BacklogQuery`).
    categories : list of str, optional
        Category or subcategory filter, as :class:`BacklogQuery`.
    cases : Cases, optional
        The cases of :func:`analytics.backlog.prepare_cases` for the same source and
        categories on this connection (prepared here when not given).

    Returns
    -------
    DataFrame
        :data:`CASE_COLUMNS`: kind (投诉 / 督查问题), case_id, received_at, due_at,
        hours_overdue (T − due_at in hours), category, subcategory, description, address
        (for an inspection problem: the problems found and the inspection point's name),
        status (办理中 / 已办结 / 已作废, :data:`STATUS_LABELS`: a case closed after T was
        still open at T), district, street, community, grid_id.
    """
    if source not in SOURCES:
        raise BacklogError(f"source {source!r}: expected one of {', '.join(SOURCES)}")
    if limit is not None and limit < 0:
        raise BacklogError(f"limit must be 0 or more, got {limit}")
    where, where_params = _unit_filter(level, jurisdiction_id, jurisdiction_name)
    named: dict = {"t": as_of} | where_params
    q = BacklogQuery(as_of, source=source, categories=list(categories or []))
    if cases is None:
        cases = prepare_cases(conn, q, settings)  # one pass, both sources
    cases.check(q)
    named.update(cases.params)
    srcs = ("complaints", "inspections") if source == "all" else (source,)
    extra = " UNION ALL ".join(_CASE_TEXT[s] for s in srcs)
    sql = (f"SELECT CASE c.source WHEN 'complaints' THEN '{KIND_COMPLAINT}' "
           f"ELSE '{KIND_INSPECTION}' END AS kind, c.case_id, c.recv AS received_at, "
           "c.due AS due_at, epoch($t - c.due) / 3600.0 AS hours_overdue, c.category, "
           "c.subcategory, x.description, x.address, c.status, c.district, c.street, "
           f"c.community, c.grid_id FROM ({cases.sql}) c LEFT JOIN ({extra}) x "
           "ON x.source = c.source AND x.case_id = c.case_id "
           f"WHERE {open_at('$t')} AND c.due < $t AND ({where})"
           " ORDER BY hours_overdue DESC, received_at, kind, case_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    out = conn.execute(sql, named).df()
    out["status"] = out["status"].map(STATUS_LABELS).fillna(out["status"])
    return out[CASE_COLUMNS].reset_index(drop=True)


#: The level below each level.
CHILD_LEVEL = {"city": "district", "district": "street", "street": "community",
               "community": "grid"}


def children_of(conn: duckdb.DuckDBPyConnection, level: str, jurisdiction_id: str | None = None,
                jurisdiction_name: str | None = None) -> pd.DataFrame:
    """The units one level below a jurisdiction: columns jurisdiction_id, jurisdiction.

    ``level = "city"`` gives every district. Loaded boundaries give the children by
    ``jurisdictions.parent_id`` (for grids the parent is a community); the records add the
    children they name under the unit (data with names only, or ids the boundaries do not
    know). A child known by name only has no id. The unlocated row has no children.
    """
    if level not in CHILD_LEVEL:
        raise BacklogError(f"level {level!r} has no level below it"
                           if level == "grid" else
                           f"level {level!r}: expected city or one of {', '.join(LEVELS)}")
    child = CHILD_LEVEL[level]
    if level != "city" and jurisdiction_id is None and jurisdiction_name in (None, UNLOCATED):
        return pd.DataFrame({"jurisdiction_id": pd.Series(dtype=object),
                             "jurisdiction": pd.Series(dtype=object)})
    cid, cname = LEVEL_ID[child], LEVEL_NAME[child]
    if level == "city":
        jur = "SELECT jurisdiction_id, name FROM jurisdictions WHERE level = ?"
        jur_params: list = [child]
        rec_where, rec_params = "true", []
    elif jurisdiction_id is not None:
        jur = "SELECT jurisdiction_id, name FROM jurisdictions WHERE level = ? AND parent_id = ?"
        jur_params = [child, str(jurisdiction_id)]
        rec_where, rec_params = f"{LEVEL_ID[level]} = ?", [str(jurisdiction_id)]
    else:  # known by name only
        jur = "SELECT NULL::VARCHAR AS jurisdiction_id, NULL::VARCHAR AS name WHERE false"
        jur_params = []
        rec_where = f"{LEVEL_ID[level]} IS NULL AND {LEVEL_NAME[level]} = ?"
        rec_params = [str(jurisdiction_name)]
    rec = " UNION ".join(
        f"SELECT DISTINCT {cid} AS cid, {cname} AS cname FROM {t} WHERE {rec_where} "
        f"AND ({cid} IS NOT NULL OR {cname} IS NOT NULL)" for t in ("complaints", "inspections"))
    sql = (f"WITH j AS ({jur}), r AS ({rec}) "
           "SELECT jurisdiction_id, name AS jurisdiction FROM j UNION "
           "SELECT r.cid, coalesce(j2.name, r.cname, r.cid) FROM r LEFT JOIN "
           "(SELECT jurisdiction_id, name FROM jurisdictions WHERE level = ?) j2 "
           "ON r.cid = j2.jurisdiction_id "
           "ORDER BY jurisdiction_id NULLS LAST, jurisdiction")
    out = conn.execute(sql, jur_params + rec_params * 2 + [child]).df()
    return out.astype(object).where(out.notna(), None).reset_index(drop=True)


def select_children(rows: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """The backlog rows (one level of :class:`BacklogResult`) of the given children:
    by id where the child has one, else by name among the rows without an id."""
    ids = set(children.jurisdiction_id.dropna())
    names = set(children.loc[children.jurisdiction_id.isna(), "jurisdiction"].dropna())
    rid = rows.jurisdiction_id
    keep = rid.isin(list(ids)) | (rid.isna() & rows.jurisdiction.isin(list(names))
                                  & (rows.jurisdiction != UNLOCATED))
    return rows[keep.to_numpy(dtype=bool)].reset_index(drop=True)


def category_mix(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                 kind: str = "fringe") -> pd.DataFrame:
    """Complaints per category inside the zones of ``kind`` and outside them.

    Parameters
    ----------
    conn : read connection
    start, end : date
        Inclusive local days.
    kind : str
        Zone kind (``fringe``: the urban-rural fringe).

    Returns
    -------
    DataFrame
        :data:`MIX_COLUMNS`: category (``（未分类）`` when the record has none), count_in,
        count_out, share_in / share_out (of all complaints inside / outside; empty when
        there are none), share_diff = share_in − share_out; largest count_in first.
        Counted: non-void complaints received in the period, located inside a district by
        their coordinates (as :func:`analytics.fringe.fringe_focus` counts them).

    Raises
    ------
    analytics.studyarea.StudyAreaError
        No zone of that kind, or no districts, is loaded.
    """
    from analytics.studyarea import StudyAreaError, area_polygon
    from grids.pip import points_in_polygons

    if end < start:
        raise StudyAreaError(f"end {end} is before start {start}")
    rows = conn.execute("SELECT geometry FROM zones WHERE kind = ?", [kind]).fetchall()
    if not rows:
        kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM zones ORDER BY 1")
                 .fetchall()]
        raise StudyAreaError(f"no zone of kind {kind!r} is loaded; loaded kinds: "
                             + (", ".join(kinds) or "none"))
    zone = shapely.intersection(shapely.union_all(shapely.from_wkt([r[0] for r in rows])),
                                area_polygon(conn))
    sql, params = Records("complaints", *day_bounds(start, end), located=True,
                          needs=("lon",)).select(("category", "lon", "lat"))
    pts = conn.execute(sql, params).df()
    lon, lat = pts.lon.to_numpy(dtype=float), pts.lat.to_numpy(dtype=float)
    inside = (points_in_polygons(lon, lat, np.array([zone], dtype=object)) == 0
              if len(pts) and not zone.is_empty else np.zeros(len(pts), dtype=bool))
    cat = pts.category.astype(object).where(pts.category.notna(), NO_CATEGORY)
    frame = pd.DataFrame({"category": cat.to_numpy(dtype=object), "inside": inside})
    counts = (frame.groupby(["category", "inside"]).size().unstack("inside", fill_value=0)
              .reindex(columns=[True, False], fill_value=0))
    out = pd.DataFrame({"category": counts.index.to_numpy(dtype=object),
                        "count_in": counts[True].to_numpy(dtype=np.int64),
                        "count_out": counts[False].to_numpy(dtype=np.int64)})
    n_in, n_out = out.count_in.sum(), out.count_out.sum()
    out["share_in"] = out.count_in / n_in if n_in else np.nan
    out["share_out"] = out.count_out / n_out if n_out else np.nan
    out["share_diff"] = out.share_in - out.share_out
    out = out.sort_values(["count_in", "count_out", "category"],
                          ascending=[False, False, True], kind="stable")
    return out[MIX_COLUMNS].reset_index(drop=True)

"""Inspection coverage (巡查覆盖率) and rectification (整改) per jurisdiction.

``coverage_table(conn, start, end, level)`` gives one row per jurisdiction of ``level``
(district | street | community | grid) plus a last row ``level = 'city'`` with the totals.
``docs/coverage.md`` is the user's page; the definitions are:

Period and weeks
    The period is [start 00:00, end + 1 day 00:00), local wall-clock time; T = end + 1 day
    00:00 is its end. ``weeks`` = the ISO weeks (Monday to Sunday) that overlap the period;
    a partial week counts as a whole one.

Jurisdiction of a record at the level
    By the record's stored location columns: the id column (``district_id``,
    ``street_id``, ``community_id``; for grids ``grid_id``) when it is a loaded
    jurisdiction of the level, else the name column (``district``, ``street``,
    ``community``, ``grid_id``) when exactly one loaded jurisdiction of the level has
    that name. Otherwise the record's jurisdiction is unknown: it counts in one row
    ``（未定位）`` (jurisdiction_id empty), listed only when it holds any record. When no
    jurisdiction of the level is loaded at all, rows are the names the points and
    inspections carry (blank names go to ``（未定位）``).

Columns (in this order)
    level, jurisdiction_id, jurisdiction
    points                    inspection points located in the jurisdiction
    visits_due                points x weeks x ``coverage.visits_per_week`` (default 1)
    visits_done               inspections in the period whose point_id is a loaded point
                              of the jurisdiction (by the point's location), counted per
                              point and ISO week and capped at visits_per_week per
                              point-week (with 1: distinct point-weeks inspected)
    coverage_rate             visits_done / visits_due (empty when visits_due = 0)
    inspections               inspections in the period, by the inspection's own location
    inspections_with_problems of those, problems > 0
    problems_found            of those, the sum of problems
    problems_per_inspection   problems_found / inspections (empty when 0)
    rectify_due_in_period     inspections with problems > 0 whose rectify_due is in the
                              period (whenever they were inspected)
    rectified_on_time         of those, rectified_at <= rectify_due
    rectify_on_time_rate      rectified_on_time / rectify_due_in_period (按期整改率;
                              empty when 0)
    unrectified_overdue       inspections with problems > 0, inspected_at <= T,
                              rectified_at empty or after T, rectify_due < T (at any
                              time, not only in the period: a stock at T)
    rank                      by coverage_rate, highest = 1, ties share the smaller rank
                              ("min"); no rank for an empty coverage_rate, for
                              ``（未定位）`` and for the city row

Rows are sorted by jurisdiction_id, then name; ``（未定位）`` after them, the city row
(jurisdiction ``全市``) last. Every count column of the city row is the sum of the rows
above it, so nothing is lost between levels. All counting is DuckDB SQL (group-bys over
the tables); pandas only finishes the rates and ranks of the few result rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import pandas as pd

from analytics.errors import OptionError
from analytics.records import found_problems
from grids.locate import LEVELS

#: Column holding the jurisdiction id / name of a record at each level.
ID_COLUMN = {"district": "district_id", "street": "street_id", "community": "community_id",
             "grid": "grid_id"}
NAME_COLUMN = {"district": "district", "street": "street", "community": "community",
               "grid": "grid_id"}
UNLOCATED = "（未定位）"
CITY = "全市"
SETTING = "coverage.visits_per_week"

COUNT_COLUMNS = ["points", "visits_due", "visits_done", "inspections",
                 "inspections_with_problems", "problems_found", "rectify_due_in_period",
                 "rectified_on_time", "unrectified_overdue"]
COLUMNS = ["level", "jurisdiction_id", "jurisdiction", "points", "visits_due", "visits_done",
           "coverage_rate", "inspections", "inspections_with_problems", "problems_found",
           "problems_per_inspection", "rectify_due_in_period", "rectified_on_time",
           "rectify_on_time_rate", "unrectified_overdue", "rank"]


class CoverageError(OptionError):
    """Arguments that cannot give a coverage table (the message names the option)."""


def _as_date(value: dt.date | str, option: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CoverageError(f"{value!r} is not a date such as 2026-11-22",
                            option=option) from None


def visits_per_week(settings: Mapping | None) -> int:
    """``coverage.visits_per_week`` from a settings mapping (dotted or nested); default 1."""
    value = 1
    if settings is not None:
        if SETTING in settings:
            value = settings[SETTING]
        elif isinstance(settings.get("coverage"), Mapping) and \
                "visits_per_week" in settings["coverage"]:
            value = settings["coverage"]["visits_per_week"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 \
            or int(value) != value:
        raise CoverageError(f"{SETTING} = {value!r}: expected a whole number of at least 1")
    return int(value)


def iso_weeks(start: dt.date, end: dt.date) -> int:
    """Number of ISO weeks (Monday-Sunday) overlapping [start, end]; partial weeks count."""
    first = start - dt.timedelta(days=start.weekday())
    last = end - dt.timedelta(days=end.weekday())
    return (last - first).days // 7 + 1


def _key_sql(level: str, loaded: bool, alias: str) -> tuple[str, str]:
    """(FROM-clause joins, key expression) that place table ``alias`` at ``level``."""
    idc, namec = ID_COLUMN[level], NAME_COLUMN[level]
    if loaded:
        joins = (f"LEFT JOIN j AS {alias}_byid ON {alias}_byid.jid = {alias}.{idc} "
                 f"LEFT JOIN jn AS {alias}_byname ON {alias}_byname.name = {alias}.{namec}")
        return joins, f"coalesce({alias}_byid.jid, {alias}_byname.jid)"
    return "", f"nullif(trim({alias}.{namec}), '')"


def _counts(conn: duckdb.DuckDBPyConnection, level: str, loaded: bool, t0: dt.datetime,
            t1: dt.datetime, vpw: int) -> pd.DataFrame:
    """Counts per jurisdiction key (NULL key = unknown jurisdiction), one SQL statement."""
    p_join, p_key = _key_sql(level, loaded, "p")
    i_join, i_key = _key_sql(level, loaded, "i")
    if loaded:
        rows = ("SELECT jid AS jkey, jid AS jurisdiction_id, name AS jurisdiction, 0 AS unloc "
                "FROM j")
    else:
        idexpr = "jkey" if level == "grid" else "NULL::VARCHAR"
        rows = (f"SELECT jkey, {idexpr} AS jurisdiction_id, jkey AS jurisdiction, 0 AS unloc "
                "FROM (SELECT jkey FROM pts UNION SELECT jkey FROM insp) WHERE jkey IS NOT NULL")
    found = found_problems()
    sql = f"""
        WITH j AS (
            SELECT jurisdiction_id AS jid, name FROM jurisdictions WHERE level = $level
        ),
        jn AS (
            SELECT name, min(jid) AS jid FROM j WHERE name IS NOT NULL
            GROUP BY name HAVING count(*) = 1
        ),
        pts AS (
            SELECT p.point_id, {p_key} AS jkey FROM inspection_points p {p_join}
        ),
        insp AS (
            SELECT i.point_id, i.inspected_at, i.problems, i.rectify_due, i.rectified_at,
                   i.inspected_at >= $t0 AND i.inspected_at < $t1 AS in_period,
                   {i_key} AS jkey
            FROM inspections i {i_join}
        ),
        p_agg AS (SELECT jkey, count(*) AS points FROM pts GROUP BY jkey),
        point_weeks AS (
            SELECT p.jkey, least(count(*), $vpw) AS n
            FROM inspections i JOIN pts p ON p.point_id = i.point_id
            WHERE i.inspected_at >= $t0 AND i.inspected_at < $t1
            GROUP BY p.jkey, i.point_id, date_trunc('week', i.inspected_at)
        ),
        v_agg AS (SELECT jkey, sum(n) AS visits_done FROM point_weeks GROUP BY jkey),
        i_agg AS (
            SELECT jkey,
                count(*) FILTER (WHERE in_period) AS inspections,
                count(*) FILTER (WHERE in_period AND {found}) AS inspections_with_problems,
                coalesce(sum(problems) FILTER (WHERE in_period), 0) AS problems_found,
                count(*) FILTER (WHERE {found} AND rectify_due >= $t0
                                 AND rectify_due < $t1) AS rectify_due_in_period,
                count(*) FILTER (WHERE {found} AND rectify_due >= $t0
                                 AND rectify_due < $t1
                                 AND rectified_at <= rectify_due) AS rectified_on_time,
                count(*) FILTER (WHERE {found} AND inspected_at <= $t1
                                 AND (rectified_at IS NULL OR rectified_at > $t1)
                                 AND rectify_due < $t1) AS unrectified_overdue
            FROM insp GROUP BY jkey
        ),
        rows AS (
            {rows}
            UNION ALL SELECT NULL, NULL, '{UNLOCATED}', 1
        )
        SELECT r.jurisdiction_id, r.jurisdiction, r.unloc,
               coalesce(p_agg.points, 0) AS points,
               coalesce(v_agg.visits_done, 0) AS visits_done,
               coalesce(i_agg.inspections, 0) AS inspections,
               coalesce(i_agg.inspections_with_problems, 0) AS inspections_with_problems,
               coalesce(i_agg.problems_found, 0) AS problems_found,
               coalesce(i_agg.rectify_due_in_period, 0) AS rectify_due_in_period,
               coalesce(i_agg.rectified_on_time, 0) AS rectified_on_time,
               coalesce(i_agg.unrectified_overdue, 0) AS unrectified_overdue
        FROM rows r
        LEFT JOIN p_agg ON p_agg.jkey IS NOT DISTINCT FROM r.jkey
        LEFT JOIN v_agg ON v_agg.jkey IS NOT DISTINCT FROM r.jkey
        LEFT JOIN i_agg ON i_agg.jkey IS NOT DISTINCT FROM r.jkey
        ORDER BY r.unloc, r.jurisdiction_id NULLS LAST, r.jurisdiction
    """
    return conn.execute(sql, {"level": level, "t0": t0, "t1": t1, "vpw": vpw}).df()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype("float64")
    den = den.astype("float64")
    return (num / den.where(den > 0)).astype("float64")


def coverage_table(conn: duckdb.DuckDBPyConnection, start: dt.date | str, end: dt.date | str,
                   level: str, settings: Mapping | None = None) -> pd.DataFrame:
    """Inspection coverage and rectification per jurisdiction of ``level``, plus the city.

    Parameters
    ----------
    conn : DuckDB connection (read-only is enough)
    start, end : date
        First and last day of the period (inclusive, local days).
    level : str
        district | street | community | grid.
    settings : Mapping, optional
        Read for ``coverage.visits_per_week`` (default 1).

    Returns
    -------
    DataFrame
        Columns ``COLUMNS``; one row per jurisdiction (see the module docstring), the
        city row last.

    Raises
    ------
    CoverageError (a ValueError)
        Unknown ``level``, ``start`` after ``end``, or an unusable visits_per_week.
    """
    if level not in LEVELS:
        raise CoverageError(f"the level {level!r} is not one of {', '.join(LEVELS)}",
                            option="level")
    start = _as_date(start, "start")
    end = _as_date(end, "end")
    if start > end:
        raise CoverageError(f"the period starts on {start}, after its end {end}: it would be "
                            "empty", option="start")
    vpw = visits_per_week(settings)
    t0 = dt.datetime.combine(start, dt.time(0, 0))
    t1 = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0))
    weeks = iso_weeks(start, end)
    loaded = conn.execute("SELECT count(*) FROM jurisdictions WHERE level = ?",
                          [level]).fetchone()[0] > 0
    df = _counts(conn, level, loaded, t0, t1, vpw)
    for col in COUNT_COLUMNS:
        if col != "visits_due":
            df[col] = df[col].astype("int64")
    df["visits_due"] = df["points"] * weeks * vpw
    unloc = df["unloc"].astype(bool)
    # the unlocated row only when it holds a record
    keep = ~unloc | (df[[c for c in COUNT_COLUMNS if c != "visits_due"]].sum(axis=1) > 0)
    df = df[keep].reset_index(drop=True)
    rankable = pd.concat([~df.pop("unloc").astype(bool), pd.Series([False])],
                         ignore_index=True)
    df["jurisdiction_id"] = df["jurisdiction_id"].astype(object).where(
        df["jurisdiction_id"].notna(), None)
    df.insert(0, "level", level)
    total = {"level": "city", "jurisdiction_id": None, "jurisdiction": CITY}
    for col in COUNT_COLUMNS:
        total[col] = int(df[col].sum())
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    for col in COUNT_COLUMNS:
        df[col] = df[col].astype("int64")
    df["coverage_rate"] = _ratio(df["visits_done"], df["visits_due"])
    df["problems_per_inspection"] = _ratio(df["problems_found"], df["inspections"])
    df["rectify_on_time_rate"] = _ratio(df["rectified_on_time"], df["rectify_due_in_period"])
    rank = df["coverage_rate"].where(rankable).rank(method="min", ascending=False)
    df["rank"] = rank.astype("Int64")
    return df[COLUMNS]

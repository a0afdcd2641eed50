"""Backlog and on-time indicators per jurisdiction (属地管理), as docs/indicators.md defines them.

As of T, for the period [start, T] (start defaults to T − 7 days), for every jurisdiction of a
level (district, street, community, grid) and for the whole city:

* open: received_at ≤ T, status not void, and not closed by T (closed_at empty or after T;
  a case marked closed whose export gives no closing time counts as closed);
* overdue: open and due_at < T; due_soon: open and T ≤ due_at < T + 24 h;
  backlog_30d: open and received_at < T − 30 days;
* filed: received in the period, not void (作废 cases were never filed, 立案);
  closure_rate = filed cases closed by T / filed;
* due_in_period: due_at in the period (not void); closed_on_time: of those, closed_at ≤
  due_at; on_time_rate = closed_on_time / due_in_period (empty when 0);
* rework_rate = cases closed in the period with reworked > 0 / cases closed in the period;
* median_hours_to_close over the cases closed in the period.

A missing due_at is filled from the category's handling limit on the working-day calendar
(:mod:`analytics.deadlines`). Inspection problems (inspections with problems > 0) are cases
too: received at the inspection, due at rectify_due (or the limit of their category), closed
when rectified, so unrectified problems past their deadline count as overdue.

Each rate has the previous period's value beside it (环比: the period of the same length
ending at start), and a composite score (:mod:`analytics.scoring`) gives the grade and the
rank within the level. Every loaded jurisdiction of the level is listed, with zeros when it
has no case; cases with no jurisdiction at the level form one row "（未定位）"; with no
boundaries loaded, the names the records carry are the jurisdictions. One DuckDB query with
grouping sets computes all levels in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics import records
from analytics.scoring import grade_scores, rank_scores, score_table
from grids.locate import LEVELS

SOURCES = ("all", "complaints", "inspections")
UNLOCATED = "（未定位）"

BACKLOG_COLUMNS = ["level", "jurisdiction_id", "jurisdiction", "open", "overdue", "due_soon",
                   "backlog_30d", "filed", "closure_rate", "due_in_period", "closed_on_time",
                   "on_time_rate", "rework_rate", "median_hours_to_close", "rank"]
#: Beside the output columns (docs/indicators.md): previous period's rates (环比), score, grade.
DETAIL_COLUMNS = ["closure_rate_prev", "on_time_rate_prev", "rework_rate_prev",
                  "closed_in_period", "reworked_closed", "score", "grade"]
COUNT_COLUMNS = ["open", "overdue", "due_soon", "backlog_30d", "filed", "filed_closed",
                 "due_in_period", "closed_on_time", "closed_in_period", "reworked_closed"]

#: The id and the name column of each level in the records and cases.
LEVEL_ID = {"district": "district_id", "street": "street_id", "community": "community_id",
       "grid": "grid_id"}
LEVEL_NAME = {"district": "district", "street": "street", "community": "community",
         "grid": "grid_id"}


_LOC = ("district_id", "district", "street_id", "street", "community_id", "community", "grid_id")
#: The columns of a case, and their expressions per source (:func:`cases_sql`).
_CASE_COLUMNS = ("source", "case_id", "recv", "due", "closed", "status", "reworked", "category",
                 "subcategory", *_LOC)
_CASE_EXPRS = {
    "complaints": {"case_id": "complaint_id", "recv": "received_at", "due": "due_at",
                   "closed": "closed_at", "reworked": "coalesce(reworked, 0)"},
    "inspections": {"case_id": "inspection_id", "recv": "inspected_at", "due": "rectify_due",
                    "closed": "rectified_at", "reworked": "0",
                    "status": "CASE WHEN rectified_at IS NULL THEN 'open' ELSE 'closed' END"},
}


class BacklogError(ValueError):
    """A backlog question that cannot be answered (unknown level, period after T)."""


@dataclass
class BacklogQuery:
    """As of ``as_of`` for the period [start, as_of]; levels to list; which cases count."""

    as_of: dt.datetime
    start: dt.datetime | None = None
    levels: tuple[str, ...] = LEVELS
    source: str = "all"
    categories: list[str] = field(default_factory=list)
    #: District-level jurisdiction ids whose cases count (:class:`analytics.records.Records`);
    #: None is every district.
    scope: tuple[str, ...] | None = None

    def period_start(self) -> dt.datetime:
        return self.start if self.start is not None else self.as_of - dt.timedelta(days=7)

    def check(self) -> None:
        bad = [lv for lv in self.levels if lv not in LEVELS]
        if bad:
            raise BacklogError(f"the level {bad[0]!r} is not one of {', '.join(LEVELS)}")
        if self.source not in SOURCES:
            raise BacklogError(f"the source {self.source!r} is not one of "
                               f"{', '.join(SOURCES)}")
        if self.period_start() > self.as_of:
            raise BacklogError(f"the period starts ({self.period_start()}) after the time "
                               f"the figures are as of ({self.as_of})")


@dataclass
class BacklogResult:
    """The indicator table (every level asked for, then the city row) and notes."""

    table: pd.DataFrame
    start: dt.datetime
    as_of: dt.datetime
    prev_start: dt.datetime
    warnings: list[str]
    filled_deadlines: int

    def level(self, level: str, *, detail: bool = True, with_city: bool = True) -> pd.DataFrame:
        """Rows of one level (and the city row), the output columns of docs/indicators.md first."""
        keep = (self.table.level == level) | ((self.table.level == "city") & with_city)
        cols = BACKLOG_COLUMNS + (DETAIL_COLUMNS if detail else [])
        return self.table.loc[keep, cols].reset_index(drop=True)

    def headline(self, district: str | None = None) -> dict:
        """open, overdue and on_time_rate of the city row, or of ``district`` (name or id);
        0, 0 and None when that district has no row (no cases)."""
        t = self.table
        if district:
            row = t[(t.level == "district") & ((t.jurisdiction == district)
                                               | (t.jurisdiction_id == district))]
        else:
            row = t[t.level == "city"]
        if row.empty:
            return {"open": 0, "overdue": 0, "on_time_rate": None}
        r = row.iloc[0]
        rate = r["on_time_rate"]
        return {"open": int(r["open"]), "overdue": int(r["overdue"]),
                "on_time_rate": None if pd.isna(rate) else float(rate)}


def cases_sql(conn: duckdb.DuckDBPyConnection, q: BacklogQuery,
              settings: Mapping | None) -> tuple[str, dict, list[str], int]:
    """SQL of every case (complaints, inspection problems) with its deadline filled.

    Returns
    -------
    sql, params, warnings, filled
        The SQL (columns source, case_id, recv, due, closed, status, reworked, category,
        subcategory and the jurisdiction columns) with its named parameters, the warnings
        of the deadline filling and how many deadlines were filled.
    """
    from analytics.deadlines import DEFAULT_SETTINGS

    settings = settings if settings is not None else DEFAULT_SETTINGS
    params: dict = {}
    parts, warnings, filled = [], [], 0
    sources = ("complaints", "inspections") if q.source == "all" else (q.source,)
    for src in sources:
        # void complaints stay: every count judges voidness itself (records.not_void)
        rec = records.Records(src, categories=tuple(q.categories), scope=q.scope, void=True,
                              subcategories=True)
        base, src_params = rec.select(_CASE_COLUMNS, exprs=_CASE_EXPRS)
        missing = conn.execute(f"SELECT case_id, recv, category, subcategory FROM ({base}) "
                               "WHERE due IS NULL AND recv IS NOT NULL", src_params).df()
        if len(missing):
            from analytics.deadlines import fill_due_at

            # the limits may name a subcategory (暴露垃圾) or a category (市容环境)
            limits = dict(settings["deadlines.categories"])
            named = missing.subcategory.isin(list(limits)).to_numpy(dtype=bool)
            key = np.where(named, missing.subcategory.to_numpy(dtype=object),
                           missing.category.to_numpy(dtype=object))
            res = fill_due_at(missing.recv.to_numpy(dtype="datetime64[s]"), key,
                              np.full(len(missing), np.datetime64("NaT"), dtype="datetime64[s]"),
                              settings)
            warnings += [w for w in res.warnings if w not in warnings]
            filled += int(res.computed.sum())
            fills = pd.DataFrame({"case_id": missing.case_id.to_numpy(dtype=object),
                                  "due_fill": res.due_at})
            # named by content: a case SQL prepared earlier keeps reading its own fills
            digest = hashlib.md5(pd.util.hash_pandas_object(fills, index=False).to_numpy()
                                 .tobytes()).hexdigest()[:16]
            table = f"_due_{src}_{digest}"
            conn.register(table, fills)
            parts.append(f"SELECT b.* REPLACE (coalesce(b.due, f.due_fill) AS due) FROM ({base}) "
                         f"b LEFT JOIN {table} f USING (case_id)")
        else:
            parts.append(base)
        params.update(src_params)
    return " UNION ALL ".join(parts), params, warnings, filled


def _count_conditions() -> list[tuple[str, str]]:
    """(column, condition) of every count, for the period and the previous one.

    ``o_t`` / ``o_s`` are "open at T" / "open at the period start" (computed once per case).
    """
    not_void = records.not_void()

    def block(t: str, s: str, is_open: str, suffix: str) -> list[tuple[str, str]]:
        filed = f"recv >= {s} AND recv <= {t} AND {not_void}"
        due_in = f"due >= {s} AND due <= {t} AND {not_void}"
        closed_in = f"closed >= {s} AND closed <= {t} AND {not_void}"
        return [("filed" + suffix, filed),
                ("filed_closed" + suffix, f"{filed} AND NOT {is_open}"),
                ("due_in_period" + suffix, due_in),
                ("closed_on_time" + suffix, f"{due_in} AND closed <= due"),
                ("closed_in_period" + suffix, closed_in),
                ("reworked_closed" + suffix, f"{closed_in} AND reworked > 0")]

    return [("open", "o_t"), ("overdue", "o_t AND due < $t"),
            ("due_soon", "o_t AND due >= $t AND due < $t + INTERVAL 24 HOUR"),
            ("backlog_30d", "o_t AND recv < $t - INTERVAL 30 DAY")] + \
        block("$t", "$s", "o_t", "") + block("$s", "$p", "o_s", "_prev")


def open_at(t: str) -> str:
    """SQL condition on the case columns: the case is open at ``t`` (received by then, not
    void, and not closed by then; a case marked closed without a closing time is closed)."""
    return (f"(recv <= {t} AND {records.not_void()} AND CASE WHEN closed IS NULL THEN "
            f"status <> 'closed' ELSE closed > {t} END)")


def _backlog_sql(cases: str, levels: tuple[str, ...]) -> str:
    """Counts per finest place in one pass, then rolled up to every level (grouping sets);
    medians from the closed cases of the period only."""
    conds = _count_conditions()
    loc = ", ".join(_LOC)
    stage1 = (f"SELECT {loc}, " + ", ".join(f"count_if({c}) AS {n}" for n, c in conds)
              + f" FROM (SELECT *, {open_at('$t')} AS o_t, {open_at('$s')} AS o_s "
              f"FROM ({cases})) GROUP BY ALL")
    sets = ", ".join([f"({LEVEL_ID[lv]}, {LEVEL_NAME[lv]})" if LEVEL_ID[lv] != LEVEL_NAME[lv] else f"({LEVEL_ID[lv]})"
                      for lv in levels] + ["()"])
    level = "CASE " + " ".join(f"WHEN grouping({LEVEL_ID[lv]}) = 0 THEN '{lv}'"
                                for lv in levels) + " ELSE 'city' END"
    key_id = "CASE " + " ".join(f"WHEN grouping({LEVEL_ID[lv]}) = 0 THEN {LEVEL_ID[lv]}"
                                 for lv in levels) + " END"
    key_name = "CASE " + " ".join(f"WHEN grouping({LEVEL_ID[lv]}) = 0 THEN {LEVEL_NAME[lv]}"
                                   for lv in levels) + " END"
    head = f"{level} AS level, {key_id} AS jurisdiction_id, {key_name} AS name"
    rolled = (f"SELECT {head}, " + ", ".join(f"sum({n})::BIGINT AS {n}" for n, _ in conds)
              + f" FROM stage1 GROUP BY GROUPING SETS ({sets})")
    medians = (f"SELECT {head}, median(epoch(closed - recv) / 3600.0) AS median_hours_to_close"
               f" FROM ({cases}) WHERE closed >= $s AND closed <= $t AND {records.not_void()} "
               f"GROUP BY GROUPING SETS ({sets})")
    return (f"WITH stage1 AS ({stage1}), rolled AS ({rolled}), medians AS ({medians}) "
            "SELECT r.*, m.median_hours_to_close FROM rolled r LEFT JOIN medians m "
            "ON r.level = m.level AND r.jurisdiction_id IS NOT DISTINCT FROM m.jurisdiction_id "
            "AND r.name IS NOT DISTINCT FROM m.name")


@dataclass(frozen=True)
class Cases:
    """The cases of one source and category filter with their deadlines filled
    (:func:`prepare_cases`): the case SQL is the same for every T, so the backlog of several
    times and the case lists can share one preparation on the same connection."""

    source: str
    categories: tuple[str, ...]
    scope: tuple[str, ...] | None
    sql: str
    params: dict
    warnings: list[str]
    filled: int

    def check(self, q: BacklogQuery) -> None:
        if (self.source, self.categories, self.scope) != (q.source, tuple(q.categories),
                                                          q.scope):
            raise BacklogError("the prepared cases are of another source, category filter "
                               "or scope")


def prepare_cases(conn: duckdb.DuckDBPyConnection, q: BacklogQuery,
                  settings: Mapping | None = None) -> Cases:
    """The cases ``q`` counts (its source, categories and scope; not its times), with their
    deadlines filled."""
    sql, params, warnings, filled = cases_sql(conn, q, settings)
    return Cases(q.source, tuple(q.categories), q.scope, sql, params, warnings, filled)


def _names(conn: duckdb.DuckDBPyConnection, level: str) -> pd.DataFrame:
    return conn.execute("SELECT jurisdiction_id, name FROM jurisdictions WHERE level = ? "
                        "ORDER BY jurisdiction_id", [level]).df()


def compute_backlog(conn: duckdb.DuckDBPyConnection, q: BacklogQuery,
                    settings: Mapping | None = None, *,
                    cases: Cases | None = None) -> BacklogResult:
    """Backlog indicators for every jurisdiction of the levels asked for, and the city.

    Parameters
    ----------
    conn : connection
        A read connection is enough (the filled deadlines live in a registered frame).
    q : BacklogQuery
    settings : Mapping, optional
        Settings (:mod:`config.settings`): handling limits and score weights.
    cases : Cases, optional
        The cases prepared by :func:`prepare_cases` for the same source and categories on
        this connection (prepared here when not given).
    """
    q.check()
    from analytics import deadlines, scoring

    settings = (settings if settings is not None
                else {**deadlines.DEFAULT_SETTINGS, **scoring.DEFAULT_SETTINGS})
    start = q.period_start()
    prev_start = start - (q.as_of - start)
    if cases is None:
        cases = prepare_cases(conn, q, settings)
    cases.check(q)
    warnings, filled = list(cases.warnings), cases.filled
    # the case SQL appears twice (counts, medians): its parameters are named, so reused
    raw = conn.execute(_backlog_sql(cases.sql, q.levels),
                       {"t": q.as_of, "s": start, "p": prev_start} | cases.params).df()
    table = pd.concat([_level_rows(conn, raw, lv) for lv in q.levels]
                      + [_finish(raw[raw.level == "city"].assign(jurisdiction_id=None,
                                                                   jurisdiction="全市"))],
                      ignore_index=True)
    table = score_table(table, settings)
    for lv in list(q.levels) + ["city"]:
        m = table.level == lv
        table.loc[m, "rank"] = rank_scores(table.loc[m, "score"]) if lv != "city" else pd.NA
    table["grade"] = grade_scores(table["score"], settings)
    table["rank"] = table["rank"].astype("Int64")
    return BacklogResult(table, start, q.as_of, prev_start, warnings, filled)


def _finish(rows: pd.DataFrame) -> pd.DataFrame:
    """Rates from counts, with the previous period's beside them."""
    out = rows.copy()
    for c in COUNT_COLUMNS + [c + "_prev" for c in COUNT_COLUMNS[4:]]:
        if c in out:
            out[c] = out[c].fillna(0).astype(np.int64)

    def rate(num: str, den: str) -> pd.Series:
        d = out[den].astype(float)
        return (out[num].astype(float) / d).where(d > 0)

    out["closure_rate"] = rate("filed_closed", "filed")
    out["on_time_rate"] = rate("closed_on_time", "due_in_period")
    out["rework_rate"] = rate("reworked_closed", "closed_in_period")
    out["closure_rate_prev"] = rate("filed_closed_prev", "filed_prev")
    out["on_time_rate_prev"] = rate("closed_on_time_prev", "due_in_period_prev")
    out["rework_rate_prev"] = rate("reworked_closed_prev", "closed_in_period_prev")
    out["median_hours_to_close"] = out["median_hours_to_close"].astype(float)
    return out


def _level_rows(conn: duckdb.DuckDBPyConnection, raw: pd.DataFrame, level: str) -> pd.DataFrame:
    """Every loaded jurisdiction of the level (zeros where no case), then name-only groups,
    then the unlocated row (no id and no name: one group of the grouping set)."""
    got = raw[raw.level == level].copy()
    names = _names(conn, level)
    known = got.jurisdiction_id.notna() & got.jurisdiction_id.isin(names.jurisdiction_id)
    listed = names.rename(columns={"name": "jurisdiction"}).merge(
        got[known].drop(columns=["name"]), on="jurisdiction_id", how="left")
    listed["level"] = level
    rest = got[~known].copy()
    # ids the boundaries do not know, or names only (no boundaries at this level)
    rest["jurisdiction"] = rest["name"].where(rest["name"].notna(), rest["jurisdiction_id"])
    unlocated = rest["jurisdiction"].isna()
    rest.loc[unlocated, "jurisdiction"] = UNLOCATED
    if len(rest):
        rest["_order"] = unlocated.astype(int)
        rest = rest.sort_values(["_order", "jurisdiction"], kind="stable").drop(
            columns=["_order", "name"])
    return _finish(pd.concat([listed, rest], ignore_index=True))

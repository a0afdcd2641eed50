"""The numbers of the leaders' wall dashboard (指挥大屏, /wall), docs/wall.md.

As of ``now`` (naive local time, the instant T of docs/indicators.md), for the whole city
or one district:

* complaints (not void) received today (00:00 to T) and this ISO week (Monday 00:00 to
  T), with the same spans one week earlier for the change arrows;
* open, overdue and on-time rate from :func:`analytics.backlog.compute_backlog` as of now,
  period = this week (the city row, or the district's row), and the same as of now − 7 d;
* hot cells: Gi* at resolution 9, k 1, complaints of the last 7 days (today and the six
  days before), gi_bin ≥ 2; those in the urban-rural fringe; the ten busiest hot cells;
  the same for the seven days a week earlier (the arrows);
* the five jurisdictions (streets of the district, else districts) with most overdue cases
  and the thirty newest overdue cases (:func:`analytics.cases.overdue_cases`);
* the category mix of this week's complaints;
* ``data_as_of`` = max(received_at) of complaints and the last import's finished_at.

No statistic is computed here: the hot cells are :func:`analytics.hotspots.compute_hotspots`
(Getis–Ord Gi*, Ord & Getis 1995, with Benjamini–Hochberg false-discovery-rate bins), the
backlog figures :func:`analytics.backlog.compute_backlog`, so the wall, the staff app and
the weekly briefing cannot drift apart (tests/test_wall_equal.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analytics.backlog import BacklogQuery, Cases, compute_backlog, prepare_cases
from analytics.cases import NO_CATEGORY, overdue_cases
from analytics.hotspots import HotspotError, HotspotQuery, compute_hotspots
from analytics.records import Records

HOT_BIN = 2
RES = 9
TOP_HOTSPOTS = 10
TOP_OVERDUE_UNITS = 5
NEWEST_OVERDUE = 30  # the wall rolls through them, ten at a time


@dataclass
class WallNumbers:
    now: dt.datetime
    district: str | None
    complaints_today: int
    complaints_today_last_week: int
    complaints_week: int
    complaints_week_last_week: int
    open: int
    open_last_week: int
    overdue: int
    overdue_last_week: int
    on_time_rate: float | None
    on_time_rate_last_week: float | None
    hot_cells: int
    hot_cells_last_week: int
    hot_cells_fringe: int
    hot_cells_fringe_last_week: int
    top_hotspots: pd.DataFrame
    overdue_units: pd.DataFrame
    category_mix: pd.DataFrame
    newest_overdue: pd.DataFrame
    data_as_of: dt.datetime | None
    last_import_at: dt.datetime | None
    hot_cells_all: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def count_complaints(conn: duckdb.DuckDBPyConnection, start: dt.datetime, stop: dt.datetime,
                     district: str | None = None) -> int:
    """Non-void complaints with start ≤ received_at < stop (as the weekly briefing)."""
    sql, params = Records("complaints", start, stop, district=district).select(("rec_at",))
    return int(conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])


EMPTY_CELLS = ["h3", "count", "gi_z", "gi_bin", "district", "street", "in_fringe", "lon", "lat"]


def _hot_cells(conn, last_day: dt.date, district: str | None, notes: list[str]
               ) -> pd.DataFrame:
    """Gi* cells of the seven days ending ``last_day`` (empty when there is nothing)."""
    try:
        hot = compute_hotspots(conn, HotspotQuery(last_day - dt.timedelta(days=6), last_day,
                                                  RES, 1, "complaints", district=district))
    except HotspotError as exc:
        notes.append(str(exc))
        return pd.DataFrame(columns=EMPTY_CELLS)
    if hot.note:
        notes.append(hot.note)
    return hot.cells


def _hot_counts(cells: pd.DataFrame) -> tuple[int, int]:
    """(hot cells, hot cells in the urban-rural fringe): gi_bin ≥ 2."""
    is_hot = cells["gi_bin"] >= HOT_BIN
    fringe = cells["in_fringe"].astype("boolean").fillna(False).astype(bool)
    return int(is_hot.sum()), int((is_hot & fringe).sum())


def _backlog_row(conn, now: dt.datetime, start: dt.datetime, district: str | None,
                 settings, cases: Cases) -> dict:
    res = compute_backlog(conn, BacklogQuery(now, start, levels=("district",)), settings,
                          cases=cases)
    return res.headline(district)


class WallError(ValueError):
    """The wall cannot be drawn as asked (an unknown district)."""


def check_district(conn: duckdb.DuckDBPyConnection, district: str) -> None:
    """Raise :class:`WallError` naming the loaded districts when ``district`` is neither the
    name nor the id of one of them."""
    rows = conn.execute("SELECT jurisdiction_id, name FROM jurisdictions "
                        "WHERE level = 'district' ORDER BY jurisdiction_id").fetchall()
    if any(district in (jid, name) for jid, name in rows):
        return
    names = "、".join(name for _, name in rows) or "（未导入区县边界）"
    raise WallError(f"未知区县“{district}”：网址参数 district 应为以下之一：{names}")


def wall_numbers(conn: duckdb.DuckDBPyConnection, now: dt.datetime, district: str | None,
                 settings: Mapping | None = None) -> WallNumbers:
    """Everything the wall shows, as of ``now``, for the city or ``district`` (name or id).

    ``now`` is the instant T of the backlog indicators (docs/indicators.md); "today" is the
    day that ends at T, so the end of a day is given as the next midnight, as the staff
    app's 当日24时 and the weekly briefing do. Counts are of received_at in [start, T).
    """
    district = district or None
    if district:
        check_district(conn, district)
    today = (now - dt.timedelta(microseconds=1)).date()
    day0 = dt.datetime.combine(today, dt.time())
    monday = day0 - dt.timedelta(days=today.weekday())
    week = dt.timedelta(days=7)
    notes: list[str] = []

    c_today = count_complaints(conn, day0, now, district)
    c_today_prev = count_complaints(conn, day0 - week, now - week, district)
    c_week = count_complaints(conn, monday, now, district)
    c_week_prev = count_complaints(conn, monday - week, now - week, district)

    all_cases = prepare_cases(conn, BacklogQuery(now), settings)  # one preparation for all
    b_now = _backlog_row(conn, now, monday, district, settings, all_cases)
    b_prev = _backlog_row(conn, now - week, monday - week, district, settings, all_cases)

    cells = _hot_cells(conn, today, district, notes)
    prev_cells = _hot_cells(conn, today - week, district, [])
    is_hot = cells["gi_bin"] >= HOT_BIN
    hot_cells = cells[is_hot]
    top = hot_cells.sort_values(["count", "gi_z", "h3"], ascending=[False, False, True],
                                kind="stable").head(TOP_HOTSPOTS)
    top = top[["district", "street", "count", "h3"]].reset_index(drop=True)

    if district:
        cases = overdue_cases(conn, now, "district", None, district, settings=settings,
                              cases=all_cases)
        if cases.empty:
            cases = overdue_cases(conn, now, "district", district, None, settings=settings,
                                  cases=all_cases)
        unit_col = "street"
    else:
        cases = overdue_cases(conn, now, settings=settings, cases=all_cases)
        unit_col = "district"
    units = (cases.assign(jurisdiction=cases[unit_col].astype(object)
                          .where(cases[unit_col].notna(), "（未定位）"))
             .groupby("jurisdiction", sort=True).size().rename("overdue").reset_index())
    units = units.sort_values(["overdue", "jurisdiction"], ascending=[False, True],
                              kind="stable").head(TOP_OVERDUE_UNITS).reset_index(drop=True)
    newest = cases.sort_values(["received_at", "kind", "case_id"],
                               ascending=[False, True, True], kind="stable")
    newest = newest.head(NEWEST_OVERDUE)[["received_at", "category", "street",
                                          "hours_overdue"]].reset_index(drop=True)

    sql, params = Records("complaints", monday, now, district=district).select(("category",))
    mix = conn.execute(
        f"SELECT coalesce(category, '{NO_CATEGORY}') AS category, count(*) AS count "
        f"FROM ({sql}) GROUP BY 1 ORDER BY 2 DESC, 1", params).df()

    hot_now, hot_prev = _hot_counts(cells), _hot_counts(prev_cells)
    as_of = conn.execute("SELECT max(received_at) FROM complaints").fetchone()[0]
    last = conn.execute("SELECT finished_at FROM import_batches WHERE finished_at IS NOT NULL "
                        "ORDER BY finished_at DESC LIMIT 1").fetchone()
    return WallNumbers(
        now=now, district=district,
        complaints_today=c_today, complaints_today_last_week=c_today_prev,
        complaints_week=c_week, complaints_week_last_week=c_week_prev,
        open=b_now["open"], open_last_week=b_prev["open"],
        overdue=b_now["overdue"], overdue_last_week=b_prev["overdue"],
        on_time_rate=b_now["on_time_rate"], on_time_rate_last_week=b_prev["on_time_rate"],
        hot_cells=hot_now[0], hot_cells_last_week=hot_prev[0],
        hot_cells_fringe=hot_now[1], hot_cells_fringe_last_week=hot_prev[1],
        top_hotspots=top, overdue_units=units, category_mix=mix, newest_overdue=newest,
        data_as_of=as_of, last_import_at=last[0] if last else None,
        hot_cells_all=cells, notes=notes)


def is_stale(data_as_of: dt.datetime | None, now: dt.datetime, stale_minutes: float) -> bool:
    """True when there is no data or the newest complaint is older than ``stale_minutes``."""
    if data_as_of is None:
        return True
    return (now - data_as_of) > dt.timedelta(minutes=float(stale_minutes))


def arrow(now, before) -> str:
    """▲ / ▼ / ＝ for a change against last week ('' when either side is missing)."""
    if now is None or before is None:
        return ""
    return "▲" if now > before else "▼" if now < before else "＝"

"""The numbers of the weekly hotspot briefing (城市网格化管理周报), docs/briefing.md.

For one ISO week (Monday 00:00 to Sunday 24:00, local time) and the week before it:

* complaints received (not void), inspections made, problems found (sum of ``problems``);
* backlog as of the Monday 00:00 after the week (the end of Sunday), for the period of the
  week (:func:`analytics.backlog.compute_backlog`): open, overdue, on-time rate;
* hot cells: Gi* at resolution 9, k 1, complaints, gi_bin ≥ 2
  (:func:`analytics.hotspots.compute_hotspots`); new = hot this week and not last week,
  disappeared = hot last week and not this week;
* the fringe situation (:func:`analytics.fringe.fringe_focus`), the backlog ranking by
  district and by street, and the overdue case list.

Every table is sorted deterministically, so the same database and week give the same files.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.backlog import BacklogQuery, compute_backlog, prepare_cases
from analytics.cases import overdue_cases
from analytics.errors import OptionError
from analytics.hotspots import HotspotQuery, compute_hotspots
from analytics.records import Records
from store.clock import local_now

HOT_BIN = 2
RES = 9
K = 1
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

#: Summary indicators: key, Chinese label, kind (count | rate).
INDICATORS = [
    ("complaints", "受理投诉（件）", "count"),
    ("inspections", "巡查次数（次）", "count"),
    ("problems", "发现问题（处）", "count"),
    ("open", "未结案（件）", "count"),
    ("overdue", "超期未结（件）", "count"),
    ("on_time_rate", "按期结案率", "rate"),
    ("hot_cells", "热点网格（个）", "count"),
]
SUMMARY_COLUMNS = ["indicator", "label", "kind", "this_week", "last_week", "change",
                   "change_pct"]
TOP_COLUMNS = ["rank", "h3", "district", "street", "count", "gi_z", "gi_bin",
               "main_categories", "count_last_week", "change", "in_fringe", "lon", "lat"]
CHANGE_COLUMNS = ["h3", "district", "street", "count", "count_last_week", "gi_z",
                  "gi_z_last_week", "in_fringe"]


def parse_iso_week(week: str, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """``"2026-W47"`` → (Monday, Sunday) of that ISO week.

    Raises ValueError for a malformed week (not YYYY-Www, or no such week in the year) or a
    future week (its Monday after ``today``, default the city's local date).
    """
    today = today or local_now().date()
    m = _WEEK.match(str(week).strip())
    if not m:
        raise OptionError(f"{week!r} is not an ISO week like 2026-W47 (YYYY-Www)",
                          option="week")
    year, num = int(m.group(1)), int(m.group(2))
    weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]
    if not 1 <= num <= weeks_in_year:
        raise OptionError(f"{week!r}: ISO year {year} has weeks W01 to W{weeks_in_year:02d}",
                          option="week")
    monday = dt.date.fromisocalendar(year, num, 1)
    if monday > today:
        raise OptionError(f"the week {week} starts on {monday}, after today ({today}): "
                          "a briefing can only cover a week that has begun", option="week")
    return monday, monday + dt.timedelta(days=6)


def week_label(week: str) -> str:
    """``2026-W47`` → ``2026年第47周``."""
    m = _WEEK.match(week)
    return f"{int(m.group(1))}年第{int(m.group(2))}周" if m else week


@dataclass
class Briefing:
    """Everything the briefing files show, for one week and the week before."""

    week: str
    monday: dt.date
    sunday: dt.date
    prev_week: str
    as_of: dt.datetime
    summary: pd.DataFrame
    numbers: dict
    top_hotspots: pd.DataFrame
    new_hotspots: pd.DataFrame
    gone_hotspots: pd.DataFrame
    fringe: pd.DataFrame
    backlog_district: pd.DataFrame
    backlog_street: pd.DataFrame
    overdue: pd.DataFrame
    cells: pd.DataFrame
    has_data: bool
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"城市网格化管理周报（{week_label(self.week)}）"


def _week_counts(conn: duckdb.DuckDBPyConnection, monday: dt.date) -> dict:
    start = dt.datetime.combine(monday, dt.time())
    stop = start + dt.timedelta(days=7)
    sql, params = Records("complaints", start, stop).select(("rec_at",))
    n_c = conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
    n_i, n_p = conn.execute("SELECT count(*), coalesce(sum(problems), 0) FROM inspections "
                            "WHERE inspected_at >= ? AND inspected_at < ?",
                            [start, stop]).fetchone()
    return {"complaints": int(n_c), "inspections": int(n_i), "problems": int(n_p)}


def _main_categories(conn: duckdb.DuckDBPyConnection, monday: dt.date) -> pd.DataFrame:
    """Per cell at RES: its top three categories this week, ``类别(件数)、…``."""
    start = dt.datetime.combine(monday, dt.time())
    stop = start + dt.timedelta(days=7)
    sql, params = Records("complaints", start, stop, located=True,
                          needs=("cell",)).select(("cell", "category"))
    df = conn.execute(
        f"SELECT h3_parent(cell, {RES}) AS cell, coalesce(category, '（未分类）') AS category, "
        f"count(*) AS n FROM ({sql}) GROUP BY 1, 2", params).df()
    if df.empty:
        return pd.DataFrame(columns=["h3", "main_categories"])
    from grids.h3cells import cells_to_hex

    df["h3"] = cells_to_hex(df["cell"].to_numpy(dtype=np.uint64))
    df = df.sort_values(["h3", "n", "category"], ascending=[True, False, True], kind="stable")
    top = df.groupby("h3", sort=True).head(3)
    out = top.groupby("h3", sort=True).apply(
        lambda g: "、".join(f"{c}({n})" for c, n in zip(g.category, g.n, strict=True)),
        include_groups=False)
    return out.rename("main_categories").reset_index()


def _change(a, b):
    if a is None or b is None:
        return None
    return a - b


def weekly_briefing(conn: duckdb.DuckDBPyConnection, week: str, settings: Mapping | None = None,
                    *, today: dt.date | None = None) -> Briefing:
    """The briefing numbers of ISO ``week`` (``2026-W47``) and of the week before it."""
    monday, sunday = parse_iso_week(week, today)
    prev_monday = monday - dt.timedelta(days=7)
    py, pw, _ = prev_monday.isocalendar()
    prev_week = f"{py}-W{pw:02d}"
    as_of = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time())
    start = dt.datetime.combine(monday, dt.time())
    notes: list[str] = []

    now_counts, prev_counts = _week_counts(conn, monday), _week_counts(conn, prev_monday)
    has_data = (now_counts["complaints"] + now_counts["inspections"]) > 0
    if not has_data:
        notes.append("本周无数据")

    hot_now = compute_hotspots(conn, HotspotQuery(monday, sunday, RES, K, "complaints"))
    hot_prev = compute_hotspots(conn, HotspotQuery(prev_monday, prev_monday + dt.timedelta(6),
                                                   RES, K, "complaints"))
    if hot_now.note:
        notes.append(f"hotspots: {hot_now.note}")
    cells = hot_now.cells
    prev_cells = hot_prev.cells[["h3", "count", "gi_z", "gi_bin"]].rename(
        columns={"count": "count_last_week", "gi_z": "gi_z_last_week",
                 "gi_bin": "gi_bin_last_week"})
    both = cells.merge(prev_cells, on="h3", how="left")
    both["count_last_week"] = both["count_last_week"].fillna(0).astype(np.int64)
    both["gi_bin_last_week"] = both["gi_bin_last_week"].fillna(0).astype(np.int64)
    both["change"] = both["count"] - both["count_last_week"]
    is_hot = both.gi_bin >= HOT_BIN
    was_hot = both.gi_bin_last_week >= HOT_BIN
    # cells hot last week that are no longer in this week's study area (normally none)
    gone_extra = hot_prev.cells[(hot_prev.cells.gi_bin >= HOT_BIN)
                                & ~hot_prev.cells.h3.isin(cells.h3)]

    cats = _main_categories(conn, monday)
    top = both[is_hot].merge(cats, on="h3", how="left")
    top["main_categories"] = top["main_categories"].fillna("")
    top = top.sort_values(["gi_z", "count", "h3"], ascending=[False, False, True],
                          kind="stable").reset_index(drop=True)
    top["rank"] = np.arange(1, len(top) + 1)
    top = top[TOP_COLUMNS]

    new = both[is_hot & ~was_hot].sort_values(["gi_z", "h3"], ascending=[False, True])
    gone = both[~is_hot & was_hot]
    if len(gone_extra):
        gone = pd.concat([gone, gone_extra.rename(columns={"count": "count_last_week",
                                                            "gi_z": "gi_z_last_week"})
                          .assign(count=0, gi_z=np.nan)], ignore_index=True)
    gone = gone.sort_values(["gi_z_last_week", "h3"], ascending=[False, True])
    new = new[CHANGE_COLUMNS].reset_index(drop=True)
    gone = gone[CHANGE_COLUMNS].reset_index(drop=True)

    fringe = pd.DataFrame()
    try:
        from analytics.fringe import fringe_focus

        fringe = fringe_focus(conn, HotspotQuery(monday, sunday, RES, K, "complaints"),
                              min_bin=HOT_BIN).summary
    except ValueError as exc:  # no zones loaded
        notes.append(f"fringe: {exc}")

    bq = BacklogQuery(as_of, start, levels=("district", "street"))
    all_cases = prepare_cases(conn, bq, settings)  # one preparation for every T
    bres = compute_backlog(conn, bq, settings, cases=all_cases)
    bprev = compute_backlog(conn, BacklogQuery(start, start - dt.timedelta(days=7),
                                               levels=("district",)), settings, cases=all_cases)
    now_b, prev_b = bres.headline(), bprev.headline()
    b_cols = ["rank", "jurisdiction", "open", "overdue", "due_soon", "backlog_30d", "filed",
              "closure_rate", "on_time_rate", "on_time_rate_prev", "score", "grade"]

    def ranking(level: str) -> pd.DataFrame:
        t = bres.level(level, with_city=False)
        t = t.assign(_r=t["rank"].astype("float").fillna(np.inf))
        t = t.sort_values(["_r", "jurisdiction"], kind="stable")
        return t[b_cols].reset_index(drop=True)

    overdue = overdue_cases(conn, as_of, settings=settings, cases=all_cases)
    overdue = overdue.sort_values(["hours_overdue", "received_at", "kind", "case_id"],
                                  ascending=[False, True, True, True],
                                  kind="stable").reset_index(drop=True)

    this = now_counts | now_b | {"hot_cells": int(is_hot.sum())}
    last = prev_counts | prev_b | {"hot_cells": int((hot_prev.cells.gi_bin >= HOT_BIN).sum())}
    rows = []
    for key, label, kind in INDICATORS:
        a, b = this[key], last[key]
        pct = (a - b) / b if kind == "count" and b else None
        rows.append({"indicator": key, "label": label, "kind": kind, "this_week": a,
                     "last_week": b, "change": _change(a, b), "change_pct": pct})
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return Briefing(week=f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}",
                    monday=monday, sunday=sunday, prev_week=prev_week, as_of=as_of,
                    summary=summary, numbers={"this": this, "last": last},
                    top_hotspots=top, new_hotspots=new, gone_hotspots=gone, fringe=fringe,
                    backlog_district=ranking("district"), backlog_street=ranking("street"),
                    overdue=overdue, cells=both, has_data=has_data, notes=notes)


def summary_text(b: Briefing) -> str:
    """The summary paragraph, written from the numbers."""
    if not b.has_data:
        return (f"本周无数据：{b.monday:%Y年%m月%d日}至{b.sunday:%Y年%m月%d日}"
                "没有受理投诉，也没有巡查记录。请检查数据是否已导入。")
    t, last = b.numbers["this"], b.numbers["last"]

    def ring(key: str) -> str:
        a, p = t[key], last[key]
        if not p:
            return "上周无数据"
        pct = (a - p) / p * 100
        return "环比持平" if abs(pct) < 0.05 else f"环比{'上升' if pct > 0 else '下降'}{abs(pct):.1f}%"

    rate = t["on_time_rate"]
    rate_text = "无应结案件" if rate is None else f"{rate * 100:.1f}%"
    n_new, n_gone = len(b.new_hotspots), len(b.gone_hotspots)
    top = ""
    if len(b.top_hotspots):
        r = b.top_hotspots.iloc[0]
        top = (f"最突出的热点位于{r['district'] or '未知区县'}{r['street'] or ''}"
               f"（{int(r['count'])}件）。")
    return (f"本周共受理投诉{t['complaints']}件（{b.monday:%m月%d日}至{b.sunday:%m月%d日}），"
            f"{ring('complaints')}；开展巡查{t['inspections']}次，发现问题{t['problems']}处。"
            f"截至周日24时，未结案{t['open']}件，其中超期{t['overdue']}件；"
            f"本周按期结案率{rate_text}。识别热点网格{t['hot_cells']}个"
            f"（上周{last['hot_cells']}个），新增{n_new}个，消失{n_gone}个。{top}")

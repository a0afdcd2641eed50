"""积案督办 Backlog supervision (/backlog): indicators per jurisdiction with drill-down from
district to street, community and grid, the ranking, and the overdue cases of the unit.

Every number comes from :func:`analytics.backlog.compute_backlog` (one pass, every level)
and :func:`analytics.cases.overdue_cases`; this page lays them out. Names, descriptions and
addresses from the records are shown only through st.dataframe or escaped Markdown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from analytics.backlog import LEVELS, UNLOCATED, BacklogQuery, compute_backlog
from analytics.cases import CHILD_LEVEL, children_of, overdue_cases, select_children
from analytics.trend import change_pp, rate_change_text
from store.database import read_connection
from ui.common import (
    anchor,
    current_settings,
    data_as_of_note,
    dataframe,
    day_bounds,
    db_file,
    db_version,
    guard,
    tr,
)
from ui.downloads import to_csv_bytes, to_xlsx_bytes
from ui.escape import md_text
from ui.labels import source_labels

PATH_KEY = "backlog_path"
SOURCE_KEY = "backlog_source"
RATES = ("closure_rate", "on_time_rate", "rework_rate")
#: How many units the ranking chart shows at most.
CHART_TOP = 30


def level_name(level: str) -> str:
    return {"city": tr("全市", "City"), "district": tr("区县", "District"),
            "street": tr("街道", "Street"), "community": tr("社区", "Community"),
            "grid": tr("网格", "Grid")}[level]


def settings_key(settings) -> str:
    """A hashable digest of the settings, for the cache keys."""
    return json.dumps({k: settings[k] for k in settings}, sort_keys=True, default=str,
                      ensure_ascii=False)


@st.cache_data(show_spinner=False, max_entries=32)
def load_backlog(path: str, version, as_of: dt.datetime, start: dt.datetime, source: str,
                 skey: str, _settings) -> pd.DataFrame:
    """The backlog table of every level and the city row (cached per database version)."""
    with read_connection(path) as conn:
        res = compute_backlog(conn, BacklogQuery(as_of, start, levels=LEVELS, source=source),
                              _settings)
    return res.table


@st.cache_data(show_spinner=False, max_entries=64)
def load_children(path: str, version, level: str, jid: str | None,
                  name: str | None) -> pd.DataFrame:
    with read_connection(path) as conn:
        return children_of(conn, level, jid, name)


@st.cache_data(show_spinner=False, max_entries=32)
def load_overdue(path: str, version, as_of: dt.datetime, source: str, level: str | None,
                 jid: str | None, name: str | None, skey: str, _settings) -> pd.DataFrame:
    with read_connection(path) as conn:
        return overdue_cases(conn, as_of, level, jid, name, _settings, source=source)


def _path() -> list[dict]:
    path = st.session_state.get(PATH_KEY)
    if not isinstance(path, list):
        path = []
        st.session_state[PATH_KEY] = path
    return path


def _go_to(depth: int) -> None:
    st.session_state[PATH_KEY] = _path()[:depth]


def _push(unit: dict) -> None:
    st.session_state[PATH_KEY] = _path() + [unit]


def _unit_row(table: pd.DataFrame, unit: dict | None) -> pd.Series | None:
    if unit is None:
        rows = table[table.level == "city"]
    else:
        rows = table[table.level == unit["level"]]
        if unit["id"] is not None:
            rows = rows[rows.jurisdiction_id == unit["id"]]
        else:
            rows = rows[rows.jurisdiction_id.isna() & (rows.jurisdiction == unit["name"])]
    return rows.iloc[0] if len(rows) else None


def _pct(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.1%}"


def _display(rows: pd.DataFrame) -> pd.DataFrame:
    """The level's rows with the previous period's rates beside the rates."""
    out = pd.DataFrame({
        "rank": rows["rank"], "jurisdiction": rows["jurisdiction"], "grade": rows["grade"],
        "score": rows["score"].astype(float).round(1), "open": rows["open"],
        "overdue": rows["overdue"], "due_soon": rows["due_soon"],
        "backlog_30d": rows["backlog_30d"], "filed": rows["filed"],
    })
    for r in RATES:
        out[r] = rows[r].astype(float)
        out[r + "_change"] = [rate_change_text(a, b) for a, b in zip(rows[r], rows[r + "_prev"],
                                                            strict=True)]
    out["median_hours_to_close"] = rows["median_hours_to_close"].astype(float).round(1)
    return out.reset_index(drop=True)


def _column_config() -> dict:
    nc, tc = st.column_config.NumberColumn, st.column_config.TextColumn
    prev = tr("上期·环比(百分点)", "Previous · change (pp)")
    return {
        "rank": nc(tr("排名", "Rank"), format="%d"),
        "jurisdiction": tc(tr("区划", "Jurisdiction")),
        "grade": tc(tr("等级", "Grade")),
        "score": nc(tr("综合得分", "Score"), format="%.1f"),
        "open": nc(tr("未结案", "Open"), format="%d"),
        "overdue": nc(tr("超期未结", "Overdue"), format="%d"),
        "due_soon": nc(tr("即将超期", "Due soon"), format="%d"),
        "backlog_30d": nc(tr("积案(30天以上)", "Open > 30 days"), format="%d"),
        "filed": nc(tr("立案数", "Filed"), format="%d"),
        "closure_rate": nc(tr("结案率", "Closure rate"), format="percent"),
        "closure_rate_change": tc(prev),
        "on_time_rate": nc(tr("按期结案率", "On-time rate"), format="percent"),
        "on_time_rate_change": tc(prev),
        "rework_rate": nc(tr("返工率", "Rework rate"), format="percent"),
        "rework_rate_change": tc(prev),
        "median_hours_to_close": nc(tr("结案用时中位数(小时)", "Median hours to close"),
                                    format="%.1f"),
    }


def _case_config() -> dict:
    dc, tc, nc = (st.column_config.DatetimeColumn, st.column_config.TextColumn,
                  st.column_config.NumberColumn)
    return {
        "kind": tc(tr("类型", "Kind")), "case_id": tc(tr("编号", "Case")),
        "received_at": dc(tr("受理时间", "Received"), format="YYYY-MM-DD HH:mm"),
        "due_at": dc(tr("处置时限", "Due"), format="YYYY-MM-DD HH:mm"),
        "hours_overdue": nc(tr("超期小时数", "Hours overdue"), format="%.1f"),
        "category": tc(tr("问题大类", "Category")),
        "subcategory": tc(tr("问题小类", "Subcategory")),
        "description": tc(tr("问题描述", "Description")),
        "address": tc(tr("地址", "Address")), "status": tc(tr("状态", "Status")),
        "district": tc(tr("区县", "District")), "street": tc(tr("街道", "Street")),
        "community": tc(tr("社区", "Community")), "grid_id": tc(tr("网格", "Grid")),
    }


def _inputs() -> tuple[dt.datetime, dt.datetime, str] | None:
    day = anchor()
    data_as_of_note()
    lo, hi = day_bounds()
    c1, c2, c3 = st.columns([1, 1, 2])
    as_of_day = c1.date_input(tr("截至日期（当日24时）", "As of (end of day)"), value=day,
                              min_value=lo, max_value=hi,
                              key="backlog_as_of")
    as_of = dt.datetime.combine(as_of_day + dt.timedelta(days=1), dt.time())
    # the start's widget is keyed on the as-of day: a new as-of resets it to as-of − 7 days
    start_day = c2.date_input(tr("统计期起始", "Period from"),
                              value=max(lo, as_of_day - dt.timedelta(days=6)),
                              min_value=lo, max_value=hi,
                              key=f"backlog_start_{as_of_day.isoformat()}")
    labels = source_labels(("all", "complaints", "inspections"))
    source = c3.radio(tr("案件来源", "Cases from"), list(labels), format_func=labels.get,
                      horizontal=True, key=SOURCE_KEY)
    if start_day > as_of_day:
        st.warning(tr("统计期起始晚于截至日期，请重新选择。",
                      "The period starts after the as-of date; pick another start."))
        return None
    return as_of, dt.datetime.combine(start_day, dt.time()), source


def _breadcrumbs(path: list[dict]) -> None:
    crumbs = [(tr("全市", "Whole city"), 0)] + [
        (f"{level_name(u['level'])} · {md_text(u['name'])}", i + 1)
        for i, u in enumerate(path)]
    cols = st.columns(len(crumbs) + max(0, 6 - len(crumbs)))
    for (label, depth), col in zip(crumbs, cols, strict=False):
        last = depth == len(path)
        col.button(("» " if depth else "") + label, key=f"backlog_crumb_{depth}",
                   disabled=last, on_click=_go_to, args=(depth,),
                   type="secondary" if not last else "tertiary")


def _kpis(row: pd.Series | None, unit_label: str) -> None:
    st.subheader(tr("当前单位：", "Current unit: ") + md_text(unit_label))
    if row is None:
        st.info(tr("该单位在所选条件下没有案件。", "This unit has no case for these choices."))
        return
    c = st.columns(5)
    c[0].metric(tr("未结案", "Open"), f"{int(row['open']):,}")
    c[1].metric(tr("超期未结", "Overdue"), f"{int(row['overdue']):,}")
    c[2].metric(tr("即将超期(24小时内)", "Due within 24 h"), f"{int(row['due_soon']):,}")
    c[3].metric(tr("积案(30天以上)", "Open > 30 days"), f"{int(row['backlog_30d']):,}")
    rate, prev = row["on_time_rate"], row["on_time_rate_prev"]
    pp = change_pp(rate, prev)
    delta = None if pp is None else f"{pp:+.1f} " + tr("个百分点", "pp")
    c[4].metric(tr("按期结案率", "On-time rate"), _pct(rate), delta=delta,
                help=tr("与上一等长统计期相比（环比）", "Change versus the previous period"))


def _level_table(table: pd.DataFrame, unit: dict | None, version) -> None:
    level = "city" if unit is None else unit["level"]
    child = CHILD_LEVEL.get(level)
    if child is None:
        st.caption(tr("网格是最小管理单元，没有下一级。", "A grid is the smallest unit."))
        return
    rows = table[table.level == child]
    if unit is not None:
        kids = load_children(db_file(), version, level, unit["id"], unit["name"])
        rows = select_children(rows, kids)
    rows = rows.sort_values(["rank", "jurisdiction"], na_position="last",
                            kind="stable").reset_index(drop=True)
    st.subheader(tr(f"下一级：{level_name(child)}（{len(rows)} 个）",
                    f"One level down: {level_name(child)} ({len(rows)})"))
    if len(rows) == 0:
        st.info(tr("没有下一级单位的数据。", "No unit one level down has data."))
        return
    units = [{"level": child,
              "id": None if pd.isna(j) else str(j), "name": str(n)}
             for j, n in zip(rows.jurisdiction_id, rows.jurisdiction, strict=True)]
    drillable = [i for i, u in enumerate(units) if u["name"] != UNLOCATED or u["id"]]
    table_key = f"backlog_table_{len(_path())}_{level}_{unit['id'] if unit else 'city'}"

    def on_select() -> None:
        state = st.session_state.get(table_key) or {}
        selection = state.get("selection") or {} if isinstance(state, Mapping) else {}
        picked = list(selection.get("rows") or []) if isinstance(selection, Mapping) else []
        if picked and picked[0] in drillable:
            _push(units[picked[0]])

    dataframe(_display(rows), hide_index=True, column_config=_column_config(),
                 key=table_key, on_select=on_select, selection_mode="single-row")
    pick_key = f"backlog_pick_{table_key}"

    def on_pick() -> None:
        i = st.session_state.get(pick_key)
        if i is not None:
            st.session_state[pick_key] = None
            _push(units[i])

    st.selectbox(tr("下钻到", "Drill down to"), drillable, index=None,
                 format_func=lambda i: units[i]["name"], key=pick_key, on_change=on_pick,
                 placeholder=tr("选择一个单位（或在表中点选一行）",
                                "Pick a unit (or select a row in the table)"))
    metric = st.radio(tr("排名依据", "Rank by"), ["score", "overdue"], horizontal=True,
                      format_func=lambda m: {"score": tr("综合得分", "Score"),
                                             "overdue": tr("超期未结", "Overdue")}[m],
                      key="backlog_chart_metric")
    chart = rows[["jurisdiction", metric]].copy()
    chart[metric] = chart[metric].astype(float)
    chart = chart.dropna().sort_values(metric, ascending=(metric == "score"))
    chart = chart.head(CHART_TOP)
    label = {"score": tr("综合得分", "Score"), "overdue": tr("超期未结", "Overdue")}[metric]
    chart = chart.rename(columns={"jurisdiction": level_name(child), metric: label})
    if len(chart):
        st.caption(tr(f"排名图：{label}（最差的 {len(chart)} 个在前）",
                      f"Ranking: {label} (worst {len(chart)} first)"))
        st.bar_chart(chart, x=level_name(child), y=label, horizontal=True, sort=False)


def _cases(as_of: dt.datetime, source: str, unit: dict | None, unit_label: str, version,
           settings, skey: str) -> None:
    level = None if unit is None else unit["level"]
    jid = None if unit is None else unit["id"]
    name = None if unit is None or unit["id"] is not None else unit["name"]
    cases = load_overdue(db_file(), version, as_of, source, level, jid, name, skey, settings)
    st.subheader(tr(f"超期未结案件（{len(cases):,} 件，最久的在前）",
                    f"Overdue open cases ({len(cases):,}, most overdue first)"))
    if len(cases) == 0:
        st.success(tr("没有超期未结的案件。", "No case is overdue."))
        return
    dataframe(cases, hide_index=True, column_config=_case_config())
    stamp = f"{as_of - dt.timedelta(minutes=1):%Y%m%d}"
    stem = f"超期未结_{re.sub(r'[^0-9A-Za-z一-鿿]+', '_', unit_label)}_{stamp}"
    title = f"超期未结案件 · {unit_label} · 截至 {as_of:%Y-%m-%d %H:%M}"
    c1, c2 = st.columns(2)
    c1.download_button(tr("下载 Excel (XLSX)", "Download Excel (XLSX)"),
                       data=lambda: to_xlsx_bytes({"超期未结": cases}, title),
                       file_name=f"{stem}.xlsx", on_click="ignore", key="backlog_dl_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    c2.download_button(tr("下载 CSV", "Download CSV"), data=lambda: to_csv_bytes(cases),
                       file_name=f"{stem}.csv", mime="text/csv", on_click="ignore",
                       key="backlog_dl_csv")


def _page() -> None:
    st.title(tr("积案督办", "Backlog supervision"))
    got = _inputs()
    if got is None:
        return
    as_of, start, source = got
    settings = current_settings()
    skey = settings_key(settings)
    version = db_version()
    with st.spinner(tr("正在计算…", "Computing…")):
        table = load_backlog(db_file(), version, as_of, start, source, skey, settings)
    st.caption(tr(f"统计期 {start:%Y-%m-%d %H:%M} 至 {as_of:%Y-%m-%d %H:%M}；"
                  "环比与上一等长统计期相比。",
                  f"Period {start:%Y-%m-%d %H:%M} to {as_of:%Y-%m-%d %H:%M}; changes are "
                  "versus the previous period of the same length."))
    path = _path()
    # a unit the data no longer has (a new import) sends the view back up
    while path and _unit_row(table, path[-1]) is None and path[-1]["level"] in LEVELS:
        path = path[:-1]
        st.session_state[PATH_KEY] = path
    unit = path[-1] if path else None
    unit_label = tr("全市", "Whole city") if unit is None else unit["name"]
    _breadcrumbs(path)
    _kpis(_unit_row(table, unit), unit_label)
    _level_table(table, unit, version)
    _cases(as_of, source, unit, unit_label, version, settings, skey)


def render() -> None:
    """The page (app.py, /backlog)."""
    guard(_page)

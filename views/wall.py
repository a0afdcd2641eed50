"""指挥大屏 / Wall (/wall): the leaders' wall dashboard, dark, one screen, auto-refreshing.

Layout only: every number comes from :func:`analytics.wall.wall_numbers`. URL parameters:
``district`` (one district's view), ``refresh`` (seconds between data refreshes, default
60) and ``rotate`` (seconds: alternate between KPIs + map and rankings + lists). The data
parts run in an ``st.fragment(run_every=…)`` so a refresh redraws them without reloading
the page. Every value put into HTML goes through :func:`html.escape`; the one
``st.markdown`` that is not escaped holds only static CSS.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import time

import numpy as np
import pandas as pd
import streamlit as st

from analytics.wall import WallError, WallNumbers, arrow, is_stale, wall_numbers
from store.database import DatabaseBusyError, read_connection
from ui import webmap
from ui.common import current_settings, db_file, db_version, guard, language, today, tr

MAP_HEIGHT = 640  # px before the CSS below sizes the frame to the screen
MAX_MAP_CELLS = 6000
MIX_ROWS = 8
ROLL_VISIBLE = 10  # rows of the rolling list of overdue cases on screen at once
ROLL_SECONDS = 3  # seconds each row takes to pass
ROLL_ROW_VW = 1.5  # the rolling rows' height, in vw
#: The rankings-and-lists view of a rotation has the whole screen: larger type, more rows.
LISTS_ROLL_VISIBLE = 16
LISTS_ROW_VW = 2.6
LISTS_CSS = """
<style>
.wall-table {font-size: clamp(18px, 1.35vw, 52px) !important;}
.wall-table td, .wall-table th {padding: 0.35vw 0.4vw !important;}
.wall-roll td {padding-top: 0 !important; padding-bottom: 0 !important;}
.wall-box h3 {font-size: clamp(20px, 1.5vw, 58px) !important;}
.wall-bars {font-size: clamp(18px, 1.35vw, 52px); row-gap: 0.6vw;}
</style>
"""
DEFAULT_REFRESH = 60

#: Static CSS only (no data): dark theme, no toolbar / header / sidebar, compact tiles.
CSS = """
<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], footer {display: none !important;}
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: #0b1220 !important; color: #e6edf7 !important;}
html, body {overflow: hidden !important;}
/* no fading while a refresh runs: the screen changes only when the new numbers arrive */
[data-stale="true"], [data-stale="true"] * {opacity: 1 !important; transition: none !important;}
.block-container, [data-testid="stMainBlockContainer"] {
  padding: 0.6rem 1.2rem 0 1.2rem !important; max-width: 100% !important;}
[data-testid="stVerticalBlock"] {gap: 0.5rem;}
/* Streamlit pulls markdown up by 1rem for a paragraph margin the wall's HTML has not */
[data-testid="stMarkdownContainer"] {margin-bottom: 0 !important;}
.stApp h1, .stApp h2, .stApp h3, .stApp p, .stApp span, .stApp label {color: #e6edf7;}
[data-testid="stAlert"] > div {background: #8a1c1c !important;}
[data-testid="stAlert"] p {color: #ffffff !important; font-weight: 700;
  font-size: clamp(16px, 1vw, 40px) !important;}
.wall-table td, .wall-table th {border-left: none !important; border-right: none !important;
  border-top: none !important; border-bottom: 1px solid #24406e !important;}
.wall-title {display: flex; justify-content: space-between; align-items: baseline;}
.wall-title h1 {font-size: clamp(24px, 1.6vw, 60px) !important; margin: 0 !important;
  padding: 0 !important; line-height: 1.3 !important; color: #7fdbff !important;}
.wall-asof {font-size: clamp(14px, 0.9vw, 34px); color: #9fb3c8;}
.wall-tiles {display: grid; grid-template-columns: repeat(7, 1fr); gap: 0.6vw;}
.wall-tile {background: #13203a; border: 1px solid #24406e; border-radius: 8px;
  padding: 0.4vw 0.8vw;}
.wall-label {font-size: clamp(14px, 0.85vw, 34px); color: #9fb3c8;}
.wall-figure {font-size: clamp(48px, 3.4vw, 120px); font-weight: 700; line-height: 1.1;
  color: #ffffff;}
.wall-change {font-size: clamp(13px, 0.75vw, 30px); color: #9fb3c8;}
.wall-up {color: #ff6b6b;} .wall-down {color: #51cf66;}
.wall-box {background: #13203a; border: 1px solid #24406e; border-radius: 8px;
  padding: 0.4vw 0.6vw; overflow: hidden;}
.wall-box h3 {font-size: clamp(16px, 1vw, 40px) !important; margin: 0 0 0.3vw 0 !important;
  padding: 0 !important; color: #7fdbff !important;}
.wall-table {width: 100%; border-collapse: collapse; font-size: clamp(13px, 0.8vw, 32px);
  color: #e6edf7;}
.wall-table th {color: #9fb3c8; text-align: left; font-weight: 400;
  border-bottom: 1px solid #24406e;}
.wall-table td, .wall-table th {padding: 0.12vw 0.3vw; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; max-width: 14vw;}
.wall-stale {background: #c92a2a; color: #fff; font-weight: 700; border-radius: 6px;
  padding: 0.15vw 0.8vw; font-size: clamp(16px, 1vw, 40px);}
/* the map fills the screen below the tiles, whatever its size (both are 16:9 or close) */
[data-testid="stIFrame"] {height: calc(100vh - 9.2vw - 56px) !important;
  border: 1px solid #24406e; border-radius: 8px; background: #dcdcdc;}
.wall-bars {display: grid; grid-template-columns: max-content 1fr max-content;
  column-gap: 0.4vw; row-gap: 0.25vw; align-items: center;
  font-size: clamp(13px, 0.8vw, 32px);}
.wall-fixed {table-layout: fixed;}
.wall-roll {overflow: hidden;}
.wall-table {margin: 0 !important;}
.wall-roll td {height: var(--row); line-height: var(--row); padding-top: 0 !important;
  padding-bottom: 0 !important;}
.wall-roll table, .wall-roll tr, .wall-roll td {border: 0 !important;}
.wall-roll tr:nth-child(even) td {background: #172a4a;}
.wall-roll-body {animation: wall-roll linear infinite;}
@keyframes wall-roll {from {transform: translateY(0);} to {transform: translateY(-50%);}}
.wall-bar {height: 0.9em; background: #339af0; border-radius: 2px; min-width: 1px;}
.wall-bar-n {text-align: right; color: #e6edf7;}
</style>
"""


def now_local(refresh: int) -> tuple[dt.datetime, int]:
    """(now, refresh slot). The numbers are read afresh once per slot of ``refresh``
    seconds, as of the slot's start; with GRID_TODAY pinned, as of that day's end (the
    next midnight, the staff app's 当日24时), still re-read every slot."""
    slot = int(time.time() // max(1, refresh))
    if os.environ.get("GRID_TODAY"):
        return dt.datetime.combine(today() + dt.timedelta(days=1), dt.time()), slot
    return dt.datetime.fromtimestamp(slot * max(1, refresh)), slot


def _param_seconds(name: str, default: int | None) -> int | None:
    raw = st.query_params.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(float(str(raw)))
    except ValueError:
        return default
    return max(1, value)


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def _numbers(path: str, version, now: dt.datetime, district: str | None, settings_key,
             lang: str, slot: int):
    """The wall's numbers and its map page, read afresh once per refresh ``slot``."""
    settings = current_settings()  # settings_key: the cache key of their values
    with read_connection(path) as conn:
        n = wall_numbers(conn, now, district, settings)
        outlines = conn.execute("SELECT jurisdiction_id, name, geometry FROM jurisdictions "
                                "WHERE level = 'district' ORDER BY jurisdiction_id").df()
        fringe = conn.execute("SELECT zone_id, name, geometry FROM zones WHERE kind = 'fringe' "
                              "ORDER BY zone_id").df()
    # plain values in the cache: nothing in it depends on a class of this process's modules
    return n.as_dict(), _map_page(n, outlines, fringe, settings, lang)


def _map_page(n, outlines: pd.DataFrame, fringe: pd.DataFrame, settings, lang: str
              ) -> str | None:
    """The Gi* map as one HTML page (stable ids: unchanged data, unchanged page)."""
    cells = n.hot_cells_all
    if cells is None or not len(cells):
        return None
    cells = cells[(cells["gi_bin"] != 0) | (cells["count"] > 0)]
    if len(cells) > MAX_MAP_CELLS:
        cells = cells.assign(_s=(cells["gi_bin"] != 0).astype(int)).sort_values(
            ["_s", "count"], ascending=False).head(MAX_MAP_CELLS).drop(columns="_s")
    cells = cells.assign(value=cells["gi_bin"].astype(float))
    basemap = webmap.basemap_spec(settings["map.basemap"], settings["map.tianditu_key"])
    if n.district:
        shapes = outlines[(outlines["name"] == n.district)
                          | (outlines["jurisdiction_id"] == n.district)]
        bounds = webmap.bounds_of(shapes) if len(shapes) else webmap.core_bounds(cells)
    else:  # where the records are (the city's core), as the situation map opens
        bounds = webmap.core_bounds(cells) or webmap.bounds_of(outlines)
    m, legend = webmap.build_map(cells, "gi_bin", basemap=basemap, lang=lang,
                                 districts=outlines if len(outlines) else None,
                                 fringe=fringe if len(fringe) else None, res=9, bounds=bounds)
    webmap.add_page_html(m, MAP_CSS + _legend(legend, lang))
    return webmap.stable_ids(m).get_root().render()


#: Inside the map's frame (vw = the frame's width): no zoom buttons (nobody touches the
#: wall), a legend and scale that grow with the screen.
MAP_CSS = """<style>
.leaflet-control-zoom {display: none !important;}
.leaflet-control-scale-line {font-size: clamp(11px, 1vw, 28px) !important;}
.wall-legend {position: fixed; right: 0.8vw; top: 0.8vw; z-index: 1000;
  background: rgba(11, 18, 32, 0.85); color: #e6edf7; border-radius: 6px;
  padding: 0.5vw 0.8vw; font: clamp(14px, 1.6vw, 44px)/1.45 sans-serif;}
.wall-legend i {display: inline-block; width: 1.1em; height: 0.8em; margin-right: 0.4em;
  vertical-align: -0.05em; border: 1px solid rgba(255, 255, 255, 0.4);}
</style>"""


def _legend(legend: list[tuple[str, str]], lang: str) -> str:
    """The Gi* bins' colours and labels, and the fringe's dashed line, escaped."""
    rows = "".join(f'<div><i style="background:{html.escape(colour)}"></i>'
                   f"{html.escape(label)}</div>" for colour, label in legend)
    fringe = "城乡结合部" if lang == "zh" else "Urban-rural fringe"
    rows += (f'<div><i style="border:0;border-top:0.2em dashed #2f7d32;height:0"></i>'
             f"{html.escape(fringe)}</div>")
    return f'<div class="wall-legend">{rows}</div>'


def _e(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.strftime("%m-%d %H:%M")
    return html.escape(str(value))


def _clock(t: dt.datetime) -> str:
    """``MM-DD HH:MM``; a midnight as the end of the day before (``11-22 24:00``)."""
    if t.time() == dt.time():
        return html.escape(f"{t - dt.timedelta(days=1):%m-%d} 24:00")
    return _e(t)


def _rate(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def _tile(label: str, figure: str, now=None, before=None, shown_before: str | None = None,
          higher_is_bad: bool = True) -> str:
    change = ""
    if before is not None and now is not None:
        a = arrow(now, before)
        cls = ""
        if a in ("▲", "▼"):
            bad = (a == "▲") == higher_is_bad
            cls = "wall-up" if bad else "wall-down"
        change = (f'<div class="wall-change">{html.escape(tr("较上周同期", "vs last week"))} '
                  f'<span class="{cls}">{html.escape(a)}</span> '
                  f'{html.escape(shown_before if shown_before is not None else str(before))}</div>')
    else:
        change = '<div class="wall-change">&nbsp;</div>'
    return (f'<div class="wall-tile" data-testid="wall-tile"><div class="wall-label">'
            f'{html.escape(label)}</div><div class="wall-figure">{html.escape(figure)}</div>'
            f'{change}</div>')


def _table(title: str, df: pd.DataFrame, columns: dict[str, str]) -> str:
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in columns.values())
    rows = "".join("<tr>" + "".join(f"<td>{_e(r[c])}</td>" for c in columns) + "</tr>"
                   for _, r in df.iterrows())
    if not len(df):
        rows = f'<tr><td colspan="{len(columns)}">{html.escape(tr("无", "None"))}</td></tr>'
    return (f'<div class="wall-box"><h3>{html.escape(title)}</h3><table class="wall-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def _rolling_table(title: str, df: pd.DataFrame, columns: dict[str, str],
                   visible: int = ROLL_VISIBLE, seconds_per_row: float = ROLL_SECONDS,
                   row_vw: float = ROLL_ROW_VW) -> str:
    """A table showing ``visible`` rows at a time that scrolls through all of ``df`` and
    starts over (滚动列表), in CSS alone; a plain table when everything fits."""
    if len(df) <= visible:
        return _table(title, df, columns)
    width = f"{100 / len(columns):.4f}%"
    cols = "<colgroup>" + f'<col style="width:{width}">' * len(columns) + "</colgroup>"
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in columns.values())
    rows = "".join("<tr>" + "".join(f"<td>{_e(r[c])}</td>" for c in columns) + "</tr>"
                   for _, r in df.iterrows())
    return (f'<div class="wall-box"><h3>{html.escape(title)}</h3>'
            f'<table class="wall-table wall-fixed">{cols}<thead><tr>{head}</tr></thead></table>'
            f'<div class="wall-roll" style="height:{visible * row_vw:.2f}vw;--row:{row_vw}vw">'
            f'<table class="wall-table wall-fixed wall-roll-body" data-testid="wall-roll" '
            f'style="animation-duration:{len(df) * seconds_per_row:.0f}s">{cols}'
            f"<tbody>{rows}{rows}</tbody></table></div></div>")


def _kpis(n) -> None:
    tiles = [
        _tile(tr("今日受理", "Complaints today"), f"{n.complaints_today:,}",
              n.complaints_today, n.complaints_today_last_week),
        _tile(tr("本周受理", "This week"), f"{n.complaints_week:,}",
              n.complaints_week, n.complaints_week_last_week),
        _tile(tr("未结案", "Open"), f"{n.open:,}", n.open, n.open_last_week),
        _tile(tr("超期未结", "Overdue"), f"{n.overdue:,}", n.overdue, n.overdue_last_week),
        _tile(tr("按期结案率", "On-time rate"), _rate(n.on_time_rate), n.on_time_rate,
              n.on_time_rate_last_week, _rate(n.on_time_rate_last_week), higher_is_bad=False),
        _tile(tr("热点网格", "Hot cells"), f"{n.hot_cells:,}", n.hot_cells,
              n.hot_cells_last_week),
        _tile(tr("城乡结合部热点", "Fringe hot cells"), f"{n.hot_cells_fringe:,}",
              n.hot_cells_fringe, n.hot_cells_fringe_last_week),
    ]
    st.markdown(f'<div class="wall-tiles">{"".join(tiles)}</div>', unsafe_allow_html=True)


def _map(page: str | None) -> None:
    if page is None:
        st.info(tr("无热点数据", "No hotspot data"))
        return
    # the page is ours (escaped data, vendored Leaflet); CSS sizes the frame to the screen
    st.iframe(page, height=MAP_HEIGHT)


def _rankings(n, view: str) -> None:
    unit = tr("街道", "Street") if n.district else tr("区县", "District")
    hot = _table(tr("热点网格 TOP10（近7天）", "Top 10 hot cells (7 days)"), n.top_hotspots,
                 {"district": tr("区县", "District"), "street": tr("街道", "Street"),
                  "count": tr("件数", "Count")})
    units = _table(tr("超期未结最多 TOP5", "Most overdue, top 5"), n.overdue_units,
                   {"jurisdiction": unit, "overdue": tr("超期件数", "Overdue")})
    newest = n.newest_overdue.assign(
        hours=n.newest_overdue["hours_overdue"].map(lambda h: f"{h:.1f}"))
    big = {} if view == "all" else {"visible": LISTS_ROLL_VISIBLE, "row_vw": LISTS_ROW_VW}
    cases = _rolling_table(tr("最新超期案件", "Newest overdue cases"), newest,
                           {"received_at": tr("受理时间", "Received"),
                            "category": tr("类别", "Category"), "street": tr("街道", "Street"),
                            "hours": tr("超期(小时)", "Hours overdue")}, **big)
    if view == "all":
        c1, c2 = st.columns(2, gap="small")
        with c1:
            st.markdown(hot, unsafe_allow_html=True)
        with c2:
            st.markdown(units + _mix(n), unsafe_allow_html=True)
        st.markdown(cases, unsafe_allow_html=True)
    else:
        st.markdown(LISTS_CSS, unsafe_allow_html=True)  # static CSS, no data
        c1, c2, c3 = st.columns([4, 3, 5], gap="small")
        with c1:
            st.markdown(hot, unsafe_allow_html=True)
        with c2:
            st.markdown(units + _mix(n), unsafe_allow_html=True)
        with c3:
            st.markdown(cases, unsafe_allow_html=True)


def mix_rows(mix: pd.DataFrame, top: int = MIX_ROWS) -> pd.DataFrame:
    """The ``top - 1`` biggest categories and 其他 for the rest (or all when they fit)."""
    mix = mix.reset_index(drop=True)
    if len(mix) <= top:
        return mix
    rest = pd.DataFrame({"category": [tr("其他", "Other")],
                         "count": [int(mix["count"].iloc[top - 1:].sum())]})
    return pd.concat([mix.head(top - 1), rest], ignore_index=True)


def _mix(n) -> str:
    rows = mix_rows(n.category_mix)
    title = html.escape(tr("本周问题类别", "Categories this week"))
    if not len(rows):
        body = f'<div class="wall-label">{html.escape(tr("本周暂无投诉", "None this week yet"))}</div>'
        return f'<div class="wall-box"><h3>{title}</h3>{body}</div>'
    top = max(int(rows["count"].max()), 1)
    cells = "".join(
        f'<div>{_e(r.category)}</div><div><div class="wall-bar" '
        f'style="width:{100 * int(r.count) / top:.1f}%"></div></div>'
        f'<div class="wall-bar-n">{int(r.count):,}</div>' for r in rows.itertuples())
    return (f'<div class="wall-box"><h3>{title}</h3><div class="wall-bars" '
            f'data-testid="wall-mix">{cells}</div></div>')


def _header(n, district: str | None, stale_minutes: float, run: int, now: dt.datetime,
            held: bool = False) -> None:
    """Title, and at the right the time the data is as of; when that is older than
    ``stale_minutes`` at ``now``, a red warning in its place (same line: nothing moves
    down). ``held``: the numbers are an earlier refresh's (the database was busy)."""
    title = tr("城市网格化管理指挥大屏", "City grid management wall")
    if district:
        title += f" · {district}"
    as_of = _e(n.data_as_of)
    if held:
        right = ('<span class="wall-stale" data-testid="wall-stale">' + html.escape(tr(
            "数据库忙，显示的是 ", "Database busy: showing the numbers of "))
            + _clock(n.now) + html.escape(tr(" 的数据", "")) + "</span>")
    elif is_stale(n.data_as_of, now, stale_minutes):
        m = f"{stale_minutes:g}"
        right = ('<span class="wall-stale" data-testid="wall-stale">' + html.escape(tr(
            f"数据已超过 {m} 分钟未更新（数据截至 ", f"Data more than {m} minutes old (as of "))
            + as_of + html.escape(tr("），请检查数据导入", "): check the imports")) + "</span>")
    else:
        right = (f'<span class="wall-asof">{html.escape(tr("数据截至", "Data as of"))} {as_of}'
                 f' · {html.escape(tr("最近导入", "Last import"))} {_e(n.last_import_at)}'
                 f' · {html.escape(tr("刷新于", "Refreshed"))} {_clock(n.now)}</span>')
    st.markdown(f'<div class="wall-title" data-run="{int(run)}"><h1>{html.escape(title)}</h1>'
                f"{right}</div>", unsafe_allow_html=True)


def _body(district: str | None, view: str, refresh: int, run: int) -> None:
    settings = current_settings()
    now, slot = now_local(refresh)
    items = tuple(sorted((k, repr(settings[k])) for k in settings))
    try:
        values, page = _numbers(db_file(), db_version(), now, district, items, language(),
                                slot)
        n = WallNumbers(**values)
        st.session_state["wall_last"] = (district, n, page)
        held = False
    except WallError as exc:  # an unknown ?district=: say which ones there are
        st.error(str(exc))
        return
    except DatabaseBusyError:
        # an import held the file past the wait: keep the last screen rather than blank it,
        # and say so in the header
        last = st.session_state.get("wall_last")
        if last is None or last[0] != district:
            raise
        _, n, page = last
        held = True
    _header(n, district, settings["wall.stale_minutes"], run, now, held)
    if view in ("all", "kpis"):
        _kpis(n)
    if view == "all":
        left, right = st.columns([5, 4], gap="small")
        with left:
            _map(page)
        with right:
            _rankings(n, "all")
    elif view == "kpis":
        _map(page)
    else:
        _rankings(n, "lists")


def render() -> None:
    st.markdown(CSS, unsafe_allow_html=True)
    district = st.query_params.get("district") or None
    refresh = _param_seconds("refresh", DEFAULT_REFRESH)
    rotate = _param_seconds("rotate", None)
    every = min(refresh, rotate) if rotate else refresh
    per_view = max(1, round(rotate / every)) if rotate else 1

    @st.fragment(run_every=every)
    def live() -> None:
        runs = st.session_state.get("wall_runs", 0)
        st.session_state["wall_runs"] = runs + 1
        view = "all" if not rotate else ("kpis" if (runs // per_view) % 2 == 0 else "lists")
        guard(lambda: _body(district, view, refresh, runs))

    live()

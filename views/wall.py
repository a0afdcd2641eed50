"""指挥大屏 / Wall (/wall): the leaders' wall dashboard, dark, one screen, auto-refreshing.

Layout only: every number comes from :func:`analytics.wall.wall_numbers`, every piece of
HTML from :mod:`ui.wall_html` (values escaped there). URL parameters:
``district`` (one district's view), ``refresh`` (seconds between data refreshes, default
60) and ``rotate`` (seconds: alternate between KPIs + map and rankings + lists). The data
parts run in an ``st.fragment(run_every=…)`` so a refresh redraws them without reloading
the page.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pandas as pd
import streamlit as st

from analytics.lookups import jurisdiction_shapes, zone_shapes
from analytics.trend import RATE_TOLERANCE
from analytics.wall import WallError, WallNumbers, is_stale, wall_numbers
from store.clock import local_time
from store.database import DatabaseBusyError, read_connection
from ui import wall_html as wh
from ui import webmap
from ui.common import current_settings, db_file, db_version, guard, language, today, tr

MAP_HEIGHT = 640  # px before the wall's CSS sizes the frame to the screen
MAX_MAP_CELLS = 6000
DEFAULT_REFRESH = 60


def now_local(refresh: int) -> tuple[dt.datetime, int]:
    """(now, refresh slot). The numbers are read afresh once per slot of ``refresh``
    seconds, as of the slot's start in the city's local time; with GRID_TODAY pinned, as of that day's end (the
    next midnight, the staff app's 当日24时), still re-read every slot."""
    slot = int(time.time() // max(1, refresh))
    if os.environ.get("GRID_TODAY"):
        return dt.datetime.combine(today() + dt.timedelta(days=1), dt.time()), slot
    return local_time(slot * max(1, refresh)), slot


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
        outlines = jurisdiction_shapes(conn, "district")
        fringe = zone_shapes(conn, "fringe")
    page = _map_page(n, outlines, fringe, settings, lang)
    # plain values in the cache: nothing in it depends on a class of this process's modules;
    # not the study area's cells (tens of thousands of rows): the map page holds what it needs
    values = n.as_dict()
    values.pop("hot_cells_all")
    return values, page


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
    # every significant cell in view, no more: a district's rural hinterland would leave
    # its hot cells a few pixels wide; else where the records are; else the outlines
    shapes = outlines
    if n.district:
        shapes = outlines[(outlines["name"] == n.district)
                          | (outlines["jurisdiction_id"] == n.district)]
    significant = cells[cells["gi_bin"] != 0]
    bounds = ((webmap.bounds_of(cells=significant) if len(significant) else None)
              or webmap.core_bounds(cells) or webmap.bounds_of(shapes))
    m, legend = webmap.build_map(cells, "gi_bin", basemap=basemap, lang=lang,
                                 districts=outlines if len(outlines) else None,
                                 fringe=fringe if len(fringe) else None, res=9, bounds=bounds)
    webmap.add_page_html(m, wh.MAP_CSS + wh.legend_html(legend, lang))
    return webmap.stable_ids(m).get_root().render()


def _kpis(n) -> None:
    tiles = [
        wh.tile(tr("今日受理", "Complaints today"), f"{n.complaints_today:,}",
                n.complaints_today, n.complaints_today_last_week),
        wh.tile(tr("本周受理", "This week"), f"{n.complaints_week:,}",
                n.complaints_week, n.complaints_week_last_week),
        wh.tile(tr("未结案", "Open"), f"{n.open:,}", n.open, n.open_last_week),
        wh.tile(tr("超期未结", "Overdue"), f"{n.overdue:,}", n.overdue, n.overdue_last_week),
        wh.tile(tr("按期结案率", "On-time rate"), wh.rate(n.on_time_rate), n.on_time_rate,
                n.on_time_rate_last_week, wh.rate(n.on_time_rate_last_week),
                higher_is_bad=False, tolerance=RATE_TOLERANCE),
        wh.tile(tr("热点网格", "Hot cells"), f"{n.hot_cells:,}", n.hot_cells,
                n.hot_cells_last_week),
        wh.tile(tr("城乡结合部热点", "Fringe hot cells"), f"{n.hot_cells_fringe:,}",
                n.hot_cells_fringe, n.hot_cells_fringe_last_week),
    ]
    st.markdown(f'<div class="wall-tiles">{"".join(tiles)}</div>', unsafe_allow_html=True)


def _map(page: str | None) -> None:
    if page is None:
        st.info(tr("无热点数据", "No hotspot data"))
        return
    # the page is ours (escaped data, vendored Leaflet); the CSS sizes the frame to the screen
    st.iframe(page, height=MAP_HEIGHT)


def _rankings(n, view: str) -> None:
    unit = tr("街道", "Street") if n.district else tr("区县", "District")
    hot = wh.table_html(tr("热点网格 TOP10（近7天）", "Top 10 hot cells (7 days)"),
                        n.top_hotspots,
                        {"district": tr("区县", "District"), "street": tr("街道", "Street"),
                         "count": tr("件数", "Count")})
    units = wh.table_html(tr("超期未结最多 TOP5", "Most overdue, top 5"), n.overdue_units,
                          {"jurisdiction": unit, "overdue": tr("超期件数", "Overdue")})
    newest = n.newest_overdue.assign(
        hours=n.newest_overdue["hours_overdue"].map(lambda h: f"{h:.1f}"))
    big = {} if view == "all" else {"visible": wh.LISTS_ROLL_VISIBLE, "row_vw": wh.LISTS_ROW_VW}
    cases = wh.rolling_table(tr("最新超期案件", "Newest overdue cases"), newest,
                             {"received_at": tr("受理时间", "Received"),
                              "category": tr("类别", "Category"),
                              "street": tr("街道", "Street"),
                              "hours": tr("超期(小时)", "Hours overdue")},
                             year=n.now.year, **big)
    if view == "all":
        c1, c2 = st.columns(2, gap="small")
        with c1:
            st.markdown(hot, unsafe_allow_html=True)
        with c2:
            st.markdown(units + wh.mix_bars(n.category_mix), unsafe_allow_html=True)
        st.markdown(cases, unsafe_allow_html=True)
    else:
        st.markdown(wh.LISTS_CSS, unsafe_allow_html=True)  # static CSS, no data
        c1, c2, c3 = st.columns([4, 3, 5], gap="small")
        with c1:
            st.markdown(hot, unsafe_allow_html=True)
        with c2:
            st.markdown(units + wh.mix_bars(n.category_mix), unsafe_allow_html=True)
        with c3:
            st.markdown(cases, unsafe_allow_html=True)


def _header(n: WallNumbers, district: str | None, stale_minutes: float, run: int,
            now: dt.datetime, held: bool = False) -> None:
    title = tr("城市网格化管理指挥大屏", "City grid management wall")
    if district:
        title += f" · {district}"
    stale = is_stale(n.data_as_of, now, stale_minutes)
    st.markdown(wh.header_html(title, run, data_as_of=n.data_as_of,
                               last_import_at=n.last_import_at, refreshed=n.now,
                               stale_minutes=stale_minutes if stale else None, held=held),
                unsafe_allow_html=True)


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
    st.markdown(wh.CSS, unsafe_allow_html=True)
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

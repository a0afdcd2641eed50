"""态势地图 / Situation map: where problems concentrate, on an offline Leaflet map.

Layout only: every number comes from :mod:`analytics.celldetail` (cells, values, KPIs,
the clicked cell's detail) and the map from :mod:`ui.webmap`. The heavy work is cached
with ``st.cache_data`` keyed on the database version and the filter values; the folium map
itself is rebuilt from the cached frames on each run (folium objects are not cached).

A click on a cell (or on an inspection point) selects the cell: its detail shows in the
side panel and its id goes into the URL (``/map?cell=<h3>``), so a link opens the page on
that cell. Untrusted text (descriptions, addresses, names) is shown with
:func:`ui.escape.md_text`, which makes it plain text for Streamlit's Markdown tables.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analytics.celldetail import (
    MODES,
    busy_cells,
    cell_detail,
    cell_layer,
    layer_kpis,
    parse_cell,
)
from analytics.hotspots import HotspotQuery
from analytics.lookups import (
    filter_choices,
    inspection_points,
    jurisdiction_shapes,
    zone_shapes,
)
from analytics.studyarea import RESOLUTIONS
from grids import h3cells
from store.database import read_connection
from ui import webmap
from ui.common import (
    LANGUAGES,
    current_settings,
    db_file,
    db_version,
    guard,
    language,
    period_filter,
    tr,
)
from ui.escape import md_text
from ui.labels import source_labels
from ui.notes import note_text

MAP_KEY = "situation_map"
MAP_HEIGHT = 640


def _plain_table(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The columns renamed for the screen, every cell made literal text."""
    out = pd.DataFrame({label: df[col].map(md_text) if df[col].dtype == object
                        or str(df[col].dtype).startswith(("str", "datetime"))
                        else df[col] for col, label in columns.items()})
    return out.reset_index(drop=True)


# --- cached loaders ---------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=4)
def _choices(path: str, version) -> dict:
    """Categories per source, districts, streets, zone kinds and point types in the data."""
    with read_connection(path) as conn:
        return filter_choices(conn)


@st.cache_data(show_spinner=False, max_entries=24)
def _map_data(path: str, version, start: dt.date, end: dt.date, res: int, source: str,
              categories: tuple, district: str | None, street: str | None, zone: str | None,
              mode: str, max_cells: int) -> dict:
    """The fitted cells to draw and the KPIs at the drawn resolution."""
    layers = {}

    def query(r: int) -> HotspotQuery:
        return HotspotQuery(start, end, res=r, source=source, categories=list(categories),
                            district=district, zone=zone)

    def layer_at(r: int) -> pd.DataFrame:
        layers[r] = cell_layer(conn, query(r), mode, street=street)
        return layers[r].cells

    with read_connection(path) as conn:
        busy = None if street else (lambda r: busy_cells(conn, query(r)))
        fit = webmap.fit_cells(layer_at, res, max_cells, busy_at=busy)
    layer = layers[fit.res]
    return {"fit": fit, "kpis": layer_kpis(layer.cells, layer.n_records), "note": layer.note}


@st.cache_data(show_spinner=False, max_entries=16)
def _shapes(path: str, version, level: str, parent: str | None) -> pd.DataFrame:
    """Jurisdiction outlines of a level (the children of ``parent``, a name, when given)."""
    with read_connection(path) as conn:
        return jurisdiction_shapes(conn, level, parent=parent)


@st.cache_data(show_spinner=False, max_entries=8)
def _named_shape(path: str, version, level: str, name: str) -> pd.DataFrame:
    with read_connection(path) as conn:
        return jurisdiction_shapes(conn, level, name=name)


@st.cache_data(show_spinner=False, max_entries=8)
def _zones(path: str, version, kind: str) -> pd.DataFrame:
    with read_connection(path) as conn:
        return zone_shapes(conn, kind)


@st.cache_data(show_spinner=False, max_entries=8)
def _points(path: str, version, types: tuple, district: str | None,
            street: str | None) -> pd.DataFrame:
    with read_connection(path) as conn:
        return inspection_points(conn, types, district=district, street=street)


@st.cache_data(show_spinner=False, max_entries=32)
def _detail(path: str, version, h3_hex: str, start: dt.date, end: dt.date, source: str,
            categories: tuple):
    with read_connection(path) as conn:
        return cell_detail(conn, h3_hex, start, end, source, list(categories))


# --- labels -----------------------------------------------------------------------------

def _mode_labels() -> dict[str, str]:
    return {"count": tr("件数", "Records"),
            "density": tr("密度（件/平方公里）", "Density (per km²)"),
            "gi_bin": tr("热点分析（Gi*）", "Hot spots (Gi*)"),
            "emerging": tr("时空热点模式（近12周）", "Emerging pattern (12 weeks)")}


def _status_labels() -> dict[str, str]:
    return {"open": tr("办理中", "Open"), "closed": tr("已办结", "Closed"),
            "void": tr("作废", "Void"), "rectified": tr("已整改", "Rectified")}


def _zone_label(kind: str) -> str:
    return tr("城乡结合部", "Urban-rural fringe") if kind == "fringe" else kind


# --- the selected cell --------------------------------------------------------------------

def _cell_from_click(value: dict | None, res: int, display_crs: str) -> str | None:
    """The cell of a map click: the clicked feature's h3, else the cell under the click."""
    if not isinstance(value, dict):
        return None
    drawing = value.get("last_active_drawing") or {}
    props = drawing.get("properties") if isinstance(drawing, dict) else None
    if isinstance(props, dict) and props.get("h3"):
        try:
            parse_cell(props["h3"])
            return str(props["h3"]).lower()
        except ValueError:
            pass
    point = value.get("last_object_clicked")
    if isinstance(point, dict) and point.get("lat") is not None and point.get("lng") is not None:
        lon, lat = webmap.from_display([float(point["lng"])], [float(point["lat"])], display_crs)
        cell = h3cells.lonlat_to_cells(lon, lat, res)
        if cell[0]:
            return h3cells.cells_to_hex(cell)[0]
    return None


def _selected_cell() -> str | None:
    """Follow a new click on the map (read before the map is drawn) and the URL's ?cell=."""
    value = st.session_state.get(MAP_KEY)
    seen = json.dumps(value, sort_keys=True, default=str)
    if value and seen != st.session_state.get("map_seen_click"):
        st.session_state["map_seen_click"] = seen
        cell = _cell_from_click(value, st.session_state.get("map_drawn_res", 9),
                                st.session_state.get("map_display_crs", "wgs84"))
        if cell:
            st.session_state["map_cell"] = cell
            st.query_params["cell"] = cell
    url_cell = st.query_params.get("cell")
    if url_cell and url_cell != st.session_state.get("map_cell"):
        st.session_state["map_cell"] = url_cell
    cell = st.session_state.get("map_cell")
    if not cell:
        return None
    try:
        parse_cell(cell)
    except ValueError:
        st.warning(tr("网址中的单元编号无效：", "The cell id in the address is not valid: ")
                   + md_text(str(cell)[:40]))
        _clear_selection()
        return None
    return str(cell).lower()


def _clear_selection() -> None:
    st.session_state.pop("map_cell", None)
    if "cell" in st.query_params:
        del st.query_params["cell"]


# --- the page -------------------------------------------------------------------------------

def _lang_key(base: str) -> str:
    """A selectbox key per language, the choice carried over from the other language.

    A keyed selectbox keeps showing its choice's label in the language it was made in;
    a new key per language redraws it, with the same choice.
    """
    key = f"{base}__{language()}"
    if key not in st.session_state:
        for other in LANGUAGES:
            old = st.session_state.get(f"{base}__{other}")
            if old is not None:
                st.session_state[key] = old
                break
    return key


def _sidebar(choices: dict):
    """The filters; returns them as a dict."""
    sb = st.sidebar
    period = period_filter("map")
    sources = source_labels()
    source = sb.selectbox(tr("数据来源", "Source"), list(sources), format_func=sources.get,
                          key=_lang_key("map_source"))
    categories = sb.multiselect(tr("问题类别", "Categories"), choices["categories"][source],
                                key=f"map_categories_{source}",
                                placeholder=tr("全部类别", "All categories"))
    everywhere = tr("全市", "Whole city")
    district = sb.selectbox(tr("区县", "District"), [""] + choices["districts"],
                            format_func=lambda v: v or everywhere, key=_lang_key("map_district"))
    street = ""
    if district:
        street = sb.selectbox(tr("街道", "Street"), [""] + choices["streets"].get(district, []),
                              format_func=lambda v: v or tr("全部街道", "All streets"),
                              key=_lang_key(f"map_street_{district}"))
    zone = sb.selectbox(tr("片区", "Zone"), [""] + choices["zones"],
                        format_func=lambda v: _zone_label(v) if v else tr("不限", "Any"),
                        key=_lang_key("map_zone"))
    res = sb.select_slider(tr("网格分辨率（H3）", "Cell resolution (H3)"), RESOLUTIONS, value=9,
                           key="map_res",
                           help=tr("7 约 5 平方公里，8 约 0.7，9 约 0.1，10 约 0.015 平方公里",
                                   "7 ≈ 5 km², 8 ≈ 0.7, 9 ≈ 0.1, 10 ≈ 0.015 km² per cell"))
    modes = _mode_labels()
    mode = sb.radio(tr("图层", "Layer"), list(MODES), format_func=modes.get, key="map_mode")
    sb.markdown(f"**{tr('叠加图层', 'Overlays')}**")
    outlines = sb.checkbox(tr("行政区划边界", "Jurisdiction outlines"), value=True,
                           key="map_outlines")
    fringe = False
    if "fringe" in choices["zones"]:
        fringe = sb.checkbox(tr("城乡结合部范围", "Urban-rural fringe"), value=True,
                             key="map_fringe")
    show_points = sb.checkbox(tr("考察点位", "Inspection points"), value=False,
                              key="map_points")
    types: list[str] = []
    if show_points:
        types = sb.multiselect(tr("点位类型", "Point types"), choices["point_types"],
                               default=choices["point_types"], key="map_point_types")
    return {"period": period, "source": source, "categories": tuple(categories),
            "district": district or None, "street": street or None, "zone": zone or None,
            "res": int(res), "mode": mode, "outlines": outlines, "fringe": fringe,
            "types": tuple(types)}


def _kpi_tiles(kpis: dict, drawn: int, res: int) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("期间记录数", "Records in period"), f"{kpis['records']:,}")
    c2.metric(tr("热点单元（Gi* ≥ 95%）", "Hot cells (gi_bin ≥ 2)"), f"{kpis['hot_cells']:,}",
              help=tr(f"分辨率 {res} 下 gi_bin ≥ 2 的单元数", f"cells with gi_bin ≥ 2 at resolution {res}"))
    c3.metric(tr("地图显示单元", "Cells drawn"), f"{drawn:,}")
    c4.metric(tr("城乡结合部热点单元", "Fringe hot cells"), f"{kpis['fringe_hot_cells']:,}")


def _legend(legend: list[tuple[str, str]], title: str,
            points: dict[str, str] | None = None) -> None:
    def chip(colour: str, label: str, round_: bool = False) -> str:
        radius = "50%" if round_ else "2px"
        return (f'<span style="display:inline-block;margin:0 14px 4px 0;white-space:nowrap">'
                f'<span style="display:inline-block;width:14px;height:14px;vertical-align:-2px;'
                f'margin-right:5px;border:1px solid #999;border-radius:{radius};'
                f'background:{html.escape(colour)}"></span>{md_text(label)}</span>')
    parts = [f"<b>{md_text(title)}</b>：" + "".join(chip(c, lab) for c, lab in legend)]
    if points:
        parts.append(f"<b>{md_text(tr('考察点位', 'Inspection points'))}</b>：" +
                     "".join(chip(c, t, True) for t, c in points.items()))
    st.markdown("<br>".join(parts), unsafe_allow_html=True)


def _detail_panel(selected: str | None, f: dict) -> None:
    st.subheader(tr("单元详情", "Cell detail"))
    if not selected:
        st.info(tr("在地图上点击一个网格单元（六边形）或考察点位，这里显示该单元的问题类别、近12周趋势、"
                   "最新记录和所属区县、街道、社区、网格。左侧可按时间、来源、类别、区县和片区筛选。",
                   "Click a cell (hexagon) or an inspection point on the map to see here its "
                   "categories, the trend of the last 12 weeks, the latest records and its "
                   "district, street, community and grid. Filter by period, source, category, "
                   "district and zone on the left."))
        return
    p = f["period"]
    d = _detail(db_file(), db_version(), selected, p.start, p.end, f["source"], f["categories"])
    st.markdown(f"`{d.h3}` · {tr('分辨率', 'resolution')} {d.res} · {d.area_km2:.3f} km²")
    j = d.jurisdiction
    where = pd.DataFrame({
        tr("层级", "Level"): [tr("区县", "District"), tr("街道", "Street"),
                              tr("社区", "Community"), tr("网格", "Grid")],
        tr("名称", "Name"): [md_text(j.get(k)) or "—" for k in
                             ("district", "street", "community", "grid_id")]})
    st.table(where, hide_index=True)
    if j.get("located_by") == "centre":
        st.caption(tr("本单元无记录，归属按单元中心点所在区划。",
                      "No records in this cell: jurisdiction of the cell centre."))
    st.metric(tr("期间记录数", "Records in period"), f"{d.n_records:,}")
    if len(d.by_category):
        st.markdown(f"**{tr('问题类别', 'Categories')}**")
        labels = source_labels()
        by_cat = d.by_category.assign(source=d.by_category["source"].map(labels))
        st.table(_plain_table(by_cat, {"source": tr("来源", "Source"),
                                       "category": tr("类别", "Category"),
                                       "subcategory": tr("小类", "Subcategory"),
                                       "count": tr("件数", "Records")}), hide_index=True)
    st.markdown(f"**{tr('近12周趋势', 'Last 12 weeks')}**")
    st.bar_chart(d.weekly.set_index("week")["count"], height=180,
                 x_label=tr("ISO 周", "ISO week"), y_label=tr("件数", "Records"))
    if len(d.latest):
        st.markdown(f"**{tr('最新记录', 'Latest records')}**")
        statuses = _status_labels()
        latest = d.latest.assign(status=d.latest["status"].map(lambda v: statuses.get(v, v)))
        st.table(_plain_table(latest, {"received_at": tr("时间", "Time"),
                                         "category": tr("类别", "Category"),
                                         "subcategory": tr("小类", "Subcategory"),
                                         "description": tr("描述", "Description"),
                                         "address": tr("地址", "Address"),
                                         "status": tr("状态", "Status")}), hide_index=True)
    if len(d.points):
        st.markdown(f"**{tr('单元内考察点位', 'Inspection points in the cell')}**")
        st.table(_plain_table(d.points, {"point_id": tr("编号", "Id"), "name": tr("名称", "Name"),
                                         "point_type": tr("类型", "Type")}), hide_index=True)
    st.button(tr("取消选择", "Clear selection"), on_click=_clear_selection, key="map_clear")


def _body() -> None:
    st.title(tr("态势地图", "Situation map"))
    path, version = db_file(), db_version()
    choices = _choices(path, version)
    f = _sidebar(choices)
    p = f["period"]
    lang = language()
    settings = current_settings()
    basemap = webmap.basemap_spec(settings["map.basemap"], settings["map.tianditu_key"])
    if basemap.warning:
        st.warning(tr("底图设置无法使用：", "The basemap setting cannot be used: ")
                   + md_text(basemap.warning))
    data = _map_data(path, version, p.start, p.end, f["res"], f["source"], f["categories"],
                     f["district"], f["street"], f["zone"], f["mode"], webmap.MAX_CELLS)
    fit = data["fit"]
    st.caption(tr(f"{p.start} 至 {p.end} · {source_labels()[f['source']]} · 分辨率 {fit.res}",
                  f"{p.start} to {p.end} · {source_labels()[f['source']]} · resolution {fit.res}"))
    _kpi_tiles(data["kpis"], len(fit.cells), fit.res)
    if fit.coarsened or fit.truncated:
        reason = tr(f"分辨率 {fit.requested_res} 下需要显示的单元过多（超过 {fit.max_cells:,} 个），"
                    f"地图改用分辨率 {fit.res}。可选择区县或街道后再看更细的网格。",
                    f"Too many cells to draw at resolution {fit.requested_res} (more than "
                    f"{fit.max_cells:,}); the map uses resolution {fit.res}. Choose a district "
                    "or street to see finer cells.")
        if fit.truncated:
            reason += tr(f"仍只显示记录最多的 {fit.max_cells:,} 个单元。",
                         f" Still only the {fit.max_cells:,} busiest cells are drawn.")
        st.info(reason)
    elif fit.dropped_empty:
        st.caption(tr(f"全区域共 {fit.total:,} 个单元；为控制地图大小，只显示有记录或统计显著的单元。",
                      f"{fit.total:,} cells in the area; to keep the map light only cells with "
                      "records or a significant pattern are drawn."))
    if data["note"]:
        st.caption(tr("说明：", "Note: ") + md_text(note_text(data["note"])))
    if f["mode"] == "emerging":
        st.caption(tr(f"时空热点模式：截至 {p.end} 所在周的 12 个 ISO 周。",
                      f"Emerging patterns: the 12 ISO weeks ending with the week of {p.end}."))

    selected = _selected_cell()
    districts = streets = communities = fringe = None
    if f["outlines"]:
        districts = _shapes(path, version, "district", None)
        streets = _shapes(path, version, "street", f["district"])
        if f["street"]:
            communities = _shapes(path, version, "community", f["street"])
    if f["fringe"]:
        fringe = _zones(path, version, "fringe")
    points = palette = None
    if f["types"]:
        points = _points(path, version, f["types"], f["district"], f["street"])
        palette = webmap.point_colours(choices["point_types"])
        palette = {t: palette[t] for t in f["types"]}
    if f["street"]:
        bounds = webmap.bounds_of(_named_shape(path, version, "street", f["street"]))
    elif f["zone"]:
        bounds = webmap.bounds_of(_zones(path, version, f["zone"]))
    elif f["district"]:
        bounds = webmap.bounds_of(_named_shape(path, version, "district", f["district"]))
    else:
        bounds = webmap.core_bounds(fit.cells)
    m, legend = webmap.build_map(fit.cells, f["mode"], basemap=basemap, lang=lang,
                                 districts=districts, streets=streets, communities=communities,
                                 fringe=fringe, points=points, point_palette=palette,
                                 res=fit.res, bounds=bounds)
    st.session_state["map_drawn_res"] = fit.res
    st.session_state["map_display_crs"] = m.display_crs

    left, right = st.columns([3, 2], gap="medium")
    with left:
        highlight = webmap.selection_layer(selected, m.display_crs, lang) if selected else None
        st_folium(m, key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True,
                  returned_objects=["last_object_clicked", "last_active_drawing"],
                  feature_group_to_add=highlight, render=False)
        _legend(legend, _mode_labels()[f["mode"]], palette)
    with right:
        _detail_panel(selected, f)


def render() -> None:
    """The page (app.py shows it at / and /map)."""
    guard(_body)

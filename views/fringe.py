"""城乡结合部 Urban-rural fringe (/fringe): how much more the problems concentrate in the
fringe, its hot cells, its category mix against the rest of the city, and the complaint
hotspots no inspection reaches.

Numbers come from :func:`analytics.fringe.fringe_focus`, :func:`analytics.cases.category_mix`
and :func:`analytics.blindspots.find_blindspots`; this page lays them out.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.blindspots import find_blindspots
from analytics.cases import category_mix
from analytics.fringe import fringe_focus
from analytics.hotspots import HotspotQuery
from analytics.lookups import zone_kinds
from analytics.studyarea import RESOLUTIONS, StudyAreaError
from store.database import read_connection
from ui.common import (
    dataframe,
    db_file,
    db_version,
    guard,
    period_filter,
    tr,
)
from ui.downloads import to_xlsx_bytes
from ui.escape import md_text
from ui.labels import source_labels
from ui.notes import note_text

FRINGE = "fringe"
#: Resolution of the cells by default (about 10 ha, the city-wide map's).
DEFAULT_RES = 9


def zone_label(kind: str) -> str:
    return tr("城乡结合部", "Urban-rural fringe") if kind == FRINGE else kind


@st.cache_data(show_spinner=False, max_entries=16)
def load_kinds(path: str, version) -> list[str]:
    with read_connection(path) as conn:
        kinds = zone_kinds(conn)
    return sorted(kinds, key=lambda k: (k != FRINGE, k))


@st.cache_data(show_spinner=False, max_entries=16)
def load_focus(path: str, version, start: dt.date, end: dt.date, res: int, source: str,
               kind: str) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    with read_connection(path) as conn:
        f = fringe_focus(conn, HotspotQuery(start, end, res, source=source), kinds=[kind])
    return f.summary, f.ranked, f.note


@st.cache_data(show_spinner=False, max_entries=16)
def load_mix(path: str, version, start: dt.date, end: dt.date, kind: str) -> pd.DataFrame:
    with read_connection(path) as conn:
        return category_mix(conn, start, end, kind)


@st.cache_data(show_spinner=False, max_entries=16)
def load_blindspots(path: str, version, start: dt.date, end: dt.date,
                    res: int) -> pd.DataFrame:
    with read_connection(path) as conn:
        return find_blindspots(conn, HotspotQuery(start, end, res, source="complaints"))


def _num(v, fmt: str) -> str:
    return "—" if v is None or pd.isna(v) else format(float(v), fmt)


def _summary_table(row: pd.Series) -> pd.DataFrame:
    """Inside vs outside, one line per measure, as text: counts without decimals, areas and
    densities with two."""
    inside, outside = tr("区内", "Inside"), tr("区外", "Outside")
    count, two = ",.0f", ",.2f"
    lines = [
        (tr("面积(km²)", "Area (km²)"), row.area_in_km2, row.area_out_km2, two),
        (tr("件数", "Records"), row.records_in, row.records_out, count),
        (tr("每平方公里件数", "Records per km²"), row.per_km2_in, row.per_km2_out, two),
        (tr("网格数", "Cells"), row.cells_in, row.cells_total - row.cells_in, count),
        (tr("热点网格数", "Hot cells"), row.hot_cells_in,
         row.hot_cells_total - row.hot_cells_in, count),
    ]
    return pd.DataFrame([(m, _num(a, f), _num(b, f)) for m, a, b, f in lines],
                        columns=[tr("指标", "Measure"), inside, outside])


def _cell_columns(count_label: str) -> dict:
    """Headers and formats of the hot-cell columns both cell tables show."""
    nc, tc = st.column_config.NumberColumn, st.column_config.TextColumn
    return {"district": tc(tr("区县", "District")), "street": tc(tr("街道", "Street")),
            "count": nc(count_label, format="%d"),
            "gi_z": nc(tr("Gi* z值", "Gi* z"), format="%.2f"),
            "gi_bin": nc(tr("热点等级", "Bin"), format="%d"), "h3": tc("H3"),
            "lon": nc(tr("经度", "Lon"), format="%.5f"),
            "lat": nc(tr("纬度", "Lat"), format="%.5f")}


def _focus(start: dt.date, end: dt.date, res: int, source: str, kind: str,
           version) -> pd.DataFrame:
    summary, ranked, note = load_focus(db_file(), version, start, end, res, source, kind)
    row = summary.iloc[0]
    name = md_text(zone_label(kind))
    st.subheader(tr(f"{name}与其他区域对比", f"{name} versus the rest of the city"))
    c = st.columns(5)
    c[0].metric(tr("区内每平方公里件数", "Records per km² inside"), _num(row.per_km2_in, ".2f"))
    c[1].metric(tr("区外每平方公里件数", "Records per km² outside"),
                _num(row.per_km2_out, ".2f"))
    c[2].metric(tr("密度比(区内/区外)", "Density ratio (in/out)"),
                _num(row.density_ratio, ".2f"),
                help=tr("区内每平方公里件数除以区外每平方公里件数",
                        "Records per km² inside divided by records per km² outside"))
    c[3].metric(tr("热点网格落在区内的占比", "Share of hot cells inside"),
                _num(row.hot_share_in, ".1%"),
                help=tr(f"热点网格 {row.hot_cells_in} / {row.hot_cells_total} 个（Gi* 热点等级≥2）",
                        f"{row.hot_cells_in} of {row.hot_cells_total} hot cells (Gi* bin ≥ 2)"))
    c[4].metric(tr("区内网格占全部网格的比例", "Share of cells inside"),
                _num(row.cell_share_in, ".1%"),
                help=tr("若问题均匀分布，热点落在区内的占比应接近这个比例",
                        "The share of hot cells it would hold by chance"))
    if note:
        st.caption(note_text(note))
    dataframe(_summary_table(row), hide_index=True, key="fringe_summary")
    st.subheader(tr(f"{name}内的热点网格（{len(ranked)} 个，按 Gi* z 值排序）",
                    f"Hot cells in the {name} ({len(ranked)}, by Gi* z)"))
    if len(ranked) == 0:
        st.info(tr("所选时段内区内没有显著热点网格。",
                    "No significant hot cell inside for this period."))
    else:
        config = _cell_columns(tr("件数", "Records")) | {
            "rank": st.column_config.NumberColumn(tr("排名", "Rank"), format="%d")}
        dataframe(ranked[["rank", "district", "street", "count", "gi_z", "gi_bin", "h3",
                          "lon", "lat"]], hide_index=True, key="fringe_ranked",
                  column_config=config)
    return ranked


def _mix(start: dt.date, end: dt.date, kind: str, version) -> pd.DataFrame:
    mix = load_mix(db_file(), version, start, end, kind)
    st.subheader(tr("投诉类别构成：区内与区外", "Complaint categories: inside versus outside"))
    if len(mix) == 0:
        st.info(tr("所选时段内没有投诉。", "No complaint in this period."))
        return mix
    inside, outside = tr("区内", "Inside"), tr("区外", "Outside")
    cat, share, where = tr("类别", "Category"), tr("占比", "Share"), tr("范围", "Where")
    long = pd.concat([
        pd.DataFrame({cat: mix.category, where: inside, share: mix.share_in.astype(float)}),
        pd.DataFrame({cat: mix.category, where: outside, share: mix.share_out.astype(float)}),
    ], ignore_index=True).fillna({share: 0.0})
    st.bar_chart(long, x=cat, y=share, color=where, stack=False, sort=False)
    nc = st.column_config.NumberColumn
    dataframe(mix, hide_index=True, key="fringe_mix", column_config={
        "category": st.column_config.TextColumn(cat),
        "count_in": nc(tr("区内件数", "Inside"), format="%d"),
        "count_out": nc(tr("区外件数", "Outside"), format="%d"),
        "share_in": nc(tr("区内占比", "Share inside"), format="percent"),
        "share_out": nc(tr("区外占比", "Share outside"), format="percent"),
        "share_diff": nc(tr("占比差(区内−区外)", "Difference (in − out)"), format="percent")})
    return mix


def _blindspots(start: dt.date, end: dt.date, res: int, version) -> pd.DataFrame:
    blind = load_blindspots(db_file(), version, start, end, res)
    st.subheader(tr(f"巡查盲区：没有点位和督查覆盖的投诉热点（{len(blind)} 个）",
                    f"Blind spots: complaint hotspots no inspection reaches ({len(blind)})"))
    if len(blind) == 0:
        st.success(tr("所选时段内没有巡查盲区。", "No blind spot in this period."))
        return blind
    only = st.checkbox(tr("只看城乡结合部内的", "Only those in the fringe"), key="fringe_blind_only")
    shown = blind[blind.in_fringe.astype(bool)] if only else blind
    nc, tc = st.column_config.NumberColumn, st.column_config.TextColumn
    config = _cell_columns(tr("投诉件数", "Complaints")) | {
        "in_fringe": st.column_config.CheckboxColumn(tr("位于城乡结合部", "In the fringe")),
        "nearest_point_name": tc(tr("最近点位", "Nearest point")),
        "nearest_point_type": tc(tr("点位类型", "Point type")),
        "nearest_point_m": nc(tr("距离(米)", "Distance (m)"), format="%.0f")}
    dataframe(shown[["district", "street", "count", "gi_z", "gi_bin", "in_fringe",
                     "nearest_point_name", "nearest_point_type", "nearest_point_m", "h3",
                     "lon", "lat"]], hide_index=True, key="fringe_blind",
              column_config=config)
    return blind


def _page() -> None:
    st.title(tr("城乡结合部", "Urban-rural fringe"))
    period = period_filter("fringe")
    start, end = period.start, period.end
    version = db_version()
    kinds = load_kinds(db_file(), version)
    c1, c2, c3 = st.columns([1, 2, 1])
    res = c1.selectbox(tr("网格分辨率 (H3)", "Cell resolution (H3)"), list(RESOLUTIONS),
                       index=list(RESOLUTIONS).index(DEFAULT_RES), key="fringe_res",
                       help=tr("9 级约 10 公顷，10 级约 1.5 公顷（接近万米单元网格）",
                               "9 ≈ 10 ha, 10 ≈ 1.5 ha (close to a unit grid)"))
    labels = source_labels()
    source = c2.radio(tr("统计对象", "Count"), list(labels), format_func=labels.get,
                      horizontal=True, key="fringe_source")
    kind = FRINGE
    if len(kinds) > 1 or (kinds and FRINGE not in kinds):
        kind = c3.selectbox(tr("区域类型", "Zone kind"), kinds, format_func=zone_label,
                            key="fringe_kind")
    st.caption(tr(f"时段：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（{period.label}）",
                  f"Period: {start:%Y-%m-%d} to {end:%Y-%m-%d} ({period.label})"))
    frames: dict[str, pd.DataFrame] = {}
    if kind not in kinds:
        st.info(tr("还没有加载城乡结合部范围。请在命令行运行 `python cli.py derive-fringe --core "
                   "核心区.geojson`（由建成区外扩一条带），或 `python cli.py load-zones 文件 --kind "
                   "fringe`（导入本市划定的范围），然后刷新本页。下方的巡查盲区不依赖该范围。",
                   "No urban-rural fringe is loaded yet. Run `python cli.py derive-fringe "
                   "--core core.geojson` (a band outside the built-up core) or `python cli.py "
                   "load-zones FILE --kind fringe` (the city's own polygons), then refresh. "
                   "The blind spots below do not need it."))
    else:
        try:
            frames[tr("区内热点", "Hot cells")] = _focus(start, end, res, source, kind, version)
            frames[tr("类别构成", "Categories")] = _mix(start, end, kind, version)
        except StudyAreaError as exc:
            st.warning(str(exc))
    try:
        frames[tr("巡查盲区", "Blind spots")] = _blindspots(start, end, res, version)
    except StudyAreaError as exc:
        st.warning(str(exc))
    if any(len(f) for f in frames.values()):
        title = f"{zone_label(kind)} {start:%Y-%m-%d}—{end:%Y-%m-%d}"
        st.download_button(tr("下载本页表格 (XLSX)", "Download the tables (XLSX)"),
                           data=lambda: to_xlsx_bytes(frames, title),
                           file_name=f"城乡结合部_{start:%Y%m%d}_{end:%Y%m%d}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet", on_click="ignore", key="fringe_dl")


def render() -> None:
    """The page (app.py, /fringe)."""
    guard(_page)

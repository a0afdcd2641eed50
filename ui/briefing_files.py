"""The weekly briefing files: XLSX, DOCX, PNG map and GeoJSON (docs/briefing.md).

:func:`export_weekly` writes, for ISO week ``YYYY-Www``, into ``out_dir``:

* ``briefing_YYYY-Www.xlsx``: one sheet per table, Chinese headers, frozen header rows;
* ``briefing_YYYY-Www.docx``: title, summary paragraph, key tables, the map;
* ``briefing_YYYY-Www_map.png``: about 1600×1200, drawn with matplotlib (no tile server);
* ``briefing_YYYY-Www_hotspots.geojson``: the week's hot cells (gi_bin ≥ 2), WGS-84.

The XLSX and GeoJSON are byte-identical for the same database and week (fixed document
times derived from the week, fixed zip times, sorted tables); the DOCX has the same text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.briefing import Briefing, summary_text, weekly_briefing
from ui.downloads import HEADERS_ZH, is_percent_column, write_frame

EXTRA_HEADERS = {
    "main_categories": "主要问题类别", "count_last_week": "上周件数", "change": "较上周变化",
    "gi_z_last_week": "上周Gi* z值", "kind": "类型", "area_in_km2": "区内面积(km²)",
    "area_out_km2": "区外面积(km²)", "records_in": "区内件数", "records_out": "区外件数",
    "per_km2_in": "区内每平方公里件数", "per_km2_out": "区外每平方公里件数",
    "density_ratio": "密度比(内/外)", "cells_in": "区内网格数", "cells_total": "网格总数",
    "hot_cells_in": "区内热点网格", "hot_cells_total": "热点网格总数",
    "hot_share_in": "热点位于区内占比", "cell_share_in": "网格位于区内占比",
}
HEADERS = HEADERS_ZH | EXTRA_HEADERS
BIN_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf",
               -3: "#2166ac"}
BIN_LABELS = {3: "热点（99%置信）", 2: "热点（95%置信）", 1: "热点（90%置信）",
              -1: "冷点（90%置信）", -2: "冷点（95%置信）", -3: "冷点（99%置信）"}


class FontMissingError(ValueError):
    """No CJK font: the map's Chinese text would be empty boxes."""


def _fixed_time(b: Briefing) -> dt.datetime:
    """Document time of the briefing: the Monday 00:00 after the week (never 'now')."""
    return b.as_of


def file_names(week: str) -> dict[str, str]:
    stem = f"briefing_{week}"
    return {"xlsx": f"{stem}.xlsx", "docx": f"{stem}.docx", "png": f"{stem}_map.png",
            "geojson": f"{stem}_hotspots.geojson"}


# ------------------------------------------------------------------ XLSX
def _sheets(b: Briefing) -> list[tuple[str, pd.DataFrame]]:
    fringe = b.fringe
    return [("热点网格", b.top_hotspots), ("新增热点", b.new_hotspots),
            ("消失热点", b.gone_hotspots), ("城乡结合部", fringe),
            ("区县积案排名", b.backlog_district), ("街道积案排名", b.backlog_street),
            ("超期案件清单", b.overdue)]


def write_xlsx(b: Briefing, path: str | Path) -> Path:
    """The workbook: 汇总 then one sheet per table, a title row, frozen headers; the tables'
    formula-like text is written as quote-prefixed text (:func:`ui.downloads.write_frame`)."""
    import xlsxwriter

    p = Path(path)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False,
                                   "nan_inf_to_errors": False})
    wb.set_properties({"title": b.title, "author": "grid-management analytics",
                       "created": _fixed_time(b)})
    f_title = wb.add_format({"bold": True, "font_size": 14})
    f_head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                            "text_wrap": True, "valign": "vcenter"})
    f_int = wb.add_format({"num_format": "#,##0"})
    f_sint = wb.add_format({"num_format": "+#,##0;-#,##0;0"})
    f_pct = wb.add_format({"num_format": "0.0%"})
    f_spct = wb.add_format({"num_format": "+0.0%;-0.0%;0.0%"})
    f_pp = wb.add_format({"num_format": '+0.0" 个百分点";-0.0" 个百分点";0.0'})
    f_float = wb.add_format({"num_format": "0.00"})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    f_text = wb.add_format({"quote_prefix": True})

    # summary sheet
    ws = wb.add_worksheet("汇总")
    ws.write_string(0, 0, b.title, f_title)
    ws.write_string(1, 0, f"统计周期 {b.monday:%Y-%m-%d} 至 {b.sunday:%Y-%m-%d}（对比上周 "
                    f"{b.prev_week}）；积案截至 {b.as_of:%Y-%m-%d %H:%M}")
    heads = ["指标", "本周", "上周", "变化", "环比"]
    for j, h in enumerate(heads):
        ws.write_string(2, j, h, f_head)
    for i, r in enumerate(b.summary.itertuples(index=False), start=3):
        ws.write_string(i, 0, r.label)
        rate = r.kind == "rate"
        for j, v in ((1, r.this_week), (2, r.last_week)):
            if v is not None and not pd.isna(v):
                ws.write_number(i, j, float(v) if rate else int(v), f_pct if rate else f_int)
        if r.change is not None and not pd.isna(r.change):
            if rate:
                ws.write_number(i, 3, float(r.change) * 100, f_pp)
            else:
                ws.write_number(i, 3, int(r.change), f_sint)
        if r.change_pct is not None and not pd.isna(r.change_pct):
            ws.write_number(i, 4, float(r.change_pct), f_spct)
    ws.write_string(3 + len(b.summary) + 1, 0, summary_text(b))
    ws.set_column(0, 0, 18)
    ws.set_column(1, 4, 14)
    ws.freeze_panes(3, 0)

    used = {"汇总"}
    for name, df in _sheets(b):
        ws = wb.add_worksheet(name)
        used.add(name)
        ws.write_string(0, 0, f"{b.title} · {name}", f_title)
        if df is None or df.empty:
            ws.write_string(1, 0, "本周无数据" if not b.has_data else "（无）")
            if df is None or not len(df.columns):
                continue
        write_frame(ws, df, [HEADERS.get(str(c), str(c)) for c in df.columns], 2,
                    {"head": f_head, "date": f_date, "pct": f_pct, "float": f_float,
                     "int": f_int, "text": f_text}, max_width=50, column_formats={"change": f_sint},
                    bool_labels=("是", "否"))
    wb.close()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(buf.getvalue())
    return p


# ------------------------------------------------------------------ PNG
def _require_font() -> str:
    from ui.fonts import INSTALL_HINT, cjk_font_name

    font = cjk_font_name()
    if not font:
        raise FontMissingError(f"no CJK font for the briefing map's Chinese text: {INSTALL_HINT}")
    return font


def _nice_km(span_km: float) -> float:
    target = span_km / 5
    for v in (1, 2, 5, 10, 20, 25, 50, 100, 200):
        if v >= target:
            return float(v)
    return 500.0


def _rings(geom) -> list[np.ndarray]:
    """The outer rings of a (multi)polygon's parts, as (lon, lat) arrays for ``ax.plot``."""
    import shapely

    return [np.asarray(part.exterior.coords) for part in shapely.get_parts(geom)
            if part.geom_type == "Polygon"]


def write_png(b: Briefing, conn, path: str | Path, width_px: int = 1600,
              height_px: int = 1200) -> Path:
    """The map: district outlines and names, hot and cold bins, fringe, legend, scale bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from analytics.lookups import jurisdiction_shapes, zone_shapes
    from grids.h3cells import cells_to_polygons

    font = _require_font()
    plt.rcParams["font.family"] = [font]
    plt.rcParams["axes.unicode_minus"] = False
    districts = jurisdiction_shapes(conn, "district")
    zones = zone_shapes(conn, "fringe")
    dpi = 100
    fig, ax = plt.subplots(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    ax.set_facecolor("#f4f6f8")
    sig = b.cells[b.cells.gi_bin != 0].sort_values("h3")
    if len(sig):
        polys = cells_to_polygons(sig["cell"].to_numpy(np.uint64))
        verts = [np.asarray(p.exterior.coords) for p in polys]
        colours = [BIN_COLOURS[int(v)] for v in sig["gi_bin"]]
        ax.add_collection(PolyCollection(verts, facecolors=colours, edgecolors=colours,
                                         linewidths=0.3, zorder=2))
    for g in shapely.from_wkt(zones["geometry"].to_numpy(dtype=object)) if len(zones) else []:
        for ring in _rings(g):
            ax.plot(ring[:, 0], ring[:, 1], color="#2e7d32", lw=1.6, ls="--", zorder=3)
    geoms = (shapely.from_wkt(districts["geometry"].to_numpy(dtype=object))
             if len(districts) else [])
    for name, g in zip(districts["name"], geoms, strict=True):
        for ring in _rings(g):
            ax.plot(ring[:, 0], ring[:, 1], color="#37474f", lw=1.0, zorder=4)
        c = g.representative_point()
        ax.text(c.x, c.y, name, ha="center", va="center", fontsize=14, color="#263238",
                zorder=5, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                "alpha": 0.75})
    if len(geoms):
        bb = shapely.bounds(np.asarray(geoms))
        x0, x1 = bb[:, 0].min() - 0.03, bb[:, 2].max() + 0.03
        y0, y1 = bb[:, 1].min() - 0.03, bb[:, 3].max() + 0.03
    else:
        x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    mid = math.radians((y0 + y1) / 2)
    ax.set_aspect(1 / max(math.cos(mid), 1e-6))
    # scale bar, lower left
    km_per_deg = 111.32 * math.cos(mid)
    bar_km = _nice_km((x1 - x0) * km_per_deg)
    bx, by = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    bar_deg = bar_km / km_per_deg
    ax.plot([bx, bx + bar_deg], [by, by], color="black", lw=4, solid_capstyle="butt", zorder=6)
    ax.plot([bx, bx + bar_deg / 2], [by, by], color="white", lw=2, solid_capstyle="butt",
            zorder=7)
    ax.text(bx + bar_deg / 2, by + (y1 - y0) * 0.015, f"{bar_km:g} 公里", ha="center",
            va="bottom", fontsize=12, zorder=7)
    ax.annotate("北 N", xy=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.05),
                xytext=(x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.13), ha="center",
                fontsize=12, arrowprops={"arrowstyle": "-|>", "color": "black"})
    handles = [Patch(facecolor=BIN_COLOURS[k], edgecolor="none", label=BIN_LABELS[k])
               for k in (3, 2, 1, -1, -2, -3)]
    handles += [Line2D([], [], color="#2e7d32", ls="--", lw=1.6, label="城乡结合部"),
                Line2D([], [], color="#37474f", lw=1.0, label="区县界线")]
    ax.legend(handles=handles, loc="lower right", fontsize=11, title="Gi* 热点等级",
              title_fontsize=12, framealpha=0.9)
    t = b.numbers["this"]
    ax.set_title(f"{b.title}\n投诉热点分布（{b.monday:%Y-%m-%d}至{b.sunday:%Y-%m-%d}，"
                 f"投诉{t['complaints']}件，热点网格{t['hot_cells']}个）"
                 + ("——本周无数据" if not b.has_data else ""), fontsize=16)
    ax.set_xlabel("经度（WGS-84）")
    ax.set_ylabel("纬度")
    fig.subplots_adjust(left=0.06, right=0.98, top=0.92, bottom=0.06)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, format="png", metadata={"Software": None})
    plt.close(fig)
    return p


# ------------------------------------------------------------------ GeoJSON
def write_geojson(b: Briefing, path: str | Path) -> Path:
    """The week's hot cells (gi_bin ≥ 2) as H3 polygons, WGS-84, sorted by cell."""
    from analytics.outputs import write_table

    cols = ["h3", "count", "count_last_week", "change", "gi_z", "p_value", "gi_bin",
            "district", "street", "in_fringe", "lon", "lat"]
    hot = b.cells[b.cells.gi_bin >= 2].sort_values("h3")[cols].reset_index(drop=True)
    hot = hot.assign(week=b.week)
    return write_table(hot, path, cell_column="h3")


# ------------------------------------------------------------------ DOCX
def _docx_table(doc, df: pd.DataFrame, columns: list[str], limit: int | None = None) -> None:
    rows = df[columns].head(limit) if limit else df[columns]
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for j, c in enumerate(columns):
        table.rows[0].cells[j].text = HEADERS.get(c, c)
    for r in rows.itertuples(index=False):
        cells = table.add_row().cells
        for j, (c, v) in enumerate(zip(columns, r, strict=True)):
            cells[j].text = _fmt(c, v)


def _fmt(col: str, v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    if is_percent_column(col):
        return f"{float(v) * 100:.1f}%"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.2f}"
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d %H:%M}"
    return str(v)


def write_docx(b: Briefing, path: str | Path, png: str | Path | None = None) -> Path:
    """The Word document (opens in Word and WPS): title, summary, key tables, map."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    props = doc.core_properties
    props.title = b.title
    props.author = "grid-management analytics"
    props.created = props.modified = _fixed_time(b)
    props.last_printed = _fixed_time(b)
    props.revision = 1
    head = doc.add_heading(b.title, level=0)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"统计周期：{b.monday:%Y年%m月%d日}至{b.sunday:%Y年%m月%d日}"
                      f"（对比上周 {b.prev_week}）")
    doc.add_heading("一、总体情况", level=1)
    doc.add_paragraph(summary_text(b))
    s = b.summary.copy()
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for j, h in enumerate(["指标", "本周", "上周", "变化", "环比"]):
        table.rows[0].cells[j].text = h
    for r in s.itertuples(index=False):
        rate = r.kind == "rate"
        c = table.add_row().cells
        c[0].text = r.label

        def num(v, rate=rate):
            if v is None or pd.isna(v):
                return ""
            return f"{float(v) * 100:.1f}%" if rate else f"{int(v):,}"

        c[1].text, c[2].text = num(r.this_week), num(r.last_week)
        if r.change is None or pd.isna(r.change):
            c[3].text = ""
        elif rate:
            c[3].text = f"{float(r.change) * 100:+.1f} 个百分点"
        else:
            c[3].text = f"{int(r.change):+,}"
        c[4].text = "" if r.change_pct is None or pd.isna(r.change_pct) else \
            f"{float(r.change_pct) * 100:+.1f}%"
    doc.add_heading("二、热点分布", level=1)
    if png and Path(png).exists():
        doc.add_picture(str(png), width=Cm(16))
        doc.add_paragraph("图1 本周投诉热点分布（Getis–Ord Gi*，H3 第9级网格）")
    if len(b.top_hotspots):
        doc.add_paragraph(f"本周热点网格前{min(10, len(b.top_hotspots))}位：")
        _docx_table(doc, b.top_hotspots, ["rank", "district", "street", "count", "gi_z",
                                          "main_categories", "change", "in_fringe"], 10)
    else:
        doc.add_paragraph("本周无热点网格。" if b.has_data else "本周无数据。")
    doc.add_paragraph(f"新增热点网格{len(b.new_hotspots)}个，消失热点网格{len(b.gone_hotspots)}个"
                      "（明细见 Excel 附表）。")
    doc.add_heading("三、积案督办", level=1)
    _docx_table(doc, b.backlog_district, ["rank", "jurisdiction", "open", "overdue",
                                          "on_time_rate", "grade"])
    doc.add_paragraph(f"超期未结案件共{len(b.overdue)}件，清单见 Excel 附表“超期案件清单”。")
    if len(b.fringe):
        f = b.fringe.iloc[0]
        doc.add_heading("四、城乡结合部", level=1)
        dr = f["density_ratio"]
        doc.add_paragraph(
            f"城乡结合部内受理投诉{int(f['records_in'])}件，热点网格{int(f['hot_cells_in'])}个"
            f"（占全部热点的{_fmt('hot_share_in', f['hot_share_in']) or '—'}），"
            f"单位面积投诉量为区外的{'—' if pd.isna(dr) else f'{dr:.1f}'}倍。")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(p))
    return p


# ------------------------------------------------------------------ all
def export_weekly(db, week: str, out_dir: str | Path, *, settings=None,
                  today: dt.date | None = None) -> list[Path]:
    """Write the four briefing files of ISO ``week`` into ``out_dir``; return their paths."""
    from analytics.briefing import parse_iso_week
    from store.database import read_connection

    parse_iso_week(week, today)  # a bad week fails before anything is read or written
    _require_font()
    out = Path(out_dir)
    names = file_names(week)
    with read_connection(db) as conn:
        b = weekly_briefing(conn, week, settings, today=today)
        out.mkdir(parents=True, exist_ok=True)
        png = write_png(b, conn, out / names["png"])
    xlsx = write_xlsx(b, out / names["xlsx"])
    geo = write_geojson(b, out / names["geojson"])
    docx = write_docx(b, out / names["docx"], png)
    return [xlsx, docx, png, geo]

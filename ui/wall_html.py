"""The wall screen's HTML (docs/wall.md): CSS, KPI tiles, tables, the rolling list, the
category bars and the map legend, built as strings with every value escaped.

Pure functions of their arguments, testable without a running app; :mod:`views.wall` puts
them on the page. Sizes are in ``vw`` (clamped), so a 3840×2160 screen shows the layout of
a 1920×1080 one at twice the size.
"""

from __future__ import annotations

import datetime as dt
import html

import numpy as np
import pandas as pd

from analytics.trend import arrow
from ui.common import tr

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
.wall-bars, .wall-box .wall-label {font-size: clamp(18px, 1.35vw, 52px); row-gap: 0.6vw;}
</style>
"""
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


#: Inside the map's frame (vw = the frame's width): no zoom buttons (nobody touches the
#: wall), a legend and scale that grow with the screen.
MAP_CSS = """<style>
.leaflet-control-zoom {display: none !important;}
.leaflet-control-scale-line {font-size: clamp(11px, 1vw, 28px) !important;}
.wall-legend {position: fixed; right: 0.8vw; top: 0.8vw; z-index: 1000;
  background: rgba(11, 18, 32, 0.94); color: #e6edf7; border-radius: 6px;
  padding: 0.5vw 0.8vw; font: clamp(14px, 1.6vw, 44px)/1.45 sans-serif;}
.wall-legend i {display: inline-block; width: 1.1em; height: 0.8em; margin-right: 0.4em;
  vertical-align: -0.05em; border: 1px solid rgba(255, 255, 255, 0.4);}
</style>"""


def legend_html(legend: list[tuple[str, str]], lang: str) -> str:
    """The Gi* bins' colours and labels, and the fringe's dashed line, escaped."""
    rows = "".join(f'<div><i style="background:{html.escape(colour)}"></i>'
                   f"{html.escape(label)}</div>" for colour, label in legend)
    fringe = "城乡结合部" if lang == "zh" else "Urban-rural fringe"
    rows += (f'<div><i style="border:0;border-top:0.2em dashed #2f7d32;height:0"></i>'
             f"{html.escape(fringe)}</div>")
    return f'<div class="wall-legend">{rows}</div>'


def escape_value(value: object, year: int | None = None) -> str:
    """A table cell's text, escaped: ``—`` for a missing value; a time as ``MM-DD HH:MM``
    when it falls in ``year`` (the current one), else ``YYYY-MM-DD HH:MM``."""
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.strftime("%m-%d %H:%M" if value.year == year else "%Y-%m-%d %H:%M")
    return html.escape(str(value))


def clock(t: dt.datetime | None, year: int | None = None) -> str:
    """As :func:`escape_value`; a midnight as the end of the day before (``11-22 24:00``)."""
    if t is not None and not pd.isna(t) and t.time() == dt.time():
        day = t - dt.timedelta(days=1)
        return html.escape(f"{day:%m-%d} 24:00" if day.year == year else f"{day:%Y-%m-%d} 24:00")
    return escape_value(t, year)


def rate(x: float | None) -> str:
    """A rate as ``83.6%``; ``—`` when there is none."""
    return "—" if x is None or pd.isna(x) else f"{x:.1%}"


def tile(label: str, figure: str, now: float | None = None, before: float | None = None,
         shown_before: str | None = None, higher_is_bad: bool = True,
         tolerance: float = 0.0) -> str:
    """A KPI tile: label, figure and, when ``before`` is given, the arrow against last
    week (red when worse, green when better; :func:`analytics.trend.arrow`, changes within
    ``tolerance`` read as unchanged) and last week's value."""
    if before is not None and now is not None:
        a = arrow(now, before, tolerance)
        cls = ""
        if a in ("▲", "▼"):
            cls = "wall-up" if (a == "▲") == higher_is_bad else "wall-down"
        shown = shown_before if shown_before is not None else (
            f"{before:,}" if float(before).is_integer() else str(before))
        change = (f'<div class="wall-change">{html.escape(tr("较上周同期", "vs last week"))} '
                  f'<span class="{cls}">{html.escape(a)}</span> {html.escape(shown)}</div>')
    else:
        change = '<div class="wall-change">&nbsp;</div>'
    return (f'<div class="wall-tile" data-testid="wall-tile"><div class="wall-label">'
            f'{html.escape(label)}</div><div class="wall-figure">{html.escape(figure)}</div>'
            f"{change}</div>")


def _head_and_rows(df: pd.DataFrame, columns: dict[str, str],
                   year: int | None) -> tuple[str, str]:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    rows = "".join("<tr>" + "".join(f"<td>{escape_value(r[c], year)}</td>" for c in columns)
                   + "</tr>" for _, r in df.iterrows())
    return head, rows


def table_html(title: str, df: pd.DataFrame, columns: dict[str, str],
               year: int | None = None) -> str:
    """A titled box with ``df``'s ``columns`` (column → header) as a table; times in
    ``year`` without their year (:func:`escape_value`)."""
    head, rows = _head_and_rows(df, columns, year)
    if not len(df):
        rows = f'<tr><td colspan="{len(columns)}">{html.escape(tr("无", "None"))}</td></tr>'
    return (f'<div class="wall-box"><h3>{html.escape(title)}</h3><table class="wall-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def rolling_table(title: str, df: pd.DataFrame, columns: dict[str, str],
                  visible: int = ROLL_VISIBLE, seconds_per_row: float = ROLL_SECONDS,
                  row_vw: float = ROLL_ROW_VW, year: int | None = None) -> str:
    """A table showing ``visible`` rows at a time that scrolls through all of ``df`` and
    starts over (滚动列表), in CSS alone (the rows twice, moved up by half); a plain table
    when everything fits."""
    if len(df) <= visible:
        return table_html(title, df, columns, year)
    head, rows = _head_and_rows(df, columns, year)
    width = f"{100 / len(columns):.4f}%"
    cols = "<colgroup>" + f'<col style="width:{width}">' * len(columns) + "</colgroup>"
    return (f'<div class="wall-box"><h3>{html.escape(title)}</h3>'
            f'<table class="wall-table wall-fixed">{cols}<thead><tr>{head}</tr></thead></table>'
            f'<div class="wall-roll" style="height:{visible * row_vw:.2f}vw;--row:{row_vw}vw">'
            f'<table class="wall-table wall-fixed wall-roll-body" data-testid="wall-roll" '
            f'style="animation-duration:{len(df) * seconds_per_row:.0f}s">{cols}'
            f"<tbody>{rows}{rows}</tbody></table></div></div>")


def mix_rows(mix: pd.DataFrame, top: int = MIX_ROWS) -> pd.DataFrame:
    """The ``top - 1`` biggest categories and 其他 for the rest (or all when they fit)."""
    mix = mix.reset_index(drop=True)
    if len(mix) <= top:
        return mix
    rest = pd.DataFrame({"category": [tr("其他", "Other")],
                         "count": [int(mix["count"].iloc[top - 1:].sum())]})
    return pd.concat([mix.head(top - 1), rest], ignore_index=True)


def mix_bars(mix: pd.DataFrame) -> str:
    """This week's categories (``category``, ``count``) as horizontal bars, the biggest
    full width."""
    rows = mix_rows(mix)
    title = html.escape(tr("本周问题类别", "Categories this week"))
    if not len(rows):
        none = html.escape(tr("本周暂无投诉", "None this week yet"))
        return f'<div class="wall-box"><h3>{title}</h3><div class="wall-label">{none}</div></div>'
    top = max(int(rows["count"].max()), 1)
    cells = "".join(
        f'<div>{escape_value(r.category)}</div><div><div class="wall-bar" '
        f'style="width:{100 * int(r.count) / top:.1f}%"></div></div>'
        f'<div class="wall-bar-n">{int(r.count):,}</div>' for r in rows.itertuples())
    return (f'<div class="wall-box"><h3>{title}</h3><div class="wall-bars" '
            f'data-testid="wall-mix">{cells}</div></div>')


def header_html(title: str, run: int, *, data_as_of: dt.datetime | None,
                last_import_at: dt.datetime | None, refreshed: dt.datetime,
                stale_minutes: float | None = None, held: bool = False) -> str:
    """The title line. At its right, the time the data is as of, the last import and the
    refresh time; in their place, in red, ``held`` (the database was busy: these are the
    numbers of ``refreshed``) or, with ``stale_minutes`` given, the stale-data warning.
    ``run`` is the refresh count (``data-run``, for the soak). Times show their year
    unless it is ``refreshed``'s."""
    year = refreshed.year
    as_of = escape_value(data_as_of, year)
    if held:
        right = (html.escape(tr("数据库忙，显示的是 ", "Database busy: showing the numbers "
                                                     "of ")) + clock(refreshed, year)
                 + html.escape(tr(" 的数据", "")))
    elif stale_minutes is not None:
        m = f"{stale_minutes:g}"
        right = (html.escape(tr(f"数据已超过 {m} 分钟未更新（数据截至 ",
                                f"Data more than {m} minutes old (as of "))
                 + as_of + html.escape(tr("），请检查数据导入", "): check the imports")))
    else:
        right = None
    if right is not None:
        right = f'<span class="wall-stale" data-testid="wall-stale">{right}</span>'
    else:
        imported = escape_value(last_import_at, year)
        right = (f'<span class="wall-asof">{html.escape(tr("数据截至", "Data as of"))} {as_of}'
                 f' · {html.escape(tr("最近导入", "Last import"))} {imported}'
                 f' · {html.escape(tr("刷新于", "Refreshed"))} {clock(refreshed, year)}</span>')
    return (f'<div class="wall-title" data-run="{int(run)}"><h1>{html.escape(title)}</h1>'
            f"{right}</div>")

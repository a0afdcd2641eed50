"""Download files for the pages: Excel workbooks and CSV that Excel and WPS open as they are.

* :func:`to_xlsx_bytes`: one sheet per table, Chinese headers (the canonical column names
  translated by :data:`HEADERS_ZH`, other names kept), header row frozen, column widths
  from the content (a CJK character counts two), rates as percentages, timestamps as Excel
  dates; an optional title row above the header.
* :func:`to_csv_bytes`: UTF-8 with BOM (the CSV form of every output, README.md), same headers.

Both write text from the records (descriptions, addresses, names) as text only, never as a
formula: text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(:func:`analytics.outputs.formula_like`, the one rule the command line's CSV files follow
too) gets a leading apostrophe in CSV, and in XLSX is a text cell with Excel's quote
prefix (the value unchanged, shown as typed, still text when someone edits the cell).
Numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.outputs import formula_like, guard_cells

#: Chinese headers of the canonical columns the pages export.
HEADERS_ZH: dict[str, str] = {
    # cases
    "kind": "类型", "case_id": "编号", "received_at": "受理时间", "due_at": "处置时限",
    "hours_overdue": "超期小时数", "category": "问题大类", "subcategory": "问题小类",
    "description": "问题描述", "address": "地址", "status": "状态", "district": "区县",
    "street": "街道", "community": "社区", "grid_id": "网格",
    # backlog
    "level": "层级", "jurisdiction_id": "区划代码", "jurisdiction": "区划",
    "open": "未结案", "overdue": "超期未结", "due_soon": "即将超期", "backlog_30d": "积案(30天以上)",
    "filed": "立案数", "closure_rate": "结案率", "due_in_period": "应结案数",
    "closed_on_time": "按期结案数", "on_time_rate": "按期结案率", "rework_rate": "返工率",
    "median_hours_to_close": "结案用时中位数(小时)", "rank": "排名",
    "closure_rate_prev": "上期结案率", "on_time_rate_prev": "上期按期结案率",
    "rework_rate_prev": "上期返工率", "closed_in_period": "期内结案数",
    "reworked_closed": "返工结案数", "score": "综合得分", "grade": "等级",
    # cells, fringe, blind spots
    "h3": "H3网格", "res": "分辨率", "count": "件数", "gi_z": "Gi* z值", "p_value": "p值",
    "gi_bin": "热点等级", "in_fringe": "位于城乡结合部", "lon": "经度", "lat": "纬度",
    "nearest_point_id": "最近点位编号", "nearest_point_name": "最近点位",
    "nearest_point_type": "最近点位类型", "nearest_point_m": "距最近点位(米)",
    "count_in": "区内件数", "count_out": "区外件数", "share_in": "区内占比",
    "share_out": "区外占比", "share_diff": "占比差",
}

#: Columns shown as percentages (by their canonical name).
_PERCENT = re.compile(r"(_rate|_rate_prev|share|share_in|share_out|share_diff)$")
_DATE_FORMAT = "yyyy-mm-dd hh:mm"
_MAX_WIDTH = 60
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def is_percent_column(name: str) -> bool:
    """Whether a canonical column holds a rate or share (0–1) shown as a percentage."""
    return bool(_PERCENT.search(str(name)))


def _headers(df: pd.DataFrame, labels: Mapping[str, str] | None) -> list[str]:
    labels = HEADERS_ZH if labels is None else labels
    return [str(labels.get(str(c), c)) for c in df.columns]


def _text_width(text: str) -> int:
    """Display width: East Asian characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", str(name)).strip("'") or "Sheet"
    base = base[:31]
    out, n = base, 1
    while out.lower() in used:
        n += 1
        suffix = f"({n})"
        out = base[:31 - len(suffix)] + suffix
    used.add(out.lower())
    return out


def write_frame(ws, df: pd.DataFrame, headers: list[str], head_row: int,
                formats: Mapping[str, object], *, max_width: int = _MAX_WIDTH,
                column_formats: Mapping[str, object] | None = None,
                bool_labels: tuple[str, str] | None = None) -> None:
    """Write ``df`` into the xlsxwriter sheet ``ws``: ``headers`` at ``head_row``, then
    typed cells, fitted column widths, a frozen header and an autofilter.

    Datetimes are Excel dates, numbers numbers (``*_rate`` / ``share*`` columns as
    percentages), text is written as text (never a formula; formula-like text, see
    :func:`analytics.outputs.formula_like`, with the quote-prefix format ``text``); missing
    values are empty.
    ``formats`` holds the xlsxwriter formats ``head``, ``date``, ``pct``, ``float``,
    ``text`` (``{"quote_prefix": True}``) and, optionally, ``int``; ``column_formats`` overrides the format of named integer columns;
    ``bool_labels`` writes booleans as (true, false) text instead of Excel booleans.
    """
    widths = [_text_width(h) + 2 for h in headers]
    for j, h in enumerate(headers):
        ws.write_string(head_row, j, h, formats["head"])
    first = head_row + 1
    for j, col in enumerate(df.columns):
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            vals = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
            for i, v in enumerate(vals.tolist()):
                if not pd.isna(v):
                    ws.write_datetime(first + i, j, pd.Timestamp(v).to_pydatetime(),
                                      formats["date"])
            widths[j] = max(widths[j], len(_DATE_FORMAT) + 2)
        elif pd.api.types.is_bool_dtype(s.dtype):
            for i, v in enumerate(s.tolist()):
                if pd.isna(v):
                    continue
                if bool_labels:
                    ws.write_string(first + i, j, bool_labels[0] if v else bool_labels[1])
                else:
                    ws.write_boolean(first + i, j, bool(v))
        elif pd.api.types.is_numeric_dtype(s.dtype):
            pct = is_percent_column(col)
            is_float = pd.api.types.is_float_dtype(s.dtype)
            fmt = formats["pct"] if pct else (formats["float"] if is_float
                                              else formats.get("int"))
            if not (pct or is_float):
                fmt = (column_formats or {}).get(str(col), fmt)
            for i, v in enumerate(s.tolist()):
                if v is None or pd.isna(v) or (isinstance(v, float) and math.isinf(v)):
                    continue
                ws.write_number(first + i, j, float(v) if is_float or pct else int(v), fmt)
            widths[j] = max(widths[j], 12 if col in ("lon", "lat") else 10)
        else:
            longest = 0
            for i, v in enumerate(s.tolist()):
                if v is None or (not isinstance(v, str) and pd.isna(v)):
                    continue
                if isinstance(v, (pd.Timestamp, np.datetime64)):
                    ws.write_datetime(first + i, j, pd.Timestamp(v).to_pydatetime(),
                                      formats["date"])
                    longest = max(longest, len(_DATE_FORMAT))
                    continue
                text = str(v)
                if formula_like(text):   # text, also when someone edits the cell
                    ws.write_string(first + i, j, text[:32767], formats["text"])
                else:
                    ws.write_string(first + i, j, text[:32767])  # never a formula
                longest = max(longest, _text_width(text))
            widths[j] = max(widths[j], longest + 2)
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(w, max_width))
    ws.freeze_panes(head_row + 1, 0)
    if len(df.columns):
        ws.autofilter(head_row, 0, head_row + len(df), len(df.columns) - 1)


def to_xlsx_bytes(frames: Mapping[str, pd.DataFrame], title: str | None = None, *,
                  labels: Mapping[str, str] | None = None) -> bytes:
    """An Excel workbook (.xlsx) with one sheet per frame.

    Parameters
    ----------
    frames : mapping of sheet name to DataFrame
        Sheet names are cut to Excel's 31 characters and cleaned of ``[]:*?/\\``.
    title : str, optional
        A bold line above each sheet's header (then the header is row 2).
    labels : mapping, optional
        Header of each column name; default :data:`HEADERS_ZH` (names not in it are kept).
        Pass ``{}`` to keep every name.

    Rates and shares (columns named ``*_rate``, ``*_rate_prev``, ``share*``) get the
    format ``0.0%``; datetime columns are Excel dates (``yyyy-mm-dd hh:mm``); missing
    values are empty cells; the header row is frozen and columns are sized to fit.
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False,
                                   "nan_inf_to_errors": False})
    fmt_head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                              "text_wrap": True, "valign": "vcenter"})
    fmt_title = wb.add_format({"bold": True, "font_size": 14})
    fmt_pct = wb.add_format({"num_format": "0.0%"})
    fmt_date = wb.add_format({"num_format": _DATE_FORMAT})
    fmt_float = wb.add_format({"num_format": "0.00"})
    fmt_text = wb.add_format({"quote_prefix": True})
    used: set[str] = set()
    for name, df in (frames.items() if frames else [("Sheet", pd.DataFrame())]):
        ws = wb.add_worksheet(_sheet_name(name, used))
        head_row = 0
        if title:
            ws.write_string(0, 0, str(title), fmt_title)
            head_row = 1
        write_frame(ws, df, _headers(df, labels), head_row,
                    {"head": fmt_head, "date": fmt_date, "pct": fmt_pct, "float": fmt_float,
                     "text": fmt_text})
    wb.close()
    return buf.getvalue()


def to_csv_bytes(df: pd.DataFrame, *, labels: Mapping[str, str] | None = None) -> bytes:
    """CSV in UTF-8 with BOM, headers as :func:`to_xlsx_bytes` names them.

    Text cells beginning with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) get a
    leading apostrophe so that a spreadsheet shows them as text instead of running them
    (:func:`analytics.outputs.guard_cells`); numeric columns stay numbers.
    Timestamps are written ``YYYY-MM-DD HH:MM:SS``.
    """
    out = guard_cells(df)
    out.columns = _headers(df, labels)
    text = out.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S", lineterminator="\r\n")
    return ("\ufeff" + text).encode("utf-8")

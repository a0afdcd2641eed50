"""A small, deterministic .xlsx writer: one sheet, a merged title row, then a table.

openpyxl stamps the current time into the zip entries, so two runs never give the same
bytes; this writer fixes every timestamp (the workbook's created/modified properties
and the zip entries' dates) and writes the XML parts itself, column by column, which is
also much faster than building cell objects for tens of thousands of rows.

The parts follow ECMA-376 (Office Open XML SpreadsheetML): shared strings, a style with
the number format ``yyyy/mm/dd hh:mm`` for dates (stored as Excel serial days), a
bold centred style for the title, and ``<mergeCells>`` for the title row.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

#: The fixed moment written as the workbook's created and modified time.
FIXED_TIME = datetime(2026, 11, 23, 8, 0, 0)
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00", "m")
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _column_cells(values: pd.Series, ref: np.ndarray, strings: dict[str, int]) -> np.ndarray:
    """The ``<c>`` element text of every cell of one column ('' for empty cells)."""
    n = len(values)
    out = np.full(n, "", dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):
        t = values.to_numpy().astype("datetime64[m]")
        ok = ~np.isnat(t)
        serial = (t[ok] - _EXCEL_EPOCH).astype(np.int64) / 1440.0
        txt = np.array([repr(float(v)) for v in serial], dtype=object)
        out[ok] = '<c r="' + ref[ok] + '" s="2"><v>' + txt + "</v></c>"
        return out
    if pd.api.types.is_numeric_dtype(values):
        v = values.to_numpy(dtype=float)
        ok = np.isfinite(v)
        txt = np.array([repr(int(x)) if x.is_integer() else repr(x) for x in v[ok].tolist()],
                       dtype=object)
        out[ok] = '<c r="' + ref[ok] + '"><v>' + txt + "</v></c>"
        return out
    s = values.astype(object).where(values.notna(), "")
    ok = (s != "").to_numpy()
    idx = np.array([strings.setdefault(x, len(strings)) for x in s[ok].tolist()], dtype=np.int64)
    out[ok] = '<c r="' + ref[ok] + '" t="s"><v>' + idx.astype(str).astype(object) + "</v></c>"
    return out


def _sheet_xml(frame: pd.DataFrame, title: str, strings: dict[str, int]) -> str:
    ncol = len(frame.columns)
    last = _col(ncol - 1)
    cols = [_col(j) for j in range(ncol)]
    rows = [f'<row r="1" ht="28" customHeight="1"><c r="A1" s="1" t="s"><v>'
            f'{strings.setdefault(title, len(strings))}</v></c></row>']
    head = "".join(f'<c r="{c}2" s="3" t="s"><v>{strings.setdefault(str(h), len(strings))}</v></c>'
                   for c, h in zip(cols, frame.columns, strict=True))
    rows.append(f'<row r="2">{head}</row>')
    n = len(frame)
    rnum = (np.arange(n) + 3).astype(str).astype(object)
    body = np.full(n, "", dtype=object)
    for c, name in zip(cols, frame.columns, strict=True):
        body = body + _column_cells(frame[name], c + rnum, strings)
    rows.extend(('<row r="' + rnum + '">' + body + "</row>").tolist())
    widths = "".join(f'<col min="{j + 1}" max="{j + 1}" width="{18 if j != 0 else 16}" '
                     f'customWidth="1"/>' for j in range(ncol))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}">'
            f'<dimension ref="A1:{last}{n + 2}"/>'
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" '
            f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData>'
            f'<mergeCells count="1"><mergeCell ref="A1:{last}1"/></mergeCells>'
            f'</worksheet>')


def _strings_xml(strings: dict[str, int]) -> str:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>')


_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/mm/dd hh:mm"/></numFmts><fonts count="3"><font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font><font><b/><sz val="16"/><name val="等线"/><family val="2"/><charset val="134"/></font><font><b/><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center"/></xf></cellXfs><cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def write_table(path: str | Path, frame: pd.DataFrame, *, sheet: str, title: str,
                author: str = "南宁市文明办督查科") -> None:
    """Write ``frame`` to one sheet under a title row merged across its columns.

    Datetime columns become Excel dates (format ``yyyy/mm/dd hh:mm``), numeric columns
    numbers, everything else text; NaN / NaT / None / '' leave the cell empty.
    """
    strings: dict[str, int] = {}
    sheet_xml = _sheet_xml(frame, title, strings)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>"
            f"<cp:lastModifiedBy>{escape(author)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>"),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>"),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/styles.xml": _STYLES,
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/sharedStrings.xml": _strings_xml(strings),
    }
    date_time = FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, text.encode("utf-8"), compresslevel=6)

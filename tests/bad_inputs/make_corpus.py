"""Write the bad-input corpus that ``tests/test_bad_inputs.py`` feeds to the importers.

Run ``python tests/bad_inputs/make_corpus.py [DIR]`` (default: this folder). The output is
deterministic: the same script writes byte-identical files (XLSX zip entries and document
properties carry a fixed date), so the committed files can be regenerated and compared.

Every file is small except ``huge_field_5mb.csv`` (one 5 MB field). Coordinates are in
Nanning, GCJ-02; times fall before the tests' fixed "now" of 2026-11-23 12:00 unless a
case is about the future.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = ["工单编号", "受理时间", "问题类型", "问题描述", "事发地址", "经度", "纬度",
          "处理状态", "办结时间", "所属区县"]
DISTRICTS = ["青秀区", "兴宁区", "江南区", "西乡塘区", "良庆区", "邕宁区"]
CATEGORIES = ["市容环境", "道路破损", "噪音扰民", "违章停车", "垃圾清运"]
#: Fixed timestamp written into zip entries and XLSX document properties.
FROZEN = dt.datetime(2026, 1, 1, 0, 0, 0)
HUGE_FIELD_CHARS = 5_000_000


def good_row(i: int, prefix: str = "C") -> list[str]:
    """One plausible complaint (GCJ-02 coordinates inside Nanning's urban districts)."""
    day = 1 + i % 20
    closed = i % 3 == 0
    return [
        f"{prefix}{i:04d}",
        f"2026-11-{day:02d} {8 + i % 10:02d}:{(7 * i) % 60:02d}:00",
        CATEGORIES[i % len(CATEGORIES)],
        f"群众反映第{i}号问题，请尽快处理",
        f"南宁市民族大道{100 + i}号",
        f"{108.30 + (i % 17) * 0.004:.6f}",
        f"{22.80 + (i % 13) * 0.003:.6f}",
        "已办结" if closed else "处理中",
        f"2026-11-{day + 1:02d} 17:00:00" if closed else "",
        DISTRICTS[i % len(DISTRICTS)],
    ]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_text(out: Path, name: str, text: str, encoding: str = "utf-8") -> None:
    (out / name).write_bytes(text.encode(encoding))


def _with(row: list[str], **changes: str) -> list[str]:
    r = list(row)
    for key, value in changes.items():
        r[HEADER.index(_COL[key])] = value
    return r


_COL = {"id": "工单编号", "received": "受理时间", "desc": "问题描述", "lon": "经度", "lat": "纬度",
        "status": "处理状态", "closed": "办结时间", "district": "所属区县"}


def freeze_zip(path: Path) -> None:
    """Rewrite a zip (XLSX) with fixed entry dates and fixed document-property times."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = FROZEN.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z", stamp, data)
            info = zipfile.ZipInfo(name, date_time=FROZEN.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data)


def patch_zip(path: Path, member: str, old: bytes, new: bytes) -> None:
    """Replace ``old`` (which must occur once) by ``new`` in one member of a zip."""
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == member:
                assert data.count(old) == 1, (member, old)
                data = data.replace(old, new)
            z.writestr(info, data)


# ---------------------------------------------------------------- CSV: structure

def make_structure(out: Path) -> None:
    write_text(out, "empty.csv", "")
    write_text(out, "whitespace_only.csv", "   \r\n\r\n \t \r\n  ")
    write_text(out, "header_only.csv", csv_text([]))
    rows = [good_row(i) for i in range(1, 6)]
    full = csv_text(rows)
    # cut in the middle of row 6 (the fifth record): it has fewer fields than the header
    cut = full.rindex("\r\n", 0, len(full) - 2) + 2 + 30
    write_text(out, "truncated_mid_row.csv", full[:cut])
    quoted_rows = [good_row(i) for i in range(1, 5)]
    quoted_rows.append(_with(good_row(5), desc="井盖缺失，\r\n已设置围挡，等待更换新井盖"))
    text = csv_text(quoted_rows)
    write_text(out, "truncated_in_quote.csv", text[: text.index("已设置围挡") + 3])
    # the cut quoted field is the last column, so the cut row has all its fields
    last = HEADER[:3] + HEADER[4:] + [HEADER[3]]
    rows = [r[:3] + r[4:] + [r[3]] for r in quoted_rows]
    text = csv_text(rows, header=last)
    write_text(out, "truncated_in_quote_last_column.csv", text[: text.index("已设置围挡") + 3])
    # a stray quote inside an unquoted field (5" pipe) evens out the count of quote marks
    rows[1][-1] = '管径5"的水管破裂'
    text = csv_text(rows, header=last).replace('"管径5""的水管破裂"', '管径5"的水管破裂')
    write_text(out, "truncated_in_quote_even_quotes.csv", text[: text.index("已设置围挡") + 3])
    nl_rows = [good_row(i) for i in range(1, 7)]
    nl_rows[0] = _with(nl_rows[0], desc="第一行\n第二行\n第三行")
    nl_rows[1] = _with(nl_rows[1], desc='他说："路灯不亮"\r\n请处理')
    nl_rows[3] = _with(nl_rows[3], received="2026-02-30 10:00")  # record 4 = spreadsheet row 5
    write_text(out, "embedded_newlines.csv", csv_text(nl_rows))
    write_text(out, "tab_delimited.tsv", csv_text([good_row(i) for i in range(1, 6)], delimiter="\t"))
    body = csv_text([good_row(i) for i in range(1, 6)]).split("\r\n")
    # header, r1, r2, <blank>, r3, <blank>, <blank>, r4 (bad date), r5
    bad = csv_text([_with(good_row(4), received="不是日期")]).split("\r\n")[1]
    lines = [body[0], body[1], body[2], "", body[3], "", "", bad, body[5], ""]
    write_text(out, "blank_lines.csv", "\r\n".join(lines))
    # old Mac line ends (a lone CR), a blank line as row 4, a bad date in row 5
    rows = [good_row(i) for i in range(1, 5)]
    rows[2] = _with(rows[2], received="2026-11-31 10:00")
    lines = csv_text(rows).split("\r\n")
    write_text(out, "cr_line_endings.csv", "\r".join(lines[:3] + [""] + lines[3:]))
    header = HEADER + [f"附加字段{k:03d}" for k in range(1, 191)]
    wide = [good_row(i) + [f"值{i}-{k}" for k in range(1, 191)] for i in range(1, 4)]
    write_text(out, "wide_200_columns.csv", csv_text(wide, header=header))
    pattern = "0123456789abcdefghijklmnopqrstuvwxyz"
    huge = (pattern * (HUGE_FIELD_CHARS // len(pattern) + 1))[:HUGE_FIELD_CHARS]
    rows = [good_row(i) for i in range(1, 5)]
    rows[1] = _with(rows[1], desc=huge)
    write_text(out, "huge_field_5mb.csv", csv_text(rows))


# ---------------------------------------------------------------- CSV: encodings

def make_encodings(out: Path) -> None:
    rows = [good_row(i) for i in range(1, 6)]
    rows[0] = _with(rows[0], district="邕宁区", desc="邕江边垃圾堆积")
    write_text(out, "gbk.csv", csv_text(rows), "gbk")
    write_text(out, "utf8_bom.csv", csv_text(rows), "utf-8-sig")
    write_text(out, "utf16_bom.tsv", csv_text(rows, delimiter="\t"), "utf-16")
    lines = csv_text([good_row(i) for i in range(1, 21)]).split("\r\n")
    data = [ln.encode("gbk") if k in (5, 12) else ln.encode("utf-8") for k, ln in enumerate(lines)]
    (out / "mixed_encoding.csv").write_bytes(b"\r\n".join(data))
    # too few lines for the 90% rule: still UTF-8 with one foreign line (row 4)
    lines = csv_text([good_row(i) for i in range(1, 6)]).split("\r\n")
    data = [ln.encode("gbk") if k == 3 else ln.encode("utf-8") for k, ln in enumerate(lines)]
    (out / "mixed_encoding_small.csv").write_bytes(b"\r\n".join(data))
    # mostly GBK, the header and two rows UTF-8: neither encoding reads the whole file
    lines = csv_text([good_row(i) for i in range(1, 11)]).split("\r\n")
    data = [ln.encode("utf-8") if k in (0, 8, 10) else ln.encode("gbk")
            for k, ln in enumerate(lines)]
    (out / "mixed_encoding_mostly_gbk.csv").write_bytes(b"\r\n".join(data))


# ---------------------------------------------------------------- CSV: columns and mapping

#: Headers no alias recognises: the file needs a mapping file.
CUSTOM_HEADER = ["ticket_no", "opened_on", "topic", "state_text", "finished_on", "gcj_x", "gcj_y"]


def make_columns(out: Path) -> None:
    no_time = [HEADER.index("受理时间")]
    header = [h for k, h in enumerate(HEADER) if k not in no_time]
    rows = [[v for k, v in enumerate(good_row(i)) if k not in no_time] for i in range(1, 4)]
    write_text(out, "missing_received_at.csv", csv_text(rows, header=header))
    # a title line above the header, as some systems export (the XLSX reader skips titles)
    write_text(out, "csv_title_line.csv", "南宁市12345热线工单导出（2026年11月）\r\n"
               + csv_text([good_row(i) for i in range(1, 4)]))
    rows = [["BOS-1", "2026-11-01 09:00", "Pothole", "Open", "", "108.33", "22.81"],
            ["BOS-2", "2026-11-02 10:00", "Graffiti", "Closed", "2026-11-03 12:00", "108.34", "22.82"],
            ["BOS-3", "2026-11-03 11:00", "Noise", "Case Noted", "", "108.35", "22.83"]]
    write_text(out, "custom_headers.csv", csv_text(rows, header=CUSTOM_HEADER))
    write_text(out, "mapping_good.toml", """\
[columns]
complaint_id = "ticket_no"
received_at = "opened_on"
closed_at = "finished_on"
status = "state_text"
category = "topic"
lon = "gcj_x"
lat = "gcj_y"

[status]
"Case Noted" = "open"

[options]
crs = "gcj02"
""")
    write_text(out, "mapping_missing_column.toml", """\
[columns]
complaint_id = "ticket_no"
received_at = "opened_date"
""")
    write_text(out, "mapping_malformed.toml", """\
[columns]
complaint_id = "ticket_no
received_at = opened_on
""")
    write_text(out, "mapping_unknown_field.toml", """\
[columns]
complaint_id = "ticket_no"
received_at = "opened_on"
urgency = "topic"
""")
    write_text(out, "mapping_bad_status.toml", """\
[columns]
complaint_id = "ticket_no"
received_at = "opened_on"

[status]
Open = "pending"
""")


# ---------------------------------------------------------------- CSV: values

def make_values(out: Path) -> None:
    r = [good_row(i) for i in range(1, 9)]
    rows = [
        r[0],
        _with(r[1], lon="东经108度", lat="北纬22度"),        # row 3: text
        _with(r[2], lon="0", lat="0"),                      # row 4: blank GPS fix
        _with(r[3], lon="999", lat="22.8"),                 # row 5: not a longitude
        _with(r[4], lon="108.33", lat=""),                  # row 6: one missing
        _with(r[5], lon="22.815", lat="108.331"),           # row 7: swapped
        _with(r[6], lon="116.40", lat="39.91"),             # row 8: Beijing, far outside
        r[7],
    ]
    write_text(out, "garbage_coordinates.csv", csv_text(rows))
    r = [good_row(i) for i in range(1, 8)]
    rows = [
        r[0],
        _with(r[1], received="昨天下午"),                 # row 3
        _with(r[2], received="2026-02-30 10:00"),         # row 4: no 30 February
        _with(r[3], received="2026-11-05 25:61"),         # row 5: no such hour/minute
        _with(r[4], received="2026/13/01"),               # row 6: no month 13
        _with(r[5], closed="尚未办结", status="已办结"),    # row 7: closing time not a time
        r[6],
    ]
    write_text(out, "bad_dates.csv", csv_text(rows))
    r = [good_row(i) for i in range(1, 5)]
    rows = [r[0],
            _with(r[1], received="2026-12-01 09:00:00"),  # row 3: a week ahead
            _with(r[2], received="2026-11-23 12:05:00", closed="",  # row 4: within the
                  status="处理中"),                                  # clock tolerance
            _with(r[3], closed="2027-01-05 10:00:00", status="已办结")]  # row 5: closed later
    write_text(out, "future_received.csv", csv_text(rows))
    r = [good_row(i) for i in range(1, 4)]
    rows = [r[0], _with(r[1], received="2026-11-10 09:00:00", closed="2026-11-09 18:00:00",
                        status="已办结"), r[2]]
    write_text(out, "closed_before_received.csv", csv_text(rows))
    r = [good_row(i) for i in range(1, 7)]
    rows = [_with(r[0], id="DUP-1"), r[1], _with(r[2], id="DUP-1"), r[3],
            _with(r[4], id="DUP-1"), r[5]]
    write_text(out, "duplicate_ids.csv", csv_text(rows))
    r = [good_row(i) for i in range(1, 5)]
    rows = [r[0], _with(r[1], id=""), _with(r[2], id="   "), r[3]]
    write_text(out, "empty_ids.csv", csv_text(rows))
    # database dumps write nine decimals of a second
    r = [good_row(i) for i in range(1, 4)]
    rows = [_with(r[0], received="2026-11-02 09:07:00.123456789"),
            _with(r[1], received="2026-11-03T02:14:00.000000001Z"), r[2]]
    write_text(out, "nanosecond_times.csv", csv_text(rows))
    rows = [[f"SAT-{k}", f"2026-11-0{k} 10:00", word] for k, word in
            enumerate(["满意", "不满意", "未评价", "非常满意", "很好", ""], start=1)]
    write_text(out, "satisfaction_words.csv", csv_text(rows, header=["工单编号", "受理时间", "满意度"]))


# ---------------------------------------------------------------- points and inspections

POINT_HEADER = ["点位编号", "点位名称", "点位类型", "经度", "纬度", "所属区县"]
INSPECTION_HEADER = ["督查编号", "点位编号", "督查时间", "督查组", "问题类型", "问题数量"]


def make_points(out: Path) -> None:
    rows = [["P901", "朝阳农贸市场", "农贸市场", "108.3201", "22.8155", "兴宁区"],
            ["P902", "南湖公园", "公园广场", "", "", "青秀区"],
            ["P903", "火车站广场", "交通站场", "东经108度", "22.81", "西乡塘区"],
            ["P904", "五象湖公园", "公园广场", "108.3805", "", "良庆区"],
            ["P905", "民生广场", "公园广场", "108.3150", "22.8170", "兴宁区"]]
    write_text(out, "points_missing_coordinates.csv", csv_text(rows, header=POINT_HEADER))
    header = ["点位编号", "点位名称", "点位类型", "所属区县"]
    write_text(out, "points_no_coordinate_columns.csv",
               csv_text([[r[0], r[1], r[2], r[5]] for r in rows], header=header))
    rows = [["I-1", "P001", "2026-11-10 10:00", "第一督查组", "占道经营", "1"],
            ["I-2", "P999", "2026-11-10 11:00", "第一督查组", "乱堆乱放", "2"],
            ["I-3", "P002", "2026-11-11 09:30", "第二督查组", "", "0"],
            ["I-4", "Q-404", "2026-11-11 10:30", "第二督查组", "垃圾满溢", "1"]]
    write_text(out, "inspections_unknown_points.csv", csv_text(rows, header=INSPECTION_HEADER))


# ---------------------------------------------------------------- XLSX

def make_xlsx(out: Path) -> None:
    import openpyxl
    import xlsxwriter

    # formulas written by openpyxl carry no saved result
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(HEADER)
    for i in range(1, 5):
        ws.append(good_row(i))
    ws["I4"] = '=TEXT(B4+1,"yyyy-mm-dd hh:mm")'  # row 4 (third record): closing time formula
    wb.properties.created = FROZEN
    path = out / "formula_no_cache.xlsx"
    wb.save(path)
    freeze_zip(path)

    # xlsxwriter stores the formula's result next to it
    path = out / "formula_cached.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FROZEN})
    sheet = book.add_worksheet("工单")
    sheet.write_row(0, 0, HEADER)
    for i in range(1, 5):
        sheet.write_row(i, 0, good_row(i))
    sheet.write_formula(1, 3, '="路面"&"破损"', None, "路面破损")
    sheet.write_formula(2, 2, "=IF(1>0,\"井盖缺失\",\"\")", None, "井盖缺失")
    sheet.write_formula(3, 6, "=22.8+0.01", None, 22.81)
    book.close()
    freeze_zip(path)

    # =IF(…, "", …) with its empty result saved as Excel and WPS save it (t="str", empty
    # value; xlsxwriter leaves the type out, so it is added), next to a numeric formula
    # that was never calculated (no type, empty value: what openpyxl writes)
    path = out / "formula_empty_text_result.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FROZEN})
    sheet = book.add_worksheet("工单")
    sheet.write_row(0, 0, HEADER)
    for i in range(1, 5):
        sheet.write_row(i, 0, good_row(i))
    sheet.write_formula(1, 8, '=IF(H2="已办结",B2+1,"")', None, "")   # I2: saved ""
    sheet.write_formula(2, 8, '=IF(H3="已办结",B3+1,"")', None, "")   # I3: never calculated
    sheet.write_formula(3, 5, "=108.3+0.012", None, 108.312)          # F4: saved number
    book.close()
    patch_zip(path, "xl/worksheets/sheet1.xml", b'<c r="I2"><f>', b'<c r="I2" t="str"><f>')
    freeze_zip(path)

    # titles merged above the header; the district merged down over several rows
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "案件导出"
    ws["A1"] = "南宁市数字化城市管理案件导出"
    ws.merge_cells("A1:J1")
    ws["A2"] = "导出时间：2026年11月22日"
    ws.merge_cells("A2:J2")
    ws.append([])  # row 3 left blank
    ws.append(HEADER)  # row 4
    for i in range(1, 7):
        ws.append(good_row(i))  # rows 5..10
    dcol = HEADER.index("所属区县") + 1
    letter = openpyxl.utils.get_column_letter(dcol)
    for top, bottom, name in ((5, 7, "青秀区"), (8, 10, "兴宁区")):
        for r in range(top, bottom + 1):
            ws.cell(r, dcol).value = name if r == top else None
        ws.merge_cells(f"{letter}{top}:{letter}{bottom}")
    wb.properties.created = FROZEN
    path = out / "merged_cells.xlsx"
    wb.save(path)
    freeze_zip(path)

    write_text(out, "not_a_zip.xlsx", csv_text([good_row(1)]))
    # the start of an OLE2 compound file, as the old Excel 97-2003 format has
    (out / "old_format.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)


# ---------------------------------------------------------------- Parquet

def make_parquet(out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    received = [dt.datetime(2026, 11, d, 9, 30) for d in (1, 2, 3)] + [None]
    closed_utc = [dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC), None, None, None]
    table = pa.table({
        "complaint_id": pa.array(["PQ-1", "PQ-2", "PQ-3", "PQ-4"]),
        "received_at": pa.array(received, pa.timestamp("us")),
        "closed_at": pa.array(closed_utc, pa.timestamp("us", tz="UTC")),
        "category": pa.array(["道路破损", "噪音扰民", None, "市容环境"]),
        "lon": pa.array([108.33, 108.34, None, 108.35], pa.float64()),
        "lat": pa.array([22.81, 22.82, None, 22.83], pa.float64()),
        "reworked": pa.array([0, 2, None, 1], pa.int64()),
    })
    pq.write_table(table, out / "typed_timestamps.parquet", compression="snappy")
    # integer ids with a gap: pandas would make them floats ("1001.0")
    table = pa.table({
        "工单编号": pa.array([1001, None, 1003], pa.int64()),
        "受理时间": pa.array(["2026-11-01 09:00", "2026-11-02 10:00", "2026-11-03 11:00"]),
        "返工次数": pa.array([0, 1, None], pa.int32()),
        "网格编号": pa.array([4501030001, 4501030002, None], pa.int64()),
    })
    pq.write_table(table, out / "integer_ids_with_gap.parquet", compression="snappy")
    (out / "not_parquet.parquet").write_bytes(b"PAR1 this is not really parquet\n")


# ---------------------------------------------------------------- GeoJSON

def _feature(props: dict, geom: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geom}


def _dump(out: Path, name: str, doc: object) -> None:
    write_text(out, name, json.dumps(doc, ensure_ascii=False, indent=1))


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def make_geojson(out: Path) -> None:
    feats = [
        _feature({"点位编号": "GP1", "点位名称": "江南公园"},
                 {"type": "Point", "coordinates": [108.29, 22.78]}),
        _feature({"点位编号": "GP2", "点位名称": "整个片区"},
                 {"type": "Polygon", "coordinates": _box(108.3, 22.8, 108.31, 22.81)}),
        _feature({"点位编号": "GP3", "点位名称": "坏坐标"},
                 {"type": "Point", "coordinates": ["a", "b"]}),
        _feature({"点位编号": "GP4", "点位名称": "白沙大道口", "设施": {"垃圾桶": 2, "路灯": [1, 2]}},
                 {"type": "Point", "coordinates": [108.31, 22.79]}),
    ]
    _dump(out, "points_with_polygon.geojson", {"type": "FeatureCollection", "features": feats})
    text = json.dumps({"type": "FeatureCollection", "features": feats[:1]}, indent=1)
    write_text(out, "invalid_json.geojson", text[: len(text) // 2])
    _dump(out, "not_feature_collection.geojson", feats[0])
    _dump(out, "empty_feature_collection.geojson", {"type": "FeatureCollection", "features": []})

    # boundary files (districts, WGS-84 unless said otherwise)
    def coll(features: list) -> dict:
        return {"type": "FeatureCollection", "features": features}

    def dist(adcode: str, name: str, rings: list) -> dict:
        return _feature({"adcode": adcode, "name": name}, {"type": "Polygon", "coordinates": rings})

    bowtie = [[[108.20, 22.70], [108.40, 22.90], [108.40, 22.70], [108.20, 22.90], [108.20, 22.70]]]
    _dump(out, "boundary_self_intersecting.geojson", coll([
        dist("450103", "青秀区", bowtie),
        dist("450102", "兴宁区", _box(108.40, 22.70, 108.60, 22.90)),
    ]))
    _dump(out, "boundary_ring_too_few_points.geojson", coll([
        dist("450103", "青秀区", [[[108.20, 22.70], [108.40, 22.90], [108.20, 22.70]]]),
        dist("450102", "兴宁区", _box(108.40, 22.70, 108.60, 22.90)),
    ]))
    # UTM zone 49N metres (EPSG:32649) around Nanning, with no "crs" member
    _dump(out, "boundary_projected_metres.geojson", coll([
        dist("450103", "青秀区", _box(740000, 2520000, 760000, 2540000)),
    ]))
    _dump(out, "boundary_duplicate_ids.geojson", coll([
        dist("450103", "青秀区", _box(108.20, 22.70, 108.40, 22.90)),
        dist("450103", "青秀区(重复)", _box(108.40, 22.70, 108.60, 22.90)),
    ]))


def make_all(out: Path = HERE) -> list[Path]:
    """Write every corpus file into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    for make in (make_structure, make_encodings, make_columns, make_values, make_points,
                 make_xlsx, make_parquet, make_geojson):
        make(out)
    return sorted(p for p in out.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc"))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    files = make_all(target)
    total = sum(p.stat().st_size for p in files)
    print(f"{len(files)} files, {total / 1e6:.1f} MB in {target}")

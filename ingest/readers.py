"""Read a source file into a table of values with the row number each came from.

Supported: CSV (any delimiter of , ; tab |; encodings as in :mod:`ingest.encoding`),
XLSX (header row found below title rows, merged cells filled, formulas' saved results),
Parquet and GeoJSON. Row numbers are what a user sees: for CSV and XLSX the header is
row 1 of the sheet as Excel/WPS shows it; for Parquet and GeoJSON the record / feature
number starting at 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ingest.encoding import decode
from ingest.errors import InputError
from ingest.fields import header_score

#: Longest text accepted in one field (characters); longer fields reject their row.
MAX_FIELD_CHARS = 32_768
#: Largest XLSX opened in full mode (merged cells known); bigger ones stream.
XLSX_FULL_MODE_BYTES = 15_000_000
#: Appended to CSV text before parsing, to tell a file cut off inside a quoted field.
_END_MARK = "\x1e\x1fend of file\x1f\x1e"
#: Columns that carry GeoJSON point geometry into the table.
GEOM_LON, GEOM_LAT = "__geometry_lon", "__geometry_lat"


@dataclass
class RowError:
    """A row the reader could not turn into values."""

    row_number: int
    field: str | None
    reason: str
    raw: str


@dataclass
class RawTable:
    """A file's values as read, before any interpretation."""

    frame: pd.DataFrame
    row_numbers: np.ndarray
    file_format: str
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    undecodable: np.ndarray | None = None  # bool per row: text held bytes of another encoding


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (recorded with every import batch)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_table(
    path: str | Path, *, kind: str | None = None, encoding: str = "auto",
    sheet: str | None = None, header_row: int | None = None,
) -> RawTable:
    """Read ``path`` by its extension. Raises :class:`InputError` for unreadable files."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected a file")
    ext = p.suffix.lower()
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty (0 bytes)")
    if ext in (".csv", ".txt", ".tsv"):
        return _read_csv(p, encoding)
    if ext in (".xlsx", ".xlsm"):
        return _read_xlsx(p, kind, sheet, header_row)
    if ext == ".xls":
        raise InputError(f"{p}: the old .xls format is not supported; "
                         "open it in Excel or WPS and save as .xlsx")
    if ext in (".parquet", ".pq"):
        return _read_parquet(p)
    if ext in (".geojson", ".json"):
        return _read_geojson(p)
    raise InputError(f"{p}: unknown file type {ext!r}; expected .csv, .xlsx, .parquet or .geojson")


# ---------------------------------------------------------------- CSV

def _sniff_delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > 0 else ","


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = (n or "").strip() or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


def _read_csv(p: Path, encoding: str) -> RawTable:
    data = p.read_bytes()
    dec = decode(data, str(p), encoding)
    body = dec.utf8
    if not body.strip():
        raise InputError(f"{p}: the file holds no text")
    head_text = body[:65536].decode("utf-8", errors="replace")
    delim = _sniff_delimiter(head_text)
    header = next(csv.reader(io.StringIO(head_text, newline=""), delimiter=delim), [])
    if not any(h.strip() for h in header):
        raise InputError(f"{p}: row 1 should hold the column names but is empty")
    names = _unique(header)
    table = None
    if body.count(b'"') % 2 == 0 and b"\n\n" not in body and b"\r\n\r\n" not in body:
        table = _csv_fast(body, names, delim)
    if table is None:
        return _csv_exact(p, body, names, delim, dec)
    frame = table.to_pandas()
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():  # lines of bare delimiters, blank lines after a lone CR: skipped, as
        frame = frame.loc[~blank].reset_index(drop=True)  # the exact path skips them
        rows = rows[~blank]
    undecodable = _undecodable(frame) if dec.mixed else None
    return RawTable(frame, rows, "csv", dec.encoding, undecodable=undecodable)


def _csv_fast(body: bytes, names: list[str], delim: str) -> pa.Table | None:
    """pyarrow's parser; None when any row is irregular (then the exact path runs).

    A row made of :data:`_END_MARK` is appended: a file cut off inside a quoted field
    swallows it into that field (pyarrow would otherwise accept the cut row), and the
    exact path, which names the row, takes over.
    """
    irregular = []

    def handler(row: pacsv.InvalidRow) -> str:
        irregular.append(row)
        return "skip"

    end_row = delim.join([_END_MARK] * len(names)).encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(body + (b"" if body.endswith(b"\n") else b"\n") + end_row + b"\n"),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1,
                                           block_size=16 << 20),
            # a file without quotes cannot hold line breaks inside values: faster parser
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=b'"' in body,
                                             ignore_empty_lines=False,
                                             invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True,
                check_utf8=False),  # decode() has already validated the text
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if irregular or table.num_rows == 0 or table.column(0)[-1].as_py() != _END_MARK:
        return None
    return table.slice(0, table.num_rows - 1)


def _csv_exact(p: Path, body: bytes, names: list[str], delim: str, dec) -> RawTable:
    """Python's csv module: slower, but exact row numbers and a reason per bad row."""
    csv.field_size_limit(1 << 30)
    # the end mark: a record of its own when the file ends cleanly, else the tail of the
    # quoted field the file was cut off in (Python's csv accepts that field silently)
    text = body.decode("utf-8") + "\n" + _END_MARK
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[list[str]] = []
    numbers: list[int] = []
    errors: list[RowError] = []
    width = len(names)
    record = 0
    try:
        for rec in reader:
            record += 1
            if record == 1:
                continue
            rownum = record
            if rec and rec[-1].endswith(_END_MARK):
                if rec != [_END_MARK]:
                    rec[-1] = rec[-1][: -len(_END_MARK) - 1]
                    errors.append(RowError(
                        rownum, "*", "the file ends inside a quoted field that starts in this "
                        f"row (column {len(rec)}): the file was cut off; export it again",
                        _raw_line(rec, delim)))
                break
            if not rec or all(not v.strip() for v in rec):
                continue
            if len(rec) != width:
                raw = _raw_line(rec, delim)
                cut = "; the file may be cut off" if len(rec) < width else ""
                errors.append(RowError(rownum, "*",
                                       f"row has {len(rec)} fields, the header has {width}{cut}",
                                       raw))
                continue
            rows.append(rec)
            numbers.append(rownum)
    except csv.Error as exc:  # nothing may be dropped silently: the whole file fails
        raise InputError(f"{p}: row {record + 1} cannot be read as CSV ({exc})") from None
    frame = pd.DataFrame(rows, columns=names, dtype=object).replace("", None) if rows \
        else pd.DataFrame(columns=names, dtype=object)
    undecodable = _undecodable(frame) if dec.mixed else None
    return RawTable(frame, np.array(numbers, dtype=np.int64), "csv", dec.encoding,
                    row_errors=errors, undecodable=undecodable)


def _undecodable(frame: pd.DataFrame) -> np.ndarray:
    bad = np.zeros(len(frame), dtype=bool)
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            bad |= s.astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy()
    return bad


def _is_missing(v: object) -> bool:
    """None, NaN, NaT or pd.NA (written as an empty field in a raw line)."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):  # array-like values
        return False


def _raw_line(values: list[object], delim: str = ",") -> str:
    buf = io.StringIO()
    # with "\r\n" as terminator, fields holding line breaks are quoted (with "" they are not)
    csv.writer(buf, delimiter=delim, lineterminator="\r\n").writerow(
        ["" if _is_missing(v) else v for v in values])
    return buf.getvalue()[:-2]


def raw_rows(frame: pd.DataFrame, positions: np.ndarray) -> list[str]:
    """Raw text of the rows at ``positions`` (for rejected_rows), as a CSV line."""
    sub = frame.iloc[positions]
    return [_raw_line(list(r)) for r in sub.itertuples(index=False, name=None)]


# ---------------------------------------------------------------- XLSX

def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    return s if s.strip() else None


def _read_xlsx(p: Path, kind: str | None, sheet: str | None, header_row: int | None) -> RawTable:
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    full = p.stat().st_size <= XLSX_FULL_MODE_BYTES
    try:
        wb = openpyxl.load_workbook(p, read_only=not full, data_only=False)
    except Exception as exc:  # zip / xml errors: not a readable workbook
        raise InputError(f"{p}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    notes: list[str] = []
    if sheet is not None:
        if sheet not in wb.sheetnames:
            raise InputError(f"{p}: no sheet named {sheet!r}; sheets are " + ", ".join(wb.sheetnames))
        ws = wb[sheet]
    else:
        ws = None
        best = -1
        for cand in wb.worksheets:
            head = [list(r) for r in cand.iter_rows(min_row=1, max_row=30, values_only=True)]
            score = max((header_score(r, kind) for r in head), default=0)
            if score > best:
                ws, best = cand, score
        if len(wb.sheetnames) > 1:
            notes.append(f"read sheet {ws.title!r} (of {len(wb.sheetnames)})")
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    if not grid:
        raise InputError(f"{p}: sheet {ws.title!r} is empty")
    # plain formulas come as "=…" text, array and data-table formulas as objects
    formulas = [(i, j, v if isinstance(v, str) else str(getattr(v, "text", None) or "=TABLE()"))
                for i, r in enumerate(grid) for j, v in enumerate(r)
                if (isinstance(v, str) and v.startswith("="))
                or isinstance(v, ArrayFormula | DataTableFormula)]
    no_result: set[tuple[int, int]] = set()
    if formulas:
        wbv = openpyxl.load_workbook(p, read_only=not full, data_only=True)
        values = [list(r) for r in wbv[ws.title].iter_rows(values_only=True)]
        for i, j, _ in formulas:
            grid[i][j] = values[i][j] if i < len(values) and j < len(values[i]) else None
            if grid[i][j] is None:
                no_result.add((i, j))
        if no_result:  # openpyxl reads a saved empty text ("") as None too
            no_result -= _empty_text_results(p, ws.title)
    if full:  # fill merged ranges with their top-left value, as the user sees them
        for rng in ws.merged_cells.ranges:
            v = grid[rng.min_row - 1][rng.min_col - 1]
            for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for c in range(rng.min_col - 1, min(rng.max_col, len(grid[r]))):
                    grid[r][c] = v
    # the header row: the row among the first 30 with most recognised names
    if header_row is not None:
        h = int(header_row) - 1
    else:
        scores = [header_score(r, kind) for r in grid[:30]]
        h = int(np.argmax(scores)) if max(scores, default=0) > 0 else next(
            i for i, r in enumerate(grid) if sum(v is not None for v in r) >= 2 or i == len(grid) - 1)
    if h > 0:
        notes.append(f"header found in row {h + 1}; rows above it are titles")
    names = _unique([_cell_text(v) or "" for v in grid[h]])
    width = len(names)
    body = grid[h + 1:]
    formula_at = {(i, j): v for i, j, v in formulas}
    errors: list[RowError] = []
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    for k, r in enumerate(body):
        i = h + 1 + k
        cells = [_cell_text(v) for v in (r + [None] * width)[:width]]
        if all(c is None for c in cells):
            continue
        lost = [(j, formula_at[(i, j)]) for j in range(width) if (i, j) in no_result]
        if lost:
            j, f = lost[0]
            errors.append(RowError(i + 1, names[j],
                                   f"cell {get_column_letter(j + 1)}{i + 1} holds a formula "
                                   f"({f[:60]}) with no saved result: open the file in Excel or "
                                   "WPS and save it, or paste the values", _raw_line(cells)))
            continue
        rows.append(cells)
        numbers.append(i + 1)
    if formulas:
        notes.append(f"{len(formulas)} cells hold formulas; their saved results were read")
    frame = pd.DataFrame(rows, columns=names, dtype=object) if rows \
        else pd.DataFrame(columns=names, dtype=object)
    return RawTable(frame, np.array(numbers, dtype=np.int64), "xlsx", None, notes, errors)


def _empty_text_results(p: Path, title: str) -> set[tuple[int, int]]:
    """(row, column) from 0 of the formula cells of sheet ``title`` whose saved result is
    empty text: Excel, WPS and LibreOffice write ``<c t="str"><f>…</f><v/></c>`` for
    ``=IF(…, "", …)``, while a formula never calculated (as openpyxl writes one) has no
    type and no value. openpyxl reads both as None."""
    import posixpath
    import xml.etree.ElementTree as ET
    import zipfile

    from openpyxl.utils.cell import coordinate_to_tuple

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    found: set[tuple[int, int]] = set()
    try:
        with zipfile.ZipFile(p) as z:
            book = ET.fromstring(z.read("xl/workbook.xml"))
            rid = next(s.get(f"{rel}id") for s in book.iter(f"{main}sheet")
                       if s.get("name") == title)
            rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            target = next(r.get("Target") for r in rels if r.get("Id") == rid)
            member = target.lstrip("/") if target.startswith("/") \
                else posixpath.normpath(posixpath.join("xl", target))
            with z.open(member) as sheet_xml:
                for _, el in ET.iterparse(sheet_xml):
                    if el.tag != f"{main}c":
                        continue
                    if (el.get("t") == "str" and el.get("r") and el.find(f"{main}f") is not None
                            and not el.findtext(f"{main}v")):
                        r, c = coordinate_to_tuple(el.get("r"))
                        found.add((r - 1, c - 1))
                    el.clear()
    except (KeyError, StopIteration, ET.ParseError, ValueError, OSError):
        return set()  # unusual layout: every formula without a value stays rejected
    return found


# ---------------------------------------------------------------- Parquet / GeoJSON

_PARQUET_INTS = {
    **{t: pd.Int64Dtype() for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(),
                                    pa.uint8(), pa.uint16(), pa.uint32())},
    pa.uint64(): pd.UInt64Dtype(),
}


def _read_parquet(p: Path) -> RawTable:
    try:
        table = pq.read_table(p)
    except Exception as exc:
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None
    # nullable integers: an id column with a gap would otherwise turn into floats ("1001.0")
    frame = table.to_pandas(types_mapper=_PARQUET_INTS.get)
    frame.columns = _unique([str(c) for c in frame.columns])
    return RawTable(frame, np.arange(1, len(frame) + 1, dtype=np.int64), "parquet")


def _read_geojson(p: Path) -> RawTable:
    try:
        doc = json.loads(p.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{p}: GeoJSON must be UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise InputError(f"{p}: expected a GeoJSON FeatureCollection with a features list")
    if not doc["features"]:
        raise InputError(f"{p}: the FeatureCollection holds no features (nothing to import)")
    props, lon, lat, errors, numbers = [], [], [], [], []
    for n, feat in enumerate(doc["features"], start=1):
        geom = (feat or {}).get("geometry") if isinstance(feat, dict) else None
        pr = (feat.get("properties") or {}) if isinstance(feat, dict) else {}
        x = y = np.nan
        if geom is not None:
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if not isinstance(geom, dict) or geom.get("type") != "Point":
                errors.append(RowError(n, "geometry",
                                       f"feature {n}: geometry is "
                                       f"{geom.get('type') if isinstance(geom, dict) else geom!r}; "
                                       "a Point was expected", json.dumps(feat, ensure_ascii=False)[:2000]))
                continue
            try:
                x, y = float(coords[0]), float(coords[1])
            except (TypeError, ValueError, IndexError):
                errors.append(RowError(n, "geometry", f"feature {n}: point coordinates "
                                       f"{coords!r} are not two numbers",
                                       json.dumps(feat, ensure_ascii=False)[:2000]))
                continue
        props.append({k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                      if isinstance(v, dict | list) else _cell_text(v) for k, v in pr.items()})
        lon.append(x)
        lat.append(y)
        numbers.append(n)
    frame = pd.DataFrame(props, dtype=object)
    frame[GEOM_LON] = np.array(lon, dtype=float)
    frame[GEOM_LAT] = np.array(lat, dtype=float)
    return RawTable(frame, np.array(numbers, dtype=np.int64), "geojson", "utf-8", row_errors=errors)

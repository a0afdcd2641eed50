"""Turn a raw table into canonical records of one kind: parse, check, locate."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from grids import crs as crs_mod
from grids.h3cells import lonlat_to_cells
from grids.locate import JurisdictionIndex, locate
from ingest.errors import InputError
from ingest.fields import FIELDS, ID_FIELD, REQUIRED, recognise_columns
from ingest.mapping import Mapping
from ingest.readers import GEOM_LAT, GEOM_LON, MAX_FIELD_CHARS, RawTable, raw_rows
from ingest.validate import Verdicts, quoted_at, times_at
from ingest.values import (
    TIME_FORMS_HELP,
    map_status,
    parse_bools,
    parse_floats,
    parse_ints,
    parse_times,
)
from store.clock import local_now

#: How far outside the loaded jurisdictions a point may lie (degrees, about 50 km).
CITY_MARGIN_DEG = 0.5
#: Clock skew allowed before a time counts as "in the future".
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
#: The location columns every stored record carries.
LOCATION_COLUMNS = ["lon", "lat", "cell", "district", "street", "community", "grid_id",
                    "district_id", "street_id", "community_id", "located_by", "name_conflict",
                    "src_district", "src_street", "src_community", "src_grid_id"]


@dataclass
class Prepared:
    """Canonical rows ready to store, and what happened to the others."""

    kind: str
    frame: pa.Table                # accepted rows, table columns (extra JSON included)
    rejected: pd.DataFrame         # row_number, field, reason, raw
    notes: pd.DataFrame            # row_number, field, note
    rows_read: int
    columns_used: dict[str, str]
    crs: str | None
    warnings: list[str] = field(default_factory=list)


def resolve_columns(raw: RawTable, kind: str, mapping: Mapping | None, name: str) -> dict[str, str]:
    """Canonical field -> source column: recognised headers, overridden by the mapping."""
    cols = [c for c in raw.frame.columns if c not in (GEOM_LON, GEOM_LAT)]
    found = recognise_columns(cols, kind)
    if mapping:
        for canon, col in mapping.columns.items():
            if col not in raw.frame.columns:
                raise InputError(
                    f"{name}: the mapping file {mapping.path} names column {col!r} for {canon}, "
                    "but the file has no such column; its columns are: " + ", ".join(cols[:40]))
            found = {k: v for k, v in found.items() if v != col}
            found[canon] = col
    if GEOM_LON in raw.frame.columns:
        found.setdefault("lon", GEOM_LON)
        found.setdefault("lat", GEOM_LAT)
    missing = [f for f in REQUIRED[kind] if f not in found]
    if kind == "points" and not {"lon", "lat"} <= set(found):
        missing += [f for f in ("lon", "lat") if f not in found]
    if missing:
        raise InputError(
            f"{name}: no column found for {', '.join(missing)} (required for {kind}); the file's "
            f"columns are: {', '.join(cols[:40])}. Rename the column or add a mapping file "
            f"with [columns] {missing[0]} = \"<column name>\" (see docs/import.md)")
    return found


def prepare_records(
    raw: RawTable, kind: str, *, name: str, mapping: Mapping | None = None,
    crs: str | None = None, index: JurisdictionIndex | None = None,
    points: pd.DataFrame | None = None, now: dt.datetime | None = None,
) -> Prepared:
    """Parse, check and locate every row of ``raw`` as records of ``kind``.

    ``points`` (inspections only): the loaded inspection points, columns point_id, lon, lat,
    for inspections that carry no coordinates of their own.
    """
    now = now or local_now()
    index = index or JurisdictionIndex()
    colmap = resolve_columns(raw, kind, mapping, name)
    frame = raw.frame.reset_index(drop=True)
    n = len(frame)
    v = Verdicts(n)
    warnings: list[str] = []
    label = {canon: f"{col}" if col not in (GEOM_LON, GEOM_LAT) else "geometry"
             for canon, col in colmap.items()}
    out = pd.DataFrame(index=range(n))

    if raw.undecodable is not None:
        v.reject(raw.undecodable, "*", "the row holds bytes that are not valid in the file's "
                 "encoding (the file mixes encodings); re-save the file as UTF-8")

    for canon, typ in FIELDS[kind].items():
        col = colmap.get(canon)
        values = frame[col] if col is not None else pd.Series([None] * n, dtype=object)
        lab = label.get(canon, canon)
        if typ in ("id", "text"):
            s = _clean_text(values) if col is not None else pa.nulls(n, pa.string())
            too_long = pc.fill_null(pc.greater(pc.utf8_length(s), MAX_FIELD_CHARS), False)
            v.reject(too_long.to_numpy(zero_copy_only=False), canon,
                     f"{lab} is longer than {MAX_FIELD_CHARS:,} characters")
            out[canon] = pa.chunked_array([s]).to_pandas()
        elif typ == "time":
            t, bad = parse_times(values)
            v.reject(bad.to_numpy(), canon, lambda pos, values=values, lab=lab: quoted_at(
                values, pos) + f" in {lab} is not a valid date and time; expected a form like "
                f"{TIME_FORMS_HELP}")
            out[canon] = t.to_numpy()
        elif typ == "float":
            f, bad = parse_floats(values)
            out[canon] = f.to_numpy()
            out[f"_{canon}_bad"] = bad.to_numpy()
        elif typ == "int":
            i, bad = parse_ints(values)
            v.reject(bad.to_numpy(), canon, lambda pos, values=values, lab=lab: quoted_at(
                values, pos) + f" in {lab} is not a whole number ≥ 0")
            out[canon] = i.to_numpy()
        elif typ == "bool":
            b, bad = parse_bools(values)
            v.note(bad.to_numpy(), canon, lambda pos, values=values, lab=lab: quoted_at(
                values, pos) + f" in {lab} is not a yes/no or satisfied/unsatisfied word; left empty")
            out[canon] = b.array

    idf = ID_FIELD[kind]
    ids = out[idf]
    v.reject(ids.isna().to_numpy(), idf, f"{label[idf]} is empty")
    rows = pd.Series(raw.row_numbers[:n] if n else np.array([], dtype=np.int64))
    dup = ids.notna() & ids.duplicated(keep="first")
    if dup.any():
        first_row = rows.groupby(ids).transform("first").astype("Int64")
        v.reject(dup.to_numpy(), idf, lambda pos: (
            f"{label[idf]} " + quoted_at(ids, pos) + " already appears in row "
            + first_row.iloc[pos].astype(str).to_numpy(dtype=object)
            + " of this file; only the first of them is imported"))

    _check_times(kind, out, v, label, now)
    if kind == "complaints":
        status, unknown = map_status(out["status"], out["closed_at"],
                                     mapping.status if mapping else None)
        raw_status = out["status"]
        v.note(unknown.to_numpy(), "status", lambda pos: quoted_at(raw_status, pos) + (
            " in " + label.get("status", "status") + " is not a known status word; taken as "
            "closed when there is a closing time, else open (add it to [status] in a mapping file)"))
        out["status_raw"] = out["status"]
        out["status"] = status.to_numpy()
        rw = out["reworked"]
        reopened = out["status_raw"].isin(["返工", "退回"]) & rw.isna()
        out["reworked"] = rw.mask(reopened, 1)

    crs_name = _locate_coordinates(kind, out, v, label, crs, index, warnings, name)
    if kind == "inspections" and points is not None:
        _inherit_point_location(out, v, label, points)

    src = pd.DataFrame({f"src_{c}": out[c] for c in ("district", "street", "community", "grid_id")})
    lon = out["lon"].to_numpy(dtype=float)
    lat = out["lat"].to_numpy(dtype=float)
    # point-in-polygon (shapely, GIL released) runs beside the per-row H3 loop
    with ThreadPoolExecutor(max_workers=1) as pool:
        located = pool.submit(locate, index, lon, lat, src)
        cell = lonlat_to_cells(lon, lat)
        loc = located.result()

    keep = ~v.rejected
    extra_cols = [c for c in frame.columns if c not in set(colmap.values()) | {GEOM_LON, GEOM_LAT}]
    extra = _extra_json(frame, extra_cols, keep)
    rej_pos = np.flatnonzero(v.rejected)
    rejected = pd.DataFrame({
        "row_number": rows.to_numpy()[rej_pos] if n else np.array([], dtype=np.int64),
        "field": v.field[rej_pos], "reason": v.reason[rej_pos],
        "raw": raw_rows(frame, rej_pos) if len(rej_pos) else [],
    })
    if raw.row_errors:
        rejected = pd.concat([rejected, pd.DataFrame([
            {"row_number": e.row_number, "field": e.field, "reason": e.reason, "raw": e.raw}
            for e in raw.row_errors])], ignore_index=True)
    rejected = rejected.sort_values("row_number", kind="stable").reset_index(drop=True)
    notes = _notes_frame(v, rows, keep)
    table_cols = [c for c in FIELDS[kind] if c not in LOCATION_COLUMNS]
    if kind == "complaints":
        table_cols.append("status_raw")
    accepted = _arrow_table(out, table_cols, loc, src, cell, extra, keep)
    return Prepared(kind, accepted, rejected, notes, n + len(raw.row_errors),
                    {k: c for k, c in colmap.items()}, crs_name, warnings)


def _check_times(kind: str, out: pd.DataFrame, v: Verdicts, label: dict, now: dt.datetime) -> None:
    future = pd.Timestamp(now + FUTURE_TOLERANCE)
    main = {"complaints": "received_at", "inspections": "inspected_at"}.get(kind)
    if main:
        t = out[main]
        v.reject(t.isna().to_numpy(), main, f"{label.get(main, main)} is empty")
        v.reject((t > future).fillna(False).to_numpy(), main,
                 lambda pos: times_at(t, pos) + (f" in {label.get(main, main)} is in the future "
                                                 f"(now is {now:%Y-%m-%d %H:%M})"))
    ends = {"complaints": ("closed_at",), "inspections": ("rectified_at",)}.get(kind, ())
    for end in ends:
        e = out[end]
        v.reject((e > future).fillna(False).to_numpy(), end,
                 lambda pos, e=e, end=end: times_at(e, pos) + f" in {label.get(end, end)} is in "
                 "the future")
        before = (e < out[main]).fillna(False).to_numpy()
        v.reject(before, end, lambda pos, e=e, end=end: (
            f"{label.get(end, end)} " + times_at(e, pos) + f" is before {label.get(main, main)} "
            + times_at(out[main], pos)))


def _locate_coordinates(kind, out, v, label, crs, index, warnings, name) -> str | None:
    lon = out["lon"].to_numpy(dtype=float).copy()
    lat = out["lat"].to_numpy(dtype=float).copy()
    given = np.isfinite(lon) | np.isfinite(lat) | out["_lon_bad"].to_numpy() | out["_lat_bad"].to_numpy()
    if kind == "points":
        v.reject(~given, "lon", f"{label.get('lon', 'lon')}/{label.get('lat', 'lat')} are empty; "
                 "an inspection point needs a usable location")
    if not given.any():
        del out["_lon_bad"], out["_lat_bad"]
        return crs_mod.normalize_crs(crs) if crs else None
    if crs:
        crs_name = crs_mod.normalize_crs(crs)
    else:
        crs_name = "wgs84"
        warnings.append(f"{name}: no coordinate system given, coordinates taken as WGS-84. "
                        "Exports from Amap/Tencent-based systems are GCJ-02 and from Baidu BD-09: "
                        "pass --crs gcj02 (or bd09), or set [options] crs in a mapping file")
    lab = f"{label.get('lon', 'lon')}/{label.get('lat', 'lat')}"
    bounds = index.bounds()
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        m = CITY_MARGIN_DEG

        def inside(x, y):
            return (x >= x0 - m) & (x <= x1 + m) & (y >= y0 - m) & (y <= y1 + m)
    else:
        def inside(x, y):
            return (np.abs(x) <= 180) & (np.abs(y) <= 90)
    unusable = np.zeros(len(lon), dtype=object)
    unusable[:] = None
    text_bad = out["_lon_bad"].to_numpy() | out["_lat_bad"].to_numpy()
    unusable[text_bad] = f"{lab} is not a number"
    one_missing = given & ~text_bad & (np.isfinite(lon) != np.isfinite(lat))
    unusable[one_missing] = f"only one of {lab} is given"
    zero = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) < 1e-9) & (np.abs(lat) < 1e-9)
    unusable[zero] = f"{lab} is (0, 0), which is no place in the city (a blank GPS fix)"
    both = np.isfinite(lon) & np.isfinite(lat) & ~zero
    ok_here = both & inside(lon, lat)
    swapped = both & ~ok_here & inside(lat, lon)
    if bounds is None:
        swapped &= np.abs(lat) > 90
    lon[swapped], lat[swapped] = lat[swapped], lon[swapped]
    v.note(swapped & ~v.rejected, "lon", f"{lab} were swapped (longitude in the latitude column); "
           "loaded with the two exchanged")
    far = both & ~ok_here & ~swapped
    where = ("outside the loaded city's area by more than 50 km" if bounds is not None
             else "not a valid longitude/latitude")
    unusable[far] = (f"{lab} (" + pd.Series(lon[far]).round(6).astype(str) + ", "
                     + pd.Series(lat[far]).round(6).astype(str) + f") is {where}").to_numpy(dtype=object)
    bad = unusable != None  # noqa: E711
    suffix = ("; an inspection point needs a usable location" if kind == "points" else
              "; loaded without coordinates (placed by its jurisdiction names, left off maps)")
    message = np.array([u + suffix if u is not None else None for u in unusable], dtype=object)
    if kind == "points":
        v.reject(bad, "lon", message)
    else:
        v.note(bad & ~v.rejected, "lon", message)
    lon[bad] = np.nan
    lat[bad] = np.nan
    fin = np.isfinite(lon) & np.isfinite(lat)
    if fin.any() and crs_name not in ("wgs84", "cgcs2000"):
        wl, wa = crs_mod.to_wgs84(lon[fin], lat[fin], crs_name)
        lon[fin], lat[fin] = wl, wa
    out["lon"], out["lat"] = lon, lat
    del out["_lon_bad"], out["_lat_bad"]
    return crs_name


def _inherit_point_location(out, v, label, points: pd.DataFrame) -> None:
    """Inspections without coordinates take their point's location; unknown points reject."""
    pid = out["point_id"]
    no_xy = ~np.isfinite(out["lon"].to_numpy(dtype=float))
    table = points.drop_duplicates("point_id").set_index("point_id")
    known = pid.isin(table.index).to_numpy()
    fill = no_xy & known
    if fill.any():
        out.loc[fill, "lon"] = pid[fill].map(table["lon"]).to_numpy()
        out.loc[fill, "lat"] = pid[fill].map(table["lat"]).to_numpy()
        for c in ("district", "street", "community", "grid_id"):
            src = f"src_{c}"
            if src in table.columns:
                out.loc[fill, c] = out.loc[fill, c].where(out.loc[fill, c].notna(),
                                                          pid[fill].map(table[src]))
    lab = label.get("point_id", "point_id")
    v.reject(no_xy & pid.notna().to_numpy() & ~known, "point_id",
             lambda pos: f"{lab} " + quoted_at(pid, pos) + " is not a loaded inspection point; "
             "import the points file first")


def _extra_json(frame: pd.DataFrame, cols: list[str], keep: np.ndarray) -> np.ndarray:
    """JSON object of the unmapped source columns, per row (None when there are none).

    Built by DuckDB's ``json_object`` over the whole column set, not row by row.
    """
    res = np.full(len(frame), None, dtype=object)
    if not cols or not keep.any():
        return res
    sub = frame.loc[keep, cols].reset_index(drop=True)
    sub.columns = [f"c{i}" for i in range(len(cols))]  # any header text is safe as a key below
    pairs = ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}', c{i}" for i, name in enumerate(cols))
    con = duckdb.connect()
    try:
        con.register("extra_cols", sub)
        res[keep] = con.execute(f"SELECT json_object({pairs})::VARCHAR AS j FROM extra_cols"
                                ).fetchnumpy()["j"]
    finally:
        con.close()
    return res


def _notes_frame(v: Verdicts, rows: pd.Series, keep: np.ndarray) -> pd.DataFrame:
    parts = []
    for mask, fld, text in v.notes:
        m = mask & keep
        if not m.any():
            continue
        t = np.asarray(text, dtype=object)[m] if not isinstance(text, str) else text
        parts.append(pd.DataFrame({"row_number": rows.to_numpy()[m], "field": fld, "note": t}))
    if not parts:
        return pd.DataFrame({"row_number": pd.Series(dtype="int64"), "field": pd.Series(dtype=object),
                             "note": pd.Series(dtype=object)})
    return pd.concat(parts, ignore_index=True).sort_values("row_number", kind="stable")


def _arrow_table(out: pd.DataFrame, table_cols: list[str], loc: pd.DataFrame, src: pd.DataFrame,
                 cell: np.ndarray, extra: np.ndarray, keep: np.ndarray) -> pa.Table:
    """The accepted rows as an Arrow table in the stored column order (no pandas copies)."""
    arrays: dict[str, pa.Array] = {}

    mask = pa.array(keep)

    def put(name: str, values) -> None:
        if isinstance(values, pd.Series):
            if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
                arrays[name] = pa.array(values.array, from_pandas=True).filter(mask)
                return
            values = values.to_numpy()
        if isinstance(values, pd.api.extensions.ExtensionArray):
            arrays[name] = pa.array(values, from_pandas=True).filter(mask)
            return
        if isinstance(values, np.ndarray) and values.dtype == object:
            # few distinct names over many rows: dictionary-encode instead of copying strings
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            arr = pa.DictionaryArray.from_arrays(
                pa.array(codes, mask=codes < 0, type=pa.int32()),
                pa.array(uniques.astype(object), type=pa.string()))
        else:
            arr = pa.array(values, from_pandas=True)
        arrays[name] = arr.filter(mask)

    for c in table_cols:
        put(c, out[c])
    for c in LOCATION_COLUMNS:
        if c in ("lon", "lat"):
            put(c, out[c].to_numpy(dtype=float))
        elif c == "cell":
            put(c, cell)
        elif c in loc.columns:
            put(c, loc[c].to_numpy(dtype=object))
        else:
            put(c, src[c])
    put("extra", extra)
    return pa.table(arrays)


def _clean_text(values: pd.Series) -> pa.Array:
    """Trimmed text as an Arrow string array; empty strings become null."""
    if isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values.array)
    else:
        arr = pa.array(values.astype("string").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)

"""Look before importing: which columns a file has, and what an import of it would do.

* :func:`detect_columns` reads a file the way the import reads it and lists each source
  column with a few sample values and the canonical field it is recognised as (the same
  recognition as ``ingest``: :func:`ingest.fields.recognise_columns`).
* :func:`mapping_from_assignment` turns a (possibly corrected) column → field table into a
  :class:`ingest.mapping.Mapping`, the ``[columns]`` of a mapping file.
* :func:`dry_run` computes exactly what :func:`ingest.pipeline.ingest_file` would insert,
  update and reject, without changing the database file: the same code runs, up to and
  including the writes, on a scratch copy whose transaction is rolled back.

Nothing here needs Streamlit; the Import page (``views/data_import.py``) calls it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.errors import InputError
from ingest.fields import FIELDS, KINDS, recognise_columns
from ingest.mapping import Mapping, load_mapping
from ingest.pipeline import IngestResult, ingest_file
from ingest.readers import GEOM_LAT, GEOM_LON, RawTable, read_table
from ingest.records import resolve_columns

#: Columns of :func:`detect_columns`' table.
DETECT_COLUMNS = ["column", "sample", "field"]
#: Columns of the rejected rows of a dry run (as in the table ``rejected_rows``).
REJECTED_COLUMNS = ["row_number", "field", "reason", "raw"]
#: How many sample values :func:`detect_columns` shows per column.
SAMPLES = 3
#: The file types the import reads (``.xls`` is refused with a hint by the reader).
FILE_TYPES = ("csv", "txt", "tsv", "xlsx", "xlsm", "xls", "geojson", "json", "parquet", "pq")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"unknown record kind {kind!r}; expected one of {', '.join(KINDS)}")


def _sample(values: pd.Series, n: int = SAMPLES, width: int = 40) -> str:
    out: list[str] = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            continue
        text = str(v).strip()
        if not text or text in out:
            continue
        out.append(text if len(text) <= width else text[: width - 1] + "…")
        if len(out) == n:
            break
    return " | ".join(out)


def read_columns(path: str | os.PathLike[str], kind: str, encoding: str = "auto", *,
                 sheet: str | None = None, header_row: int | None = None) -> RawTable:
    """Read ``path`` exactly as the import does (raises :class:`InputError`)."""
    _check_kind(kind)
    return read_table(Path(path), kind=kind, encoding=encoding or "auto", sheet=sheet,
                      header_row=header_row)


def detect_columns(path: str | os.PathLike[str], kind: str, encoding: str = "auto", *,
                   sheet: str | None = None, header_row: int | None = None) -> pd.DataFrame:
    """The file's columns: source header, sample values and the recognised canonical field.

    Returns
    -------
    pandas.DataFrame
        One row per source column, in the file's order: ``column`` (the header as read),
        ``sample`` (up to three distinct values, joined by `` | ``) and ``field`` (the
        canonical field of ``kind`` the header is recognised as, else None; when two
        headers match one field the first gets it, as in the import). The point geometry
        of a GeoJSON file is not a column: it gives lon/lat unless a column is assigned.

    Raises
    ------
    InputError
        When the file cannot be read at all (the same refusals as the import).
    """
    raw = read_columns(path, kind, encoding, sheet=sheet, header_row=header_row)
    cols = [c for c in raw.frame.columns if c not in (GEOM_LON, GEOM_LAT)]
    found = {col: canon for canon, col in recognise_columns(cols, kind).items()}
    head = raw.frame.head(200)
    return pd.DataFrame({
        "column": pd.Series(cols, dtype=object),
        "sample": pd.Series([_sample(head[c]) for c in cols], dtype=object),
        "field": pd.Series([found.get(c) for c in cols], dtype=object),
    }, columns=DETECT_COLUMNS)


def mapping_from_assignment(table: pd.DataFrame, kind: str,
                            options: dict | None = None) -> Mapping:
    """The mapping (``[columns]``) that a column → field table asks for.

    Parameters
    ----------
    table : DataFrame
        Columns ``column`` and ``field`` (as from :func:`detect_columns`, possibly edited);
        an empty field (None, NaN, "") means the column is kept only in ``extra``.
    kind : str
        complaints | points | inspections.
    options : dict, optional
        ``[options]`` of the mapping (crs, encoding, sheet, header_row).

    Raises
    ------
    InputError
        Naming the field, when one field is given to two columns or is not a field of
        ``kind``.
    """
    _check_kind(kind)
    fields = FIELDS[kind]
    columns: dict[str, str] = {}
    for col, canon in zip(table["column"], table["field"], strict=True):
        if canon is None or (isinstance(canon, float) and np.isnan(canon)) or canon == "":
            continue
        canon = str(canon)
        if canon not in fields:
            raise InputError(f"{canon!r} is not a field of {kind}; expected one of "
                             + ", ".join(fields))
        if canon in columns:
            raise InputError(f"field {canon} is given to two columns, {columns[canon]!r} and "
                             f"{col!r}; give it to one of them only")
        columns[canon] = str(col)
    return Mapping(columns=columns, options=dict(options or {}),
                   path="the column assignment of the Import page")


def effective_columns(table: pd.DataFrame, kind: str, mapping: Mapping | None,
                      geometry: bool = False) -> dict[str, str]:
    """Canonical field -> column that the import will actually use with ``mapping``.

    The recognised headers still apply where the mapping does not override them (so a
    column whose field was cleared in ``table`` may still be read as that field). Raises
    :class:`InputError`, as the import would, when a required field has no column.
    """
    cols = list(table["column"])
    if geometry:
        cols += [GEOM_LON, GEOM_LAT]
    stub = RawTable(pd.DataFrame(columns=cols), np.array([], dtype=np.int64), "columns")
    return resolve_columns(stub, kind, mapping, "the file")


def assignment_notes(table: pd.DataFrame, kind: str, mapping: Mapping | None,
                     geometry: bool = False) -> list[str]:
    """Plain-English remarks on an assignment: cleared columns the import still recognises."""
    used = effective_columns(table, kind, mapping, geometry)
    wanted = {} if mapping is None else mapping.columns
    notes = []
    for canon, col in used.items():
        if col in (GEOM_LON, GEOM_LAT) or wanted.get(canon) == col:
            continue
        notes.append(f"column {col!r} is recognised as {canon} from its header and will be "
                     f"read as {canon}; to import it otherwise, give {canon} to another column")
    return notes


def mapping_toml(mapping: Mapping) -> str:
    """A mapping as the text of a mapping file (for ``python cli.py ingest --mapping``)."""
    def q(text: object) -> str:
        s = str(text).replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}"
                             for c in s) + '"'

    lines = ["[columns]              # canonical field = column in the file"]
    lines += [f"{canon} = {q(col)}" for canon, col in mapping.columns.items()]
    if mapping.status:
        lines += ["", "[status]               # value in the file = open | closed | void"]
        lines += [f"{q(value)} = {q(canon)}" for value, canon in mapping.status.items()]
    opts = {k: v for k, v in mapping.options.items() if v not in (None, "")}
    if opts:
        lines += ["", "[options]"]
        lines += [f"{k} = {v if isinstance(v, int) and not isinstance(v, bool) else q(v)}"
                  for k, v in opts.items()]
    return "\n".join(lines) + "\n"


#: What a dry run returns: the import's own result, with ``dry_run`` True and
#: ``rejected_rows`` always a frame of :data:`REJECTED_COLUMNS`.
DryRunResult = IngestResult


def dry_run(db: str | os.PathLike[str] | None, kind: str, path: str | os.PathLike[str],
            mapping: str | os.PathLike[str] | Mapping | None = None, crs: str | None = None,
            encoding: str = "auto", now: dt.datetime | None = None,
            progress_callback=None) -> DryRunResult:
    """What :func:`ingest.pipeline.ingest_file` would do with ``path``, without doing it.

    The import's own code runs (read, check, locate, upsert, batch and rejected rows) inside
    a transaction on a scratch copy of the database that is rolled back and deleted; the
    database file is only read, so its bytes are unchanged and readers are never blocked.
    The counts are those a real import right after would report (given the same ``now``).

    Raises
    ------
    InputError
        When the file cannot be imported at all (as the import would).
    """
    _check_kind(kind)
    if isinstance(mapping, (str, os.PathLike)):
        mapping = load_mapping(mapping, kind)
    res = ingest_file(db, kind, path, mapping=mapping, crs=crs, encoding=encoding, now=now,
                      progress_callback=progress_callback, dry_run=True)
    rejected = res.rejected_rows
    if rejected is None:
        rejected = pd.DataFrame(columns=REJECTED_COLUMNS)
    res.rejected_rows = rejected.reindex(columns=REJECTED_COLUMNS).reset_index(drop=True)
    return res

__all__ = ["DETECT_COLUMNS", "DryRunResult", "FILE_TYPES", "REJECTED_COLUMNS",
           "assignment_notes", "detect_columns", "dry_run", "effective_columns",
           "mapping_from_assignment", "mapping_toml", "read_columns"]

"""``ingest``: one file of complaints, inspection points or inspections into the database.

One file is one transaction (see :mod:`store.database`): it lands whole, with its
``import_batches`` row, its ``rejected_rows`` and its ``import_notes``, or not at all.
Records are upserted by id: a row identical to the stored one counts as unchanged, a row
that differs replaces it (updated), a new id is inserted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from ingest.errors import InputError
from ingest.fields import ID_FIELD, KINDS, TABLE
from ingest.mapping import Mapping, load_mapping
from ingest.placement import load_index
from ingest.readers import file_sha256, read_table
from ingest.records import Prepared, prepare_records
from store.clock import local_now
from store.database import copy_database, db_path, next_batch_id, write_transaction
from store.schema import ensure_schema

#: ``progress_callback(stage, fraction)``: stage is reading | checking | writing | done.
ProgressCallback = Callable[[str, float], None]


@dataclass
class IngestResult:
    """What one ingest did."""

    batch_id: int
    kind: str
    file_name: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    noted: int
    crs: str | None
    encoding: str | None
    columns: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_rejections: list[tuple[int, str, str]] = field(default_factory=list)
    #: every rejected row (row_number, field, reason, raw), as stored in ``rejected_rows``
    rejected_rows: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    #: True when nothing was written (``dry_run=True``)
    dry_run: bool = False

    def summary_line(self) -> str:
        """The one-line result the ``ingest`` command prints (README.md, docs/import.md)."""
        return (f"read={self.rows_read} inserted={self.inserted} updated={self.updated} "
                f"rejected={self.rejected}")


def ingest_file(
    db: str | os.PathLike[str] | None, kind: str, path: str | os.PathLike[str], *,
    mapping: str | os.PathLike[str] | Mapping | None = None, crs: str | None = None,
    encoding: str = "auto", now: dt.datetime | None = None, progress: bool = False,
    progress_callback: ProgressCallback | None = None, dry_run: bool = False,
) -> IngestResult:
    """Import ``path`` as records of ``kind`` (complaints | points | inspections).

    Parameters
    ----------
    db : path or None
        Database file (None: ``$GRID_DB`` or ``data/grid.duckdb``).
    mapping : path or Mapping, optional
        TOML mapping file for headers that are not recognised automatically.
    crs : str, optional
        Coordinate system of the file (wgs84 | gcj02 | bd09 | cgcs2000); else the
        mapping's ``[options] crs``; else WGS-84 with a warning.
    encoding : str
        ``auto`` or a codec name, for CSV.
    now : datetime, optional
        The wall-clock time against which "in the future" is judged (tests pass one);
        the batch's ``started_at`` and ``finished_at`` are the city's real time regardless.
    progress_callback : callable, optional
        Called as ``progress_callback(stage, fraction)`` with stage ``reading``,
        ``checking``, ``writing`` or ``done`` and the fraction of the work done (0–1).
    dry_run : bool
        Do everything an import does, up to and including the writes, in a transaction on
        a private scratch copy of the database that is rolled back and deleted: the counts
        are exactly those of a real import, and the database file is never touched (no
        lock is taken either). ``batch_id`` is the id the import would get.

    Raises
    ------
    InputError
        When the file cannot be imported at all; the database is untouched.
    """
    if kind not in KINDS:
        raise InputError(f"unknown record kind {kind!r}; expected one of {', '.join(KINDS)}")
    p = Path(path)
    m = load_mapping(mapping, kind) if isinstance(mapping, (str, os.PathLike)) else mapping
    opts = m.options if m else {}
    crs = crs or opts.get("crs")
    if encoding in (None, "", "auto"):
        encoding = str(opts.get("encoding", "auto"))
    started = local_now()  # the audit's times are always the real ones

    def report(stage: str, fraction: float) -> None:
        if progress_callback is not None:
            progress_callback(stage, fraction)

    bar = tqdm(total=4, desc=f"{p.name}", unit="step", disable=not progress, leave=False)
    bar.set_postfix_str("读取 reading")
    report("reading", 0.0)
    raw = read_table(p, kind=kind, encoding=encoding, sheet=opts.get("sheet"),
                     header_row=opts.get("header_row"))
    bar.update(1)
    sha = file_sha256(p)
    transaction = _scratch_transaction if dry_run else write_transaction
    with transaction(db) as conn:
        bar.set_postfix_str("解析 checking")
        report("checking", 0.25)
        index = load_index(conn)
        points = None
        if kind == "inspections":
            points = conn.execute(
                "SELECT point_id, lon, lat, src_district, src_street, src_community, src_grid_id "
                "FROM inspection_points").df()
        prep = prepare_records(raw, kind, name=str(p), mapping=m, crs=crs, index=index,
                               points=points, now=now)
        bar.update(1)
        bar.set_postfix_str("写入 writing")
        report("writing", 0.5)
        batch_id = next_batch_id(conn)
        counts = _upsert(conn, prep, batch_id)
        finished = local_now()
        conn.execute(
            "INSERT INTO import_batches VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [batch_id, kind, p.name, sha, started, finished, prep.rows_read, counts["new"],
             counts["changed"], counts["same"], len(prep.rejected),
             int(prep.notes["row_number"].nunique()),
             prep.crs, raw.encoding, json.dumps(prep.columns_used, ensure_ascii=False)],
        )
        if len(prep.rejected):
            rej = prep.rejected.assign(batch_id=batch_id)
            conn.register("_rej", rej)
            conn.execute("INSERT INTO rejected_rows SELECT batch_id, row_number, field, reason, raw "
                         "FROM _rej")
            conn.unregister("_rej")
        if len(prep.notes):
            notes = prep.notes.assign(batch_id=batch_id)
            conn.register("_notes", notes)
            conn.execute("INSERT INTO import_notes SELECT batch_id, row_number, field, note FROM _notes")
            conn.unregister("_notes")
        bar.update(2)
    bar.close()
    report("done", 1.0)
    first = [(int(r.row_number), str(r.field), str(r.reason))
             for r in prep.rejected.head(5).itertuples()]
    return IngestResult(
        batch_id, kind, p.name, prep.rows_read, counts["new"], counts["changed"], counts["same"],
        len(prep.rejected), len(prep.notes), prep.crs, raw.encoding, prep.columns_used,
        warnings=prep.warnings, notes=raw.notes + _note_summary(prep), first_rejections=first,
        rejected_rows=prep.rejected.reset_index(drop=True), dry_run=dry_run)


@contextlib.contextmanager
def _scratch_transaction(db: str | os.PathLike[str] | None) -> Iterator:
    """Like :func:`store.database.write_transaction`, on a private copy that is thrown away.

    The live file is only read (copied, as a writer copies it); the transaction is rolled
    back and the copy deleted, whatever happens. Used by ``ingest_file(dry_run=True)``.
    """
    live = db_path(db)
    with tempfile.TemporaryDirectory(prefix="grid-dryrun-") as tmp:
        work = Path(tmp) / live.name
        copy_database(live, work)
        conn = duckdb.connect(str(work))
        try:
            conn.execute("SET enable_progress_bar = false")
            conn.execute("BEGIN TRANSACTION")
            ensure_schema(conn)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            conn.close()


def _note_summary(prep: Prepared) -> list[str]:
    if prep.notes.empty:
        return []
    out = []
    for name, group in prep.notes.groupby("field", sort=True):
        first = group.sort_values("row_number").iloc[0]
        out.append(f"{name}: {len(group)} rows loaded with a note, the first row "
                   f"{int(first.row_number)}: {first.note} (all in import_notes)")
    return out


def _upsert(conn, prep: Prepared, batch_id: int) -> dict[str, int]:
    """Insert new ids, replace changed rows, leave identical ones; count each."""
    table = TABLE[prep.kind]
    key = ID_FIELD[prep.kind]
    frame = prep.frame
    cols = list(frame.column_names)
    types = dict(conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall())
    conn.register("_incoming", frame)
    # typed view of the incoming rows; no copy is made
    conn.execute(
        "CREATE OR REPLACE TEMP VIEW _stage AS SELECT "
        + ", ".join("NULLIF(cell, 0)::UBIGINT AS cell" if c == "cell"
                    else f'CAST("{c}" AS {types[c]}) AS "{c}"' for c in cols)
        + " FROM _incoming")
    existing = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    collist = ", ".join(f'"{c}"' for c in cols)
    if existing == 0:  # first load: everything is new
        n = conn.execute(f"INSERT INTO {table} ({collist}, batch_id) "
                         f"SELECT {collist}, {int(batch_id)} FROM _stage").fetchall()[0][0]
        conn.execute("DROP VIEW _stage")
        conn.unregister("_incoming")
        return {"new": int(n), "changed": 0, "same": 0}
    differs = " OR ".join(f's."{c}" IS DISTINCT FROM t."{c}"' for c in cols if c != key)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _class AS
        SELECT s."{key}" AS id,
               CASE WHEN t."{key}" IS NULL THEN 'new' WHEN {differs} THEN 'changed'
                    ELSE 'same' END AS cls
        FROM _stage s LEFT JOIN {table} t ON t."{key}" = s."{key}"
    """)
    counts = dict.fromkeys(("new", "changed", "same"), 0)
    counts.update(dict(conn.execute("SELECT cls, count(*) FROM _class GROUP BY cls").fetchall()))
    if counts["changed"]:
        conn.execute(f"""DELETE FROM {table} WHERE "{key}" IN
                         (SELECT id FROM _class WHERE cls = 'changed')""")
    if counts["new"] or counts["changed"]:
        conn.execute(f"""
            INSERT INTO {table} ({collist}, batch_id)
            SELECT {", ".join(f's."{c}"' for c in cols)}, {int(batch_id)}
            FROM _stage s SEMI JOIN (SELECT id FROM _class WHERE cls <> 'same') k
                 ON k.id = s."{key}"
        """)
    conn.execute("DROP VIEW _stage")
    conn.execute("DROP TABLE _class")
    conn.unregister("_incoming")
    return {k: int(v) for k, v in counts.items()}


def rejected_frame(db, batch_id: int) -> pd.DataFrame:
    """The rejected rows of one batch (for downloads and the CLI)."""
    from store.database import read_connection
    with read_connection(db) as conn:
        return conn.execute("SELECT * FROM rejected_rows WHERE batch_id = ? ORDER BY row_number",
                            [batch_id]).df()


__all__ = ["IngestResult", "ingest_file", "rejected_frame", "InputError"]

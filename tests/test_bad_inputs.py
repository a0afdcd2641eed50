"""Bad input, file by file: a clear message or rejected rows with reasons, nothing lost.

The files are in ``tests/bad_inputs/`` (written by ``make_corpus.py`` there). Every case
starts from a database that already holds good complaints and inspection points, and
checks what docs/import.md ("Nothing lost, nothing doubled") promises:

* a file that cannot be imported raises ``InputError`` with one line naming the file and
  the field, row or column, and the database file stays byte-identical;
* otherwise ``rows_read = inserted + updated + unchanged + rejected``, the batch row says
  the same, and every rejected row is in ``rejected_rows`` with its field, a reason and
  its raw text.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import NOW, ROOT, sha256_of

from ingest.errors import InputError
from ingest.fields import ID_FIELD, TABLE
from ingest.pipeline import IngestResult, ingest_file
from store.database import read_connection, write_transaction

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
#: Most cases are complaints in GCJ-02, as Amap-based city systems export them.
GCJ = {"crs": "gcj02"}
#: The corpus folder stays small enough to keep in the repository.
MAX_CORPUS_BYTES = 12_000_000


def _load_corpus_module():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> Path:
    """A database with 12 good complaints (S0001...) and 3 inspection points (P001...)."""
    folder = tmp_path_factory.mktemp("seed")
    complaints = folder / "seed_complaints.csv"
    complaints.write_text(corpus.csv_text([corpus.good_row(i, "S") for i in range(1, 13)]),
                          encoding="utf-8")
    points = folder / "seed_points.csv"
    points.write_text("点位编号,点位名称,点位类型,经度,纬度,所属区县\n"
                      "P001,朝阳广场,公园广场,108.3201,22.8155,兴宁区\n"
                      "P002,南湖公园,公园广场,108.3420,22.8090,青秀区\n"
                      "P003,江南客运站,交通站场,108.2960,22.7860,江南区\n", encoding="utf-8")
    db = folder / "seed.duckdb"
    assert ingest_file(db, "complaints", complaints, now=NOW, **GCJ).inserted == 12
    assert ingest_file(db, "points", points, now=NOW, **GCJ).inserted == 3
    return db


@pytest.fixture
def db(seeded_template: Path, db_path: Path) -> Path:
    """A private copy of the seeded database."""
    shutil.copyfile(seeded_template, db_path)
    return db_path


def _counts(db: Path) -> dict[str, int]:
    with read_connection(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("complaints", "inspection_points", "inspections", "import_batches",
                          "rejected_rows", "import_notes")}


def _no_working_copies(db: Path) -> None:
    left = sorted(p.name for p in db.parent.glob(db.name + ".writing-*"))
    assert not left, f"working copies left behind: {left}"


@dataclass
class Outcome:
    """An ingest that ran, with what it wrote to rejected_rows and import_notes."""

    result: IngestResult
    rejected: pd.DataFrame   # row_number, field, reason, raw
    notes: pd.DataFrame      # row_number, field, note

    def rejected_rows(self) -> dict[int, tuple[str, str]]:
        return {int(r.row_number): (r.field, r.reason) for r in self.rejected.itertuples()}

    def note_rows(self) -> dict[int, tuple[str, str]]:
        return {int(r.row_number): (r.field, r.note) for r in self.notes.itertuples()}


def ingest_ok(db: Path, kind: str, name: str, **kw) -> Outcome:
    """Ingest a corpus file that can be imported; check the bookkeeping every ingest owes."""
    before = _counts(db)
    res = ingest_file(db, kind, CORPUS / name, now=NOW, **kw)
    assert res.rows_read == res.inserted + res.updated + res.unchanged + res.rejected
    with read_connection(db) as conn:
        batch = conn.execute(
            "SELECT file_name, rows_read, rows_inserted, rows_updated, rows_unchanged, "
            "rows_rejected FROM import_batches WHERE batch_id = ?", [res.batch_id]).fetchone()
        rejected = conn.execute(
            "SELECT row_number, field, reason, raw FROM rejected_rows WHERE batch_id = ? "
            "ORDER BY row_number", [res.batch_id]).df()
        notes = conn.execute(
            "SELECT row_number, field, note FROM import_notes WHERE batch_id = ? "
            "ORDER BY row_number", [res.batch_id]).df()
    assert batch == (name, res.rows_read, res.inserted, res.updated, res.unchanged, res.rejected)
    assert len(rejected) == res.rejected
    assert rejected.row_number.is_unique, "a row is rejected once, for its first reason"
    for r in rejected.itertuples():
        assert r.field, f"row {r.row_number}: rejected without a field"
        assert r.reason and len(r.reason) > 10, f"row {r.row_number}: no reason in words"
        assert isinstance(r.raw, str) and r.raw.strip(), f"row {r.row_number}: raw text lost"
    after = _counts(db)
    assert after[TABLE[kind]] == before[TABLE[kind]] + res.inserted
    assert after["import_batches"] == before["import_batches"] + 1
    _no_working_copies(db)
    return Outcome(res, rejected, notes)


def expect_rejections(out: Outcome, expected: dict[int, tuple[str, str | list[str]]]) -> None:
    """Exactly the rows of ``expected`` are rejected, each for that field and reason text."""
    got = out.rejected_rows()
    assert sorted(got) == sorted(expected), got
    for row, (field, parts) in expected.items():
        f, reason = got[row]
        assert f == field, f"row {row}: field {f!r}, expected {field!r} ({reason})"
        for part in [parts] if isinstance(parts, str) else parts:
            assert part in reason, f"row {row}: {part!r} not in {reason!r}"


def ingest_fails(db: Path, kind: str, name: str, parts: list[str], **kw) -> str:
    """Ingest a corpus file that cannot be imported: one clear line, the database unchanged."""
    digest = sha256_of(db)
    with pytest.raises(InputError) as info:
        ingest_file(db, kind, CORPUS / name, now=NOW, **kw)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message, repr(message)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert sha256_of(db) == digest, "a failed import changed the database file"
    _no_working_copies(db)
    return message


def _record(db: Path, kind: str, record_id: str) -> dict:
    with read_connection(db) as conn:
        df = conn.execute(f'SELECT * FROM {TABLE[kind]} WHERE "{ID_FIELD[kind]}" = ?',
                          [record_id]).df()
    assert len(df) == 1, f"{record_id}: {len(df)} rows"
    return df.iloc[0].to_dict()


def _ids(db: Path, kind: str, prefix: str) -> set[str]:
    with read_connection(db) as conn:
        rows = conn.execute(f'SELECT "{ID_FIELD[kind]}" FROM {TABLE[kind]} '
                            f'WHERE starts_with("{ID_FIELD[kind]}", ?)', [prefix]).fetchall()
    return {r[0] for r in rows}


# ---------------------------------------------------------------- the corpus itself

def _same_content(a: Path, b: Path) -> bool:
    """Same bytes; or, for workbooks and Parquet, same content (library versions differ)."""
    if a.read_bytes() == b.read_bytes():
        return True
    if a.suffix == ".xlsx" and zipfile.is_zipfile(a) and zipfile.is_zipfile(b):
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            return ({i.filename: za.read(i) for i in za.infolist()}
                    == {i.filename: zb.read(i) for i in zb.infolist()})
    if a.suffix == ".parquet":
        try:
            return pq.read_table(a).equals(pq.read_table(b))
        except Exception:  # noqa: BLE001 - an unreadable file is simply not the same
            return False
    return False


def test_corpus_is_what_make_corpus_writes(tmp_path):
    """The committed files are the script's output (regenerate with make_corpus.py)."""
    fresh = corpus.make_all(tmp_path)
    committed = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py")
    assert [p.name for p in fresh] == [p.name for p in committed]
    stale = [p.name for p in fresh if not _same_content(p, CORPUS / p.name)]
    assert not stale, f"run python tests/bad_inputs/make_corpus.py; differs: {stale}"
    assert len(committed) >= 30
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < MAX_CORPUS_BYTES


# ---------------------------------------------------------------- files that cannot be imported

M = str(CORPUS)  # mapping files live beside the data

FAILURES = [
    # id, kind, file, options, what the message must say
    ("empty-file", "complaints", "empty.csv", {}, ["empty.csv", "empty (0 bytes)"]),
    ("whitespace-only", "complaints", "whitespace_only.csv", {},
     ["whitespace_only.csv", "holds no text"]),
    ("gbk-declared-utf8", "complaints", "gbk.csv", {"encoding": "utf-8"},
     ["gbk.csv", "line 1", "not valid utf-8", "--encoding auto"]),
    ("mixed-encoding-mostly-gbk", "complaints", "mixed_encoding_mostly_gbk.csv", {},
     ["mixed_encoding_mostly_gbk.csv", "mixes text encodings", "line 2 is not UTF-8",
      "line 1 is not GBK/GB18030"]),
    ("title-line-above-header", "complaints", "csv_title_line.csv", {},
     ["csv_title_line.csv", "no column found for complaint_id, received_at",
      "columns are: 南宁市12345热线工单导出"]),
    ("missing-received-at", "complaints", "missing_received_at.csv", {},
     ["missing_received_at.csv", "no column found for received_at",
      "工单编号, 问题类型, 问题描述"]),
    ("headers-need-mapping", "complaints", "custom_headers.csv", {},
     ["custom_headers.csv", "complaint_id, received_at", "ticket_no, opened_on", "mapping file"]),
    ("mapping-names-missing-column", "complaints", "custom_headers.csv",
     {"mapping": f"{M}/mapping_missing_column.toml"},
     ["custom_headers.csv", "mapping_missing_column.toml", "'opened_date'", "received_at",
      "ticket_no, opened_on, topic"]),
    ("mapping-malformed", "complaints", "custom_headers.csv",
     {"mapping": f"{M}/mapping_malformed.toml"},
     ["mapping_malformed.toml", "not a valid TOML", "line 2"]),
    ("mapping-unknown-field", "complaints", "custom_headers.csv",
     {"mapping": f"{M}/mapping_unknown_field.toml"},
     ["mapping_unknown_field.toml", "[columns] urgency is not a field of complaints",
      "complaint_id, received_at"]),
    ("mapping-bad-status", "complaints", "custom_headers.csv",
     {"mapping": f"{M}/mapping_bad_status.toml"},
     ["mapping_bad_status.toml", "[status] 'Open' = 'pending'", "open, closed or void"]),
    ("xlsx-not-a-zip", "complaints", "not_a_zip.xlsx", {},
     ["not_a_zip.xlsx", "not a readable .xlsx workbook"]),
    ("old-xls", "complaints", "old_format.xls", {},
     ["old_format.xls", ".xls format is not supported", "save as .xlsx"]),
    ("parquet-garbage", "complaints", "not_parquet.parquet", {},
     ["not_parquet.parquet", "not a readable Parquet file"]),
    ("geojson-invalid-json", "points", "invalid_json.geojson", {},
     ["invalid_json.geojson", "not valid JSON at line 8, column"]),
    ("geojson-not-a-collection", "points", "not_feature_collection.geojson", {},
     ["not_feature_collection.geojson", "FeatureCollection"]),
    ("geojson-no-features", "points", "empty_feature_collection.geojson", {},
     ["empty_feature_collection.geojson", "holds no features"]),
    ("points-without-coordinate-columns", "points", "points_no_coordinate_columns.csv", {},
     ["points_no_coordinate_columns.csv", "lon, lat", "点位编号, 点位名称, 点位类型"]),
]


@pytest.mark.parametrize(("kind", "name", "options", "parts"),
                         [pytest.param(*case[1:], id=case[0]) for case in FAILURES])
def test_file_that_cannot_be_imported(db, kind, name, options, parts):
    ingest_fails(db, kind, name, parts, **options)


# ---------------------------------------------------------------- structure

def test_header_only_reads_nothing_and_is_fine(db):
    out = ingest_ok(db, "complaints", "header_only.csv", **GCJ)
    r = out.result
    assert (r.rows_read, r.inserted, r.updated, r.unchanged, r.rejected) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("name", ["truncated_mid_row.csv", "truncated_in_quote.csv",
                                  "truncated_in_quote_last_column.csv",
                                  "truncated_in_quote_even_quotes.csv"])
def test_file_cut_off_rejects_its_last_row(db, name):
    out = ingest_ok(db, "complaints", name, **GCJ)
    reason = "the file may be cut off" if name == "truncated_mid_row.csv" else \
        "ends inside a quoted field that starts in this row"
    expect_rejections(out, {6: ("*", reason)})
    assert out.result.inserted == 4
    assert _ids(db, "complaints", "C") == {"C0001", "C0002", "C0003", "C0004"}
    if name != "truncated_mid_row.csv":
        assert "已设" in out.rejected.raw[0], "the raw text keeps what the file holds"


def test_embedded_newlines_keep_row_numbers(db):
    out = ingest_ok(db, "complaints", "embedded_newlines.csv", **GCJ)
    # record 4 is spreadsheet row 5, whatever line of the file it starts on
    expect_rejections(out, {5: ("received_at", "'2026-02-30 10:00' in 受理时间")})
    assert out.result.inserted == 5
    assert _record(db, "complaints", "C0001")["description"] == "第一行\n第二行\n第三行"
    assert _record(db, "complaints", "C0002")["description"] == '他说："路灯不亮"\r\n请处理'


def test_tab_delimited(db):
    out = ingest_ok(db, "complaints", "tab_delimited.tsv", **GCJ)
    assert (out.result.inserted, out.result.rejected) == (5, 0)
    assert _record(db, "complaints", "C0003")["category"] == "违章停车"


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(db):
    out = ingest_ok(db, "complaints", "blank_lines.csv", **GCJ)
    assert out.result.rows_read == 5
    expect_rejections(out, {8: ("received_at", "'不是日期' in 受理时间")})
    assert out.result.inserted == 4


def test_old_mac_line_ends(db):
    out = ingest_ok(db, "complaints", "cr_line_endings.csv", **GCJ)
    assert out.result.rows_read == 4
    expect_rejections(out, {5: ("received_at", "'2026-11-31 10:00' in 受理时间")})
    assert _ids(db, "complaints", "C") == {"C0001", "C0002", "C0004"}


def test_two_hundred_columns_keep_the_extras(db):
    out = ingest_ok(db, "complaints", "wide_200_columns.csv", **GCJ)
    assert out.result.inserted == 3
    extra = json.loads(_record(db, "complaints", "C0001")["extra"])
    assert len(extra) == 190
    assert extra["附加字段001"] == "值1-1" and extra["附加字段190"] == "值1-190"


def test_five_megabyte_field_rejects_its_row_only(db):
    out = ingest_ok(db, "complaints", "huge_field_5mb.csv", **GCJ)
    expect_rejections(out, {3: ("description", "问题描述 is longer than 32,768 characters")})
    assert out.result.inserted == 3
    assert len(out.rejected.raw[0]) > corpus.HUGE_FIELD_CHARS, "the whole row is kept"


# ---------------------------------------------------------------- encodings

@pytest.mark.parametrize(("name", "encoding"), [("gbk.csv", "gb18030"),
                                                ("utf8_bom.csv", "utf-8-sig"),
                                                ("utf16_bom.tsv", "utf-16")])
def test_encodings_are_detected_and_chinese_intact(db, name, encoding):
    out = ingest_ok(db, "complaints", name, **GCJ)
    assert (out.result.inserted, out.result.rejected) == (5, 0)
    assert out.result.encoding == encoding
    c1 = _record(db, "complaints", "C0001")  # the BOM did not end up in the first header
    assert (c1["src_district"], c1["description"]) == ("邕宁区", "邕江边垃圾堆积")
    assert _record(db, "complaints", "C0002")["category"] == "噪音扰民"


@pytest.mark.parametrize(("name", "foreign"), [("mixed_encoding.csv", {6: "C0005", 13: "C0012"}),
                                               ("mixed_encoding_small.csv", {4: "C0003"})])
def test_mixed_encoding_rejects_the_foreign_lines(db, name, foreign):
    out = ingest_ok(db, "complaints", name, **GCJ)
    reason = "not valid in the file's encoding (the file mixes encodings)"
    expect_rejections(out, {row: ("*", reason) for row in foreign})
    loaded = _ids(db, "complaints", "C")
    assert out.result.inserted == out.result.rows_read - len(foreign) == len(loaded)
    assert not set(foreign.values()) & loaded
    assert _record(db, "complaints", "C0001")["category"] == "道路破损", "UTF-8 text intact"


# ---------------------------------------------------------------- columns and mapping

def test_mapping_file_maps_headers_status_and_crs(db):
    out = ingest_ok(db, "complaints", "custom_headers.csv",
                    mapping=CORPUS / "mapping_good.toml")
    assert (out.result.inserted, out.result.rejected, out.result.noted) == (3, 0, 0)
    assert out.result.crs == "gcj02", "the crs comes from [options]"
    assert _record(db, "complaints", "BOS-2")["status"] == "closed"
    noted = _record(db, "complaints", "BOS-3")
    assert (noted["status"], noted["status_raw"]) == ("open", "Case Noted")
    assert 108.32 < _record(db, "complaints", "BOS-1")["lon"] < 108.33, "GCJ-02 converted"


# ---------------------------------------------------------------- values

GARBAGE_NOTES = {
    3: ("lon", ["经度/纬度 is not a number", "loaded without coordinates"]),
    4: ("lon", ["is (0, 0), which is no place in the city", "loaded without coordinates"]),
    5: ("lon", ["(999.0, 22.8)", "loaded without coordinates"]),
    6: ("lon", ["only one of 经度/纬度 is given", "loaded without coordinates"]),
    7: ("lon", ["were swapped", "loaded with the two exchanged"]),
}


def _expect_notes(out: Outcome, expected: dict[int, tuple[str, list[str]]]) -> None:
    got = out.note_rows()
    assert sorted(got) == sorted(expected), got
    for row, (field, parts) in expected.items():
        assert got[row][0] == field
        for part in parts:
            assert part in got[row][1], f"row {row}: {part!r} not in {got[row][1]!r}"


def test_garbage_coordinates_load_the_complaint_without_a_place(db):
    out = ingest_ok(db, "complaints", "garbage_coordinates.csv", **GCJ)
    # a complaint without usable coordinates still counts in the backlog: loaded, noted
    assert (out.result.inserted, out.result.rejected, out.result.noted) == (8, 0, 5)
    _expect_notes(out, GARBAGE_NOTES)
    for cid in ("C0002", "C0003", "C0004", "C0005"):
        rec = _record(db, "complaints", cid)
        assert pd.isna(rec["lon"]) and pd.isna(rec["lat"]) and pd.isna(rec["cell"]), cid
    swapped = _record(db, "complaints", "C0006")
    assert 108.32 < swapped["lon"] < 108.33 and 22.81 < swapped["lat"] < 22.82
    beijing = _record(db, "complaints", "C0007")  # no boundaries loaded: nothing to judge by
    assert 116.3 < beijing["lon"] < 116.4


def _load_square_district(db: Path) -> None:
    """One district polygon around Nanning's centre, straight into ``jurisdictions``."""
    with write_transaction(db) as conn:
        conn.execute("INSERT INTO jurisdictions (jurisdiction_id, name, level, geometry) VALUES "
                     "('450103', '青秀区', 'district', "
                     "'POLYGON ((108.0 22.5, 108.7 22.5, 108.7 23.1, 108.0 23.1, 108.0 22.5))')")


def test_coordinates_far_outside_the_loaded_city(db):
    _load_square_district(db)
    out = ingest_ok(db, "complaints", "garbage_coordinates.csv", **GCJ)
    _expect_notes(out, {**GARBAGE_NOTES, 8: ("lon", [
        "(116.4, 39.91) is outside the loaded city's area by more than 50 km",
        "loaded without coordinates"])})
    assert pd.isna(_record(db, "complaints", "C0007")["lon"])
    inside = _record(db, "complaints", "C0001")
    assert (inside["district"], inside["located_by"]) == ("青秀区", "polygon")


def test_unreadable_and_impossible_dates(db):
    out = ingest_ok(db, "complaints", "bad_dates.csv", **GCJ)
    expected_forms = "expected a form like 2026/11/22 10:03"
    expect_rejections(out, {
        3: ("received_at", ["'昨天下午' in 受理时间 is not a valid date and time", expected_forms]),
        4: ("received_at", ["'2026-02-30 10:00'", expected_forms]),
        5: ("received_at", ["'2026-11-05 25:61'", expected_forms]),
        6: ("received_at", ["'2026/13/01'", expected_forms]),
        7: ("closed_at", ["'尚未办结' in 办结时间", expected_forms]),
    })
    assert _ids(db, "complaints", "C") == {"C0001", "C0007"}


def test_times_with_nanoseconds(db):
    out = ingest_ok(db, "complaints", "nanosecond_times.csv", **GCJ)
    assert (out.result.inserted, out.result.rejected) == (3, 0)
    assert _record(db, "complaints", "C0001")["received_at"] == \
        pd.Timestamp("2026-11-02 09:07:00.123456")
    assert _record(db, "complaints", "C0002")["received_at"] == pd.Timestamp("2026-11-03 10:14")


def test_times_in_the_future(db):
    out = ingest_ok(db, "complaints", "future_received.csv", **GCJ)
    expect_rejections(out, {
        3: ("received_at", ["2026-12-01 09:00 in 受理时间 is in the future",
                            "now is 2026-11-23 12:00"]),
        5: ("closed_at", "2027-01-05 10:00 in 办结时间 is in the future"),
    })
    assert "C0003" in _ids(db, "complaints", "C"), "five minutes ahead is clock skew"


def test_closed_before_received(db):
    out = ingest_ok(db, "complaints", "closed_before_received.csv", **GCJ)
    expect_rejections(out, {3: ("closed_at", "办结时间 2026-11-09 18:00 is before 受理时间 "
                                             "2026-11-10 09:00")})


def test_duplicate_ids_keep_the_first(db):
    out = ingest_ok(db, "complaints", "duplicate_ids.csv", **GCJ)
    reason = "工单编号 'DUP-1' already appears in row 2 of this file; only the first of them is imported"
    expect_rejections(out, {4: ("complaint_id", reason), 6: ("complaint_id", reason)})
    kept = _record(db, "complaints", "DUP-1")
    assert kept["received_at"] == pd.Timestamp(corpus.good_row(1)[1])


def test_empty_ids(db):
    out = ingest_ok(db, "complaints", "empty_ids.csv", **GCJ)
    expect_rejections(out, {3: ("complaint_id", "工单编号 is empty"),
                            4: ("complaint_id", "工单编号 is empty")})


def test_satisfaction_words(db):
    out = ingest_ok(db, "complaints", "satisfaction_words.csv")
    assert (out.result.inserted, out.result.rejected) == (6, 0)
    _expect_notes(out, {6: ("satisfied", ["'很好' in 满意度 is not a yes/no"])})
    with read_connection(db) as conn:
        got = dict(conn.execute("SELECT complaint_id, satisfied FROM complaints "
                                "WHERE starts_with(complaint_id, 'SAT-')").fetchall())
    assert got == {"SAT-1": True, "SAT-2": False, "SAT-3": None, "SAT-4": True, "SAT-5": None,
                   "SAT-6": None}


# ---------------------------------------------------------------- XLSX

def test_xlsx_formula_without_saved_result_rejects_its_row(db):
    out = ingest_ok(db, "complaints", "formula_no_cache.xlsx", **GCJ)
    assert sorted(out.rejected_rows()) == [4]
    field, reason = out.rejected_rows()[4]
    # the reader names the column as the file has it
    assert field in ("closed_at", "办结时间")
    assert "cell I4 holds a formula" in reason and "no saved result" in reason
    assert out.result.inserted == 3 and "C0003" not in _ids(db, "complaints", "C")


def test_xlsx_formula_saved_results_are_read(db):
    out = ingest_ok(db, "complaints", "formula_cached.xlsx", crs="wgs84")
    assert (out.result.inserted, out.result.rejected) == (4, 0)
    assert _record(db, "complaints", "C0001")["description"] == "路面破损"
    assert _record(db, "complaints", "C0002")["category"] == "井盖缺失"
    assert _record(db, "complaints", "C0003")["lat"] == pytest.approx(22.81)


def test_xlsx_formula_with_saved_empty_text_is_not_lost(db):
    """=IF(…, "", …) saved by Excel/WPS is an empty cell; an uncalculated formula is not."""
    out = ingest_ok(db, "complaints", "formula_empty_text_result.xlsx", crs="wgs84")
    assert sorted(out.rejected_rows()) == [3]
    assert "cell I3 holds a formula" in out.rejected_rows()[3][1]
    assert _ids(db, "complaints", "C") == {"C0001", "C0003", "C0004"}
    assert pd.isna(_record(db, "complaints", "C0001")["closed_at"])
    assert _record(db, "complaints", "C0003")["lon"] == pytest.approx(108.312)


def test_xlsx_title_rows_and_merged_cells(db):
    out = ingest_ok(db, "complaints", "merged_cells.xlsx", **GCJ)
    assert (out.result.inserted, out.result.rejected) == (6, 0)
    assert any("header found in row 4" in n for n in out.result.notes)
    with read_connection(db) as conn:
        got = dict(conn.execute("SELECT complaint_id, src_district FROM complaints "
                                "WHERE starts_with(complaint_id, 'C')").fetchall())
    assert got == {"C0001": "青秀区", "C0002": "青秀区", "C0003": "青秀区",
                   "C0004": "兴宁区", "C0005": "兴宁区", "C0006": "兴宁区"}


# ---------------------------------------------------------------- Parquet

def test_parquet_typed_timestamps(db):
    out = ingest_ok(db, "complaints", "typed_timestamps.parquet", **GCJ)
    expect_rejections(out, {4: ("received_at", "received_at is empty")})
    pq1 = _record(db, "complaints", "PQ-1")
    assert pq1["received_at"] == pd.Timestamp("2026-11-01 09:30")
    assert pq1["closed_at"] == pd.Timestamp("2026-11-02 09:00"), "UTC 01:00 is 09:00 local"
    assert pq1["status"] == "closed"
    assert _record(db, "complaints", "PQ-2")["reworked"] == 2
    assert pd.isna(_record(db, "complaints", "PQ-3")["lon"])


def test_parquet_integer_ids_with_a_gap_stay_integers(db):
    out = ingest_ok(db, "complaints", "integer_ids_with_gap.parquet", **GCJ)
    expect_rejections(out, {2: ("complaint_id", "工单编号 is empty")})
    assert _ids(db, "complaints", "100") == {"1001", "1003"}
    assert _record(db, "complaints", "1001")["src_grid_id"] == "4501030001"


# ---------------------------------------------------------------- GeoJSON, points, inspections

def test_geojson_points_with_a_polygon_feature(db):
    out = ingest_ok(db, "points", "points_with_polygon.geojson", **GCJ)
    expect_rejections(out, {2: ("geometry", "feature 2: geometry is 'Polygon'; a Point was "
                                            "expected"),
                            3: ("geometry", "point coordinates ['a', 'b'] are not two numbers")})
    assert _ids(db, "points", "GP") == {"GP1", "GP4"}
    extra = json.loads(_record(db, "points", "GP4")["extra"])
    assert json.loads(extra["设施"]) == {"垃圾桶": 2, "路灯": [1, 2]}, "nested values as JSON"


def test_points_with_unusable_coordinates_are_rejected(db):
    out = ingest_ok(db, "points", "points_missing_coordinates.csv", **GCJ)
    rejected = out.rejected_rows()
    for row, part in ((4, "经度/纬度 is not a number"), (5, "only one of 经度/纬度 is given")):
        assert rejected[row] == ("lon", f"{part}; an inspection point needs a usable location")
    assert {"P901", "P905"} <= _ids(db, "points", "P9")
    assert not {"P903", "P904"} & _ids(db, "points", "P9")


def test_points_with_empty_coordinates_are_rejected(db):
    out = ingest_ok(db, "points", "points_missing_coordinates.csv", **GCJ)
    assert out.rejected_rows().get(3, ("", ""))[0] == "lon"
    assert "P902" not in _ids(db, "points", "P9")


def test_inspections_of_unknown_points(db):
    out = ingest_ok(db, "inspections", "inspections_unknown_points.csv", **GCJ)
    expect_rejections(out, {
        3: ("point_id", "点位编号 'P999' is not a loaded inspection point; import the points "
                        "file first"),
        5: ("point_id", "点位编号 'Q-404' is not a loaded inspection point"),
    })
    i1 = _record(db, "inspections", "I-1")
    p1 = _record(db, "points", "P001")
    assert (i1["lon"], i1["lat"]) == (p1["lon"], p1["lat"]), "the point's place is inherited"


# ---------------------------------------------------------------- boundary files

def _load_boundaries(db: Path, name: str):
    boundaries = pytest.importorskip("ingest.boundaries")
    return boundaries.load_boundaries(db, CORPUS / name, "district")


def _boundary_fails(db: Path, name: str, parts: list[str]) -> None:
    boundaries = pytest.importorskip("ingest.boundaries")
    digest = sha256_of(db)
    with pytest.raises(boundaries.BoundaryError) as info:
        boundaries.load_boundaries(db, CORPUS / name, "district")
    message = str(info.value)
    assert "\n" not in message
    for part in [name, *parts]:
        assert part in message, f"{part!r} not in {message!r}"
    assert sha256_of(db) == digest
    _no_working_copies(db)


def test_boundary_self_intersecting_polygon_is_repaired_and_reported(db):
    report = _load_boundaries(db, "boundary_self_intersecting.geojson")
    assert report.inserted == 2
    repaired = [i for i in report.issues if i.issue == "invalid_repaired"]
    assert [i.jurisdiction_id for i in repaired] == ["450103"]
    assert "Self-intersection" in repaired[0].detail
    with read_connection(db) as conn:
        wkt = conn.execute("SELECT geometry FROM jurisdictions WHERE jurisdiction_id = '450103'"
                           ).fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM boundary_issues WHERE issue = "
                              "'invalid_repaired'").fetchone()[0]
    import shapely
    assert shapely.from_wkt(wkt).is_valid and stored == 1


def test_boundary_ring_with_too_few_points(db):
    _boundary_fails(db, "boundary_ring_too_few_points.geojson",
                    ["feature 1", "the polygon has no area", "Too few points"])


def test_boundary_in_metres_without_a_declared_crs(db):
    _boundary_fails(db, "boundary_projected_metres.geojson",
                    ["feature 1", "(740000.0, 2520000.0)", "not longitude/latitude degrees",
                     "--crs EPSG:"])


def test_boundary_duplicate_ids(db):
    _boundary_fails(db, "boundary_duplicate_ids.geojson",
                    ["'adcode'", "id 450103 appears more than once", "features 1, 2"])


# ---------------------------------------------------------------- the command line

CLI_FAILURES = [
    ("empty.csv", [], "the file is empty (0 bytes)"),
    ("gbk.csv", ["--encoding", "utf-8"], "line 1 is not valid utf-8"),
    ("missing_received_at.csv", [], "no column found for received_at"),
    ("not_a_zip.xlsx", [], "not a readable .xlsx workbook"),
]


def test_cli_exits_2_with_one_line(db, tmp_path):
    """Four bad files through ``python cli.py`` (run side by side to save time)."""
    runs = []
    for k, (name, options, part) in enumerate(CLI_FAILURES):
        case_db = tmp_path / f"cli{k}.duckdb"
        shutil.copyfile(db, case_db)
        cmd = [sys.executable, "cli.py", "--db", str(case_db), "ingest", "complaints",
               str(CORPUS / name), "--crs", "gcj02", *options]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        runs.append((name, part, case_db, sha256_of(case_db), proc))
    for name, part, case_db, digest, proc in runs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (name, out, err)
        lines = err.splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("错误 error: ") and name in lines[0] and part in lines[0]
        assert out == ""
        assert sha256_of(case_db) == digest


def test_the_command_names_the_file_row_field_and_first_note(db):
    """What a user at the command line reads: each rejected row with the file's name, its
    row and field; for rows loaded with a note, the first such row and what was noted."""
    def run(name: str) -> str:
        r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "ingest",
                            "complaints", str(CORPUS / name), "--crs", "gcj02"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = run("bad_dates.csv")
    assert "rejected bad_dates.csv row 3 (received_at): '昨天下午' in 受理时间" in out
    assert "rejected bad_dates.csv row 7 (closed_at): '尚未办结' in 办结时间" in out
    first_row = min(GARBAGE_NOTES)
    field, parts = GARBAGE_NOTES[first_row]
    line = next(ln for ln in run("garbage_coordinates.csv").splitlines()
                if ln.startswith(f"note: {field}: "))
    assert f"rows loaded with a note, the first row {first_row}: " in line
    assert all(p in line for p in parts), line

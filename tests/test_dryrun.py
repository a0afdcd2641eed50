"""Dry run and column detection (ingest/dryrun.py): what an import would do, writing nothing.

The proof is twofold: the database file's bytes are the same before and after a dry run,
and a real import of the same file right after reports exactly the dry run's counts and
rejected rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import NOW, sha256_of

from ingest.dryrun import (
    DETECT_COLUMNS,
    assignment_notes,
    detect_columns,
    dry_run,
    effective_columns,
    mapping_from_assignment,
    mapping_toml,
)
from ingest.errors import InputError
from ingest.fields import recognise_columns
from ingest.mapping import load_mapping
from ingest.pipeline import ingest_file
from store.database import _lock_file

FIRST = """工单编号,受理时间,问题大类,问题描述,经度,纬度,所属区县,处理状态,办结时间,备注
GD001,2026/11/01 09:00,市容环境,垃圾堆放,108.31,22.81,方区,已办结,2026/11/02 10:00,甲
GD002,2026/11/02 09:00,街面秩序,占道经营,108.32,22.82,方区,处置中,,乙
GD003,2026/11/03 09:00,市容环境,道路不洁,108.33,22.83,方区,处置中,,丙
"""

#: Against FIRST: GD001 same, GD002 closed now (updated), GD004/GD005 new, GD006 future,
#: GD007 unreadable time, GD004 repeated, GD008 closed before received.
SECOND = """工单编号,受理时间,问题大类,问题描述,经度,纬度,所属区县,处理状态,办结时间,备注
GD001,2026/11/01 09:00,市容环境,垃圾堆放,108.31,22.81,方区,已办结,2026/11/02 10:00,甲
GD002,2026/11/02 09:00,街面秩序,占道经营,108.32,22.82,方区,已办结,2026/11/04 16:00,乙
GD004,2026/11/04 09:00,市容环境,暴露垃圾,108.34,22.84,方区,上报,,丁
GD005,2026/11/05 09:00,街面秩序,乱停车,0,0,方区,上报,,戊
GD006,2027/01/05 09:00,街面秩序,未来的时间,108.35,22.85,方区,上报,,己
GD007,2026/13/45 09:00,街面秩序,坏日期,108.35,22.85,方区,上报,,庚
GD004,2026/11/04 10:00,市容环境,重复,108.34,22.84,方区,上报,,辛
GD008,2026/11/05 09:00,市容环境,先办结,108.34,22.84,方区,已办结,2026/11/01 09:00,壬
"""


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.fixture
def seeded(district_db: Path, tmp_path: Path) -> Path:
    """The one-district database with FIRST imported."""
    ingest_file(district_db, "complaints", _write(tmp_path / "first.csv", FIRST), now=NOW)
    return district_db


def _table(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


# --------------------------------------------------------------------------- dry run

def test_dry_run_changes_no_byte_and_matches_the_real_import(seeded, tmp_path):
    src = _write(tmp_path / "second.csv", SECOND)
    before = sha256_of(seeded)
    dry = dry_run(seeded, "complaints", src, now=NOW)
    assert sha256_of(seeded) == before, "a dry run must not change the database file"
    assert not list(seeded.parent.glob(seeded.name + ".writing-*"))
    assert (dry.rows_read, dry.inserted, dry.updated, dry.unchanged, dry.rejected) == (
        8, 2, 1, 1, 4)
    assert dry.noted >= 1  # GD005 at (0, 0): loaded without coordinates, with a note
    assert list(dry.rejected_rows.columns) == ["row_number", "field", "reason", "raw"]
    assert list(dry.rejected_rows["row_number"]) == [6, 7, 8, 9]  # rows 6-9 (header = row 1)
    assert dry.rejected == len(dry.rejected_rows)

    real = ingest_file(seeded, "complaints", src, now=NOW)
    assert sha256_of(seeded) != before
    assert (real.rows_read, real.inserted, real.updated, real.unchanged, real.rejected,
            real.noted) == (dry.rows_read, dry.inserted, dry.updated, dry.unchanged,
                            dry.rejected, dry.noted)
    assert real.batch_id == dry.batch_id
    assert real.columns == dry.columns and real.crs == dry.crs
    stored = _table(seeded, f"SELECT row_number, field, reason, raw FROM rejected_rows "
                            f"WHERE batch_id = {real.batch_id} ORDER BY row_number")
    pd.testing.assert_frame_equal(
        stored.astype(str).reset_index(drop=True),
        dry.rejected_rows.astype(str).reset_index(drop=True))
    batch = _table(seeded, f"SELECT * FROM import_batches WHERE batch_id = {real.batch_id}")
    assert batch.loc[0, "rows_inserted"] == dry.inserted
    assert batch.loc[0, "rows_updated"] == dry.updated
    assert batch.loc[0, "rows_rejected"] == dry.rejected


def test_rejections_name_the_row_and_the_reason(seeded, tmp_path):
    dry = dry_run(seeded, "complaints", _write(tmp_path / "second.csv", SECOND), now=NOW)
    by_row = dict(zip(dry.rejected_rows["row_number"], dry.rejected_rows["reason"],
                      strict=True))
    assert "future" in by_row[6]
    assert "2026/13/45" in by_row[7]
    assert "already appears in row 4" in by_row[8]
    assert "before" in by_row[9]
    assert dry.rejected_rows.loc[0, "raw"].startswith("GD006,")


def test_dry_run_of_the_same_file_again_changes_nothing(seeded, tmp_path):
    dry = dry_run(seeded, "complaints", _write(tmp_path / "first.csv", FIRST), now=NOW)
    assert (dry.inserted, dry.updated, dry.unchanged, dry.rejected) == (0, 0, 3, 0)


def test_dry_run_without_a_database_creates_none(db_path, tmp_path):
    src = _write(tmp_path / "first.csv", FIRST)
    dry = dry_run(db_path, "complaints", src, now=NOW)
    assert not db_path.exists()
    assert list(db_path.parent.iterdir()) == [src]
    assert (dry.rows_read, dry.inserted, dry.batch_id) == (3, 3, 1)
    real = ingest_file(db_path, "complaints", src, now=NOW)
    assert (real.rows_read, real.inserted, real.rejected) == (3, 3, 0)


def test_dry_run_takes_no_lock_so_a_running_import_does_not_block_it(seeded, tmp_path):
    fd = _lock_file(Path(seeded), 1.0)  # as if a long import were writing
    try:
        dry = dry_run(seeded, "complaints", _write(tmp_path / "s.csv", SECOND), now=NOW)
    finally:
        import fcntl
        import os
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert dry.inserted == 2


def test_a_file_that_cannot_be_read_is_refused_and_nothing_changes(seeded, tmp_path):
    before = sha256_of(seeded)
    with pytest.raises(InputError, match="empty"):
        dry_run(seeded, "complaints", _write(tmp_path / "empty.csv", ""), now=NOW)
    with pytest.raises(InputError, match="no column found for received_at"):
        dry_run(seeded, "complaints", _write(tmp_path / "x.csv", "工单编号,内容\nA,b\n"), now=NOW)
    with pytest.raises(InputError, match="unknown encoding"):
        dry_run(seeded, "complaints", _write(tmp_path / "f.csv", FIRST), encoding="nope", now=NOW)
    with pytest.raises(InputError, match="unknown record kind"):
        dry_run(seeded, "cases", _write(tmp_path / "f.csv", FIRST), now=NOW)
    assert sha256_of(seeded) == before


def test_inspections_dry_run_uses_the_loaded_points(district_db, tmp_path):
    points = _write(tmp_path / "points.csv", "点位编号,点位名称,经度,纬度\nP1,菜市场,108.31,22.81\n")
    ingest_file(district_db, "points", points, now=NOW)
    insp = _write(tmp_path / "insp.csv", "督查编号,点位编号,督查时间,问题数量\n"
                  "I1,P1,2026-11-10 09:00,2\nI2,P9,2026-11-10 10:00,1\nI3,P1,2026-11-11 09:00,x\n")
    before = sha256_of(district_db)
    dry = dry_run(district_db, "inspections", insp, now=NOW)
    assert sha256_of(district_db) == before
    assert (dry.inserted, dry.rejected) == (1, 2)
    assert "points file first" in " ".join(dry.rejected_rows["reason"])
    real = ingest_file(district_db, "inspections", insp, now=NOW)
    assert (real.inserted, real.rejected) == (dry.inserted, dry.rejected)


def test_progress_callback_reports_each_stage(db_path, tmp_path):
    seen: list[tuple[str, float]] = []
    ingest_file(db_path, "complaints", _write(tmp_path / "f.csv", FIRST), now=NOW,
                progress_callback=lambda stage, fraction: seen.append((stage, fraction)))
    assert [s for s, _ in seen] == ["reading", "checking", "writing", "done"]
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1


# --------------------------------------------------------------------------- detection

def test_detect_columns_matches_the_import_recognition(seeded, tmp_path):
    src = _write(tmp_path / "second.csv", SECOND, encoding="gb18030")
    table = detect_columns(src, "complaints")
    assert list(table.columns) == DETECT_COLUMNS
    assert list(table["column"]) == SECOND.splitlines()[0].split(",")
    found = dict(zip(table["column"], table["field"], strict=True))
    assert found["工单编号"] == "complaint_id" and found["受理时间"] == "received_at"
    assert found["经度"] == "lon" and found["所属区县"] == "district"
    assert found["备注"] is None
    assert table.loc[0, "sample"].startswith("GD001 | GD002 | GD004")
    cols = list(table["column"])
    assert {c: f for f, c in recognise_columns(cols, "complaints").items()} == {
        c: f for c, f in found.items() if f is not None}
    real = ingest_file(seeded, "complaints", src, now=NOW)
    assert real.columns == {f: c for c, f in found.items() if f is not None}


def test_detect_columns_of_geojson_and_xlsx(tmp_path):
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [108.31, 22.81]},
         "properties": {"点位编号": "P1", "点位名称": "菜市场", "说明": None}}]}
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")
    table = detect_columns(path, "points")
    assert list(table["column"]) == ["点位编号", "点位名称", "说明"]  # geometry is no column
    assert list(table["field"]) == ["point_id", "name", None]
    assert table.loc[2, "sample"] == ""
    assert effective_columns(table, "points", None, geometry=True)["lon"] == "__geometry_lon"

    xlsx = tmp_path / "i.xlsx"
    pd.DataFrame({"督查编号": ["I1"], "督查时间": ["2026-11-10 09:00"]}).to_excel(xlsx, index=False)
    t2 = detect_columns(xlsx, "inspections")
    assert list(t2["field"]) == ["inspection_id", "inspected_at"]


def test_detect_columns_refuses_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="xlsx"):
        detect_columns(_write(tmp_path / "old.xls", "x"), "complaints")
    with pytest.raises(InputError, match="empty"):
        detect_columns(_write(tmp_path / "e.csv", ""), "complaints")


# --------------------------------------------------------------------------- the column table

CUSTOM = """单号,时间,种类,文字
X1,2026/11/01 09:00,市容环境,一
X2,2026/11/02 09:00,街面秩序,二
"""


def test_corrected_assignment_becomes_the_mapping_of_the_import(db_path, tmp_path):
    src = _write(tmp_path / "custom.csv", CUSTOM)
    table = detect_columns(src, "complaints")
    assert table["field"].isna().all()
    with pytest.raises(InputError, match="complaint_id, received_at"):
        effective_columns(table, "complaints", mapping_from_assignment(table, "complaints"))
    edited = table.copy()
    edited["field"] = ["complaint_id", "received_at", "category", None]
    mapping = mapping_from_assignment(edited, "complaints")
    assert mapping.columns == {"complaint_id": "单号", "received_at": "时间", "category": "种类"}
    assert effective_columns(edited, "complaints", mapping) == mapping.columns
    dry = dry_run(db_path, "complaints", src, mapping=mapping, now=NOW)
    assert (dry.inserted, dry.rejected) == (2, 0)
    res = ingest_file(db_path, "complaints", src, mapping=mapping, now=NOW)
    assert res.columns == mapping.columns
    rows = _table(db_path, "SELECT complaint_id, category, extra FROM complaints ORDER BY 1")
    assert list(rows["category"]) == ["市容环境", "街面秩序"]
    assert json.loads(rows.loc[0, "extra"]) == {"文字": "一"}

    # the same mapping written as a mapping file gives the same import
    toml = tmp_path / "m.toml"
    toml.write_text(mapping_toml(mapping), encoding="utf-8")
    assert load_mapping(toml, "complaints").columns == mapping.columns


def test_assignment_overrides_and_swaps_recognised_fields(tmp_path):
    src = _write(tmp_path / "s.csv", "工单编号,受理时间,问题大类,问题小类\nA,2026/11/01 09:00,甲,乙\n")
    table = detect_columns(src, "complaints")
    edited = table.copy()
    edited["field"] = ["complaint_id", "received_at", "subcategory", "category"]
    mapping = mapping_from_assignment(edited, "complaints")
    used = effective_columns(edited, "complaints", mapping)
    assert used["category"] == "问题小类" and used["subcategory"] == "问题大类"
    assert assignment_notes(edited, "complaints", mapping) == []


def test_a_cleared_recognised_column_is_reported(tmp_path):
    src = _write(tmp_path / "s.csv", "工单编号,受理时间,问题大类\nA,2026/11/01 09:00,甲\n")
    edited = detect_columns(src, "complaints")
    edited.loc[2, "field"] = None
    mapping = mapping_from_assignment(edited, "complaints")
    notes = assignment_notes(edited, "complaints", mapping)
    assert len(notes) == 1 and "问题大类" in notes[0] and "category" in notes[0]


def test_assignment_refuses_a_field_given_twice_or_unknown():
    table = pd.DataFrame({"column": ["a", "b", "c"], "sample": ["", "", ""],
                          "field": ["complaint_id", "complaint_id", None]})
    with pytest.raises(InputError, match="complaint_id is given to two columns, 'a' and 'b'"):
        mapping_from_assignment(table, "complaints")
    table["field"] = ["complaint_id", "point_type", float("nan")]
    with pytest.raises(InputError, match="'point_type' is not a field of complaints"):
        mapping_from_assignment(table, "complaints")
    table["field"] = ["complaint_id", "", float("nan")]
    assert mapping_from_assignment(table, "complaints").columns == {"complaint_id": "a"}


def test_mapping_toml_quotes_what_needs_quoting(tmp_path):
    from ingest.mapping import Mapping

    m = Mapping(columns={"complaint_id": 'id "x"\\y', "received_at": "时间"},
                status={"处理 中": "open"}, options={"crs": "gcj02", "header_row": 3})
    path = tmp_path / "m.toml"
    path.write_text(mapping_toml(m), encoding="utf-8")
    back = load_mapping(path, "complaints")
    assert back.columns == m.columns and back.status == m.status
    assert back.options == {"crs": "gcj02", "header_row": 3}

"""The Import page (views/data_import.py) under streamlit.testing: renders, lists the import
history of the test database, uploads, dry-runs and imports a file, and shows bad files as
words; its pure helpers are tested directly.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import NOW, ROOT, sha256_of

from ingest.errors import InputError
from ingest.pipeline import ingest_file

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from views import data_import as page  # noqa: E402

POINTS = "点位编号,点位名称,经度,纬度\nP1,菜市场,108.31,22.81\nP2,学校,108.32,22.82\n"
COMPLAINTS = """工单编号,受理时间,问题大类,经度,纬度,处理状态
GD001,2026/11/01 09:00,市容环境,108.31,22.81,已办结
GD002,2026/11/02 09:00,街面秩序,108.32,22.82,处置中
GD002,2026/11/02 10:00,街面秩序,108.32,22.82,处置中
GD003,2026/13/02 09:00,街面秩序,108.32,22.82,处置中
"""
UPLOAD = """工单编号,受理时间,问题大类,经度,纬度,处理状态,备注
GD010,2025/10/01 09:00,市容环境,108.31,22.81,已办结,甲
GD011,2025/10/02 09:00,街面秩序,108.32,22.82,处置中,乙
GD011,2025/10/02 10:00,街面秩序,108.32,22.82,处置中,丙
"""
CUSTOM = """单号,时间,种类
X1,2025/10/01 09:00,市容环境
X2,2025/10/02 09:00,街面秩序
"""


@pytest.fixture
def app_env(district_db, tmp_path, monkeypatch):
    """A test database with two batches (points; complaints with 2 rejected rows)."""
    (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
    (tmp_path / "complaints.csv").write_text(COMPLAINTS, encoding="utf-8")
    ingest_file(district_db, "points", tmp_path / "points.csv", now=NOW)
    ingest_file(district_db, "complaints", tmp_path / "complaints.csv", now=NOW)
    settings = tmp_path / "settings.toml"
    # uploads and dry-run scratch copies go to the test's folder, not the system's /tmp
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("GRID_DB", str(district_db))
    monkeypatch.setenv("GRID_SETTINGS", str(settings))
    script = tmp_path / "import_page.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from views.data_import import render\n"
        "render()\n", encoding="utf-8")
    return district_db, script


def _app(script: Path, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(script), default_timeout=60)
    if lang:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_page_renders_and_lists_the_batches_of_the_database(app_env):
    db, script = app_env
    at = _app(script)
    assert at.title[0].value == "数据导入"
    assert not at.error
    history = at.dataframe[0].value
    assert list(history["batch_id"]) == [3, 2, 1] == [
        r[0] for r in _rows(db, "SELECT batch_id FROM import_batches ORDER BY batch_id DESC")]
    assert list(history["kind"]) == ["投诉工单", "考察点位", "区划边界·区县"]  # kinds in words
    assert list(history["rows_rejected"]) == [2, 0, 0]
    # the batch with rejected rows is chosen first; its rows are listed with reasons
    assert at.selectbox(key="imp_batch").value == 3
    rejected = at.dataframe[1].value
    assert list(rejected["row_number"]) == [4, 5]
    assert "already appears in row 3" in rejected.loc[0, "reason"]
    assert "2026/13/02" in rejected.loc[1, "reason"]
    assert len(at.get("download_button")) == 1


def test_choosing_a_batch_shows_its_rejected_rows(app_env):
    _, script = app_env
    at = _app(script)
    at.selectbox(key="imp_batch").set_value(2).run()
    assert not at.exception
    assert len(at.dataframe) == 1  # the history only
    assert any("没有未入库" in c.value for c in at.caption)


def test_page_in_english(app_env):
    _, script = app_env
    at = _app(script, lang="en")
    assert at.title[0].value == "Import data"
    assert at.radio(key="imp_kind").options == ["Complaints", "Inspections", "Inspection points"]


def test_upload_dry_run_then_import(app_env):
    db, script = app_env
    at = _app(script)
    at.file_uploader(key="imp_file").set_value(("新工单.csv", UPLOAD.encode("gb18030"),
                                                 "text/csv")).run()
    assert not at.exception and not at.error
    columns = at.data_editor[0].value
    assert list(columns["column"]) == UPLOAD.splitlines()[0].split(",")
    assert list(columns["field"])[:6] == ["complaint_id", "received_at", "category", "lon",
                                          "lat", "status"]
    assert pd.isna(columns["field"].iloc[6])

    before = sha256_of(db)
    at.button(key="imp_dry_btn").click().run()
    assert not at.exception and not at.error
    assert sha256_of(db) == before
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"读取": "3", "新增": "2", "更新": "0", "未变": "0", "拒收": "1"}
    assert any("read=3 inserted=2 updated=0 rejected=1" in i.value for i in at.info)

    at.button(key="imp_go_btn").click().run()
    assert not at.exception and not at.error
    assert any("read=3 inserted=2 updated=0 rejected=1" in s.value for s in at.success)
    assert _rows(db, "SELECT file_name, rows_inserted FROM import_batches WHERE batch_id = 4") \
        == [("新工单.csv", 2)]
    assert _rows(db, "SELECT count(*) FROM complaints WHERE complaint_id LIKE 'GD01%'") == [(2,)]
    history = [d.value for d in at.dataframe]
    assert any(list(h.get("batch_id", []))[:1] == [4] for h in history)
    # the temporary upload folder never shows in messages
    assert not any("grid-upload-" in c.value for c in at.caption)


def test_corrected_columns_are_used_by_the_import(app_env):
    db, script = app_env
    at = _app(script)
    at.file_uploader(key="imp_file").set_value(("custom.csv", CUSTOM.encode(), "text/csv")).run()
    assert any("complaint_id" in e.value for e in at.error)  # required fields not found
    assert at.button(key="imp_go_btn").disabled
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"field": "complaint_id"}, 1: {"field": "received_at"},
                        2: {"field": "category"}},
        "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception and not at.error
    at.button(key="imp_go_btn").click().run()
    assert not at.exception and not at.error
    assert _rows(db, "SELECT complaint_id, category FROM complaints "
                     "WHERE complaint_id LIKE 'X%' ORDER BY 1") == [("X1", "市容环境"),
                                                                     ("X2", "街面秩序")]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("old.xls", b"\xd0\xcf\x11\xe0 not really", "xlsx"),
    ("empty.csv", b"", "empty"),
    ("broken.xlsx", b"PK not a zip", "xlsx"),
    ("bad.geojson", b"{not json", "GeoJSON"),
])
def test_bad_files_are_reported_in_words(app_env, name, data, words):
    db, script = app_env
    before = sha256_of(db)
    at = _app(script)
    at.file_uploader(key="imp_file").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    assert at.error and words.lower() in at.error[0].value.lower()
    assert at.error[0].value.startswith("文件无法导入")
    assert "Traceback" not in at.error[0].value
    assert sha256_of(db) == before


def test_unknown_encoding_is_reported_in_words(app_env):
    _, script = app_env
    at = _app(script)
    at.selectbox(key="imp_encoding").set_value("other").run()
    at.text_input(key="imp_encoding_other").set_value("klingon").run()
    at.file_uploader(key="imp_file").set_value(("a.csv", UPLOAD.encode(), "text/csv")).run()
    assert not at.exception
    assert "unknown encoding" in at.error[0].value


def test_page_without_a_database(tmp_path, monkeypatch):
    monkeypatch.setenv("GRID_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.setenv("GRID_SETTINGS", str(tmp_path / "settings.toml"))
    script = tmp_path / "p.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                      "from views.data_import import render\nrender()\n", encoding="utf-8")
    at = _app(script)
    assert any("还没有导入" in i.value for i in at.info)
    assert not (tmp_path / "none.duckdb").exists()


# --------------------------------------------------------------------------- pure helpers

def test_column_table_and_mapping_from_the_edited_table():
    detected = pd.DataFrame({"column": ["单号", "时间", "备注"], "sample": ["X1", "2025", "甲"],
                             "field": [None, "received_at", None]})
    table = page.column_table(detected)
    assert list(table.columns) == ["column", "sample", "field"]
    table.loc[0, "field"] = "complaint_id"
    mapping = page.assignment_mapping(table, "complaints")
    assert mapping.columns == {"complaint_id": "单号", "received_at": "时间"}
    table.loc[2, "field"] = "received_at"
    with pytest.raises(InputError, match="received_at is given to two columns"):
        page.assignment_mapping(table, "complaints")


def test_csv_download_is_utf8_with_bom():
    frame = pd.DataFrame({"row_number": [2], "field": ["受理时间"], "reason": ["不是日期"],
                          "raw": ["A,b"]})
    data = page.csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(io.BytesIO(data), encoding="utf-8-sig").equals(frame)


def test_history_helpers(app_env, tmp_path):
    db, _ = app_env
    history = page.import_history(str(db))
    assert list(history["batch_id"]) == [3, 2, 1]
    assert list(page.batch_rejections(str(db), 3)["row_number"]) == [4, 5]
    assert page.import_history(str(tmp_path / "missing.duckdb")).empty


def test_upload_folder_is_taken_out_of_messages():
    text = "/tmp/grid-upload-ab12/0123abcd/新工单.csv: no column found"
    assert page.without_upload_folder(text, "/tmp/grid-upload-ab12") == "新工单.csv: no column found"
    assert page.without_upload_folder(text, None) == text


def test_field_hints_name_a_chinese_header_and_mark_required_fields():
    assert page.field_hint("complaints", "complaint_id") == "complaint_id（工单编号） *"
    assert page.field_hint("complaints", "lon") == "lon（经度）"


def test_old_upload_folders_are_swept(tmp_path):
    """Upload folders of sessions gone for hours are removed; fresh ones and others stay."""
    import os

    # every time is set here, none read from the clock (file times are not the clock's
    # under faketime either): "now" is 2026-11-23 12:00 UTC
    now = 1_795_435_200.0
    old, fresh = tmp_path / "grid-upload-old", tmp_path / "grid-upload-fresh"
    other = tmp_path / "something-else"
    for folder in (old, fresh, other):
        (folder / "abc").mkdir(parents=True)
        (folder / "abc" / "complaints.csv").write_text("x", encoding="utf-8")
    for folder in (old, fresh, other):
        for p in [*folder.rglob("*"), folder]:
            os.utime(p, (now - 7 * 3600, now - 7 * 3600))
    # a fresh file deep inside keeps its folder, however old the folder itself is
    os.utime(fresh / "abc" / "complaints.csv", (now - 60, now - 60))
    removed = page.sweep_old_uploads(tmp_path, max_age_s=6 * 3600, now=now)
    assert removed == [old]
    assert not old.exists() and fresh.exists() and other.exists()

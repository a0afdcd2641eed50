"""数据导入 Import data (/import): upload a file, check its columns, try it, import it.

The page lays out and calls :mod:`ingest.dryrun` and :func:`ingest.pipeline.ingest_file`;
the pure helpers below (kind labels, the column table, CSV bytes, the history query) are
tested without a browser. Every failure becomes a message in words, never a traceback.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from ingest import history
from ingest.dryrun import (
    FILE_TYPES,
    assignment_notes,
    detect_columns,
    dry_run,
    effective_columns,
    mapping_from_assignment,
    mapping_toml,
)
from ingest.errors import InputError
from ingest.fields import ALIASES, FIELDS, REQUIRED
from ingest.mapping import Mapping
from ingest.pipeline import ingest_file
from store.database import DatabaseBusyError, DatabaseMissingError, read_connection
from ui.common import (
    EMPTY,
    dataframe,
    db_file,
    db_version,
    guard,
    tr,
)
from ui.downloads import to_csv_bytes

#: Record kinds in the order the page offers them, with (zh, en) labels.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "complaints": ("投诉工单", "Complaints"),
    "inspections": ("督查记录", "Inspections"),
    "points": ("考察点位", "Inspection points"),
}
#: Coordinate systems offered; "auto" passes none (the file's mapping, else WGS-84 with a note).
CRS_CHOICES: dict[str, tuple[str, str]] = {
    "auto": ("自动（未指定则按 WGS-84）", "auto (WGS-84 unless stated)"),
    "wgs84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
    "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "cgcs2000": ("CGCS2000（国家2000）", "CGCS2000"),
}
#: Encodings offered for CSV (another name can be typed in).
ENCODINGS = ("auto", "utf-8", "gb18030", "gbk", "utf-16")
#: Rows of rejected records shown on the page (all of them are in the download).
SHOW_ROWS = 500

# --------------------------------------------------------------------------- helpers

def kind_label(kind: str) -> str:
    zh, en = KIND_LABELS[kind]
    return tr(zh, en)


def field_hint(kind: str, canon: str) -> str:
    """``complaint_id（工单编号）*``: the field, a Chinese header it is known by, * if required."""
    names = ALIASES.get(kind, {}).get(canon, [])
    zh = next((n for n in names if any("\u4e00" <= c <= "\u9fff" for c in n)), None)
    star = " *" if canon in REQUIRED[kind] else ""
    return f"{canon}（{zh}）{star}" if zh else f"{canon}{star}"


def column_table(detected: pd.DataFrame) -> pd.DataFrame:
    """The editable table: source column, samples and the assigned field (None = extra)."""
    table = detected.loc[:, ["column", "sample", "field"]].copy()
    table["field"] = table["field"].astype(object).where(table["field"].notna(), None)
    return table.reset_index(drop=True)


def assignment_mapping(edited: pd.DataFrame, kind: str) -> Mapping:
    """The edited column table as a mapping (its ``[columns]``); InputError in words."""
    return mapping_from_assignment(edited, kind)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM, so Excel and WPS show Chinese text correctly; the uploaded
    text (``raw``, and any other text cell) guarded against spreadsheet formulas like every
    download (:func:`ui.downloads.to_csv_bytes`), column names kept."""
    return to_csv_bytes(frame, labels={})


def import_history(db: str | None = None) -> pd.DataFrame:
    """Every import batch, newest first (empty when there is no database yet)."""
    try:
        with read_connection(db) as conn:
            return history.import_history(conn)
    except DatabaseMissingError:
        return pd.DataFrame(columns=history.HISTORY_COLUMNS)


def batch_rejections(db: str | None, batch_id: int) -> pd.DataFrame:
    """The rejected rows of one batch: row_number, field, reason, raw."""
    with read_connection(db) as conn:
        return history.batch_rejections(conn, batch_id)


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_history(db: str, version: Any) -> pd.DataFrame:
    return import_history(db)


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_rejections(db: str, version: Any, batch_id: int) -> pd.DataFrame:
    return batch_rejections(db, batch_id)


def error_message(exc: BaseException) -> str:
    """A failure in words for the page."""
    if isinstance(exc, InputError):
        return tr("文件无法导入：", "The file cannot be imported: ") + str(exc)
    if isinstance(exc, DatabaseBusyError):
        return tr("数据库正被另一次导入占用，请稍后再试：", "Another import is writing the database; "
                  "try again in a moment: ") + str(exc)
    if isinstance(exc, (UnicodeError, LookupError)):
        return tr("文件编码无法识别，请选择正确的编码或另存为 UTF-8：",
                  "The file's encoding cannot be read; choose the right encoding or save it as "
                  "UTF-8: ") + str(exc)
    if isinstance(exc, duckdb.Error):
        return tr("数据库出错，数据库未改变：", "The database reported an error; it was left as it "
                  "was: ") + str(exc)
    if isinstance(exc, OSError):
        return tr("文件读写出错：", "A file could not be read or written: ") + str(exc)
    return tr("出现错误：", "Something went wrong: ") + f"{type(exc).__name__}: {exc}"


def without_upload_folder(text: str, folder: str | None) -> str:
    """``text`` with the temporary upload folder taken out of file paths (the user's name stays)."""
    if not folder:
        return text
    return re.sub(re.escape(str(folder).rstrip("/")) + r"/[0-9a-f]+/", "", text)


def _clean(text: object) -> str:
    return without_upload_folder(str(text), st.session_state.get("imp_tmpdir"))


def _attempt(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a failure is shown in words (details to the server log) and gives None."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
        if not isinstance(exc, (InputError, DatabaseBusyError)):
            print(traceback.format_exc(), file=sys.stderr)
        st.error(_clean(error_message(exc)))
        return None


#: Upload folders of sessions untouched for this long are removed (their files were
#: citizens' complaints: they should not linger in /tmp after the session has gone).
UPLOAD_MAX_AGE_S = 6 * 3600


def sweep_old_uploads(base: str | Path | None = None, max_age_s: float = UPLOAD_MAX_AGE_S,
                      now: float | None = None) -> list[Path]:
    """Remove ``grid-upload-*`` folders in ``base`` (the temporary folder) whose newest
    content is older than ``max_age_s`` seconds; returns the removed folders."""
    base = Path(base or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for folder in base.glob("grid-upload-*"):
        if not folder.is_dir():
            continue
        try:
            newest = max([folder.stat().st_mtime]
                         + [p.stat().st_mtime for p in folder.rglob("*")])
        except OSError:  # removed meanwhile by another session's sweep
            continue
        if now - newest > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _save_upload(upload) -> Path:
    """The uploaded file written to this session's temporary folder, under its own name."""
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    root = st.session_state.get("imp_tmpdir")
    if not root or not Path(root).is_dir():
        sweep_old_uploads()
        root = tempfile.mkdtemp(prefix="grid-upload-")
        st.session_state["imp_tmpdir"] = root
    folder = Path(root) / digest
    name = Path(str(upload.name).replace("\\", "/")).name or "upload"
    path = folder / name
    if not path.exists():
        for old in Path(root).iterdir():  # keep only the file being worked on
            if old.is_dir() and old != folder:
                shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- page

def render() -> None:
    st.title(tr("数据导入", "Import data"))
    guard(_body)


def _body() -> None:
    db = db_file()
    st.caption(tr(
        "先导入考察点位，再导入督查记录（没有坐标的督查记录取其点位的位置）。"
        "每次导入是一个事务：要么全部入库，要么不改变数据库；未入库的行及原因都会保留。",
        "Import inspection points first, then inspections (an inspection without coordinates "
        "takes its point's location). Each import is one transaction: it lands whole or not at "
        "all; every row not loaded is kept with its reason."))
    kinds = list(KIND_LABELS)
    kind_labels = {k: kind_label(k) for k in kinds}
    kind = st.radio(tr("数据类型", "Kind of records"), kinds, format_func=kind_labels.get,
                    horizontal=True, key="imp_kind")
    upload = st.file_uploader(
        tr("选择文件（CSV、XLSX、GeoJSON、Parquet）", "Choose a file (CSV, XLSX, GeoJSON, Parquet)"),
        type=list(FILE_TYPES), key="imp_file")
    c1, c2 = st.columns(2)
    crs_labels = {k: tr(*v) for k, v in CRS_CHOICES.items()}
    crs_key = c1.selectbox(tr("坐标系", "Coordinate system"), list(CRS_CHOICES),
                           format_func=crs_labels.get, key="imp_crs",
                           help=tr("高德、腾讯导出的是 GCJ-02，百度是 BD-09；入库时统一转为 WGS-84。",
                                   "Amap and Tencent exports are GCJ-02, Baidu BD-09; all are "
                                   "stored as WGS-84."))
    enc_labels = {e: e for e in ENCODINGS} | {"other": tr("其他…", "other…")}
    encoding = c2.selectbox(tr("文件编码（CSV）", "Encoding (CSV)"), list(enc_labels),
                            format_func=enc_labels.get, key="imp_encoding",
                            help=tr("auto 自动识别 UTF-8、GBK/GB18030、UTF-16。",
                                    "auto finds UTF-8, GBK/GB18030 and UTF-16."))
    if encoding == "other":
        encoding = c2.text_input(tr("编码名称（如 big5）", "Codec name (such as big5)"),
                                 key="imp_encoding_other")
    crs = None if crs_key == "auto" else crs_key
    encoding = (encoding or "auto").strip() or "auto"
    if upload is not None:
        path = _attempt(lambda: _save_upload(upload))
        if path is not None:
            _file_section(db, kind, path, crs, encoding)
    st.divider()
    _history_section(db)


def _file_section(db: str, kind: str, path: Path, crs: str | None, encoding: str) -> None:
    cache = st.session_state.setdefault("imp_detected", {})
    sig = (str(path), kind, encoding)
    if sig not in cache:
        with st.spinner(tr("正在读取文件…", "Reading the file…")):
            detected = _attempt(lambda: detect_columns(path, kind, encoding))
        if detected is None:
            return
        cache.clear()
        cache[sig] = column_table(detected)
    table = cache[sig]

    st.subheader(tr("列对应", "Columns"))
    st.caption(tr("左为文件中的列，右为识别出的字段；可在“字段”列更正，留空的列原样保存在 extra 中。"
                  "带 * 的字段必须有。",
                  "The file's columns and the field each is recognised as; correct the Field "
                  "column where needed. A column with no field is kept as it is in extra. "
                  "Fields marked * are required."))
    fields = list(FIELDS[kind])
    hints = {f: field_hint(kind, f) for f in fields}
    editor_key = "imp_cols_" + hashlib.sha1("|".join(sig).encode()).hexdigest()[:12]
    edited = st.data_editor(
        table, key=editor_key, hide_index=True, num_rows="fixed", width="stretch",
        placeholder=EMPTY,
        disabled=["column", "sample"],
        column_config={
            "column": st.column_config.TextColumn(tr("文件中的列", "Column in the file")),
            "sample": st.column_config.TextColumn(tr("示例值", "Sample values")),
            "field": st.column_config.SelectboxColumn(
                tr("字段", "Field"), options=fields, required=False,
                format_func=hints.get),
        })
    geometry = path.suffix.lower() in (".geojson", ".json")
    ready = True
    mapping = None
    try:
        mapping = assignment_mapping(edited, kind)
        used = effective_columns(edited, kind, mapping, geometry)
        for note in assignment_notes(edited, kind, mapping, geometry):
            st.info(note)
        missing = [f for f in fields if f not in used]
        if geometry and "lon" in used:
            st.caption(tr("GeoJSON 的点几何提供经纬度。", "The GeoJSON point geometry gives lon/lat."))
        if missing:
            st.caption(tr("文件中没有这些字段：", "Fields the file does not have: ")
                       + ", ".join(missing))
    except InputError as exc:
        ready = False
        st.error(_clean(error_message(exc)))
    if mapping is not None and mapping.columns:
        opts = {"crs": crs} if crs else {}
        if encoding != "auto":
            opts["encoding"] = encoding
        toml = mapping_toml(Mapping(columns=mapping.columns, options=opts))
        st.download_button(tr("下载对应关系（映射文件 TOML）", "Download the mapping file (TOML)"),
                           toml.encode("utf-8"), file_name=f"{path.stem}.mapping.toml",
                           mime="application/toml", on_click="ignore", key="imp_mapping_dl")

    sig_run = (str(path), kind, crs, encoding, tuple(sorted((mapping.columns if mapping else {})
                                                            .items())))
    b1, b2 = st.columns(2)
    do_dry = b1.button(tr("试导入（不写入）", "Dry run (writes nothing)"), disabled=not ready,
                       key="imp_dry_btn", width="stretch")
    do_import = b2.button(tr("导入", "Import"), type="primary", disabled=not ready,
                          key="imp_go_btn", width="stretch")
    if do_dry:
        with st.spinner(tr("试导入中…", "Trying the import…")):
            res = _attempt(lambda: dry_run(db, kind, path, mapping=mapping, crs=crs,
                                           encoding=encoding))
        st.session_state["imp_dry"] = (sig_run, res) if res is not None else None
    if do_import:
        res = _run_import(db, kind, path, mapping, crs, encoding)
        st.session_state["imp_last"] = (sig_run, res) if res is not None else None
        st.session_state.pop("imp_dry", None)
    dry = st.session_state.get("imp_dry")
    if dry and dry[0] == sig_run:
        _show_result(dry[1], dry=True)
    last = st.session_state.get("imp_last")
    if last and last[0] == sig_run:
        _show_result(last[1], dry=False)


def _run_import(db: str, kind: str, path: Path, mapping: Mapping | None, crs: str | None,
                encoding: str):
    stages = {"reading": tr("读取文件", "Reading the file"),
              "checking": tr("逐行校验、定位", "Checking and placing each row"),
              "writing": tr("写入数据库", "Writing to the database"),
              "done": tr("完成", "Done")}
    bar = st.progress(0.0, text=tr("准备导入…", "Starting the import…"))

    def progress(stage: str, fraction: float) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=stages.get(stage, stage))

    res = _attempt(lambda: ingest_file(db, kind, path, mapping=mapping, crs=crs,
                                       encoding=encoding, progress_callback=progress))
    if res is None:
        bar.empty()
    return res


def _show_result(res, dry: bool) -> None:
    if dry:
        st.subheader(tr("试导入结果（数据库未改变）", "Dry run (the database was not changed)"))
    else:
        st.subheader(tr("导入结果", "Import result"))
    cols = st.columns(5)
    cols[0].metric(tr("读取", "Read"), f"{res.rows_read:,}")
    cols[1].metric(tr("新增", "Inserted"), f"{res.inserted:,}")
    cols[2].metric(tr("更新", "Updated"), f"{res.updated:,}")
    cols[3].metric(tr("未变", "Unchanged"), f"{res.unchanged:,}")
    cols[4].metric(tr("拒收", "Rejected"), f"{res.rejected:,}")
    line = res.summary_line()
    if dry:
        st.info(tr("试导入：", "Dry run: ") + line)
    else:
        st.success(tr(f"已导入，批次 {res.batch_id}：", f"Imported as batch {res.batch_id}: ") + line)
    for w in list(res.warnings) + list(res.notes):
        st.caption("⚠️ " + _clean(w))
    rejected = getattr(res, "rejected_rows", None)
    if rejected is not None and len(rejected):
        st.markdown(tr(f"**未入库的行（{len(rejected):,} 行）**", f"**Rows not loaded ({len(rejected):,})**"))
        dataframe(rejected.head(SHOW_ROWS), hide_index=True, width="stretch",
                     column_config=_rejected_config())
        if dry:
            st.download_button(tr("下载未入库的行（CSV）", "Download the rows not loaded (CSV)"),
                               csv_bytes(rejected), file_name=f"dry-run-rejected-{Path(res.file_name).stem}.csv",
                               mime="text/csv", on_click="ignore", key="imp_dry_rej_dl")


def _rejected_config() -> dict:
    return {
        "row_number": st.column_config.NumberColumn(tr("行号", "Row"), format="%d"),
        "field": st.column_config.TextColumn(tr("字段", "Field")),
        "reason": st.column_config.TextColumn(tr("原因", "Reason"), width="large"),
        "raw": st.column_config.TextColumn(tr("原始内容", "Raw line")),
    }


#: Boundary levels and zone kinds of the import history's batch kinds, with (zh, en) labels.
BATCH_PARTS: dict[str, tuple[str, str]] = {
    "boundaries": ("区划边界", "Boundaries"), "zones": ("片区", "Zones"),
    "district": ("区县", "districts"), "street": ("街道", "streets"),
    "community": ("社区", "communities"), "grid": ("网格", "grids"),
    "fringe": ("城乡结合部", "urban-rural fringe"),
    "fringe-derived": ("城乡结合部（由建成区推导）", "urban-rural fringe (derived)"),
}


def batch_kind_label(kind: str) -> str:
    """A batch's kind in words: ``boundaries:grid`` → 区划边界·网格; a zone kind the city
    named itself is shown as it is."""
    base, _, part = str(kind).partition(":")
    if base in KIND_LABELS:
        return tr(*KIND_LABELS[base])
    words = [tr(*BATCH_PARTS[base]) if base in BATCH_PARTS else base]
    if part:
        words.append(tr(*BATCH_PARTS[part]) if part in BATCH_PARTS else part)
    return "·".join(words)


def _history_section(db: str) -> None:
    st.subheader(tr("导入记录", "Import history"))
    version = db_version()
    if version is None:
        st.info(tr("还没有导入过数据。", "Nothing has been imported yet."))
        return
    history = _attempt(lambda: _cached_history(db, version))
    if history is None:
        return
    if history.empty:
        st.info(tr("还没有导入过数据。", "Nothing has been imported yet."))
        return
    history = history.assign(kind=history["kind"].map(batch_kind_label))
    dataframe(history, hide_index=True, width="stretch", column_config={
        "batch_id": st.column_config.NumberColumn(tr("批次", "Batch"), format="%d"),
        "kind": tr("类型", "Kind"), "file_name": tr("文件", "File"),
        "started_at": st.column_config.DatetimeColumn(tr("开始", "Started"),
                                                      format="YYYY-MM-DD HH:mm:ss"),
        "finished_at": st.column_config.DatetimeColumn(tr("完成", "Finished"),
                                                       format="YYYY-MM-DD HH:mm:ss"),
        "rows_read": tr("读取", "Read"), "rows_inserted": tr("新增", "Inserted"),
        "rows_updated": tr("更新", "Updated"), "rows_unchanged": tr("未变", "Unchanged"),
        "rows_rejected": tr("拒收", "Rejected"), "crs": tr("坐标系", "CRS"),
        "encoding": tr("编码", "Encoding"),
    })
    labels = {int(r.batch_id): f"#{int(r.batch_id)} · {r.kind} · {r.file_name} · "
              + tr(f"拒收 {int(r.rows_rejected)} 行", f"{int(r.rows_rejected)} rejected")
              for r in history.itertuples()}
    ids = list(labels)
    with_rejects = [int(b) for b in history.loc[history["rows_rejected"] > 0, "batch_id"]]
    default = ids.index(with_rejects[0]) if with_rejects else 0
    batch = st.selectbox(tr("查看某批次未入库的行", "Rows not loaded in batch"), ids, index=default,
                         format_func=labels.get, key="imp_batch")
    if batch is None:
        return
    rejected = _attempt(lambda: _cached_rejections(db, version, int(batch)))
    if rejected is None:
        return
    if rejected.empty:
        st.caption(tr("该批次没有未入库的行。", "Every row of this batch was loaded."))
        return
    st.caption(tr(f"共 {len(rejected):,} 行未入库" + (f"，显示前 {SHOW_ROWS} 行" if len(rejected) > SHOW_ROWS else ""),
                  f"{len(rejected):,} rows not loaded"
                  + (f"; the first {SHOW_ROWS} shown" if len(rejected) > SHOW_ROWS else "")))
    dataframe(rejected.head(SHOW_ROWS), hide_index=True, width="stretch",
                 column_config=_rejected_config())
    st.download_button(tr("下载未入库的行（CSV）", "Download the rows not loaded (CSV)"),
                       csv_bytes(rejected), file_name=f"rejected-batch-{int(batch)}.csv",
                       mime="text/csv", on_click="ignore", key="imp_rej_dl")

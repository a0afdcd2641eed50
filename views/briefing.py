"""周报导出 (/briefing): the weekly briefing's four files from one button.

The same function as ``python cli.py export-weekly`` (:func:`ui.briefing_files.export_weekly`),
so the app and a scheduled job give the same numbers and the same files.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from ui.common import (
    anchor,
    current_settings,
    data_as_of_note,
    db_file,
    db_version,
    guard,
    today,
    tr,
)

MIME = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".png": "image/png", ".geojson": "application/geo+json"}


def recent_weeks(day: dt.date, n: int = 12) -> list[str]:
    """The last ``n`` complete ISO weeks before ``day``, newest first (2026-W47, …)."""
    monday = day - dt.timedelta(days=day.weekday())
    out = []
    for i in range(1, n + 1):
        y, w, _ = (monday - dt.timedelta(weeks=i)).isocalendar()
        out.append(f"{y}-W{w:02d}")
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def _export(path: str, version, week: str, day: dt.date) -> dict[str, tuple[str, bytes]]:
    from ui.briefing_files import export_weekly

    with tempfile.TemporaryDirectory(prefix="grid-briefing-") as tmp:
        files = export_weekly(path, week, tmp, settings=current_settings(), today=day)
        return {Path(f).suffix: (Path(f).name, Path(f).read_bytes()) for f in files}


def _body() -> None:
    st.title(tr("周报导出", "Weekly briefing"))
    st.caption(tr("与命令 `python cli.py export-weekly --week … --out DIR` 生成同样的文件：Excel 表、Word 周报、"
                  "地图图片和热点网格 GeoJSON。",
                  "The same files as `python cli.py export-weekly --week … --out DIR`: the Excel "
                  "tables, the Word briefing, the map picture and the hotspot cells as GeoJSON."))
    data_as_of_note()
    day = anchor()
    # data that ends before today: the newest week offered is the one holding its last day
    weeks = recent_weeks(day if day >= today() else day + dt.timedelta(days=7))
    week = st.selectbox(tr("周次（ISO 周，周一至周日）", "ISO week (Monday to Sunday)"), weeks,
                        key="briefing_week")
    if not st.button(tr("生成周报", "Make the briefing"), type="primary", key="briefing_go"):
        return
    with st.spinner(tr("正在生成…", "Working…")):
        files = _export(db_file(), db_version(), week, today())
    cols = st.columns(4)
    labels = {".xlsx": tr("下载 Excel", "Download Excel"), ".docx": tr("下载 Word", "Download Word"),
              ".png": tr("下载地图图片", "Download the map"),
              ".geojson": tr("下载 GeoJSON", "Download GeoJSON")}
    for col, ext in zip(cols, (".xlsx", ".docx", ".png", ".geojson"), strict=True):
        if ext in files:
            name, data = files[ext]
            col.download_button(labels[ext], data, file_name=name, mime=MIME[ext],
                                key=f"briefing_dl{ext}")
    if ".png" in files:
        st.image(files[".png"][1], caption=files[".png"][0])


def render() -> None:
    guard(_body)

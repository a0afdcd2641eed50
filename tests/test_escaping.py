"""Text from the records never runs as a spreadsheet formula (OWASP "CSV injection").

A district loaded with a formula as its name, a category, a point name and an address that
begin with ``=``, ``+``, ``-`` or ``@``, and rejected rows whose first field is a formula,
go through every command's ``--out`` CSV, ``ingest --rejected-out``, the import page's
rejected-rows download, the page downloads and the weekly briefing workbook. Each file is
read back with ``csv`` / openpyxl and checked cell by cell, independently of the guard
function: a CSV cell that begins like a formula must be a number; an XLSX text cell that
does must carry Excel's quote prefix. Numbers (negative Gi* z values) stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.conftest import ROOT

DISTRICT = '=HYPERLINK("http://x","青秀区")'
DISTRICT2 = "-2+3"
CATEGORY = "+cmd|' /C calc'!A0"
CATEGORY2 = "@SUM(1+1)*cmd|' /C calc'!A0"
POINT = "@SUM(1+1)*cmd|' /C calc'!A0 菜市场"
ADDRESS = "=1+1 民族大道100号"
FORMULAS = (DISTRICT, CATEGORY, CATEGORY2, DISTRICT2)
STARTS = ("=", "+", "-", "@", "\t", "\r")
START, END = dt.date(2026, 10, 26), dt.date(2026, 11, 22)
FIRST = dt.date(2026, 9, 28)   # the data's first day: 8 weeks for emerging hot spots


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_cells(path_or_bytes) -> list[list[str]]:
    data = (path_or_bytes if isinstance(path_or_bytes, bytes)
            else Path(path_or_bytes).read_bytes())
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _assert_csv_safe(rows: list[list[str]], where: str) -> None:
    for i, row in enumerate(rows):
        for cell in row:
            assert not cell.startswith(STARTS) or _number(cell), (where, i, cell)


def _assert_xlsx_safe(data: bytes, where: str) -> list:
    """Every text cell that begins like a formula is quote-prefixed text; returns them."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(STARTS):
                    assert c.data_type == "s" and c.quotePrefix, (where, ws.title, c.coordinate,
                                                                   c.value)
                    seen.append(c.value)
                assert c.data_type != "f", (where, ws.title, c.coordinate, c.value)
    return seen


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), *map(str, args)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def _districts(path: Path) -> Path:
    feats = []
    for jid, name, x0 in (("D1", DISTRICT, 108.30), ("D2", DISTRICT2, 108.40)):
        ring = [[x0, 22.8], [x0 + 0.1, 22.8], [x0 + 0.1, 22.9], [x0, 22.9], [x0, 22.8]]
        feats.append({"type": "Feature", "properties": {"id": jid, "name": name},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _complaints() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n_scatter, n_cluster = 700, 160
    t0 = pd.Timestamp(FIRST)
    span = (pd.Timestamp(END) + pd.Timedelta(days=1) - t0).total_seconds()
    received = t0 + pd.to_timedelta(rng.uniform(0, span, n_scatter + n_cluster), unit="s")
    # a cluster far from any point (a blind spot) and, in the scatter, one in the fringe
    lon = np.r_[rng.uniform(108.30, 108.50, n_scatter), 108.36 + rng.normal(0, 0.002, n_cluster)]
    lat = np.r_[rng.uniform(22.80, 22.90, n_scatter), 22.86 + rng.normal(0, 0.002, n_cluster)]
    lon[:120] = 108.305 + rng.normal(0, 0.002, 120)
    lat[:120] = 22.89 + rng.normal(0, 0.002, 120)
    cat = np.where(np.arange(n_scatter) % 2 == 0, CATEGORY2, "市容环境")
    closed = np.arange(n_scatter + n_cluster) % 3 == 0
    frame = pd.DataFrame({
        "complaint_id": [f"GD{i:05d}" for i in range(n_scatter + n_cluster)],
        "received_at": received.strftime("%Y-%m-%d %H:%M"),
        "category": np.r_[cat, [CATEGORY] * n_cluster],
        "address": [f"路{i}号" for i in range(n_scatter)] + [ADDRESS] * n_cluster,
        "status": np.where(closed, "已办结", "处置中"),
        "due_at": (received + pd.Timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "closed_at": np.where(closed, (received + pd.Timedelta(days=1))
                              .strftime("%Y-%m-%d %H:%M"), ""),
        "lon": lon.round(6), "lat": lat.round(6),
    })
    # the repeated place: the same fine cell and address, in the last week
    frame.loc[n_scatter:n_scatter + 9, ["lon", "lat"]] = (108.3601, 22.8601)
    frame.loc[n_scatter:n_scatter + 9, "received_at"] = "2026-11-20 09:00"
    return frame


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """Two districts (one named by a formula, one ``-2+3``), a fringe, two points, formula
    categories, point names and addresses, loaded through the command line."""
    tmp = tmp_path_factory.mktemp("escaping")
    db = tmp / "g.duckdb"
    _cli(db, "load-boundaries", _districts(tmp / "districts.geojson"), "--level", "district",
         "--crs", "wgs84", "--id-field", "id", "--name-field", "name")
    _cli(db, "load-zones", ROOT / "tests" / "fixtures" / "boundaries" / "fringe_drawn.geojson",
         "--kind", "fringe", "--crs", "wgs84")
    pd.DataFrame({"point_id": ["P1", "P2"], "name": [POINT, "学校"],
                  "point_type": [CATEGORY2, "学校"], "lon": [108.31, 108.45],
                  "lat": [22.81, 22.85]}).to_csv(tmp / "points.csv", index=False)
    _cli(db, "ingest", "points", tmp / "points.csv", "--crs", "wgs84")
    pd.DataFrame({"inspection_id": ["I1", "I2"], "point_id": ["P1", "P2"],
                  "inspected_at": ["2026-11-18 10:00", "2026-11-19 10:00"],
                  "problem_category": [CATEGORY, "暴露垃圾"], "problems": [1, 2],
                  "rectify_due": ["2026-11-19 18:00", "2026-11-20 18:00"]}
                 ).to_csv(tmp / "inspections.csv", index=False)
    _cli(db, "ingest", "inspections", tmp / "inspections.csv", "--crs", "wgs84")
    _complaints().to_csv(tmp / "complaints.csv", index=False)
    _cli(db, "ingest", "complaints", tmp / "complaints.csv", "--crs", "wgs84")
    return db


COMMANDS = {
    "backlog": ["backlog", "--as-of", "2026-11-22", "--level", "district", "--detail"],
    "backlog_complaints": ["backlog", "--as-of", "2026-11-22", "--level", "district",
                           "--source", "complaints"],
    "repeats": ["repeats", "--start", START, "--end", END, "--min", "5"],
    "hotspots": ["hotspots", "--start", START, "--end", END, "--all-cells"],
    "hotspots_category": ["hotspots", "--start", START, "--end", END, "--category", CATEGORY,
                          "--all-cells"],
    "coverage": ["coverage", "--start", "2026-11-16", "--end", END, "--level", "district"],
    "blindspots": ["blindspots", "--start", START, "--end", END],
    "fringe": ["fringe", "--start", START, "--end", END],
    "emerging": ["emerging", "--end", END, "--weeks", "8"],
}
#: The formula-like texts each output holds (guarded), found by reading the file.
EXPECTED = {
    "backlog": {DISTRICT, DISTRICT2}, "backlog_complaints": {DISTRICT, DISTRICT2},
    "repeats": {ADDRESS, DISTRICT, CATEGORY}, "coverage": {DISTRICT, DISTRICT2},
    "hotspots": {DISTRICT, DISTRICT2}, "hotspots_category": {DISTRICT, DISTRICT2},
    "blindspots": {POINT, CATEGORY2, DISTRICT}, "emerging": {DISTRICT, DISTRICT2},
    "fringe_cells": {DISTRICT},
}


@pytest.fixture(scope="module")
def outputs(city, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("out")
    files = {}
    for name, args in COMMANDS.items():
        files[name] = out / f"{name}.csv"
        extra = ["--cells-out", out / "fringe_cells.csv"] if name == "fringe" else []
        _cli(city, *args, "--out", files[name], *extra)
    files["fringe_cells"] = out / "fringe_cells.csv"
    return files


@pytest.mark.parametrize("name", [*COMMANDS, "fringe_cells"])
def test_every_out_csv_is_free_of_formulas(outputs, name):
    rows = _csv_cells(outputs[name])
    assert len(rows) > 1, name
    _assert_csv_safe(rows, name)
    cells = {c for row in rows for c in row}
    for text in EXPECTED.get(name, ()):
        assert "'" + text in cells and text not in cells, (name, text)


def test_the_formula_texts_really_reach_the_outputs(outputs):
    """Without the guard these files would hold the formulas raw (the test is not empty)."""
    raw = {c.lstrip("'") for name in outputs for row in _csv_cells(outputs[name]) for c in row}
    assert {DISTRICT, DISTRICT2, ADDRESS, POINT} <= raw


def test_negative_numbers_stay_numbers(outputs):
    frame = pd.read_csv(outputs["hotspots"], encoding="utf-8-sig")
    assert pd.api.types.is_float_dtype(frame["gi_z"]) and (frame["gi_z"] < 0).any()
    rows = _csv_cells(outputs["hotspots"])
    z = [r[rows[0].index("gi_z")] for r in rows[1:]]
    assert all(_number(v) for v in z) and any(v.startswith("-") for v in z)


def test_geojson_and_parquet_keep_the_text(city, tmp_path):
    """GeoJSON and Parquet are not spreadsheets: their text is written as it is."""
    geo, parquet = tmp_path / "r.geojson", tmp_path / "b.parquet"
    _cli(city, *COMMANDS["repeats"], "--out", geo)
    _cli(city, *COMMANDS["backlog"], "--out", parquet)
    props = [f["properties"] for f in json.loads(geo.read_text(encoding="utf-8"))["features"]]
    assert ADDRESS in {p.get("address") for p in props}
    assert {DISTRICT, DISTRICT2} <= set(pd.read_parquet(parquet)["jurisdiction"])


def test_weekly_briefing_xlsx_quotes_formula_text(city, tmp_path):
    from analytics.briefing import weekly_briefing
    from store.database import read_connection
    from ui.briefing_files import write_xlsx

    with read_connection(city) as conn:
        b = weekly_briefing(conn, "2026-W47", today=dt.date(2026, 11, 23))
    path = write_xlsx(b, tmp_path / "briefing.xlsx")
    seen = _assert_xlsx_safe(path.read_bytes(), "briefing")
    assert DISTRICT in seen and DISTRICT2 in seen


def test_page_downloads(city):
    from ui.downloads import to_csv_bytes, to_xlsx_bytes

    frame = pd.DataFrame({"jurisdiction": [DISTRICT, DISTRICT2, "兴宁区"],
                          "category": [CATEGORY, CATEGORY2, "\t=1"],
                          "gi_z": [-2.5, 0.0, 3.1], "open": [-1, 2, 3]})
    rows = _csv_cells(to_csv_bytes(frame, labels={}))
    _assert_csv_safe(rows, "page csv")
    assert rows[1] == ["'" + DISTRICT, "'" + CATEGORY, "-2.5", "-1"]
    data = to_xlsx_bytes({"s": frame}, "标题", labels={})
    assert set(_assert_xlsx_safe(data, "page xlsx")) == {DISTRICT, DISTRICT2, CATEGORY,
                                                        CATEGORY2, "\t=1"}
    ws = openpyxl.load_workbook(io.BytesIO(data))["s"]
    assert ws["C3"].value == -2.5 and ws["D3"].value == -1 and ws["C3"].data_type == "n"


# ------------------------------------------------------------------ rejected rows

BAD_FIRST = (CATEGORY, CATEGORY2, DISTRICT2)   # first fields that begin a raw line as-is


def _bad_file(path: Path) -> Path:
    rows = [{"complaint_id": cid, "received_at": "不是日期", "category": "市容环境",
             "lon": 108.35, "lat": 22.85} for cid in (*BAD_FIRST, DISTRICT)]
    rows.append({"complaint_id": "GD1", "received_at": DISTRICT, "category": CATEGORY,
                 "lon": 108.35, "lat": 22.85})
    rows.append({"complaint_id": "GD2", "received_at": "2026-11-20 09:00",
                 "category": "市容环境", "lon": 108.35, "lat": 22.85})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _check_rejected(rows: list[list[str]], where: str) -> None:
    _assert_csv_safe(rows, where)
    head, body = rows[0], rows[1:]
    raw = [r[head.index("raw")] for r in body]
    assert len(body) == 5, (where, body)
    for first in BAD_FIRST:   # the raw line begins with the formula: guarded
        assert any(r.startswith("'" + first) for r in raw), (where, first, raw)


def test_rejected_out_of_the_cli(district_db, tmp_path):
    out = tmp_path / "rejected.csv"
    r = _cli(district_db, "ingest", "complaints", _bad_file(tmp_path / "bad.csv"), "--crs",
             "wgs84", "--rejected-out", out)
    assert "rejected=5" in r.stdout
    _check_rejected(_csv_cells(out), "--rejected-out")


def test_rejected_rows_download_of_the_import_page(district_db, tmp_path):
    pytest.importorskip("streamlit")
    from ingest.dryrun import dry_run
    from ingest.pipeline import ingest_file
    from views import data_import as page

    bad = _bad_file(tmp_path / "bad.csv")
    trial = dry_run(district_db, "complaints", bad, crs="wgs84")
    _check_rejected(_csv_cells(page.csv_bytes(trial.rejected_rows)), "dry run download")
    res = ingest_file(district_db, "complaints", bad, crs="wgs84")
    rows = _csv_cells(page.csv_bytes(page.batch_rejections(str(district_db), res.batch_id)))
    _check_rejected(rows, "batch download")


# ------------------------------------------------------------------ Markdown and labels

def test_one_markdown_escape_and_one_set_of_source_labels():
    """The three pages use ui.escape.md_text and ui.labels.source_labels, no copies."""
    pytest.importorskip("streamlit")
    import html
    import re

    from ui import escape, labels
    from views import backlog, fringe, situation

    for view in (backlog, fringe, situation):
        assert view.md_text is escape.md_text and view.source_labels is labels.source_labels
        src = Path(view.__file__).read_text(encoding="utf-8")
        assert not re.search(r"^def (md_escape|md_text|_?source_labels)\b", src, re.M), view
    text = 'a-b.c: [x](http://y) *z* $1$ <b> 1. @=+"'
    out = escape.md_text(text)
    assert html.unescape(out) == text
    assert not re.search(r"[-.:\[\]()*$<>@=+\"]", re.sub(r"&#\d+;", "", out))
    assert set(labels.source_labels()) == {"complaints", "inspections", "all"}
    assert list(labels.source_labels(("all", "complaints"))) == ["all", "complaints"]

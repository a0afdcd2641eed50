"""`python cli.py demo` without ``--end``: the demo city's data ends today, at the build's minute.

No test reads the real clock: the "today" path is driven by a pinned ``now``
(2026-12-09 15:37:20, a Wednesday), the CLI's default by a stand-in ``local_now``.
Every check reads the written files (pandas, openpyxl) or the database (duckdb SQL).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest

from democity.build import build_demo, resolve_end, write_demo_files
from grids.crs import gcj02_to_wgs84

END = dt.date(2026, 12, 9)
NOW = dt.datetime(2026, 12, 9, 15, 37, 20)
EXPORT = pd.Timestamp("2026-12-09 15:37")
WEEK_START = pd.Timestamp("2026-12-07")  # Monday of the ISO week of END
SMALL = {"seed": 7, "weeks": 8, "complaints": 2_000}
FORMAT = "%Y/%m/%d %H:%M"


@pytest.fixture(scope="module")
def today(tmp_path_factory) -> tuple[Path, Path]:
    """(database, files folder) of a demo built "today" at NOW."""
    tmp = tmp_path_factory.mktemp("demo-today")
    build_demo(tmp / "grid.duckdb", end=END, now=NOW, out_dir=tmp / "files", **SMALL)
    return tmp / "grid.duckdb", tmp / "files"


@pytest.fixture(scope="module")
def end_of_day(tmp_path_factory) -> Path:
    """Files of the same demo with ``end`` only: exported at the end day's 23:59."""
    folder = tmp_path_factory.mktemp("demo-eod")
    write_demo_files(folder, end=END, **SMALL)
    return folder


def _complaints(folder: Path) -> pd.DataFrame:
    df = pd.read_csv(folder / "complaints.csv", encoding="gbk", dtype=str, keep_default_na=False)
    for col, name in (("受理时间", "received"), ("办结时间", "closed"), ("处置时限", "due")):
        df[name] = pd.to_datetime(df[col].replace("", None), format=FORMAT)
    return df


def _inspections(folder: Path) -> pd.DataFrame:
    return pd.read_excel(folder / "inspections.xlsx", header=1)


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _sql(db: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_files_end_at_the_build_minute(today):
    _, folder = today
    c = _complaints(folder)
    received = c["received"].dropna()
    assert received.max().date() == END
    assert received.max() <= EXPORT
    assert c["closed"].dropna().max() <= EXPORT
    # the final day still has its morning and afternoon, not everything at midnight
    last_day = received[received.dt.date == END]
    assert len(last_day) > 0 and last_day.dt.hour.nunique() >= 5
    insp = _inspections(folder)
    assert pd.to_datetime(insp["督查时间"]).max() <= EXPORT
    assert pd.to_datetime(insp["整改完成时间"]).dropna().max() <= EXPORT
    assert (pd.to_datetime(insp["督查时间"]).dt.date == END).any()
    truth = _truth(folder)
    assert truth["parameters"]["export_time"] == "2026-12-09 15:37:00"
    assert truth["backlog"]["as_of"] == "2026-12-09 15:37:00"


def test_database_has_today_and_this_week(today):
    db, _ = today
    (newest, closed, visited, rectified, n_today, n_week), = _sql(db, f"""
        SELECT max(received_at), max(closed_at),
               (SELECT max(inspected_at) FROM inspections),
               (SELECT max(rectified_at) FROM inspections),
               count(*) FILTER (WHERE received_at::DATE = DATE '{END}'),
               count(*) FILTER (WHERE received_at >= TIMESTAMP '{WEEK_START}')
        FROM complaints""")
    assert newest.date() == END and newest <= EXPORT
    assert closed <= EXPORT and visited <= EXPORT and rectified <= EXPORT
    assert n_today > 0 and n_week > n_today


def test_every_requested_complaint_is_written_and_loaded(today):
    db, folder = today
    truth = _truth(folder)
    assert len(_complaints(folder)) == SMALL["complaints"]
    (read, rejected), = _sql(db, "SELECT rows_read, rows_rejected FROM import_batches "
                                 "WHERE kind = 'complaints'")
    assert read == SMALL["complaints"]
    # only the rows planted without a received time are rejected: nothing is "in the future"
    assert rejected == truth["complaints"]["rows_without_received_time"]
    (n,), = _sql(db, "SELECT count(*) FROM complaints")
    assert n == truth["complaints"]["loadable_rows"] == read - rejected


def test_planted_truth_is_kept(today, end_of_day):
    _, folder = today
    truth, eod = _truth(folder), _truth(end_of_day)
    # the same hotspots (places, cells, counts per week) and backlog streets as at 23:59
    assert truth["hotspots"] == eod["hotspots"]
    assert [s["street"] for s in truth["backlog"]["streets"]] == \
        [s["street"] for s in eod["backlog"]["streets"]]
    assert all(s["planted_open"] > 0 for s in truth["backlog"]["streets"])
    # the new hotspots' final-week burst is in the file, before the export minute
    c = _complaints(folder)
    c = c[(c["经度"] != "") & c["received"].notna()]
    lon, lat = gcj02_to_wgs84(c["经度"].astype(float).to_numpy(), c["纬度"].astype(float).to_numpy())
    cells = np.array([h3.latlng_to_cell(y, x, 9) for x, y in zip(lon, lat, strict=True)])
    final_week = (c["received"] >= WEEK_START).to_numpy()
    new = [h for h in truth["hotspots"] if h["kind"] == "new"]
    assert new
    for h in new:
        at = np.isin(cells, h["source_cells_res9"])
        assert (at & final_week).sum() >= h["planted_per_week"][-1] > 0, h["id"]


def test_end_without_now_exports_at_23_59(end_of_day):
    c = _complaints(end_of_day)
    received = c["received"].dropna()
    assert received.max().date() == END
    assert received.max() > EXPORT  # the evening of the end day is there
    assert len(c) == SMALL["complaints"]
    truth = _truth(end_of_day)
    assert truth["parameters"]["export_time"] == "2026-12-09 23:59:59"
    assert truth["backlog"]["as_of"] == "2026-12-09 23:59:59"


def test_now_after_end_changes_no_byte(end_of_day, tmp_path):
    write_demo_files(tmp_path, end=END, now=dt.datetime(2026, 12, 10, 8, 0), **SMALL)
    for f in sorted(end_of_day.iterdir()):
        assert hashlib.sha256(f.read_bytes()).digest() == \
            hashlib.sha256((tmp_path / f.name).read_bytes()).digest(), f.name


def test_now_before_end_is_refused(tmp_path):
    with pytest.raises(ValueError, match="after today"):
        write_demo_files(tmp_path, end=END, now=dt.datetime(2026, 12, 8, 12, 0), **SMALL)


def test_default_end_is_today_from_local_now(monkeypatch):
    import store.clock

    monkeypatch.setattr(store.clock, "local_now", lambda: NOW)
    assert resolve_end(None, None) == (END, NOW)
    assert resolve_end(END, None) == (END, None)  # an explicit end reads no clock
    aware = dt.datetime(2026, 12, 9, 7, 37, 20, tzinfo=dt.UTC)
    assert resolve_end(None, aware) == (END, NOW)


@pytest.mark.parametrize(("args", "want"), [([], None), (["--end", "today"], None),
                                            (["--end", "2026-11-22"], dt.date(2026, 11, 22))])
def test_cli_end_defaults_to_today(monkeypatch, tmp_path, args, want):
    import cli
    import democity.build

    seen = {}

    def fake(db, **kw):
        seen.update(kw)
        return {"db": str(db), "log": []}

    monkeypatch.setattr(democity.build, "build_demo", fake)
    assert cli.main(["--db", str(tmp_path / "x.duckdb"), "demo", *args]) == 0
    assert seen["end"] == want
    assert "now" not in seen  # only build_demo's default reads the clock

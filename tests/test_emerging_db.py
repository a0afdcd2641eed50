"""Emerging hot spots from the database: weekly bins, filters, notes, the command."""

import datetime as dt
import subprocess
import sys

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.emerging import EMERGING_COLUMNS, EmergingQuery, compute_emerging
from tests.conftest import ROOT


def _run(db, **kw):
    base = {"end": dt.date(2026, 11, 22), "weeks": 8, "res": 8}
    base.update(kw)
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_emerging(con, EmergingQuery(**base))
    finally:
        con.close()


def test_weekly_cube_equals_a_pandas_count_by_iso_week(synthetic_city):
    db, df = synthetic_city
    res = _run(db)
    assert res.weeks == [f"2026-W{w}" for w in range(40, 48)]
    con = duckdb.connect(str(db), read_only=True)
    wkt = [r[0] for r in con.execute("SELECT geometry FROM jurisdictions").fetchall()]
    con.close()
    inside = shapely.contains_xy(shapely.union_all(shapely.from_wkt(wkt)),
                                 df["经度"].to_numpy(), df["纬度"].to_numpy())
    d = df[inside].copy()
    # a record's cell at r is the parent of its stored fine (res-12) cell (docs/hotspots.md)
    d["cell"] = [h3.cell_to_parent(h3.latlng_to_cell(la, lo, 12), 8)
                 for lo, la in zip(d["经度"], d["纬度"], strict=True)]
    d["week"] = pd.to_datetime(d["受理时间"]).dt.isocalendar().week.astype(int) - 40
    want = d.groupby(["cell", "week"]).size()
    got = pd.DataFrame(res.counts, index=res.cells.h3).stack()
    got = got[got > 0].astype(int)
    got.index.names = ["cell", "week"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    assert res.counts[:, :4].sum() == 0  # the first four weeks hold no records
    assert list(res.rows(all_cells=True).columns) == EMERGING_COLUMNS  # the output table
    assert list(res.cells.columns) == EMERGING_COLUMNS + ["cell"]  # inside: the integer id
    assert res.cells["cell"].tolist() == [h3.str_to_int(x) for x in res.cells.h3]
    # the planted cluster started in week 5 of 8 and lasts: a new or consecutive hot spot
    centre = h3.latlng_to_cell(22.83, 108.33, 8)
    row = res.cells.set_index("h3").loc[centre]
    assert row.category in ("consecutive_hotspot", "new_hotspot") and row.final_gi_bin >= 1
    assert row.hot_weeks == int((res.result.gi_bin[res.cells.h3 == centre] >= 1).sum())


def test_notes_and_errors(synthetic_city):
    db, _ = synthetic_city
    partial = _run(db, end=dt.date(2026, 11, 18))
    assert "partial" in partial.note and partial.weeks[-1] == "2026-W47"
    nothing = _run(db, end=dt.date(2025, 3, 1))
    assert "no records" in nothing.note and (nothing.cells.category == "no_pattern").all()
    assert len(nothing.rows()) == 0 and len(nothing.rows(all_cells=True)) == nothing.n_cells
    with pytest.raises(ValueError, match="at least 8 weeks are needed, got 7") as err:
        _run(db, weeks=7)
    assert err.value.option == "weeks"
    with pytest.raises(ValueError, match="time step must be 0 weeks or more") as err:
        _run(db, time_step=-1)
    assert err.value.option == "time-step"
    with pytest.raises(ValueError, match="no district named"):
        _run(db, district="不存在区")
    only = _run(db, categories=["街面秩序"])
    assert only.counts.sum() < _run(db).counts.sum()
    assert not np.isnan(only.result.z).any()


def test_cli_emerging(synthetic_city, tmp_path):
    db, _ = synthetic_city
    out = tmp_path / "e.csv"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "emerging",
                        "--end", "2026-11-22", "--weeks", "8", "--res", "8", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame.columns) == EMERGING_COLUMNS and len(frame) > 0
    assert (frame.category != "no_pattern").all()
    bad = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "emerging",
                          "--end", "2026-11-22", "--weeks", "4", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--weeks: at least 8 weeks are needed, got 4" in bad.stderr

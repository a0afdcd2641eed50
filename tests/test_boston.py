"""A foreign export (Boston 311, English headers and statuses) loads with a mapping file
and gives backlog by neighbourhood with no boundary polygons at all.

The file is tests/fixtures/boston311_like.csv: synthetic, in the format of Boston's
open-data 311 export (see tests/fixtures/README.md)."""

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.backlog import BacklogQuery, compute_backlog
from tests.conftest import ROOT
from tests.test_backlog import _due_walk

BOSTON = ROOT / "tests" / "fixtures" / "boston311_like.csv"
MAPPING = ROOT / "docs" / "examples" / "boston311.toml"
T = dt.datetime(2022, 2, 1)
START = dt.datetime(2022, 1, 1)


@pytest.fixture(scope="module")
def boston(tmp_path_factory):
    from ingest.pipeline import ingest_file

    db = tmp_path_factory.mktemp("boston") / "b.duckdb"
    res = ingest_file(db, "complaints", BOSTON, mapping=MAPPING, now=dt.datetime(2026, 11, 23))
    assert (res.rows_read, res.inserted, res.rejected) == (100, 100, 0)
    return db


def test_backlog_by_neighbourhood_equals_pandas(boston):
    con = duckdb.connect(str(boston), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM jurisdictions").fetchall()[0][0] == 0
        res = compute_backlog(con, BacklogQuery(T, START, levels=("district",)))
    finally:
        con.close()
    table = res.level("district").set_index("jurisdiction")
    raw = pd.read_csv(BOSTON, dtype=str, keep_default_na=False)
    recv = pd.to_datetime(raw.open_dt)
    due = pd.to_datetime(raw.target_dt.replace("", None))
    due = due.where(due.notna(), [pd.Timestamp(_due_walk(r.to_pydatetime(), 5)) for r in recv])
    closed = pd.to_datetime(raw.closed_dt.replace("", None))
    hood = raw.neighborhood.str.strip().replace("", "（未定位）")
    is_open = (recv <= T) & ((closed.isna() & (raw.case_status == "Open")) | (closed > T))
    filed = (recv >= START) & (recv <= T)
    due_in = (due >= START) & (due <= T)
    on_time = due_in & closed.notna() & (closed <= due)
    assert set(table.index) - {"全市"} == set(hood)
    for name in set(hood):
        m = hood == name
        row = table.loc[name]
        assert row.open == int((is_open & m).sum()), name
        assert row.overdue == int((is_open & m & (due < T)).sum()), name
        assert row.filed == int((filed & m).sum()), name
        assert row.due_in_period == int((due_in & m).sum()), name
        assert row.closed_on_time == int((on_time & m).sum()), name
        want = (on_time & m).sum() / (due_in & m).sum() if (due_in & m).sum() else np.nan
        assert (pd.isna(row.on_time_rate) and np.isnan(want)) or row.on_time_rate == pytest.approx(want)
    city = table.loc["全市"]
    assert city.open == int(is_open.sum()) and city.filed == 100
    # 16: the fixture's rows with an empty target_dt, counted with csv.reader (field 3 == "")
    assert res.filled_deadlines == int(raw.target_dt.eq("").sum()) == 16


def test_fixture_is_what_its_script_writes(tmp_path):
    """boston311_like.csv is reproducible: the seeded script writes the same bytes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_boston311_like", ROOT / "tests" / "fixtures" / "make_boston311_like.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    assert make.write(tmp_path / "again.csv").read_bytes() == BOSTON.read_bytes()

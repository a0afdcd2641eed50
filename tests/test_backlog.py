"""Backlog indicators against an independent pandas computation on hand-built cases.

The fixture holds the cases the issue names: one closed exactly at its deadline, reworked
and void ones, a missing deadline across the National Day holiday and its make-up working
day, a missing deadline in 2027 (calendar fallback and warning), cases with a district name
but no coordinates, an unrectified inspection problem, and jurisdictions with no case.
"""

import datetime as dt
import json
import subprocess
import sys

import chinese_calendar
import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.backlog import BACKLOG_COLUMNS, BacklogQuery, compute_backlog
from tests.conftest import NOW, ROOT

D1 = shapely.box(108.30, 22.80, 108.40, 22.90)
D2 = shapely.box(108.40, 22.80, 108.50, 22.90)
S1 = shapely.box(108.30, 22.80, 108.35, 22.90)
S2 = shapely.box(108.35, 22.80, 108.40, 22.90)
IN_S1 = (108.32, 22.85)

T1 = dt.datetime(2026, 10, 12, 12, 0)  # after National Day 2026
T2 = dt.datetime(2027, 1, 8, 12, 0)    # in January 2027, beyond the holiday calendar


def _workday(d: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # beyond the calendar: weekends only
        return d.weekday() < 5


def _due_walk(received: dt.datetime, days: int) -> dt.datetime:
    """Reference: the instant the working-day clock has run ``days`` whole working days."""
    t = received
    if not _workday(t.date()):  # the clock starts at the next working day's 00:00
        d = t.date() + dt.timedelta(days=1)
        while not _workday(d):
            d += dt.timedelta(days=1)
        t = dt.datetime.combine(d, dt.time())
    left = dt.timedelta(days=days)
    while True:
        day_end = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
        if _workday(t.date()):
            if t + left <= day_end:
                return t + left
            left -= day_end - t
        t = day_end


def _complaint(cid, received, *, due=None, closed=None, status="处置中", cat="道路不洁",
               pt=IN_S1, reworked=0, district=None, street=None):
    return {"工单编号": cid, "受理时间": received, "处置时限": due, "办结时间": closed,
            "处理状态": status, "问题小类": cat, "返工次数": reworked,
            "经度": pt[0] if pt else None, "纬度": pt[1] if pt else None,
            "所属区县": district, "所属街道": street}


CASES = [
    # closed exactly at its deadline: on time
    _complaint("C01", "2026-10-08 09:00", due="2026-10-09 09:00", closed="2026-10-09 09:00",
               status="已办结"),
    # closed one minute late
    _complaint("C02", "2026-10-08 10:00", due="2026-10-09 10:00", closed="2026-10-09 10:01",
               status="已办结"),
    # reworked, closed in the period
    _complaint("C03", "2026-10-06 08:00", due="2026-10-20 08:00", closed="2026-10-10 16:00",
               status="已办结", reworked=2),
    # void: never counts
    _complaint("C04", "2026-10-07 08:00", due="2026-10-09 08:00", status="已作废"),
    # open and overdue
    _complaint("C05", "2026-10-08 11:00", due="2026-10-10 11:00"),
    # open and due soon (within 24 h of T1)
    _complaint("C06", "2026-10-11 09:00", due="2026-10-13 08:00"),
    # open for more than 30 days
    _complaint("C07", "2026-09-01 09:00", due="2026-09-08 09:00", status="挂账"),
    # no deadline: 5 working days from 2026-09-30, across National Day and the make-up day
    _complaint("C08", "2026-09-30 10:00", cat="其他"),
    # no deadline, 1 working day (暴露垃圾), received on a Sunday in the holiday
    _complaint("C09", "2026-10-04 20:00", cat="暴露垃圾", closed="2026-10-09 10:00",
               status="已办结"),
    # district and street names only, no coordinates
    _complaint("C10", "2026-10-09 09:00", due="2026-10-16 09:00", pt=None, district="一区",
               street="西街道"),
    _complaint("C11", "2026-10-07 09:00", due="2026-10-09 09:00", pt=None, district="一区",
               closed="2026-10-08 09:00", status="已办结"),
    # previous period: closed on time, and one closed late
    _complaint("C12", "2026-09-30 08:00", due="2026-10-02 08:00", closed="2026-10-01 08:00",
               status="已办结"),
    _complaint("C13", "2026-09-29 08:00", due="2026-09-30 08:00", closed="2026-10-03 08:00",
               status="已办结", reworked=1),
    # no deadline, received 2026-12-30: due in January 2027 (weekends only, with a warning)
    _complaint("C14", "2026-12-30 15:00", cat="其他"),
    _complaint("C15", "2027-01-05 09:00", due="2027-01-07 09:00", closed="2027-01-06 09:00",
               status="已办结"),
]

INSPECTIONS = [
    # unrectified past its deadline: overdue like a complaint
    {"督查编号": "I1", "检查时间": "2026-10-08 10:00", "问题数": 2, "问题类别": "道路不洁",
     "整改时限": "2026-10-10 10:00", "经度": IN_S1[0], "纬度": IN_S1[1]},
    # rectified on time
    {"督查编号": "I2", "检查时间": "2026-10-08 11:00", "问题数": 1, "问题类别": "道路不洁",
     "整改时限": "2026-10-11 11:00", "整改时间": "2026-10-11 09:00", "经度": IN_S1[0],
     "纬度": IN_S1[1]},
    # no problem found: not a case
    {"督查编号": "I3", "检查时间": "2026-10-08 12:00", "问题数": 0, "经度": IN_S1[0],
     "纬度": IN_S1[1]},
]

LIMITS = {"暴露垃圾": 1}


def _write_polys(path, rows):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))}
        for props, g in rows]}), encoding="utf-8")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file

    tmp = tmp_path_factory.mktemp("backlog")
    db = tmp / "b.duckdb"
    _write_polys(tmp / "d.geojson", [({"id": "D1", "name": "一区"}, D1),
                                     ({"id": "D2", "name": "二区"}, D2)])
    _write_polys(tmp / "s.geojson", [({"id": "S1", "name": "西街道", "parent_id": "D1"}, S1),
                                     ({"id": "S2", "name": "东街道", "parent_id": "D1"}, S2)])
    load_boundaries(db, tmp / "d.geojson", "district", crs="wgs84")
    load_boundaries(db, tmp / "s.geojson", "street", crs="wgs84", parent_field="parent_id")
    pd.DataFrame(CASES).to_csv(tmp / "c.csv", index=False)
    pd.DataFrame(INSPECTIONS).to_csv(tmp / "i.csv", index=False)
    for kind, f in (("complaints", "c.csv"), ("inspections", "i.csv")):
        res = ingest_file(db, kind, tmp / f, crs="wgs84", now=NOW.replace(year=2027, month=1))
        assert res.rejected == 0, res.summary_line()
    return db


def _reference_cases() -> pd.DataFrame:
    """The cases as the definitions see them, built from the literals above."""
    status_map = {"已办结": "closed", "已作废": "void"}
    rows = []
    for c in CASES:
        recv = pd.Timestamp(c["受理时间"])
        due = pd.Timestamp(c["处置时限"]) if c["处置时限"] else pd.Timestamp(
            _due_walk(recv.to_pydatetime(), LIMITS.get(c["问题小类"], 5)))
        rows.append({"id": c["工单编号"], "recv": recv, "due": due,
                     "closed": pd.Timestamp(c["办结时间"]) if c["办结时间"] else pd.NaT,
                     "status": status_map.get(c["处理状态"], "open"),
                     "reworked": c["返工次数"], "district": "D1",
                     "street": "S1" if (c["经度"] or c["所属街道"] == "西街道") else None})
    for i in INSPECTIONS:
        if i["问题数"] > 0:
            rows.append({"id": i["督查编号"], "recv": pd.Timestamp(i["检查时间"]),
                         "due": pd.Timestamp(i["整改时限"]),
                         "closed": pd.Timestamp(i.get("整改时间")) if i.get("整改时间") else pd.NaT,
                         "status": "closed" if i.get("整改时间") else "open", "reworked": 0,
                         "district": "D1", "street": "S1"})
    return pd.DataFrame(rows)


def _reference(cases: pd.DataFrame, t: dt.datetime, s: dt.datetime) -> dict:
    t, s = pd.Timestamp(t), pd.Timestamp(s)
    nv = cases.status != "void"
    is_open = (cases.recv <= t) & nv & (cases.closed.isna() | (cases.closed > t))
    filed = (cases.recv >= s) & (cases.recv <= t) & nv
    due_in = (cases.due >= s) & (cases.due <= t) & nv
    on_time = due_in & cases.closed.notna() & (cases.closed <= cases.due)
    closed_in = (cases.closed >= s) & (cases.closed <= t) & nv
    hours = (cases.closed - cases.recv)[closed_in].dt.total_seconds() / 3600
    return {
        "open": int(is_open.sum()),
        "overdue": int((is_open & (cases.due < t)).sum()),
        "due_soon": int((is_open & (cases.due >= t) & (cases.due < t + pd.Timedelta(hours=24))).sum()),
        "backlog_30d": int((is_open & (cases.recv < t - pd.Timedelta(days=30))).sum()),
        "filed": int(filed.sum()),
        "closure_rate": (filed & ~is_open).sum() / filed.sum() if filed.sum() else np.nan,
        "due_in_period": int(due_in.sum()),
        "closed_on_time": int(on_time.sum()),
        "on_time_rate": on_time.sum() / due_in.sum() if due_in.sum() else np.nan,
        "rework_rate": ((closed_in & (cases.reworked > 0)).sum() / closed_in.sum()
                        if closed_in.sum() else np.nan),
        "median_hours_to_close": float(hours.median()) if len(hours) else np.nan,
    }


def _run(db, t, level, start=None):
    from config.settings import Settings

    settings = Settings({"deadlines.categories": LIMITS})
    con = duckdb.connect(str(db), read_only=True)
    try:
        return compute_backlog(con, BacklogQuery(t, start, levels=(level,)), settings)
    finally:
        con.close()


@pytest.mark.parametrize("t", [T1, T2])
@pytest.mark.parametrize("level", ["district", "street"])
def test_every_indicator_equals_pandas(city, t, level):
    res = _run(city, t, level)
    table = res.level(level)
    assert list(table.columns[:len(BACKLOG_COLUMNS)]) == BACKLOG_COLUMNS
    cases = _reference_cases()
    s = t - dt.timedelta(days=7)
    key = "district" if level == "district" else "street"
    want_rows = {"D1": "一区", "D2": "二区"} if level == "district" else {"S1": "西街道",
                                                                        "S2": "东街道"}
    for jid, name in want_rows.items():
        row = table[table.jurisdiction_id == jid].iloc[0]
        assert row.jurisdiction == name
        want = _reference(cases[cases[key] == jid], t, s)
        for col, value in want.items():
            got = row[col]
            if isinstance(value, float) and np.isnan(value):
                assert pd.isna(got), (jid, col, got)
            else:
                assert got == pytest.approx(value, rel=1e-12), (jid, col, got, value)
    city_row = table[table.level == "city"].iloc[0]
    want = _reference(cases, t, s)
    for col, value in want.items():
        if isinstance(value, float) and np.isnan(value):
            assert pd.isna(city_row[col])
        else:
            assert city_row[col] == pytest.approx(value, rel=1e-12), (col, city_row[col], value)
    # rows of the level add up to the city row for every count
    rows = table[table.level == level]
    for col in ("open", "overdue", "due_soon", "backlog_30d", "filed", "due_in_period",
                "closed_on_time", "closed_in_period", "reworked_closed"):
        assert rows[col].sum() == city_row[col], col


def test_jurisdiction_without_cases_is_listed_with_zeros(city):
    table = _run(city, T1, "district").level("district")
    d2 = table[table.jurisdiction_id == "D2"].iloc[0]
    assert (d2[["open", "overdue", "filed", "due_in_period"]] == 0).all()
    assert pd.isna(d2.closure_rate) and pd.isna(d2.on_time_rate) and pd.isna(d2["rank"])
    assert d2.grade is None
    streets = _run(city, T1, "street").level("street")
    # C11 has a district name but no street: it forms the unlocated street row
    un = streets[streets.jurisdiction == "（未定位）"].iloc[0]
    assert un.filed == 1 and pd.isna(un.jurisdiction_id)


def test_missing_deadlines_follow_the_holiday_calendar(city):
    cases = _reference_cases().set_index("id")
    # hand-checked against the State Council notice for 2026: 1–7 October off, Saturday
    # 10 October worked; so 5 working days from 30 September 10:00 are 8, 9, 10, 12, 13 Oct
    assert cases.loc["C08", "due"] == pd.Timestamp("2026-10-13 10:00")
    # received on a holiday Sunday: the clock starts Thursday 8 October 00:00
    assert cases.loc["C09", "due"] == pd.Timestamp("2026-10-09 00:00")
    # 2027 is beyond the calendar: weekends only, so 1 January 2027 (Friday) counts
    assert cases.loc["C14", "due"] == pd.Timestamp("2027-01-06 15:00")
    res = _run(city, T1, "district")
    assert res.filled_deadlines >= 2
    # C08 is open and overdue at T1 only if its computed deadline is before T1
    d1 = res.level("district").set_index("jurisdiction_id").loc["D1"]
    assert d1.overdue == _reference(_reference_cases().query("district == 'D1'"), T1,
                                    T1 - dt.timedelta(days=7))["overdue"]


def test_deadline_in_2027_warns(city):
    res = _run(city, T2, "district")
    assert any("2027" in w for w in res.warnings), res.warnings


def test_previous_period_and_rank(city):
    res = _run(city, T1, "district")
    d1 = res.level("district").set_index("jurisdiction_id").loc["D1"]
    prev = _reference(_reference_cases(), T1 - dt.timedelta(days=7), T1 - dt.timedelta(days=14))
    assert d1.on_time_rate_prev == pytest.approx(prev["on_time_rate"])
    assert d1.closure_rate_prev == pytest.approx(prev["closure_rate"])
    assert d1["rank"] == 1 and d1.grade in "ABCDE"


def test_bad_queries(city):
    with pytest.raises(ValueError, match="level 'province' is not one of district, street"):
        _run(city, T1, "province")
    with pytest.raises(ValueError, match=r"the period starts \(.*\) after the time"):
        _run(city, T1, "district", start=T1 + dt.timedelta(days=1))


def test_cli_backlog(city, tmp_path):
    out = tmp_path / "b.csv"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(city), "backlog",
                        "--as-of", "2026-10-12T12:00", "--level", "street", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame.columns) == BACKLOG_COLUMNS
    assert frame.level.tolist()[-1] == "city"
    bad = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(city), "backlog",
                          "--as-of", "yesterday", "--level", "street", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--as-of" in bad.stderr

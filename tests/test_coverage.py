"""Inspection coverage (巡查覆盖率) and rectification (整改): a hand-built district checked
against a plain pandas computation written here, and the demo city against truth.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.coverage import COLUMNS, CoverageError, coverage_table

NOW = dt.datetime(2026, 11, 23, 12, 0)
# ISO weeks 2026-W45, W46, W47
START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 22)
COUNTS = ["points", "visits_due", "visits_done", "inspections", "inspections_with_problems",
          "problems_found", "rectify_due_in_period", "rectified_on_time", "unrectified_overdue"]
RATES = ["coverage_rate", "problems_per_inspection", "rectify_on_time_rate"]

# Two streets splitting the fixture district D1 (108.3-108.4 E, 22.8-22.9 N) at 108.35 E.
STREETS = {"S1": ("西街道", 108.30, 108.35), "S2": ("东街道", 108.35, 108.40)}

# point id, name, type, lon, lat, community name as written (no community level is loaded)
POINTS = [
    ("P1", "民族大道口", "主次干道", 108.310, 22.810, "甲社区"),
    ("P2", "七星巷", "背街小巷", 108.320, 22.850, "甲社区"),
    ("P3", "南湖农贸市场", "农贸市场", 108.340, 22.880, "乙社区"),
    ("P4", "南湖公交站", "公交站点", 108.330, 22.820, "乙社区"),
    ("P5", "一中周边", "学校周边", 108.345, 22.860, None),
    ("P6", "那洪村口", "城乡结合部", 108.450, 22.850, "丙社区"),  # outside every polygon
]

# inspection id, point id, inspected, category, problems, rectify due, rectified, lon, lat
_ = None
INSPECTIONS = [
    # W45 (11-02 .. 11-08)
    ("I01", "P1", "2026-11-02 00:00", "无", 0, _, _, _, _),
    ("I02", "P1", "2026-11-04 10:00", "暴露垃圾", 2, "2026-11-07 18:00", "2026-11-07 18:00", _, _),
    ("I03", "P2", "2026-11-03 09:30", "非法小广告", 1, "2026-11-06 18:00", "2026-11-08 10:00", _, _),
    ("I04", "P3", "2026-11-05 14:00", "店外经营", 3, "2026-11-08 18:00", _, _, _),
    ("I05", "P6", "2026-11-06 11:00", "私搭乱建", 1, "2026-11-09 18:00", "2026-11-09 09:00", _, _),
    ("I22", "P4", "2026-11-06 10:00", "无", 0, _, _, _, _),
    # W46 (11-09 .. 11-15); P3 missed
    ("I06", "P1", "2026-11-09 09:00", "无", 0, _, _, _, _),
    ("I07", "P2", "2026-11-10 09:00", "无", 0, _, _, _, _),
    ("I08", "P4", "2026-11-11 15:00", "道路不洁", 1, "2026-11-14 18:00", "2026-11-14 17:59", _, _),
    ("I09", "P4", "2026-11-13 08:00", "无", 0, _, _, _, _),
    ("I10", "P5", "2026-11-15 23:59", "暴露垃圾", 2, "2026-11-18 18:00", "2026-11-23 09:00", _, _),
    ("I20", "P5", "2026-11-12 10:00", "道路不洁", 1, _, _, _, _),
    # W47 (11-16 .. 11-22); P2 missed
    ("I11", "P1", "2026-11-16 09:00", "无", 0, _, _, _, _),
    ("I12", "P3", "2026-11-17 09:00", "店外经营", 1, "2026-11-20 18:00", "2026-11-20 18:00", _, _),
    ("I13", "P4", "2026-11-18 10:00", "无", 0, _, _, _, _),
    ("I14", "P5", "2026-11-22 23:30", "暴露垃圾", 1, "2026-11-25 18:00", _, _, _),
    ("I23", "P4", "2026-11-20 11:00", "道路不洁", 1, "2026-11-23 00:00", _, _, _),  # due at T
    # walk-by inspection with its own coordinates in S2 (no point); unknown point in S1
    ("I15", _, "2026-11-19 10:00", "私搭乱建", 4, "2026-11-22 18:00", _, 108.380, 22.850),
    ("I21", "PX9", "2026-11-20 10:00", "暴露垃圾", 1, "2026-11-23 18:00", _, 108.310, 22.890),
    # outside the period
    ("I16", "P2", "2026-10-30 10:00", "暴露垃圾", 2, "2026-11-02 18:00", _, _, _),
    ("I17", "P1", "2026-11-23 08:00", "暴露垃圾", 1, "2026-11-26 18:00", _, _, _),
    ("I24", "P1", "2026-11-23 00:00", "无", 0, _, _, _, _),                # at T: outside
    ("I18", "P3", "2026-10-20 10:00", "店外经营", 1, "2026-10-23 18:00", "2026-10-23 10:00", _, _),
    ("I19", "P2", "2026-10-21 10:00", "暴露垃圾", 1, "2026-10-24 18:00", "2026-11-05 10:00", _, _),
]


def _street_geojson(path: Path) -> Path:
    feats = []
    for sid, (name, x0, x1) in STREETS.items():
        ring = [[x0, 22.8], [x1, 22.8], [x1, 22.9], [x0, 22.9], [x0, 22.8]]
        feats.append({"type": "Feature",
                      "properties": {"id": sid, "name": name, "parent_id": "D1"},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _raw() -> tuple[pd.DataFrame, pd.DataFrame]:
    pts = pd.DataFrame(POINTS, columns=["点位编号", "点位名称", "点位类型", "经度", "纬度",
                                        "所属社区"])
    ins = pd.DataFrame(INSPECTIONS, columns=["督查编号", "点位编号", "检查时间", "问题类别",
                                             "问题数", "整改时限", "整改时间", "经度", "纬度"])
    return pts, ins


@pytest.fixture
def small(district_db: Path) -> Path:
    """D1 split into streets S1 / S2, the points and inspections above (S2 has no point)."""
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file

    load_boundaries(district_db, _street_geojson(district_db.parent / "streets.geojson"),
                    "street", crs="wgs84")
    pts, ins = _raw()
    for kind, frame in (("points", pts), ("inspections", ins)):
        csv = district_db.parent / f"{kind}.csv"
        frame.to_csv(csv, index=False)
        res = ingest_file(district_db, kind, csv, crs="wgs84", now=NOW)
        assert res.rejected == 0 and res.inserted == len(frame), "test data must load whole"
    return district_db


def run(db: Path, start=START, end=END, level="street", settings=None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return coverage_table(con, start, end, level, settings)
    finally:
        con.close()


# ------------------------------------------------------------------ the independent computation
def _street_of(lon: float, lat: float) -> str | None:
    if not (22.8 <= lat <= 22.9):
        return None
    for sid, (_name, x0, x1) in STREETS.items():
        if x0 <= lon < x1:
            return sid
    return None


def _district_of(lon: float, lat: float) -> str | None:
    return "D1" if 108.3 <= lon <= 108.4 and 22.8 <= lat <= 22.9 else None


def _same(k, key) -> bool:
    """Record key ``k`` belongs to row ``key`` (None = unlocated, 'city' = every record)."""
    if key == "city":
        return True
    if key is None:
        return k is None or (isinstance(k, float) and np.isnan(k)) or k is pd.NA
    return k == key


def expected(start: dt.date, end: dt.date, place, keys: list, vpw: int = 1) -> dict:
    """Every column per jurisdiction key (None = unlocated) and 'city', from the raw rows.

    ``place(lon, lat, community)`` gives a record's key; inspections without coordinates
    take their point's coordinates and community, as the import does.
    """
    pts, ins = _raw()
    pts = pts.rename(columns={"点位编号": "pid", "经度": "lon", "纬度": "lat", "所属社区": "comm"})
    pts["key"] = [place(x, y, c) for x, y, c in zip(pts.lon, pts.lat, pts.comm, strict=True)]
    ins = ins.rename(columns={"点位编号": "pid", "检查时间": "when", "问题数": "problems",
                              "整改时限": "due", "整改时间": "fixed", "经度": "lon", "纬度": "lat"})
    for c in ("when", "due", "fixed"):
        ins[c] = pd.to_datetime(ins[c])
    by_pid = pts.set_index("pid")
    own = ins.lon.notna()
    lon = ins.lon.where(own, ins.pid.map(by_pid.lon))
    lat = ins.lat.where(own, ins.pid.map(by_pid.lat))
    comm = ins.pid.map(by_pid.comm).where(~own, None)
    ins["key"] = [place(x, y, c) for x, y, c in zip(lon, lat, comm, strict=True)]
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end) + pd.Timedelta(days=1)
    mondays = pd.date_range(t0 - pd.Timedelta(days=t0.day_of_week), t1 - pd.Timedelta(days=1),
                            freq="W-MON")
    weeks = len(mondays)
    in_p = (ins.when >= t0) & (ins.when < t1)
    # visits: per point and ISO (year, week), capped
    visits = ins[in_p & ins.pid.isin(by_pid.index)].copy()
    iso = visits.when.dt.isocalendar()
    visits["wk"] = iso.year.astype(str) + "-" + iso.week.astype(str)
    per_pw = visits.groupby(["pid", "wk"]).size().clip(upper=vpw).groupby(level="pid").sum()
    out = {}
    for key in [*keys, "city"]:
        p_sel = pts.key.map(lambda k, key=key: _same(k, key)).astype(bool)
        i_sel = ins.key.map(lambda k, key=key: _same(k, key)).astype(bool)
        n_points = int(p_sel.sum())
        done = int(per_pw.reindex(pts.pid[p_sel]).fillna(0).sum())
        cur = ins[i_sel & in_p]
        prob = ins[i_sel & (ins.problems > 0)]
        due_in = prob[(prob.due >= t0) & (prob.due < t1)]
        on_time = int((due_in.fixed <= due_in.due).sum())
        overdue = prob[(prob.when <= t1) & (prob.fixed.isna() | (prob.fixed > t1)) & (prob.due < t1)]
        row = {"points": n_points, "visits_due": n_points * weeks * vpw, "visits_done": done,
               "inspections": len(cur), "inspections_with_problems": int((cur.problems > 0).sum()),
               "problems_found": int(cur.problems.sum()), "rectify_due_in_period": len(due_in),
               "rectified_on_time": on_time, "unrectified_overdue": len(overdue)}
        row["coverage_rate"] = done / row["visits_due"] if row["visits_due"] else np.nan
        row["problems_per_inspection"] = (row["problems_found"] / len(cur)) if len(cur) else np.nan
        row["rectify_on_time_rate"] = on_time / len(due_in) if len(due_in) else np.nan
        out[key] = row
    rates = {k: r["coverage_rate"] for k, r in out.items()
             if k not in (None, "city") and not np.isnan(r["coverage_rate"])}
    for k, r in out.items():
        r["rank"] = (1 + sum(v > rates[k] for v in rates.values())) if k in rates else None
    return out


def street_place(lon, lat, _comm):
    return _street_of(lon, lat)


def check_against(df: pd.DataFrame, exp: dict, key_column: str = "jurisdiction_id") -> None:
    got = {("city" if r.level == "city" else r[key_column]): r for _, r in df.iterrows()}
    got = {(None if isinstance(k, str) and k == "（未定位）" else k): r for k, r in got.items()}
    assert set(got) == set(exp)
    for key, e in exp.items():
        g = got[key]
        for col in COUNTS:
            assert g[col] == e[col], (key, col, g[col], e[col])
        for col in RATES:
            if np.isnan(e[col]):
                assert pd.isna(g[col]), (key, col)
            else:
                assert g[col] == pytest.approx(e[col], rel=1e-12), (key, col)
        assert (pd.isna(g["rank"]) if e["rank"] is None else g["rank"] == e["rank"]), key


# ------------------------------------------------------------------ hand-built district
def test_street_level_equals_pandas(small):
    df = run(small)
    assert list(df.columns) == COLUMNS
    # rows: S1, S2 (no points: zeros, no coverage, no rank), the unlocated row, the city
    assert df.jurisdiction.tolist() == ["西街道", "东街道", "（未定位）", "全市"]
    assert df.jurisdiction_id.tolist()[:2] == ["S1", "S2"]
    assert df.jurisdiction_id.iloc[2:].isna().all()
    assert df.level.tolist() == ["street"] * 3 + ["city"]
    check_against(df, expected(START, END, street_place, ["S1", "S2", None]))
    s1, s2, unloc, city = (df.iloc[i] for i in range(4))
    # hand-counted: P1 3 weeks (twice in W45), P2 2 (W47 missed), P3 2, P4 3 (twice in W46), P5 2
    assert (s1.points, s1.visits_due, s1.visits_done) == (5, 15, 12)
    assert s1.inspections == 17 and s1.problems_found == 14   # I21 (unknown point) counts here
    # due in period: I02 I03 I04 I08 I10 I12 + I16 (inspected before the period)
    assert (s1.rectify_due_in_period, s1.rectified_on_time) == (7, 3)
    assert s1.unrectified_overdue == 3       # I04, I10 (fixed after T), I16; not I14, I21
    assert (s2.points, s2.visits_due, s2.visits_done, s2.inspections) == (0, 0, 0, 1)
    assert pd.isna(s2.coverage_rate) and pd.isna(s2["rank"]) and s1["rank"] == 1
    assert (unloc.points, unloc.visits_done, unloc.rectified_on_time) == (1, 1, 1)
    assert city.visits_due == 18 and city.coverage_rate == pytest.approx(13 / 18)


def test_visits_per_week_caps_each_point_week(small):
    settings = {"coverage.visits_per_week": 2}
    df = run(small, settings=settings)
    check_against(df, expected(START, END, street_place, ["S1", "S2", None], vpw=2))
    s1 = df.iloc[0]
    assert (s1.visits_due, s1.visits_done) == (30, 16)
    # the nested TOML form is read the same way
    nested = run(small, settings={"coverage": {"visits_per_week": 2}})
    pd.testing.assert_frame_equal(df, nested)
    with pytest.raises(CoverageError, match="visits_per_week"):
        run(small, settings={"coverage.visits_per_week": 0})


def test_partial_weeks_count_whole(small):
    start, end = dt.date(2026, 11, 6), dt.date(2026, 11, 16)   # Friday W45 to Monday W47
    df = run(small, start, end)
    check_against(df, expected(start, end, street_place, ["S1", "S2", None]))
    assert df.iloc[0].visits_due == 5 * 3
    one_day = run(small, dt.date(2026, 11, 22), dt.date(2026, 11, 22))
    check_against(one_day, expected(dt.date(2026, 11, 22), dt.date(2026, 11, 22),
                                    street_place, ["S1", "S2", None]))
    assert one_day.iloc[0].visits_due == 5


@pytest.mark.parametrize("level", ["district", "street", "community", "grid"])
def test_rows_add_up_to_the_city_row(small, level):
    df = run(small, level=level)
    body, city = df.iloc[:-1], df.iloc[-1]
    assert city.level == "city" and (body.level == level).all()
    for col in COUNTS:
        assert body[col].sum() == city[col], col
    assert city.inspections == 19 and city.points == 6


def test_district_level_equals_pandas(small):
    df = run(small, level="district")
    assert df.jurisdiction.tolist() == ["方区", "（未定位）", "全市"]
    check_against(df, expected(START, END, lambda x, y, c: _district_of(x, y), ["D1", None]))


def test_every_street_listed_in_an_empty_period(small):
    df = run(small, dt.date(2025, 1, 6), dt.date(2025, 1, 12))
    assert df.jurisdiction_id.tolist()[:2] == ["S1", "S2"]
    assert (df.inspections == 0).all() and (df.visits_done == 0).all()
    assert df.iloc[0].coverage_rate == 0 and df.iloc[0]["rank"] == 1
    assert pd.isna(df.iloc[1]["rank"])
    assert df.problems_per_inspection.isna().all() and df.rectify_on_time_rate.isna().all()
    # the unlocated point P6 keeps its row: a point is due in any period
    assert df.jurisdiction.iloc[2] == "（未定位）" and df.points.iloc[2] == 1


def test_without_loaded_communities_rows_are_the_names_records_carry(small):
    df = run(small, level="community")
    assert df.jurisdiction.tolist() == ["丙社区", "乙社区", "甲社区", "（未定位）", "全市"]
    assert df.jurisdiction_id.isna().all()

    def place(_lon, _lat, comm):
        return comm if isinstance(comm, str) else None

    exp = expected(START, END, place, ["甲社区", "乙社区", "丙社区", None])
    check_against(df, exp, key_column="jurisdiction")
    # 甲 (P1 3 + P2 2) and 乙 (P3 2 + P4 3) tie at 5/6 and share rank 1; 丙 1/3 is third
    assert df.set_index("jurisdiction")["rank"].loc[["甲社区", "乙社区", "丙社区"]].tolist() == \
        [1, 1, 3]


def test_id_first_then_unique_name(small):
    con = duckdb.connect(str(small))
    # P1 lost its id but keeps the name of S1; P2 has neither; P3's id wins over a wrong name
    con.execute("UPDATE inspection_points SET street_id = NULL WHERE point_id = 'P1'")
    con.execute("UPDATE inspection_points SET street_id = NULL, street = '不存在街道' "
                "WHERE point_id = 'P2'")
    con.execute("UPDATE inspection_points SET street = '东街道' WHERE point_id = 'P3'")
    con.execute("UPDATE inspections SET street_id = NULL WHERE inspection_id = 'I15'")
    con.close()

    def place(lon, lat, _comm):
        return None if (lon, lat) == (108.320, 22.850) else _street_of(lon, lat)

    df = run(small)
    exp = expected(START, END, place, ["S1", "S2", None])
    for key in exp:   # inspections follow their own columns, which were left alone
        base = expected(START, END, street_place, ["S1", "S2", None])[key]
        for col in ("inspections", "inspections_with_problems", "problems_found",
                    "rectify_due_in_period", "rectified_on_time", "unrectified_overdue",
                    "problems_per_inspection", "rectify_on_time_rate"):
            exp[key][col] = base[col]
    check_against(df, exp)
    assert df.iloc[0].points == 4 and df.iloc[2].points == 2
    assert df.iloc[1].inspections == 1          # I15 found S2 by its name


def test_ambiguous_name_is_unlocated(small):
    con = duckdb.connect(str(small))
    # a second street named 西街道 (no polygon): the name alone no longer tells which one
    con.execute("INSERT INTO jurisdictions (jurisdiction_id, name, level, parent_id) "
                "VALUES ('S3', '西街道', 'street', 'D1')")
    con.execute("UPDATE inspection_points SET street_id = NULL WHERE point_id = 'P1'")
    con.close()
    df = run(small)
    assert df.jurisdiction_id.tolist()[:3] == ["S1", "S2", "S3"]
    s3 = df.iloc[2]
    assert s3.jurisdiction == "西街道" and (s3[COUNTS] == 0).all()   # listed, with zeros
    unloc = df[df.jurisdiction == "（未定位）"].iloc[0]
    assert unloc.points == 2 and df.iloc[0].points == 4   # P6, and P1 by its ambiguous name
    assert unloc.visits_done == 1 + 3


def test_bad_arguments(small):
    # the message in words; the option it concerns for the command line's flag
    with pytest.raises(CoverageError, match="the level 'city' is not one of") as err:
        run(small, level="city")
    assert "district, street, community, grid" in str(err.value) and err.value.option == "level"
    with pytest.raises(ValueError, match="starts on 2026-11-22, after its end 2026-11-02") as err:
        run(small, dt.date(2026, 11, 22), dt.date(2026, 11, 2))
    assert err.value.option == "start"
    with pytest.raises(ValueError, match="'2026-13-01' is not a date") as err:
        run(small, "2026-13-01", END)
    assert err.value.option == "start" and "--" not in str(err.value)


# ------------------------------------------------------------------ the demo city
def test_demo_city_matches_truth(demo_city):
    db, truth = demo_city
    t = truth["inspections"]
    first = dt.date.fromisoformat(truth["parameters"]["first_day"])
    end = dt.date.fromisoformat(truth["parameters"]["end"])
    assert (first, end) == (dt.date(2026, 5, 25), dt.date(2026, 11, 22))
    df = run(db, first, end, level="district")
    city = df.iloc[-1]
    assert city.level == "city" and len(df) == 8          # 7 districts, all points located
    assert city.points == t["points"]
    assert city.visits_due == t["due_visits"] == t["points"] * t["weeks"]
    # the generator's coverage is rows / (points x weeks); it draws at most one visit per
    # point-week, so rows = distinct point-weeks = visits_done here
    assert city.visits_done == city.inspections == t["rows"]
    assert round(city.coverage_rate, 4) == t["coverage"]
    assert city.problems_found == t["problems"]
    assert city.inspections_with_problems == t["visits_with_problems"]
    # truth: problems > 0, 整改完成时间 empty at the export (end 23:59), 整改时限 before it
    assert city.unrectified_overdue == t["unrectified_overdue_at_export"]
    for col in COUNTS:
        assert df.iloc[:-1][col].sum() == city[col], col
    # the streets add up to the same city row
    streets = run(db, first, end, level="street")
    pd.testing.assert_series_equal(streets.iloc[-1][COUNTS], city[COUNTS], check_names=False)


def test_cli_coverage(small, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path / "cov.csv"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(small), "coverage",
                        "--start", START.isoformat(), "--end", END.isoformat(),
                        "--level", "street", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame.columns) == COLUMNS and frame.level.iloc[-1] == "city"
    assert frame.visits_due.iloc[-1] == run(small).visits_due.iloc[-1]
    bad = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(small), "coverage",
                          "--start", END.isoformat(), "--end", START.isoformat(),
                          "--level", "street", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--start" in bad.stderr

"""Overdue case lists, drill-down children and the fringe category mix, against the backlog
table and independent pandas / shapely computations on a small seeded city.

The small city (:func:`build_city`, also used by the page tests) is two square districts
split into 2 streets × 2 communities × 2 grids each, a fringe box over the east of the
second district (and beyond the city, to be clipped), a few inspection points in the first
district only, ~2,000 complaints in October–November 2026 (a cluster in the fringe, open,
overdue, void, reworked cases, missing deadlines, records known by name only, one district
name no boundary knows, text that looks like Markdown, HTML or a spreadsheet formula) and
inspections with unrectified problems.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.backlog import UNLOCATED, BacklogError, BacklogQuery, compute_backlog
from analytics.cases import (
    CASE_COLUMNS,
    KIND_COMPLAINT,
    KIND_INSPECTION,
    MIX_COLUMNS,
    NO_CATEGORY,
    category_mix,
    children_of,
    overdue_cases,
    select_children,
)
from analytics.studyarea import StudyAreaError
from tests.conftest import NOW

X0, X1, X2 = 108.30, 108.40, 108.50
Y0, Y1 = 22.80, 22.90
FRINGE_BOX = shapely.box(108.46, 22.80, 108.52, 22.90)  # sticks out east of the city
CLUSTER_PT = (108.48, 22.82)
T_END = dt.datetime(2026, 11, 24)  # end of 2026-11-23
T_MID = dt.datetime(2026, 11, 5, 15, 30)
#: the ingest's "now" (nothing in the fixture is in its future)
INGEST_NOW = NOW + dt.timedelta(days=2)
EVIL_DESC = "<script>alert('x')</script> **粗体** [链接](http://example.com) $x$"
EVIL_ADDR = "=HYPERLINK(\"http://example.com\",\"点我\")"


def _polys(path: Path, rows) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(g))}
        for props, g in rows]}, ensure_ascii=False), encoding="utf-8")
    return path


def hierarchy() -> dict[str, list[tuple[dict, shapely.Polygon]]]:
    """district → street → community → grid boxes with 6/9/12/15-digit codes."""
    out: dict[str, list] = {"district": [], "street": [], "community": [], "grid": []}
    for d, (dname, xa, xb) in enumerate((("一区", X0, X1), ("二区", X1, X2)), start=1):
        did = f"45010{d}"
        out["district"].append(({"id": did, "name": dname}, shapely.box(xa, Y0, xb, Y1)))
        for s, (ya, yb) in enumerate(((Y0, 22.85), (22.85, Y1)), start=1):
            sid = f"{did}00{s}"
            sname = f"{dname}{'南北'[s - 1]}街道"
            out["street"].append(({"id": sid, "name": sname, "parent_id": did},
                                  shapely.box(xa, ya, xb, yb)))
            xm = (xa + xb) / 2
            for c, (ca, cb) in enumerate(((xa, xm), (xm, xb)), start=1):
                cid = f"{sid}00{c}"
                cname = f"{sname[:-2]}{'西东'[c - 1]}社区"
                out["community"].append(({"id": cid, "name": cname, "parent_id": sid},
                                         shapely.box(ca, ya, cb, yb)))
                ym = (ya + yb) / 2
                for g, (ga, gb) in enumerate(((ya, ym), (ym, yb)), start=1):
                    out["grid"].append(({"id": f"{cid}00{g}", "name": f"{cname}第{g}网格",
                                         "parent_id": cid}, shapely.box(ca, ga, cb, gb)))
    return out


def _complaints(rng: np.random.Generator) -> pd.DataFrame:
    n_bg, n_hot = 1600, 400
    n = n_bg + n_hot
    lon = np.concatenate([rng.uniform(X0 + 0.001, X2 - 0.001, n_bg),
                          rng.normal(CLUSTER_PT[0], 0.003, n_hot)])
    lat = np.concatenate([rng.uniform(Y0 + 0.001, Y1 - 0.001, n_bg),
                          rng.normal(CLUSTER_PT[1], 0.003, n_hot)])
    cats = np.array([("市容环境", "暴露垃圾"), ("市容环境", "私搭乱建"), ("街面秩序", "占道经营"),
                     ("宣传广告", "非法小广告"), ("施工管理", "工地扬尘")], dtype=object)
    pick = np.where(np.arange(n) < n_bg, rng.integers(0, len(cats), n),
                    rng.choice([0, 0, 0, 1, 2], n))
    recv = (pd.Timestamp("2026-10-01 08:00")
            + pd.to_timedelta(rng.integers(0, 53 * 24 * 60, n), "min"))
    due = recv + pd.to_timedelta(rng.integers(12, 24 * 6, n), "h")
    state = rng.choice(["closed", "open", "void"], n, p=[0.7, 0.26, 0.04])
    closed = recv + pd.to_timedelta(rng.integers(1, 24 * 9, n), "h")
    closed = pd.Series(closed).where(state == "closed")
    closed = closed.where(closed <= pd.Timestamp(INGEST_NOW))
    state = np.where((state == "closed") & closed.isna().to_numpy(), "open", state)
    words = {"closed": "已办结", "open": "处置中", "void": "已作废"}
    df = pd.DataFrame({
        "工单编号": [f"C{i:05d}" for i in range(n)],
        "受理时间": recv.strftime("%Y-%m-%d %H:%M"),
        "处置时限": pd.Series(due.strftime("%Y-%m-%d %H:%M")),
        "办结时间": closed.dt.strftime("%Y-%m-%d %H:%M"),
        "处理状态": [words[s] for s in state],
        "问题大类": cats[pick, 0], "问题小类": cats[pick, 1],
        "问题描述": [f"第{i}号问题，{cats[p, 1]}" for i, p in enumerate(pick)],
        "地址": [f"测试路{i}号" for i in range(n)],
        "返工次数": rng.choice([0, 0, 0, 0, 1, 2], n),
        "经度": lon, "纬度": lat, "所属区县": None, "所属街道": None,
    })
    # no deadline: filled from the working-day calendar (暴露垃圾 1 day, others 5)
    df.loc[rng.random(n) < 0.08, "处置时限"] = None
    # known by name only: a loaded district, and a district no boundary knows
    named = rng.choice(n_bg, 80, replace=False)
    df.loc[named[:50], ["经度", "纬度"]] = None
    df.loc[named[:50], "所属区县"] = "一区"
    df.loc[named[:50], "所属街道"] = "一区南街道"
    df.loc[named[50:], ["经度", "纬度"]] = None
    df.loc[named[50:], "所属区县"] = "三区"
    df.loc[named[50:], "所属街道"] = np.where(np.arange(30) % 2 == 0, "三区甲街道", "三区乙街道")
    # text that must stay text
    df.loc[0, ["问题描述", "地址", "处理状态", "办结时间", "处置时限", "受理时间"]] = [
        EVIL_DESC, EVIL_ADDR, "处置中", None, "2026-10-02 08:00", "2026-10-01 08:00"]
    return df


def _inspections(rng: np.random.Generator, points: pd.DataFrame) -> pd.DataFrame:
    n = 240
    at = pd.Timestamp("2026-10-01 09:00") + pd.to_timedelta(rng.integers(0, 53, n), "D")
    at = at + pd.to_timedelta(rng.integers(0, 8 * 60, n), "min")
    which = rng.integers(0, len(points), n)
    problems = rng.choice([0, 0, 1, 2, 3], n)
    due = at + pd.to_timedelta(rng.integers(1, 6, n), "D")
    done = pd.Series(at + pd.to_timedelta(rng.integers(2, 200, n), "h"))
    done = done.where((rng.random(n) < 0.7) & (done <= pd.Timestamp(INGEST_NOW)))
    return pd.DataFrame({
        "督查编号": [f"I{i:04d}" for i in range(n)],
        "点位编号": points["点位编号"].to_numpy()[which],
        "检查时间": at.strftime("%Y-%m-%d %H:%M"), "督查组": rng.choice(["第一组", "第二组"], n),
        "问题类别": rng.choice(["道路不洁", "暴露垃圾", "占道经营"], n), "问题数": problems,
        "扣分": problems * 0.5,
        "整改时限": pd.Series(due.strftime("%Y-%m-%d %H:%M")).where(problems > 0),
        "整改时间": done.dt.strftime("%Y-%m-%d %H:%M").where(problems > 0),
        "经度": points["经度"].to_numpy()[which], "纬度": points["纬度"].to_numpy()[which],
    })


def build_city(tmp: Path, *, zones: bool = True) -> dict:
    """The small city in ``tmp``: returns {'db': path, 'complaints': df, 'inspections': df}."""
    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file
    from ingest.zones import load_zones

    db = tmp / "small.duckdb"
    for level, rows in hierarchy().items():
        load_boundaries(db, _polys(tmp / f"{level}.geojson", rows), level, crs="wgs84",
                        parent_field=None if level == "district" else "parent_id")
    if zones:
        load_zones(db, _polys(tmp / "fringe.geojson", [({"name": "结合部"}, FRINGE_BOX)]),
                   "fringe", crs="wgs84")
    rng = np.random.default_rng(20261123)
    points = pd.DataFrame({"点位编号": [f"P{i:02d}" for i in range(12)],
                           "点位名称": [f"测试点位{i}" for i in range(12)],
                           "点位类型": ["背街小巷"] * 6 + ["农贸市场"] * 6,
                           "经度": rng.uniform(X0 + 0.01, X1 - 0.01, 12),
                           "纬度": rng.uniform(Y0 + 0.01, Y1 - 0.01, 12)})
    complaints = _complaints(rng)
    inspections = _inspections(rng, points)
    for kind, frame in (("points", points), ("complaints", complaints),
                        ("inspections", inspections)):
        path = tmp / f"{kind}.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        res = ingest_file(db, kind, path, crs="wgs84", now=INGEST_NOW)
        assert res.rejected == 0, res.summary_line()
    return {"db": db, "complaints": complaints, "inspections": inspections}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> dict:
    return build_city(tmp_path_factory.mktemp("cases"))


@pytest.fixture
def con(city):
    c = duckdb.connect(str(city["db"]), read_only=True)
    yield c
    c.close()


# --------------------------------------------------------------------------------------
# independent reference: the raw rows, deadlines walked day by day on chinese_calendar


def _reference_cases(con) -> pd.DataFrame:
    from config.settings import DEFAULT_LIMITS
    from tests.test_backlog import _due_walk

    c = con.execute("SELECT complaint_id AS case_id, received_at AS recv, due_at AS due, "
                    "closed_at AS closed, status, category, subcategory, district, street "
                    "FROM complaints").df()
    c["kind"] = KIND_COMPLAINT
    i = con.execute("SELECT inspection_id AS case_id, inspected_at AS recv, rectify_due AS due, "
                    "rectified_at AS closed, problem_category AS category, district, street "
                    "FROM inspections WHERE problems > 0").df()
    i["kind"] = KIND_INSPECTION
    i["status"] = np.where(i.closed.isna(), "open", "closed")
    i["subcategory"] = None
    cases = pd.concat([c, i], ignore_index=True)
    missing = cases.due.isna()
    for k in np.flatnonzero(missing.to_numpy()):
        row = cases.iloc[k]
        key = row.subcategory if row.subcategory in DEFAULT_LIMITS else row.category
        days = DEFAULT_LIMITS.get(key, 5)
        cases.loc[cases.index[k], "due"] = pd.Timestamp(_due_walk(row.recv.to_pydatetime(),
                                                                  days))
    return cases


def _reference_overdue(cases: pd.DataFrame, t: dt.datetime) -> pd.DataFrame:
    t = pd.Timestamp(t)
    is_open = ((cases.recv <= t) & (cases.status != "void")
               & np.where(cases.closed.isna(), cases.status != "closed", cases.closed > t))
    return cases[is_open & (cases.due < t)]


# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [T_END, T_MID])
@pytest.mark.parametrize("source", ["all", "complaints", "inspections"])
def test_overdue_per_district_equals_backlog(con, t, source):
    cases = overdue_cases(con, t, source=source)
    table = compute_backlog(con, BacklogQuery(t, source=source, levels=("district", "street")))
    for level, col in (("district", "district"), ("street", "street")):
        rows = table.level(level, with_city=False)
        counts = cases[col].fillna(UNLOCATED).value_counts()
        for r in rows.itertuples():
            assert counts.get(r.jurisdiction, 0) == r.overdue, (level, r.jurisdiction)
        assert rows.overdue.sum() == len(cases)
    city = table.level("district").iloc[-1]
    assert city.level == "city" and city.overdue == len(cases) > 0


@pytest.mark.parametrize("t", [T_END, T_MID])
def test_overdue_equals_pandas_on_raw_rows(con, t):
    cases = overdue_cases(con, t)
    assert list(cases.columns) == CASE_COLUMNS
    want = _reference_overdue(_reference_cases(con), t)
    got = cases.set_index(["kind", "case_id"])
    want = want.set_index(["kind", "case_id"])
    assert set(got.index) == set(want.index)
    hours = (pd.Timestamp(t) - want.due).dt.total_seconds() / 3600
    np.testing.assert_allclose(got.loc[want.index, "hours_overdue"].to_numpy(float),
                               hours.to_numpy(float), rtol=0, atol=1e-6)
    assert (got.loc[want.index, "due_at"] == want.due).all()
    assert (cases.hours_overdue.diff().dropna() <= 0).all()  # most overdue first
    assert set(cases.kind) == {KIND_COMPLAINT, KIND_INSPECTION}


def test_filters_by_unit_and_limit(con, city):
    t = T_END
    all_cases = overdue_cases(con, t)
    by_id = overdue_cases(con, t, "district", "450101")
    by_name = overdue_cases(con, t, "district", jurisdiction_name="一区")
    assert by_id.equals(by_name)
    assert set(by_id.district) == {"一区"}
    assert len(by_id) == (all_cases.district == "一区").sum()
    # name-only district 三区 and the cases with no street
    third = overdue_cases(con, t, "district", jurisdiction_name="三区")
    assert len(third) == (all_cases.district == "三区").sum() > 0
    no_street = overdue_cases(con, t, "street", jurisdiction_name=UNLOCATED)
    assert len(no_street) == all_cases.street.isna().sum()
    grid = all_cases.grid_id.dropna().iloc[0]
    assert set(overdue_cases(con, t, "grid", grid).grid_id) == {grid}
    top = overdue_cases(con, t, limit=5)
    assert top.equals(all_cases.head(5))
    assert len(overdue_cases(con, t, limit=0)) == 0
    with pytest.raises(BacklogError):
        overdue_cases(con, t, "province", "1")
    with pytest.raises(BacklogError):
        overdue_cases(con, t, None, "450101")
    with pytest.raises(BacklogError):
        overdue_cases(con, t, source="hotline")


def test_case_text_and_inspection_rows(con):
    cases = overdue_cases(con, T_END)
    evil = cases[cases.case_id == "C00000"].iloc[0]
    assert evil.description == EVIL_DESC and evil.kind == KIND_COMPLAINT
    insp = cases[cases.kind == KIND_INSPECTION]
    assert insp.description.str.startswith("发现问题 ").all()
    assert insp.address.str.startswith("测试点位").all()
    assert (insp.district == "一区").all()


def test_overdue_follows_the_settings_limits(con):
    """A missing deadline is filled from the settings' limit, as the backlog fills it."""
    from config.settings import Settings

    long_limits = Settings({"deadlines.default_days": 30,
                            "deadlines.categories": {"暴露垃圾": 30}})
    t = T_END
    short = overdue_cases(con, t)
    long = overdue_cases(con, t, settings=long_limits)
    assert len(long) < len(short)
    table = compute_backlog(con, BacklogQuery(t, levels=("district",)), long_limits)
    assert table.level("district").iloc[-1].overdue == len(long)


def test_children_and_drill_down(con):
    kids = children_of(con, "city")
    assert list(kids.jurisdiction_id[:2]) == ["450101", "450102"]
    assert "三区" in set(kids.jurisdiction) and kids.jurisdiction_id.isna().sum() == 1
    streets = children_of(con, "district", "450102")
    assert list(streets.jurisdiction_id) == ["450102001", "450102002"]
    assert list(streets.jurisdiction) == ["二区南街道", "二区北街道"]
    grids = children_of(con, "community", "450101001002")
    assert list(grids.jurisdiction_id) == ["450101001002001", "450101001002002"]
    named = children_of(con, "district", None, "三区")
    assert sorted(named.jurisdiction) == ["三区乙街道", "三区甲街道"]
    assert named.jurisdiction_id.isna().all()
    assert len(children_of(con, "district", None, UNLOCATED)) == 0
    with pytest.raises(BacklogError):
        children_of(con, "grid", "450101001001001")
    table = compute_backlog(con, BacklogQuery(T_END))
    rows = select_children(table.level("street", with_city=False), streets)
    assert list(rows.jurisdiction_id) == ["450102001", "450102002"]
    parent = table.table[(table.table.level == "district")
                         & (table.table.jurisdiction_id == "450102")].iloc[0]
    assert rows.open.sum() == parent.open and rows.overdue.sum() == parent.overdue
    rows = select_children(table.level("street", with_city=False), named)
    assert sorted(rows.jurisdiction) == ["三区乙街道", "三区甲街道"]
    assert rows.jurisdiction_id.isna().all()


def test_category_mix_against_shapely(con, city):
    start, end = dt.date(2026, 10, 1), dt.date(2026, 11, 22)
    mix = category_mix(con, start, end)
    assert list(mix.columns) == MIX_COLUMNS
    raw = con.execute("SELECT category, lon, lat, status, received_at, located_by "
                      "FROM complaints").df()
    city_poly = shapely.box(X0, Y0, X2, Y1)
    zone = FRINGE_BOX.intersection(city_poly)
    keep = ((raw.status != "void") & (raw.located_by == "polygon") & raw.lon.notna()
            & (raw.received_at >= pd.Timestamp(start))
            & (raw.received_at < pd.Timestamp(end + dt.timedelta(days=1))))
    raw = raw[keep]
    inside = shapely.contains_xy(zone, raw.lon.to_numpy(), raw.lat.to_numpy())
    want_in = raw[inside].category.value_counts()
    want_out = raw[~inside].category.value_counts()
    got = mix.set_index("category")
    for cat in got.index:
        assert got.loc[cat, "count_in"] == want_in.get(cat, 0)
        assert got.loc[cat, "count_out"] == want_out.get(cat, 0)
    assert got.count_in.sum() == inside.sum() and got.count_out.sum() == (~inside).sum()
    assert got.share_in.sum() == pytest.approx(1.0) and got.share_out.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(got.share_diff, got.share_in - got.share_out)
    assert mix.category.iloc[0] == "市容环境"  # the planted cluster's category leads inside
    assert (mix.count_in.diff().dropna() <= 0).all()
    # the same records fringe_focus counts inside
    from analytics.fringe import fringe_focus
    from analytics.hotspots import HotspotQuery

    focus = fringe_focus(con, HotspotQuery(start, end, 9))
    assert focus.summary.records_in.iloc[0] == got.count_in.sum()
    assert NO_CATEGORY not in got.index


def test_category_mix_errors(con):
    with pytest.raises(StudyAreaError, match="market"):
        category_mix(con, dt.date(2026, 10, 1), dt.date(2026, 10, 7), kind="market")
    with pytest.raises(StudyAreaError, match="before"):
        category_mix(con, dt.date(2026, 10, 7), dt.date(2026, 10, 1))
    empty = category_mix(con, dt.date(2025, 1, 1), dt.date(2025, 1, 7))
    assert len(empty) == 0 and list(empty.columns) == MIX_COLUMNS

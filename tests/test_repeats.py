"""Repeated-complaint places (重复投诉): hand-made cases, address normalisation, and a random
data set checked against a plain union-find written here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics.repeats import REPEAT_COLUMNS, RepeatsError, find_repeats, normalise_address

NOW = dt.datetime(2026, 11, 23, 12, 0)
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 22)

# points inside the fixture district D1 (108.3-108.4 E, 22.8-22.9 N), each far from the others
P1 = (108.3100, 22.8100)
P2 = (108.3300, 22.8300)
P3 = (108.3500, 22.8500)
P4 = (108.3700, 22.8700)
P5 = (108.3900, 22.8900)


def complaint(cid: str, at: str, addr: str | None = None, pt: tuple | None = None,
              status: str = "处理中", cat: str = "暴露垃圾", closed: str | None = None,
              district: str | None = None) -> dict:
    return {"工单编号": cid, "受理时间": at, "问题大类": cat, "问题描述": "群众反映",
            "地址": addr, "经度": pt[0] if pt else None, "纬度": pt[1] if pt else None,
            "处理状态": status, "办结时间": closed, "所属区县": district}


def build(db: Path, rows: list[dict]) -> Path:
    from ingest.pipeline import ingest_file

    csv = db.parent / "complaints.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    res = ingest_file(db, "complaints", csv, crs="wgs84", now=NOW)
    assert res.rejected == 0 and res.inserted == len(rows), "test data must load whole"
    return db


def run(db: Path, start=START, end=END, **kw) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return find_repeats(con, start, end, **kw)
    finally:
        con.close()


def cell12(pt: tuple, res: int = 12) -> str:
    return h3.latlng_to_cell(pt[1], pt[0], res)


# --------------------------------------------------------------------------- hand-made cases


def test_same_cell_different_addresses_is_one_place(district_db):
    addrs = ["民族大道100号", "青秀区民族大道102号", "金湖广场东门", None, "无", "民族大道与金湖路交叉口"]
    assert len({normalise_address(a) for a in addrs} - {None}) == 4  # no two alike
    rows = [complaint(f"A{i}", f"2026-11-{10 + i:02d} 09:00", a, P1) for i, a in enumerate(addrs)]
    out = run(build(district_db, rows))
    assert len(out) == 1
    row = out.iloc[0]
    assert row.matched_by == "cell"
    assert row.complaints == 6
    assert row.cells == 1
    assert row.h3 == cell12(P1)
    assert row.place_id == "RA0"
    assert row.district == "方区"  # located by the fixture polygon
    assert row.lon == pytest.approx(P1[0]) and row.lat == pytest.approx(P1[1])
    assert row.first_received == pd.Timestamp("2026-11-10 09:00")
    assert row.last_received == pd.Timestamp("2026-11-15 09:00")
    assert row.days_span == 5
    assert row.complaint_ids == "A5、A4、A3、A2、A1、A0"  # newest first
    assert row.open == 6


def test_same_address_written_differently_is_one_place(db_path):
    variants = ["南宁市青秀区民族大道100号", "青秀区民族大道１００号 ", "广西南宁市青秀区民族大道100号附近",
                "青秀区 民族大道100号（门口）", "广西壮族自治区南宁市青秀区民族大道100号",
                "南宁市青秀区民族大道100号"]
    pts = [P1, None, P2, P3, None, P4]  # scattered or missing coordinates
    rows = [complaint(f"B{i}", f"2026-11-0{i + 2} 08:30", a, p)
            for i, (a, p) in enumerate(zip(variants, pts, strict=True))]
    out = run(build(db_path, rows))
    assert len(out) == 1
    row = out.iloc[0]
    assert row.matched_by == "address"
    assert row.complaints == 6
    assert row.cells == 4
    assert row.address == "南宁市青秀区民族大道100号"  # the most frequent raw address
    assert row.h3 == min((cell12(p) for p in pts if p), key=lambda c: int(c, 16))  # ties: smallest
    assert row.lon == pytest.approx(np.mean([p[0] for p in pts if p]))
    assert row.lat == pytest.approx(np.mean([p[1] for p in pts if p]))


def test_cell_group_and_address_group_chain(db_path):
    rows = [
        # three at P2 (cell group) with unrelated addresses; C3 also has the address
        complaint("C1", "2026-11-05 10:00", "友爱路菜市场东侧", P2),
        complaint("C2", "2026-11-06 10:00", None, P2),
        complaint("C3", "2026-11-07 10:00", "西乡塘区大学路88号", P2),
        # the address group: C3 plus these, without coordinates or elsewhere
        complaint("C4", "2026-11-08 10:00", "南宁市西乡塘区大学路88号", None),
        complaint("C5", "2026-11-09 10:00", "西乡塘区大学路８８号附近", P5),
        # unrelated
        complaint("C6", "2026-11-09 11:00", "秀灵路55号", P4),
    ]
    out = run(build(db_path, rows), min_count=5)
    assert len(out) == 1
    row = out.iloc[0]
    assert row.matched_by == "cell+address"
    assert row.complaints == 5  # hand count: {C1, C2, C3} ∪ {C3, C4, C5}
    assert sorted(row.complaint_ids.split("、")) == ["C1", "C2", "C3", "C4", "C5"]
    assert row.cells == 2  # P2 and P5
    assert row.h3 == cell12(P2)
    # neither group alone reaches 4
    assert run(db_path, min_count=4).complaints.tolist() == [5]


def test_min_boundary(db_path):
    rows = [complaint(f"Q{i}", f"2026-11-1{i} 09:00", None, P1) for i in range(5)]
    rows += [complaint(f"R{i}", f"2026-11-1{i} 10:00", None, P2) for i in range(4)]
    build(db_path, rows)
    out = run(db_path, min_count=5)
    assert out.place_id.tolist() == ["RQ0"] and out.complaints.tolist() == [5]
    out = run(db_path, min_count=4)
    # same count → the newer last_received first
    assert out.place_id.tolist() == ["RQ0", "RR0"]
    assert out.complaints.tolist() == [5, 4]
    assert run(db_path, min_count=6).empty


def test_window_edges_void_and_open(db_path):
    rows = [
        complaint("W1", "2026-11-01 00:00", None, P1, status="处理中"),
        complaint("W2", "2026-11-05 09:00", None, P1, status="已办结", closed="2026-11-06 09:00"),
        complaint("W3", "2026-11-10 09:00", None, P1, status="已办结", closed="2026-11-23 08:00"),
        complaint("W4", "2026-11-15 09:00", None, P1, status="处理中"),
        complaint("W5", "2026-11-22 23:59", None, P1, status="已办结", closed="2026-11-23 00:00"),
        complaint("X1", "2026-11-23 00:00", None, P1),                 # the day after the window
        complaint("X2", "2026-10-31 23:59", None, P1),                 # the day before
        complaint("X3", "2026-11-12 09:00", None, P1, status="作废"),  # void
    ]
    build(db_path, rows)
    out = run(db_path, min_count=5)
    assert len(out) == 1
    row = out.iloc[0]
    assert row.complaints == 5
    assert sorted(row.complaint_ids.split("、")) == ["W1", "W2", "W3", "W4", "W5"]
    # open at the end of the window: W1, W4 (open), W3 and W5 (closed after 11-23 00:00)
    assert row.open == 4
    assert row.first_received == pd.Timestamp("2026-11-01 00:00")
    assert row.last_received == pd.Timestamp("2026-11-22 23:59")
    assert row.days_span == 21
    assert run(db_path, min_count=6).empty
    later = run(db_path, end=dt.date(2026, 11, 23), min_count=5).iloc[0]
    assert later.complaints == 6 and later.complaint_ids.startswith("X1、")


def test_summary_columns(db_path):
    cats = ["暴露垃圾"] * 3 + ["道路不洁"] * 3 + ["占道经营"] * 2 + [None]
    rows = [complaint(f"S{i:02d}", f"2026-11-{i + 1:02d} 09:00", "金湖广场东门" if i < 5 else "金湖广场",
                      P3, cat=c) for i, c in enumerate(cats)]
    rows += [complaint(f"T{i:02d}", f"2026-11-{i % 20 + 1:02d} 0{i % 10}:00", None, P4)
             for i in range(25)]
    out = run(build(db_path, rows))
    assert out.place_id.tolist() == ["RT00", "RS00"]
    big, small = out.iloc[0], out.iloc[1]
    ids = big.complaint_ids.split("、")
    assert len(ids) == 20
    t = {f"T{i:02d}": pd.Timestamp(f"2026-11-{i % 20 + 1:02d} 0{i % 10}:00") for i in range(25)}
    assert ids == sorted(t, key=lambda k: (-t[k].value, k))[:20]
    # tie 3:3 → alphabetical first (code-point order, as sorted() in Python)
    assert small.main_category == min("暴露垃圾", "道路不洁")
    first, second = sorted(["暴露垃圾", "道路不洁"])
    assert small.categories == f"{first} 3、{second} 3、占道经营 2、未分类 1"
    assert small.address == "金湖广场东门"
    assert small.matched_by == "cell+address"


def test_resolution_merges_neighbouring_cells(db_path):
    a = (108.35000, 22.85000)
    parent = h3.cell_to_parent(cell12(a), 10)
    b = next(q for q in ((108.35000 + d, 22.85000) for d in np.arange(0.00003, 0.0005, 0.00003))
             if cell12(q) != cell12(a) and h3.cell_to_parent(cell12(q), 10) == parent)
    rows = [complaint(f"N{i}", f"2026-11-1{i} 09:00", None, a if i < 3 else b) for i in range(6)]
    build(db_path, rows)
    assert run(db_path, min_count=4).empty
    out = run(db_path, min_count=4, res=10)
    assert out.complaints.tolist() == [6]
    assert out.h3.iloc[0] == parent and out.cells.iloc[0] == 1


def test_jurisdiction_name_is_not_an_address(db_path):
    rows = [complaint(f"J{i}", f"2026-11-1{i} 09:00", a, None, district="西乡塘区")
            for i, a in enumerate(["西乡塘区", "南宁市西乡塘区", "西乡塘区 ", "广西南宁市西乡塘区",
                                   "西乡塘区附近"])]
    assert normalise_address("西乡塘区") == "西乡塘区"
    assert run(build(db_path, rows), min_count=2).empty


def test_empty_window_gives_empty_frame(db_path):
    build(db_path, [complaint("E1", "2026-11-10 09:00", "民族大道100号", P1)])
    out = run(db_path, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 31))
    assert out.empty and list(out.columns) == REPEAT_COLUMNS
    assert run(db_path).empty


@pytest.mark.parametrize("kw, option, words", [
    ({"start": dt.date(2026, 11, 23), "end": dt.date(2026, 11, 22)}, "start",
     "starts on 2026-11-23, after its end 2026-11-22"),
    ({"min_count": 1}, "min", "at least 2, got 1"),
    ({"min_count": 0}, "min", "at least 2, got 0"),
    ({"res": 9}, "res", "resolution must be 10, 11 or 12, got 9"),
    ({"res": 13}, "res", "resolution must be 10, 11 or 12, got 13"),
])
def test_bad_options_name_the_option(db_path, kw, option, words):
    """The message in words (pages read it too); ``option`` for the command line's flag."""
    build(db_path, [complaint("E1", "2026-11-10 09:00", "民族大道100号", P1)])
    with pytest.raises(RepeatsError, match=words) as err:
        run(db_path, **kw)
    assert err.value.option == option and "--" not in str(err.value)
    assert issubclass(RepeatsError, ValueError)


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("raw", [
    "南宁市青秀区民族大道100号", "青秀区民族大道１００号 ", "广西南宁市青秀区民族大道100号附近",
    "青秀区 民族大道100号（门口）", "广西壮族自治区南宁市青秀区民族大道100号", "中国广西南宁市青秀区民族大道100号",
    "青秀区民族大道100号旁边", "【青秀区】民族大道—100号", "青秀区民族大道100号门口附近", "　青秀区\t民族大道100号。",
])
def test_address_forms_normalise_alike(raw):
    assert normalise_address(raw) == "青秀区民族大道100号"


@pytest.mark.parametrize("raw, expected", [
    ("南宁市北湖农贸市场", "北湖农贸市场"),
    ("北湖农贸市场", "北湖农贸市场"),   # 市 inside 农贸市场 is not a city
    ("朝阳市场东门", "朝阳市场东门"),   # 朝阳 is also a city name, but 市场 is a market
    ("南宁市场监管局", "南宁市场监管局"),
    ("南宁市市场监管局", "市场监管局"),
    ("华润超市门口", "华润超市"),
    ("水街夜市入口", "水街夜市入口"),
    ("新阳菜市东侧", "新阳菜市东侧"),
    ("广西大学东门", "广西大学东门"),   # 广西 is stripped only before a city
    ("万科城市花园3栋", "万科城市花园3栋"),  # …城市 with no province in front: an estate
    ("江苏省盐城市亭湖区人民路1号", "亭湖区人民路1号"),
    ("南宁市阳光城市花园", "阳光城市花园"),
    ("江苏省南京市玄武区中山路1号", "玄武区中山路1号"),
    ("江苏省玄武区中山路1号", "玄武区中山路1号"),
    ("ＡＢＣ大厦Ｂ座", "abc大厦b座"),
    ("万达广场 (东门) 附近", "万达广场东门"),
    ("星光大道100-2号", "星光大道1002号"),
    ("xx路口对面一带", "xx路口"),
])
def test_normalise_rules(raw, expected):
    assert normalise_address(raw) == expected


@pytest.mark.parametrize("raw", [None, "", " ", "无", "不详", "未知", "-", "/", "null", "NULL",
                                 "None", "地址不详", "南宁市", "广西南宁市", "青秀区", "100号",
                                 "（无）", "abc", "附近"])
def test_placeholders_give_no_key(raw):
    assert normalise_address(raw) is None


def test_normalise_column_keeps_index_and_is_vectorised():
    s = pd.Series(["南宁市青秀区民族大道100号", None, "无", "北湖农贸市场"], index=[7, 3, 9, 1])
    out = normalise_address(s)
    assert out.index.tolist() == [7, 3, 9, 1]
    assert out.tolist() == ["青秀区民族大道100号", pd.NA, pd.NA, "北湖农贸市场"]
    arr = normalise_address(pa.array(["南宁市青秀区民族大道100号", None]))
    assert arr.to_pylist() == ["青秀区民族大道100号", None]
    # one million rows, the way an export repeats addresses
    rng = np.random.default_rng(3)
    forms = pa.array([f"{p}青秀区民族大道{k}号{s}" for k in range(2000)
                      for p, s in (("南宁市", ""), ("", "附近"), ("广西南宁市", "（门口）"))])
    big = pc.take(forms, pa.array(rng.integers(0, len(forms), 1_000_000)))
    out = normalise_address(big)  # speed: bench, not here (shared, noisy machines)
    assert len(out) == 1_000_000 and pc.count_distinct(out).as_py() == 2000


# --------------------------------------------------------------------------- random data set


def _variant(rng: np.random.Generator, canon: str) -> str:
    s = canon
    if rng.random() < 0.3:
        s = s.translate({ord(d): chr(ord(d) + 0xFEE0) for d in "0123456789"})  # full width
    if rng.random() < 0.3:
        i = int(rng.integers(1, len(s)))
        s = s[:i] + " " + s[i:]
    pre = ["", "南宁市", "广西南宁市", "广西壮族自治区南宁市", "中国广西南宁市"][rng.integers(5)]
    suf = ["", "附近", "门口", "（门口）", " 旁边", "对面", "。"][rng.integers(7)]
    return pre + s + suf


def _union_find_places(df: pd.DataFrame, min_count: int) -> set[tuple]:
    """Expected places by a plain union-find over dicts (no code shared with the module)."""
    parent: dict = {}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    recs = [{"cid": r.cid, "when": r.when,
             "cell": r.cell if isinstance(r.cell, str) else None,
             "key": r.key if isinstance(r.key, str) else None} for r in df.itertuples()]
    for r in recs:
        node = ("c", r["cid"])
        parent.setdefault(node, node)
        if r["cell"] is not None:
            union(node, ("cell", r["cell"]))
        if r["key"] is not None:
            union(node, ("addr", r["key"]))
    groups: dict = {}
    for r in recs:
        groups.setdefault(find(("c", r["cid"])), []).append(r)
    out = set()
    for members in groups.values():
        if len(members) < min_count:
            continue
        newest = sorted(members, key=lambda m: (-m["when"].value, m["cid"]))[:20]
        cells = [m["cell"] for m in members if m["cell"]]
        keys = [m["key"] for m in members if m["key"]]
        shared_cell = len(set(cells)) < len(cells)  # some cell holds two complaints
        shared_addr = len(set(keys)) < len(keys)
        how = ("cell+address" if shared_cell and shared_addr
               else "cell" if shared_cell else "address")
        out.add((len(members), "R" + min(m["cid"] for m in members),
                 "、".join(m["cid"] for m in newest), how, len(set(cells))))
    return out


def test_random_data_matches_union_find(db_path):
    rng = np.random.default_rng(20261122)
    n = 3000
    hot_pts = np.column_stack([108.31 + rng.uniform(0, 0.08, 50), 22.81 + rng.uniform(0, 0.08, 50)])
    roads = ["民族大道", "朝阳路", "大学路", "友爱路", "秀灵路", "星光大道", "园湖路", "桃源路"]
    canon = [f"{roads[i % 8]}{100 + 7 * i}号" for i in range(30)]
    far = [f"仙葫大道{300 + 11 * i}号" for i in range(10)]
    assert all(normalise_address(c) == c for c in canon + far)
    w_pt = 1 / np.arange(1, 51) ** 1.2
    w_ad = 1 / np.arange(1, 31) ** 1.2
    placeholders = ["", "无", "不详", "未知", "-", "/", "null", "南宁市"]
    uniq = iter(rng.permutation(90000) + 10000)
    recs = []
    for i in range(n):
        u = rng.random()
        if u < 0.45:
            p = int(rng.choice(50, p=w_pt / w_pt.sum()))
            lon, lat = hot_pts[p] + rng.normal(0, 2e-6, 2)
        elif u < 0.8:
            p, lon, lat = None, 108.3 + rng.uniform(0, 0.1), 22.8 + rng.uniform(0, 0.1)
        else:
            p, lon, lat = None, None, None
        v = rng.random()
        if lon is None and v < 0.3:  # addresses only ever written without coordinates
            a = int(rng.choice(10, p=w_ad[:10] / w_ad[:10].sum()))
            key, raw = far[a], _variant(rng, far[a])
        elif v < 0.4:
            if p is not None and rng.random() < 0.97:
                a = p % 30
            else:
                a = int(rng.choice(30, p=w_ad / w_ad.sum()))
            key, raw = canon[a], _variant(rng, canon[a])
        elif v < 0.7:
            key = f"测试路{next(uniq)}号"
            raw = key
        else:
            key, raw = None, placeholders[rng.integers(len(placeholders))]
        at = pd.Timestamp("2026-10-15") + pd.Timedelta(minutes=int(rng.integers(0, 39 * 1440)))
        void = rng.random() < 0.05
        recs.append({"cid": f"K{i:05d}", "when": at, "raw": raw, "key": key, "lon": lon, "lat": lat,
                     "void": void})
    df = pd.DataFrame(recs)
    rows = [complaint(r.cid, r.when.strftime("%Y-%m-%d %H:%M"), r.raw,
                      None if r.lon is None or pd.isna(r.lon) else (r.lon, r.lat),
                      status="作废" if r.void else "处理中") for r in df.itertuples()]
    build(db_path, rows)

    start, end = dt.date(2026, 10, 24), dt.date(2026, 11, 22)
    inside = (df.when >= pd.Timestamp(start)) & (df.when < pd.Timestamp(end) + pd.Timedelta(days=1))
    sel = df[inside & ~df.void].copy()
    sel["cell"] = [None if lon is None or pd.isna(lon) else h3.latlng_to_cell(lat, lon, 12)
                   for lon, lat in zip(sel.lon, sel.lat, strict=True)]
    for m in (5, 12):
        expected = _union_find_places(sel, m)
        out = run(db_path, start, end, min_count=m)
        got = set(zip(out.complaints, out.place_id, out.complaint_ids, out.matched_by, out.cells,
                      strict=True))
        assert got == expected
        assert len(expected) >= 5  # the data set is not degenerate
        assert {"cell+address", "address"} <= {e[3] for e in expected}
        sizes = sorted(c for c, *_ in expected)
        assert sizes[0] < sizes[-1]
    assert out.complaints.is_monotonic_decreasing


def test_cli_repeats_writes_csv_and_geojson(db_path, tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    rows = [complaint(f"C{i}", f"2026-11-0{1 + i} 10:00", "青秀区民族大道100号", P1 if i < 3 else None)
            for i in range(6)]
    build(db_path, rows)
    for ext in (".csv", ".geojson"):
        out = tmp_path / f"r{ext}"
        r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db_path), "repeats",
                            "--start", "2026-11-01", "--end", "2026-11-30", "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "places=1 complaints=6" in r.stdout
    doc = json.loads((tmp_path / "r.geojson").read_text(encoding="utf-8"))
    props = doc["features"][0]["properties"]
    assert props["complaints"] == 6 and props["first_received"].startswith("2026-11-01")
    bad = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db_path), "repeats",
                          "--start", "2026-11-01", "--end", "2026-11-30", "--min", "1",
                          "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and "--min" in bad.stderr

"""Ingest end to end: a foreign export, upsert semantics, coordinate systems.

The foreign export is tests/fixtures/boston311_like.csv: synthetic, in the format of
Boston's open-data 311 export (see tests/fixtures/README.md)."""

import json
from pathlib import Path

import duckdb
import h3
import numpy as np
import pandas as pd
import pytest

from grids.crs import wgs84_to_bd09, wgs84_to_gcj02
from ingest.pipeline import ingest_file
from tests.conftest import NANNING

BOSTON = Path(__file__).resolve().parent / "fixtures" / "boston311_like.csv"
NOW = pd.Timestamp("2026-11-23 12:00").to_pydatetime()

BOSTON_MAPPING = """
[columns]
complaint_id = "case_enquiry_id"
received_at  = "open_dt"
due_at       = "target_dt"
closed_at    = "closed_dt"
status       = "case_status"
category     = "type"
district     = "neighborhood"
lon          = "longitude"
lat          = "latitude"
[status]
Open   = "open"
Closed = "closed"
[options]
crs = "wgs84"
"""


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture
def boston(tmp_path):
    mapping = tmp_path / "boston.toml"
    mapping.write_text(BOSTON_MAPPING, encoding="utf-8")
    return tmp_path / "b.duckdb", mapping


def test_boston_export_matches_independent_reading(boston):
    db, mapping = boston
    res = ingest_file(db, "complaints", BOSTON, mapping=mapping, now=NOW)
    raw = pd.read_csv(BOSTON, dtype=str, keep_default_na=False)
    assert (res.rows_read, res.inserted, res.rejected) == (len(raw), len(raw), 0)
    got = _rows(db, "SELECT * FROM complaints").set_index("complaint_id").sort_index()
    want = raw.set_index("case_enquiry_id").sort_index()
    assert list(got.index) == list(want.index)
    assert (got.status == want.case_status.str.lower()).all()
    assert (got.received_at == pd.to_datetime(want.open_dt)).all()
    closed = pd.to_datetime(want.closed_dt.replace("", None))
    assert (got.closed_at.isna() == closed.isna()).all()
    assert (got.closed_at.dropna() == closed.dropna()).all()
    assert np.allclose(got.lon, want.longitude.astype(float))
    assert np.allclose(got.lat, want.latitude.astype(float))
    name = want.neighborhood.str.strip().replace("", None)
    assert (got.district.fillna("") == name.fillna("")).all()
    # the fine cell is the H3 cell of the point, resolution 12
    some = got.iloc[:10]
    for (_, r) in some.iterrows():
        assert int(r.cell) == h3.str_to_int(h3.latlng_to_cell(r.lat, r.lon, 12))
    # unmapped columns are kept per record, on the right record
    wards = got.extra.map(lambda e: json.loads(e)["ward"])
    assert (wards.fillna("") == want.ward).all()


def test_reingest_changes_nothing_and_later_export_updates_exactly_the_closed(boston, tmp_path):
    db, mapping = boston
    ingest_file(db, "complaints", BOSTON, mapping=mapping, now=NOW)
    again = ingest_file(db, "complaints", BOSTON, mapping=mapping, now=NOW)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 100, 0)
    raw = pd.read_csv(BOSTON, dtype=str, keep_default_na=False)
    open_ids = raw.loc[raw.case_status == "Open", "case_enquiry_id"].iloc[:4].tolist()
    later = raw.copy()
    sel = later.case_enquiry_id.isin(open_ids)
    later.loc[sel, "case_status"] = "Closed"
    later.loc[sel, "closed_dt"] = "2022-02-10 09:00:00"
    path = tmp_path / "later.csv"
    later.to_csv(path, index=False)
    res = ingest_file(db, "complaints", path, mapping=mapping, now=NOW)
    assert (res.inserted, res.updated, res.unchanged) == (0, 4, 96)
    changed = _rows(db, f"SELECT complaint_id, status, closed_at FROM complaints "
                        f"WHERE batch_id = {res.batch_id}")
    assert sorted(changed.complaint_id) == sorted(open_ids)
    assert (changed.status == "closed").all()
    batches = _rows(db, "SELECT * FROM import_batches ORDER BY batch_id")
    assert (batches.rows_read == batches.rows_inserted + batches.rows_updated
            + batches.rows_unchanged + batches.rows_rejected).all()


def test_same_points_in_three_systems_land_in_same_cells_and_districts(tmp_path):
    from ingest.boundaries import load_boundaries

    rng = np.random.default_rng(11)
    lon = rng.uniform(108.1, 108.6, 300)
    lat = rng.uniform(22.6, 23.0, 300)
    systems = {"wgs84": (lon, lat), "gcj02": wgs84_to_gcj02(lon, lat),
               "bd09": wgs84_to_bd09(lon, lat)}
    cells, districts = {}, {}
    for crs, (x, y) in systems.items():
        db = tmp_path / f"{crs}.duckdb"
        load_boundaries(db, NANNING, "district", crs="gcj02")
        csv = tmp_path / f"{crs}.csv"
        pd.DataFrame({"工单编号": [f"C{i}" for i in range(300)],
                      "受理时间": "2026/11/20 10:00", "经度": np.round(x, 7),
                      "纬度": np.round(y, 7)}).to_csv(csv, index=False)
        res = ingest_file(db, "complaints", csv, crs=crs, now=NOW)
        assert res.inserted == 300
        got = _rows(db, "SELECT complaint_id, h3_hex(cell) AS h, district FROM complaints "
                        "ORDER BY complaint_id")
        cells[crs] = got.h.tolist()
        districts[crs] = got.district.tolist()
    truth = [h3.latlng_to_cell(b, a, 12) for a, b in zip(lon, lat, strict=True)]
    order = sorted(range(300), key=lambda i: f"C{i}")
    truth = [truth[i] for i in order]
    for crs in systems:
        dist = [h3.grid_distance(a, b) for a, b in zip(cells[crs], truth, strict=True)]
        assert max(dist) <= 1, crs
        assert sum(d == 0 for d in dist) >= 295, crs
        assert districts[crs] == districts["wgs84"]
    assert sum(d is not None for d in districts["wgs84"]) > 250


def test_gbk_hotline_export_with_chinese_headers(tmp_path):
    csv = tmp_path / "hotline.csv"
    df = pd.DataFrame({"工单编号": ["A1", "A2", "A3"],
                       "受理时间": ["2026/11/20 10:03", "2026年11月21日 9时05分", "2026-11-22T08:00:00"],
                       "问题大类": ["市容环境", "街面秩序", "宣传广告"],
                       "问题描述": ["路边暴露垃圾", "占道经营", "乱贴小广告"],
                       "处理状态": ["已办结", "已派遣", "已作废"],
                       "办结时间": ["2026/11/20 15:00", "", ""],
                       "所属区县": ["青秀区", "兴宁区", "江南区"]})
    csv.write_bytes(df.to_csv(index=False).encode("gbk"))
    db = tmp_path / "g.duckdb"
    res = ingest_file(db, "complaints", csv, now=NOW)
    assert res.encoding == "gb18030" and res.inserted == 3
    got = _rows(db, "SELECT * FROM complaints ORDER BY complaint_id")
    assert got.category.tolist() == ["市容环境", "街面秩序", "宣传广告"]
    assert got.status.tolist() == ["closed", "open", "void"]
    assert str(got.received_at[1]) == "2026-11-21 09:05:00"
    assert got.district.tolist() == ["青秀区", "兴宁区", "江南区"]
    assert (got.located_by == "name").all()


def test_duplicate_message_names_an_integer_row_when_ids_are_missing(tmp_path):
    csv = tmp_path / "dups.csv"
    csv.write_text("工单编号,受理时间\nA1,2026/11/20 10:03\n,2026/11/20 10:04\n"
                   "A1,2026/11/21 10:03\n", encoding="utf-8")
    res = ingest_file(tmp_path / "d.duckdb", "complaints", csv, now=NOW)
    reasons = {row: reason for row, _, reason in res.first_rejections}
    assert reasons[4] == "工单编号 'A1' already appears in row 2 of this file; only the first of them is imported"
    assert reasons[3] == "工单编号 is empty"

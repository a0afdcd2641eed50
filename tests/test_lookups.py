"""The pages' lookups (analytics/lookups.py) and the import history (ingest/history.py) on
a small database built here, against values written by hand."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analytics.lookups import (
    filter_choices,
    inspection_points,
    jurisdiction_shapes,
    zone_kinds,
    zone_shapes,
)
from ingest.history import batch_rejections, import_history
from store.schema import ensure_schema

SQ = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "g.duckdb"))
    ensure_schema(c)
    c.execute(f"""INSERT INTO jurisdictions (jurisdiction_id, name, level, parent_id, geometry)
                 VALUES ('D2', '乙区', 'district', NULL, '{SQ}'),
                        ('D1', '甲区', 'district', NULL, '{SQ}'),
                        ('S1', '一街', 'street', 'D1', '{SQ}'),
                        ('S2', '二街', 'street', 'D1', '{SQ}'),
                        ('S3', '三街', 'street', 'D2', '{SQ}')""")
    c.execute(f"""INSERT INTO zones (zone_id, name, kind, geometry) VALUES
                 ('z2', '南片', 'fringe', '{SQ}'), ('z1', '北片', 'fringe', '{SQ}'),
                 ('m', '市场', 'market', '{SQ}')""")
    t = dt.datetime(2026, 11, 20, 9)
    c.execute("INSERT INTO complaints (complaint_id, received_at, status, category) VALUES "
              "(?, ?, 'open', '市容环境'), (?, ?, 'void', '只在作废里'), (?, ?, 'closed', NULL)",
              ["c1", t, "c2", t, "c3", t])
    c.execute("INSERT INTO inspections (inspection_id, point_id, inspected_at, problems, "
              "problem_category) VALUES ('i1', 'p1', ?, 2, '街面秩序'), "
              "('i2', 'p1', ?, 0, '没发现问题')", [t, t])
    c.execute("INSERT INTO inspection_points (point_id, name, point_type, lon, lat, district, "
              "street) VALUES ('p1', '甲市场', '农贸市场', 0.5, 0.5, '甲区', '一街'), "
              "('p2', '乙市场', '农贸市场', 0.2, 0.2, '乙区', '三街'), "
              "('p3', '丙路', '主次干道', 0.3, 0.3, '甲区', '二街'), "
              "('p4', '无坐标', '主次干道', NULL, NULL, '甲区', '二街')")
    yield c
    c.close()


def test_filter_choices(con):
    got = filter_choices(con)
    assert got["categories"] == {"complaints": ["市容环境"], "inspections": ["街面秩序"],
                                 "all": ["市容环境", "街面秩序"]}
    assert got["districts"] == ["甲区", "乙区"]  # by id: D1, D2
    assert got["streets"] == {"甲区": ["一街", "二街"], "乙区": ["三街"]}
    assert got["zones"] == ["fringe", "market"] == zone_kinds(con)
    assert got["point_types"] == ["主次干道", "农贸市场"]  # 2 each: by name


def test_shapes_and_points(con):
    assert jurisdiction_shapes(con, "district").name.tolist() == ["甲区", "乙区"]
    assert jurisdiction_shapes(con, "street", parent="甲区").jurisdiction_id.tolist() == \
        ["S1", "S2"]
    assert jurisdiction_shapes(con, "street", name="三街").jurisdiction_id.tolist() == ["S3"]
    assert zone_shapes(con, "fringe").zone_id.tolist() == ["z1", "z2"]
    assert inspection_points(con, ("农贸市场", "主次干道")).point_id.tolist() == \
        ["p1", "p2", "p3"]  # p4 has no coordinates
    assert inspection_points(con, ["主次干道"], district="甲区").point_id.tolist() == ["p3"]
    assert inspection_points(con, ["农贸市场"], district="甲区", street="一街"
                             ).point_id.tolist() == ["p1"]
    assert inspection_points(con, ()).empty


def test_import_history_newest_first(con):
    t = dt.datetime(2026, 11, 20, 9)
    for b in (1, 2):
        con.execute("INSERT INTO import_batches (batch_id, kind, file_name, sha256, started_at, "
                    "finished_at, rows_read, rows_inserted, rows_updated, rows_rejected) "
                    "VALUES (?, 'complaints', ?, 'x', ?, ?, 3, 2, 0, 1)",
                    [b, f"f{b}.csv", t, t])
    con.execute("INSERT INTO rejected_rows (batch_id, row_number, field, reason, raw) VALUES "
                "(2, 5, 'received_at', 'r5', 'raw5'), (2, 3, 'lon', 'r3', 'raw3')")
    assert import_history(con).batch_id.tolist() == [2, 1]
    assert batch_rejections(con, 2).row_number.tolist() == [3, 5]
    assert batch_rejections(con, 1).empty

"""The data's own dates (analytics/dataspan.py) and times with or without their year on the
wall (ui/wall_html.py)."""

from __future__ import annotations

import datetime as dt

import duckdb

from analytics.dataspan import DataSpan, anchor_day, data_span, date_bounds
from store.schema import ensure_schema

D = dt.date


def test_anchor_is_today_for_live_data_and_the_last_record_s_day_for_old_data():
    today = D(2026, 11, 23)
    assert anchor_day(today, DataSpan(None, None)) == today            # no data at all
    live = DataSpan(dt.datetime(2026, 1, 1), dt.datetime(2026, 11, 23, 9, 30))
    assert anchor_day(today, live) == today
    future = DataSpan(dt.datetime(2026, 1, 1), dt.datetime(2026, 11, 25))
    assert anchor_day(today, future) == today                          # never past today
    old = DataSpan(dt.datetime(2015, 1, 3), dt.datetime(2015, 12, 31, 18))
    assert anchor_day(today, old) == D(2015, 12, 31)
    yesterday = DataSpan(dt.datetime(2026, 1, 1), dt.datetime(2026, 11, 22, 23, 59))
    assert anchor_day(today, yesterday) == D(2026, 11, 22)


def test_date_bounds_cover_every_day_of_the_data_up_to_today():
    today = D(2026, 11, 23)
    old = DataSpan(dt.datetime(2015, 1, 3), dt.datetime(2015, 12, 31, 18))
    assert date_bounds(today, old) == (D(2014, 12, 30), today)  # a year before the anchor
    long = DataSpan(dt.datetime(2009, 6, 1), dt.datetime(2026, 11, 23))
    assert date_bounds(today, long) == (D(2009, 6, 1), today)
    assert date_bounds(today, DataSpan(None, None)) == (D(2025, 11, 22), today)


def test_data_span_reads_complaints_and_inspections(tmp_path):
    con = duckdb.connect(str(tmp_path / "g.duckdb"))
    try:
        ensure_schema(con)
        assert data_span(con) == DataSpan(None, None)
        con.execute("INSERT INTO complaints (complaint_id, received_at, status) VALUES "
                    "('a', TIMESTAMP '2015-03-01 08:00', 'open'), "
                    "('b', TIMESTAMP '2015-12-30 10:00', 'void')")
        con.execute("INSERT INTO inspections (inspection_id, point_id, inspected_at) VALUES "
                    "('i', 'p', TIMESTAMP '2015-12-31 16:20'), "
                    "('j', 'p', TIMESTAMP '2014-11-02 09:00')")
        assert data_span(con) == DataSpan(dt.datetime(2014, 11, 2, 9),
                                          dt.datetime(2015, 12, 31, 16, 20))
    finally:
        con.close()


def test_wall_times_show_their_year_unless_it_is_the_current_one():
    from ui.wall_html import clock, escape_value, header_html

    t = dt.datetime(2015, 1, 3, 14, 22)
    assert escape_value(t, 2015) == "01-03 14:22"
    assert escape_value(t, 2026) == "2015-01-03 14:22"
    assert escape_value(t) == "2015-01-03 14:22"
    assert clock(dt.datetime(2026, 1, 1), 2026) == "2025-12-31 24:00"  # last year's end
    assert clock(dt.datetime(2026, 11, 23), 2026) == "11-22 24:00"
    head = header_html("大屏", 1, data_as_of=t, last_import_at=dt.datetime(2026, 11, 20, 8),
                       refreshed=dt.datetime(2026, 11, 23, 10, 5), stale_minutes=60)
    assert "数据截至 2015-01-03 14:22" in head
    head = header_html("大屏", 1, data_as_of=dt.datetime(2026, 11, 23, 9, 58),
                       last_import_at=dt.datetime(2026, 11, 23, 10, 0),
                       refreshed=dt.datetime(2026, 11, 23, 10, 5))
    assert "数据截至 11-23 09:58" in head and "最近导入 11-23 10:00" in head


def test_wall_tile_shows_last_week_s_count_with_thousands_separators():
    from ui.wall_html import tile

    html_tile = tile("未结案", "16,299", 16299, 12133)
    assert "12,133" in html_tile and "12133" not in html_tile
    assert "83.4%" in tile("按期结案率", "85.5%", 0.855, 0.834, "83.4%", higher_is_bad=False)

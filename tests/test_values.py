"""Parsing of the time, number and status forms Chinese systems export."""

import pandas as pd
import pytest

from ingest.values import map_status, parse_bools, parse_ints, parse_times

CASES = [
    ("2026/11/22 10:03", "2026-11-22 10:03:00"),
    ("2026-11-22T10:03:00", "2026-11-22 10:03:00"),
    ("2026年11月22日 10时03分", "2026-11-22 10:03:00"),
    ("2026年11月22日10时03分05秒", "2026-11-22 10:03:05"),
    ("2026/1/5 9:03", "2026-01-05 09:03:00"),
    ("2026.11.22", "2026-11-22 00:00:00"),
    ("20261122", "2026-11-22 00:00:00"),
    ("2026-11-22T02:03:00Z", "2026-11-22 10:03:00"),          # UTC -> Asia/Shanghai
    ("2026-11-22T10:03:00+08:00", "2026-11-22 10:03:00"),
    ("46348.5", "2026-11-22 12:00:00"),                        # Excel serial: 46348 = 2026-11-22
    (" 2026-11-22 10:03:07 ", "2026-11-22 10:03:07"),
]


@pytest.mark.parametrize("text,want", CASES)
def test_time_forms(text, want):
    t, bad = parse_times(pd.Series([text], dtype=object))
    assert not bad.iloc[0]
    assert str(t.iloc[0])[:19] == want


@pytest.mark.parametrize("text", ["2026-02-30 10:00", "2026-11-22 25:00", "abc", "2026-13-01",
                                  "22/11/2026 10:03x"])
def test_impossible_or_unreadable_times_are_flagged(text):
    t, bad = parse_times(pd.Series([text], dtype=object))
    assert bad.iloc[0] and pd.isna(t.iloc[0])


def test_empty_times_are_missing_not_bad():
    t, bad = parse_times(pd.Series([None, "", "  "], dtype=object))
    assert t.isna().all() and not bad.any()


def test_excel_serial_reference():
    # Excel's serial 45658 is 2025-01-01 (1900 date system, epoch 1899-12-30)
    t, _ = parse_times(pd.Series([45658.0]))
    assert str(t.iloc[0])[:10] == "2025-01-01"


def test_counts_and_yes_no():
    i, bad = parse_ints(pd.Series(["3", "０", "1.5", "-1", "x", None], dtype=object))
    assert i.tolist()[:2] == [3, 0] and bad.tolist() == [False, False, True, True, True, False]
    b, badb = parse_bools(pd.Series(["满意", "不满意", "未评价", "是", "maybe"], dtype=object))
    assert b.tolist()[:2] == [True, False] and pd.isna(b.iloc[2]) and b.iloc[3]
    assert badb.tolist() == [False, False, False, False, True]


def test_status_words_and_fallback():
    closed = pd.Series([pd.NaT, pd.NaT, pd.Timestamp("2026-11-01"), pd.NaT, pd.Timestamp("2026-11-01")])
    s, unknown = map_status(pd.Series(["已办结", "已作废", "奇怪的状态", "返工", None], dtype=object),
                            closed)
    assert s.tolist() == ["closed", "void", "closed", "open", "closed"]
    assert unknown.tolist() == [False, False, True, False, False]
    s, _ = map_status(pd.Series(["Open", "Closed"], dtype=object), pd.Series([pd.NaT, pd.NaT]),
                      {"Open": "open", "Closed": "closed"})
    assert s.tolist() == ["open", "closed"]

"""Handling deadlines on the official working-day calendar (analytics/deadlines.py).

The expected values are worked out by hand from the State Council holiday notices for 2026
(国务院办公厅关于2026年部分节假日安排的通知) as chinesecalendar 1.11.0 carries them, and
checked against two slow references that walk the calendar day by day with
``chinese_calendar.is_workday``.
"""

from __future__ import annotations

import datetime as dt
import functools
import random

import chinese_calendar
import numpy as np
import pandas as pd
import pytest

from analytics.deadlines import (
    DeadlineError,
    WorkCalendar,
    calendar_years,
    fill_due_at,
    parse_limit,
    parse_work_hours,
)
from config.settings import Settings

D = dt.date
T = dt.datetime

# --- 2026, read from the package data (get_holiday_detail / is_workday), dates that are
# NOT what the weekday alone says. Notice of 2026: Spring Festival Feb 15-23 off, Saturdays
# Feb 14 and Feb 28 worked; Mid-Autumn Sep 25-27 off; National Day Oct 1-7 off, Sunday
# Sep 20 and Saturday Oct 10 worked.
MAKEUP_2026 = [D(2026, 2, 14), D(2026, 2, 28), D(2026, 9, 20), D(2026, 10, 10)]
WEEKDAYS_OFF_2026 = [D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19),
                     D(2026, 2, 20), D(2026, 2, 23), D(2026, 9, 25), D(2026, 10, 1),
                     D(2026, 10, 2), D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7)]
# Working days from 2026-09-14 to 2026-10-18, written out.
WORKING_SEP_OCT_2026 = [
    D(2026, 9, 14), D(2026, 9, 15), D(2026, 9, 16), D(2026, 9, 17), D(2026, 9, 18),
    D(2026, 9, 20),                                       # Sunday, make-up day
    D(2026, 9, 21), D(2026, 9, 22), D(2026, 9, 23), D(2026, 9, 24),
    # 25-27 Mid-Autumn
    D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30),
    # Oct 1-7 National Day
    D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10),      # Saturday, make-up day
    D(2026, 10, 12), D(2026, 10, 13), D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 16),
]


def s(*args: int) -> np.datetime64:
    return np.datetime64(T(*args), "s")


def due_one(received: dt.datetime, limit, settings: dict | None = None,
            category: str = "c") -> dt.datetime:
    cats = {category: limit}
    merged = {"deadlines.categories": cats, **(settings or {})}
    res = fill_due_at(np.array([received], dtype="datetime64[s]"), [category],
                      np.array(["NaT"], dtype="datetime64[s]"), merged)
    assert res.computed.tolist() == [True]
    return res.due_at[0].astype(dt.datetime)


# ----------------------------------------------------------------- the calendar itself

def test_package_data_is_the_2026_notice():
    """The literals above are what chinesecalendar carries (read, not computed by us)."""
    for d in MAKEUP_2026:
        assert d.weekday() >= 5 and chinese_calendar.is_workday(d), d
    for d in WEEKDAYS_OFF_2026:
        assert d.weekday() < 5 and not chinese_calendar.is_workday(d), d
    assert chinese_calendar.get_holiday_detail(D(2026, 10, 10)) == (False, "National Day")
    assert chinese_calendar.get_holiday_detail(D(2026, 10, 1)) == (True, "National Day")


def test_is_workday_follows_the_official_calendar():
    cal = WorkCalendar(D(2026, 9, 1), D(2026, 10, 31))
    days = np.arange(np.datetime64("2026-09-14"), np.datetime64("2026-10-19"))
    got = [d.astype(dt.date) for d in days[cal.is_workday(days)]]
    assert got == WORKING_SEP_OCT_2026
    spring = np.array(MAKEUP_2026 + WEEKDAYS_OFF_2026, dtype="datetime64[D]")
    assert cal.is_workday(spring).tolist() == [True] * 4 + [False] * 12
    assert cal.warnings == []


def test_last_year_is_read_from_the_package():
    first, last = calendar_years()
    chinese_calendar.is_workday(D(last, 6, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(last + 1, 6, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(first - 1, 6, 1))


def test_calendar_range_widens_on_demand():
    cal = WorkCalendar(D(2026, 1, 5), D(2026, 1, 9))
    # 2025-09-30 Tue 10:00 + 5: Oct 1-8 2025 off, Oct 9, 10, 11 (Sat, make-up), 13, 14
    got = cal.add_working_days(np.array([s(2025, 9, 30, 10)]), 5)
    assert got[0] == s(2025, 10, 14, 10)
    assert cal.is_workday(np.array(["2026-10-10"], dtype="datetime64[D]")).tolist() == [True]
    assert cal.add_working_days(np.array([s(2026, 1, 9, 10)]), 200)[0] > s(2026, 10, 1)


# ----------------------------------------------------------------- working days

@pytest.mark.parametrize("received, n, expected", [
    # plain week
    (T(2026, 11, 23, 10), 1, T(2026, 11, 24, 10)),        # Mon -> Tue
    (T(2026, 11, 20, 10), 1, T(2026, 11, 23, 10)),        # Fri -> Mon
    (T(2026, 11, 23, 10), 5, T(2026, 11, 30, 10)),
    # National Day: Sep 30 10:00 + 5 = Oct 8, 9, 10 (Sat, make-up), 12, 13
    (T(2026, 9, 30, 10), 5, T(2026, 10, 13, 10)),
    # the make-up Saturday Oct 10 counts: Oct 9 (Fri) 10:00 + 1 = Sat Oct 10 10:00
    (T(2026, 10, 9, 10), 1, T(2026, 10, 10, 10)),
    (T(2026, 10, 9, 10), 2, T(2026, 10, 12, 10)),
    # the make-up Sunday Sep 20: Fri Sep 18 10:00 + 1 = Sun Sep 20 10:00
    (T(2026, 9, 18, 10), 1, T(2026, 9, 20, 10)),
    # Mid-Autumn Sep 25-27: Thu Sep 24 10:00 + 1 = Mon Sep 28 10:00
    (T(2026, 9, 24, 10), 1, T(2026, 9, 28, 10)),
    # Spring Festival: Fri Feb 13 + 1 = Sat Feb 14 (make-up); + 2 = Tue Feb 24
    (T(2026, 2, 13, 10), 1, T(2026, 2, 14, 10)),
    (T(2026, 2, 13, 10), 2, T(2026, 2, 24, 10)),
    # Spring Festival, 15 working days: Feb 14, 24-27, 28, Mar 2-6, 9-12
    (T(2026, 2, 13, 9, 30), 15, T(2026, 3, 12, 9, 30)),
])
def test_working_days(received, n, expected):
    assert due_one(received, n) == expected


@pytest.mark.parametrize("received, n, expected", [
    # Saturday (not a make-up day): clock starts Mon 00:00, + 1 day = end of Monday
    (T(2026, 11, 21, 15), 1, T(2026, 11, 24, 0)),
    (T(2026, 11, 22, 23, 59, 59), 1, T(2026, 11, 24, 0)),
    # a holiday: Oct 3 -> clock starts Thu Oct 8 00:00
    (T(2026, 10, 3, 12), 1, T(2026, 10, 9, 0)),
    (T(2026, 10, 3, 12), 3, T(2026, 10, 11, 0)),           # Oct 8, 9, 10 (Sat make-up)
    (T(2026, 10, 3, 12), 4, T(2026, 10, 13, 0)),           # Sun Oct 11 skipped
    # midnight on a working day is a whole day
    (T(2026, 11, 23, 0), 1, T(2026, 11, 24, 0)),
    (T(2026, 11, 20, 0), 1, T(2026, 11, 21, 0)),           # Fri 00:00 -> end of Friday
    # fractions of a day
    (T(2026, 11, 23, 10), 0.5, T(2026, 11, 23, 22)),
    (T(2026, 11, 20, 18), 0.5, T(2026, 11, 23, 6)),
    # zero
    (T(2026, 11, 21, 15), 0, T(2026, 11, 21, 15)),
])
def test_received_on_a_day_off_starts_next_working_day(received, n, expected):
    assert due_one(received, n) == expected


# ----------------------------------------------------------------- working hours

@pytest.mark.parametrize("received, limit, expected", [
    (T(2026, 11, 23, 16), "4h", T(2026, 11, 24, 11)),      # Mon 16:00 + 4h: 2h + 2h
    (T(2026, 11, 23, 11), "2h", T(2026, 11, 23, 15)),      # over the lunch break
    (T(2026, 11, 23, 11, 30), "0.5h", T(2026, 11, 23, 12)),
    (T(2026, 11, 23, 10), "2h", T(2026, 11, 23, 12)),      # lands on 12:00, stays there
    (T(2026, 11, 23, 16), "2h", T(2026, 11, 23, 18)),      # lands on 18:00, stays there
    (T(2026, 11, 23, 9), "2.5h", T(2026, 11, 23, 11, 30)),
    (T(2026, 11, 23, 12, 30), "1h", T(2026, 11, 23, 15)),  # at lunch: starts 14:00
    (T(2026, 11, 23, 7), "1h", T(2026, 11, 23, 10)),       # before work: starts 09:00
    (T(2026, 11, 23, 19), "1h", T(2026, 11, 24, 10)),      # after work: next day 09:00
    (T(2026, 11, 20, 17), "2h", T(2026, 11, 23, 10)),      # Fri 17:00 -> Mon 10:00
    (T(2026, 11, 21, 10), "1h", T(2026, 11, 23, 10)),      # Saturday
    (T(2026, 11, 23, 9), "7h", T(2026, 11, 23, 18)),       # one whole working day
    (T(2026, 11, 23, 9), "14h", T(2026, 11, 24, 18)),
    # National Day: Wed Sep 30 17:00 + 2h -> Thu Oct 8 10:00
    (T(2026, 9, 30, 17), "2h", T(2026, 10, 8, 10)),
    # Fri Oct 9 17:00 + 2h -> make-up Saturday Oct 10 10:00
    (T(2026, 10, 9, 17), "2h", T(2026, 10, 10, 10)),
    (T(2026, 11, 23, 16), "0h", T(2026, 11, 23, 16)),
])
def test_working_hours(received, limit, expected):
    assert due_one(received, limit) == expected


def test_working_hours_setting():
    hours = {"deadlines.work_hours": "08:30-12:00,14:30-17:30"}
    assert due_one(T(2026, 11, 23, 17), "1h", hours) == T(2026, 11, 24, 9)
    assert due_one(T(2026, 11, 23, 11), "1.5h", hours) == T(2026, 11, 23, 15)
    assert due_one(T(2026, 11, 23, 11), "1h", hours) == T(2026, 11, 23, 12)


def test_whole_day_hours_equal_days():
    rng = np.random.default_rng(3)
    t = (s(2026, 1, 1).astype(np.int64) + rng.integers(0, 300 * 86400, 500)
         ).astype("datetime64[s]")
    n = rng.integers(0, 12, 500)
    cal = WorkCalendar(D(2026, 1, 1), D(2026, 2, 1), work_hours="00:00-24:00")
    assert (cal.add_working_hours(t, n * 24) == cal.add_working_days(t, n)).all()


# ----------------------------------------------------------------- beyond the calendar

@pytest.mark.skipif(calendar_years()[1] >= 2027,
                    reason="chinesecalendar now knows 2027; the fallback case moves on")
def test_2027_uses_weekends_only_with_a_warning():
    # Wed 2026-12-30 10:00 + 5: Thu 31, Fri Jan 1 (New Year's Day, unknown to the
    # calendar, so a working day), Mon 4, Tue 5, Wed 6
    recv = np.array([T(2026, 12, 30, 10), T(2026, 12, 30, 10), T(2026, 11, 2, 10)],
                    dtype="datetime64[s]")
    res = fill_due_at(recv, ["c", "c", "c"], None, {"deadlines.categories": {"c": 5}})
    assert res.due_at[0] == s(2027, 1, 6, 10)
    assert len(res.warnings) == 1
    msg = res.warnings[0]
    assert "2027" in msg and "ends with 2026" in msg and "weekends only" in msg
    assert chinese_calendar.__version__ in msg or "1.11.0" in msg
    assert "2028" not in msg
    # a holiday-free weekend is still off: Fri 2027-01-08 + 1 -> Mon 2027-01-11
    assert due_one(T(2027, 1, 8, 10), 1) == T(2027, 1, 11, 10)
    assert WorkCalendar(D(2027, 1, 1), D(2027, 1, 2)).is_workday(
        np.array(["2027-01-01", "2027-01-02"], dtype="datetime64[D]")).tolist() == [True, False]


def test_no_warning_inside_the_calendar():
    recv = np.array([T(2026, 12, 1, 10)], dtype="datetime64[s]")
    res = fill_due_at(recv, ["c"], None, {"deadlines.categories": {"c": 5}})
    assert res.warnings == []
    # ... and a given deadline in 2027 is not a computation, so no warning either
    res = fill_due_at(np.array([T(2026, 12, 30, 10)], dtype="datetime64[s]"), ["c"],
                      np.array([T(2027, 1, 20)], dtype="datetime64[s]"))
    assert res.warnings == [] and res.computed.tolist() == [False]


def test_warning_names_every_year_once():
    last = calendar_years()[1]
    recv = np.array([T(last, 12, 31, 10), T(last + 2, 3, 1, 10), T(last + 2, 3, 2, 10)],
                    dtype="datetime64[s]")
    res = fill_due_at(recv, None, None, {"deadlines.default_days": 3})
    assert len(res.warnings) == 1
    assert f"deadlines in {last + 1}, {last + 2} use weekends only" in res.warnings[0]


# ----------------------------------------------------------------- inputs and outputs

def test_given_due_at_kept_and_nat_received():
    recv = pd.Series(pd.to_datetime(["2026-11-23 10:00", None, "2026-11-23 10:00", None]))
    given = pd.Series(pd.to_datetime(["2026-01-01 08:07:06", None, None, "2030-05-05 00:00:00"]))
    res = fill_due_at(recv, ["暴露垃圾", "暴露垃圾", "暴露垃圾", None], given, Settings())
    assert res.due_at.dtype == np.dtype("datetime64[s]")
    assert res.due_at[0] == s(2026, 1, 1, 8, 7, 6)         # untouched, even if odd
    assert np.isnat(res.due_at[1])                         # no received_at: NaT
    assert res.due_at[2] == s(2026, 11, 24, 10)            # 暴露垃圾 = 1 day
    assert res.due_at[3] == s(2030, 5, 5)                  # given, kept without received
    assert res.computed.tolist() == [False, False, True, False]
    assert res.warnings == []


def test_pandas_arrow_strings_and_tz_aware_input():
    recv = pd.Series(pd.to_datetime(["2026-11-23 10:00", "2026-11-23 10:00"])
                     ).dt.tz_localize("Asia/Shanghai")
    cats = pd.Series(["私搭乱建", pd.NA], dtype="string[pyarrow]")
    res = fill_due_at(recv, cats, None, Settings())
    # 私搭乱建 = 15 working days from Mon Nov 23: Dec 14; default 5: Nov 30
    assert res.due_at.tolist() == [T(2026, 12, 14, 10), T(2026, 11, 30, 10)]


def test_category_lookup_and_default():
    recv = np.full(6, s(2026, 11, 23, 10))
    cats = ["暴露垃圾", "私搭乱建", "井盖缺失", "没有这个类别", "", None]
    default = fill_due_at(recv, cats, None, Settings()).due_at
    assert default.tolist() == [T(2026, 11, 24, 10), T(2026, 12, 14, 10), T(2026, 11, 24, 10),
                                T(2026, 11, 30, 10), T(2026, 11, 30, 10), T(2026, 11, 30, 10)]
    city = Settings().with_values(deadlines__default_days=3, deadlines__categories={
        "暴露垃圾": 2, "井盖缺失": "4h", "": 10})
    got = fill_due_at(recv, cats, None, city).due_at
    # the table replaces the built-in one: 私搭乱建 falls back to the default, 3 days.
    # "" is never looked up: an empty category takes the default.
    assert got.tolist() == [T(2026, 11, 25, 10), T(2026, 11, 26, 10), T(2026, 11, 23, 16),
                            T(2026, 11, 26, 10), T(2026, 11, 26, 10), T(2026, 11, 26, 10)]
    # exact strings only
    got = fill_due_at(recv[:2], [" 暴露垃圾", "暴露垃圾 "], None, city).due_at
    assert got.tolist() == [T(2026, 11, 26, 10)] * 2


@pytest.mark.parametrize("bad", [-1, "abc", "4x", "-2h", True, float("nan"), "", "h"])
def test_invalid_category_limit_names_setting_and_category(bad):
    settings = {"deadlines.categories": {"暴露垃圾": 1, "违规广告": bad}}
    with pytest.raises(DeadlineError, match=r"deadlines\.categories.*违规广告"):
        fill_due_at(np.array([s(2026, 11, 23)]), ["暴露垃圾"], None, settings)


def test_invalid_default_and_work_hours():
    recv = np.array([s(2026, 11, 23)])
    with pytest.raises(DeadlineError, match=r"deadlines\.default_days"):
        fill_due_at(recv, ["x"], None, {"deadlines.default_days": -5})
    for bad in ["9-18", "14:00-12:00", "09:00-12:00,11:00-18:00", "25:00-26:00", ""]:
        with pytest.raises(DeadlineError, match=r"deadlines\.work_hours"):
            fill_due_at(recv, ["x"], None, {"deadlines.work_hours": bad})
    assert issubclass(DeadlineError, ValueError)


def test_lengths_must_match():
    with pytest.raises(DeadlineError, match="categories"):
        fill_due_at(np.array([s(2026, 11, 23)] * 2), ["a"], None)
    with pytest.raises(DeadlineError, match="due_at"):
        fill_due_at(np.array([s(2026, 11, 23)] * 2), None, np.array([s(2026, 11, 23)]))


@pytest.mark.parametrize("value, expected", [
    (5, ("days", 5.0)), (1.5, ("days", 1.5)), ("3", ("days", 3.0)), ("3d", ("days", 3.0)),
    ("3 个工作日", ("days", 3.0)), ("4h", ("hours", 4.0)), ("2.5h", ("hours", 2.5)),
    (" 4 H ", ("hours", 4.0)), ("4小时", ("hours", 4.0)), (0, ("days", 0.0)),
])
def test_parse_limit(value, expected):
    assert parse_limit(value) == expected


@pytest.mark.parametrize("value", [-1, "abc", "4x", "4hh", None, True, "1e3", 10**6, "inf"])
def test_parse_limit_refuses(value):
    with pytest.raises(DeadlineError):
        parse_limit(value)


def test_parse_work_hours():
    assert parse_work_hours("09:00-12:00,14:00-18:00").tolist() == [[32400, 43200],
                                                                   [50400, 64800]]
    assert parse_work_hours("00:00-24:00").tolist() == [[0, 86400]]


# ----------------------------------------------------------------- slow references

@functools.cache
def ref_workday(d: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def ref_add(t: dt.datetime, amount: dt.timedelta,
            periods: list[tuple[dt.time, dt.time | None]]) -> dt.datetime:
    """Walk forward period by period, spending the limit inside working periods."""
    if amount == dt.timedelta(0):
        return t
    pos, left = t, amount
    day = t.date()
    while True:
        if ref_workday(day):
            for start, end in periods:
                p0 = T.combine(day, start)
                p1 = T.combine(day, end) if end else T.combine(day + dt.timedelta(1),
                                                               dt.time(0))
                if pos >= p1:
                    continue
                begin = max(pos, p0)
                if left <= p1 - begin:
                    return begin + left
                left -= p1 - begin
                pos = p1
        day += dt.timedelta(1)
        pos = max(pos, T.combine(day, dt.time(0)))


WHOLE_DAY = [(dt.time(0), None)]
OFFICE = [(dt.time(9), dt.time(12)), (dt.time(14), dt.time(18))]


def _random_times(rng: random.Random, count: int) -> list[dt.datetime]:
    first = T(2025, 1, 1)
    span = int((T(2028, 1, 1) - first).total_seconds())
    out = []
    for i in range(count):
        t = first + dt.timedelta(seconds=rng.randrange(span))
        if i % 4 == 0:  # on the hour, often on a period boundary
            t = t.replace(hour=rng.choice([0, 9, 12, 14, 18, 23]), minute=0, second=0)
        out.append(t)
    return out


def test_days_against_a_day_by_day_walk():
    rng = random.Random(20261001)
    times = _random_times(rng, 2000)
    limits = [rng.choice([0, 1, 1, 2, 3, 5, 5, 8, 10, 13, 15, 20, 30]) for _ in times]
    cats = [f"k{n}" for n in limits]
    settings = {"deadlines.categories": {f"k{n}": n for n in set(limits)}}
    res = fill_due_at(np.array(times, dtype="datetime64[s]"), cats, None, settings)
    expected = [ref_add(t, dt.timedelta(days=n), WHOLE_DAY) for t, n in zip(times, limits, strict=True)]
    got = res.due_at.astype(dt.datetime).tolist()
    bad = [(t, n, g, e) for t, n, g, e in zip(times, limits, got, expected, strict=True) if g != e]
    assert not bad, bad[:5]
    assert res.computed.all()
    assert any("2027" in w for w in res.warnings)


def test_hours_against_a_period_walk():
    rng = random.Random(7)
    times = _random_times(rng, 400)
    limits = [rng.choice([0.5, 1, 2, 2.5, 3, 4, 7, 8, 13.25, 24, 40]) for _ in times]
    cats = [f"h{h}" for h in limits]
    settings = {"deadlines.categories": {f"h{h}": f"{h}h" for h in set(limits)}}
    res = fill_due_at(np.array(times, dtype="datetime64[s]"), cats, None, settings)
    expected = [ref_add(t, dt.timedelta(hours=h), OFFICE) for t, h in zip(times, limits, strict=True)]
    got = res.due_at.astype(dt.datetime).tolist()
    bad = [(t, h, g, e) for t, h, g, e in zip(times, limits, got, expected, strict=True) if g != e]
    assert not bad, bad[:5]


def test_reference_walk_agrees_with_hand_values():
    """The reference itself reproduces the hand-worked National Day cases."""
    assert ref_add(T(2026, 9, 30, 10), dt.timedelta(days=5), WHOLE_DAY) == T(2026, 10, 13, 10)
    assert ref_add(T(2026, 11, 23, 16), dt.timedelta(hours=4), OFFICE) == T(2026, 11, 24, 11)
    assert ref_add(T(2026, 11, 23, 10), dt.timedelta(hours=2), OFFICE) == T(2026, 11, 23, 12)

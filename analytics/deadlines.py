"""Handling deadlines (处置时限) on the official working-day calendar.

A complaint whose file gives no ``due_at`` gets one computed from its ``received_at`` and
the handling limit of its category (docs/indicators.md). ``docs/deadlines.md`` states every
rule; in short:

**Working day (工作日).** A date that :func:`chinese_calendar.is_workday` calls a workday:
public holidays are off and the make-up Saturdays and Sundays (调休) are on. The package
carries the State Council holiday notices (国务院办公厅关于部分节假日安排的通知), one per
year. For a date in a year the package does not know (it raises ``NotImplementedError``
there; the years it knows are read from its data, never hard-coded) a working day is
Monday to Friday, and the call gives one warning naming those years, for example
``deadlines in 2027 use weekends only: the holiday calendar (chinesecalendar 1.11.0) ends
with 2026``.

**Limit in working days N.** The working-day clock runs through whole working days
(00:00-24:00) and stands still on other days. The deadline is the first instant at which
that clock has run N days since ``received_at``: received Monday 10:00 with N = 1 gives
Tuesday 10:00; received Friday 10:00 gives the next working day at 10:00; received on a
Saturday (not a make-up day) the clock starts on Monday 00:00, so N = 1 gives Tuesday 00:00.

**Limit in working hours** (``"4h"``, ``"2.5h"``). The clock runs only in the working
periods (``deadlines.work_hours``, default ``09:00-12:00,14:00-18:00``) of working days.
Received Monday 16:00 with 4 h gives Tuesday 11:00; received outside the periods the clock
starts at the next period's start; a deadline landing exactly on a period's end is that end
(12:00, not 14:00).

A limit of 0 gives ``due_at = received_at``.

**Category.** The exact category string is looked up in ``deadlines.categories``; a
category not listed, missing or empty gets ``deadlines.default_days``. A limit that cannot
be read raises :class:`DeadlineError` naming the setting and the category.

Everything is column-wise: a :class:`WorkCalendar` holds one boolean per date and the
running count of working days, so converting a million timestamps is a handful of numpy
operations (``searchsorted``), with no Python loop over rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_LIMITS",
    "DEFAULT_SETTINGS",
    "DEFAULT_WORK_HOURS",
    "DeadlineError",
    "DueResult",
    "WorkCalendar",
    "calendar_years",
    "fill_due_at",
    "limits_from_settings",
    "parse_limit",
    "parse_work_hours",
]

#: Working periods of a working day when the settings give none.
DEFAULT_WORK_HOURS = "09:00-12:00,14:00-18:00"
#: Handling limit, in working days, of a category not listed (docs/deadlines.md).
DEFAULT_DAYS = 5
#: Handling limits of the national standard's common event categories, in working days
#: (a string such as "4h" is working hours). Cities override them in settings.toml.
DEFAULT_LIMITS: dict[str, int | str] = {
    "暴露垃圾": 1, "积存垃圾渣土": 3, "道路不洁": 1, "私搭乱建": 15,
    "井盖缺失": 1, "路面塌陷": 1, "道路积水": 1, "管道破裂": 1,
}
#: The deadline settings (``config.settings`` names) with their defaults above.
DEFAULT_SETTINGS: dict[str, Any] = {
    "deadlines.default_days": DEFAULT_DAYS,
    "deadlines.categories": DEFAULT_LIMITS,
    "deadlines.work_hours": DEFAULT_WORK_HOURS,
}
#: Largest limit accepted (a larger one is taken for a typing error).
MAX_DAYS = 1000
MAX_HOURS = 24 * MAX_DAYS
#: Widest span of dates a calendar may cover (guards against absurd timestamps).
MAX_SPAN_DAYS = 366 * 2000

_DAY = 86_400
_NAT = np.iinfo(np.int64).min


class DeadlineError(ValueError):
    """A handling limit or working-hours setting that cannot be used, or unusable input."""


# --------------------------------------------------------------------------- limits

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_HOURS_RE = re.compile(rf"^{_NUMBER}\s*(h|hr|hrs|hour|hours|小时|个小时|工作小时|个工作小时)$",
                       re.IGNORECASE)
_DAYS_RE = re.compile(rf"^{_NUMBER}\s*(d|day|days|天|日|工作日|个工作日)?$", re.IGNORECASE)


def parse_limit(value: Any) -> tuple[str, float]:
    """Read one handling limit.

    Parameters
    ----------
    value : int, float or str
        A number is working days (``5``, ``1.5``); a string is a number of working days
        (``"5"``, ``"5d"``, ``"5天"``, ``"5个工作日"``) or of working hours (``"4h"``,
        ``"2.5h"``, ``"4小时"``). Spaces around and between number and unit are allowed.

    Returns
    -------
    tuple of (str, float)
        ``("days", n)`` or ``("hours", h)``, with ``0 <= n <= 1000`` and
        ``0 <= h <= 24000``.

    Raises
    ------
    DeadlineError
        For anything else: a negative number, ``"abc"``, ``"4x"``, ``True``, NaN, ...
    """
    if isinstance(value, bool) or value is None:
        raise DeadlineError(f"invalid handling limit {value!r}: expected working days "
                            "(a number such as 5) or working hours (a string such as \"4h\")")
    if isinstance(value, (int, float, np.integer, np.floating)):
        kind, amount = "days", float(value)
    elif isinstance(value, str):
        text = value.strip()
        m = _HOURS_RE.match(text)
        if m:
            kind, amount = "hours", float(m.group(1))
        else:
            m = _DAYS_RE.match(text)
            if not m:
                raise DeadlineError(
                    f"invalid handling limit {value!r}: expected working days (a number "
                    "such as 5, or \"5d\") or working hours (such as \"4h\" or \"2.5h\")")
            kind, amount = "days", float(m.group(1))
    else:
        raise DeadlineError(f"invalid handling limit {value!r} ({type(value).__name__}): "
                            "expected a number of working days or a string such as \"4h\"")
    top = MAX_DAYS if kind == "days" else MAX_HOURS
    if not math.isfinite(amount) or amount < 0 or amount > top:
        raise DeadlineError(f"invalid handling limit {value!r}: working {kind} must be "
                            f"between 0 and {top}")
    return kind, amount


def parse_work_hours(text: str = DEFAULT_WORK_HOURS) -> np.ndarray:
    """Read the working periods of a working day.

    Parameters
    ----------
    text : str
        Comma-separated ``HH:MM-HH:MM`` periods in increasing order, not overlapping, for
        example ``"09:00-12:00,14:00-18:00"``. ``24:00`` is allowed as an end.

    Returns
    -------
    numpy.ndarray
        int64 array of shape (P, 2): start and end of each period in seconds after 00:00.

    Raises
    ------
    DeadlineError
        Naming ``deadlines.work_hours`` when the text cannot be read.
    """
    where = f"deadlines.work_hours = {text!r}"
    if not isinstance(text, str) or not text.strip():
        raise DeadlineError(f"{where}: expected periods such as \"09:00-12:00,14:00-18:00\"")
    periods: list[tuple[int, int]] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–~～]\s*(\d{1,2}):(\d{2})\s*", part)
        if not m:
            raise DeadlineError(f"{where}: cannot read the period {part.strip()!r} "
                                "(expected HH:MM-HH:MM)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
            raise DeadlineError(f"{where}: {part.strip()!r} is not a time of day")
        start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if end <= start:
            raise DeadlineError(f"{where}: the period {part.strip()!r} ends before it starts")
        if periods and start < periods[-1][1]:
            raise DeadlineError(f"{where}: the periods must be in order and not overlap")
        periods.append((start, end))
    return np.array(periods, dtype=np.int64)


# --------------------------------------------------------------------------- calendar

@dataclass(frozen=True)
class _Official:
    """The holiday data that chinesecalendar carries, as sorted numpy dates."""

    version: str
    first_year: int
    last_year: int
    holidays: np.ndarray  # datetime64[D]: days off of the notices (weekends included)
    workdays: np.ndarray  # datetime64[D]: make-up working days (调休)


@lru_cache(maxsize=1)
def _official() -> _Official:
    """Load the State Council notice data that chinesecalendar carries (once)."""
    import chinese_calendar

    try:
        from importlib.metadata import version

        ver = version("chinesecalendar")
    except Exception:  # noqa: BLE001 - metadata is only for the warning text
        ver = str(getattr(chinese_calendar, "__version__", "unknown version"))
    hol = sorted(chinese_calendar.holidays)
    work = sorted(chinese_calendar.workdays)
    # The package accepts exactly the years between its first and last holiday entry
    # (chinese_calendar.utils._validate_date); read them from the data, then confirm by
    # asking the package itself at both ends.
    first, last = hol[0].year, hol[-1].year
    while last > first:
        try:
            chinese_calendar.is_workday(dt.date(last, 12, 31))
            break
        except NotImplementedError:
            last -= 1
    while first < last:
        try:
            chinese_calendar.is_workday(dt.date(first, 1, 1))
            break
        except NotImplementedError:
            first += 1
    return _Official(ver, first, last, np.array(hol, dtype="datetime64[D]"),
                     np.array(work, dtype="datetime64[D]"))


def calendar_years() -> tuple[int, int]:
    """First and last year of the official holiday calendar that chinesecalendar knows."""
    off = _official()
    return off.first_year, off.last_year


def _day_number(d: dt.date | np.datetime64 | str) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number (days since 1970-01-01)."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


class WorkCalendar:
    """The working days of a range of dates, and clocks that count only working time.

    The official calendar comes from chinesecalendar, which carries the State Council
    holiday notices (国务院办公厅关于部分节假日安排的通知): holidays are off, make-up
    working days (调休) are on, other days are working days from Monday to Friday. In
    years the package does not know, working days are Monday to Friday; the years used that
    way are reported in :attr:`warnings`.

    Parameters
    ----------
    first, last : datetime.date
        Range of dates to precompute (inclusive). Any conversion that needs dates outside
        the range widens it automatically, so the range is only a hint.
    work_hours : str
        Working periods of a working day, for :meth:`add_working_hours`
        (see :func:`parse_work_hours`).

    Notes
    -----
    Two clocks are defined on instants (``datetime64[s]``):

    * the *working-day clock* runs at normal speed during working days (whole days,
      00:00-24:00) and stands still on other days;
    * the *working-hour clock* runs only inside the working periods of working days.

    Adding a limit L to an instant t gives the first instant at which the clock reads
    clock(t) + L. Hence a result lands on the end of a working day or period (24:00, 12:00)
    rather than on the next one's start, and a limit of 0 gives t itself.
    """

    def __init__(self, first: dt.date, last: dt.date, work_hours: str = DEFAULT_WORK_HOURS):
        periods = parse_work_hours(work_hours)
        self.work_hours = work_hours
        self._starts = periods[:, 0]
        self._ends = periods[:, 1]
        lengths = self._ends - self._starts
        self._cum_end = np.cumsum(lengths)
        self._cum_start = self._cum_end - lengths
        #: Working seconds in one working day.
        self.hours_per_day = float(self._cum_end[-1]) / 3600
        self._per_day = int(self._cum_end[-1])
        self._unknown_used: set[int] = set()
        lo, hi = _day_number(first), _day_number(last)
        if hi < lo:
            lo, hi = hi, lo
        self._build(lo, hi)

    # -- construction ---------------------------------------------------------------
    def _build(self, lo: int, hi: int) -> None:
        if hi - lo > MAX_SPAN_DAYS:
            a, b = np.array([lo, hi]).astype("datetime64[D]")
            raise DeadlineError(f"dates from {a} to {b} span more than 2000 years; "
                                "check the timestamps")
        off = _official()
        days = np.arange(lo, hi + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        work = weekday < 5
        for dates, value in ((off.holidays, False), (off.workdays, True)):
            idx = dates.astype(np.int64) - lo
            idx = idx[(idx >= 0) & (idx < len(days))]
            work[idx] = value
        self._lo, self._hi = lo, hi
        self._work = work
        # _cum[i] = working days among the first i dates of the range
        self._cum = np.concatenate(([0], np.cumsum(work, dtype=np.int64)))

    def _cover(self, lo: int, hi: int) -> None:
        """Widen the range so that it holds the day numbers lo..hi."""
        if lo >= self._lo and hi <= self._hi:
            return
        new_lo = min(self._lo, lo - 7) if lo < self._lo else self._lo
        new_hi = max(self._hi, hi + 60) if hi > self._hi else self._hi
        self._build(new_lo, new_hi)

    def _cover_count(self, need: int) -> None:
        """Widen the end of the range until it holds ``need`` working days."""
        while self._cum[-1] < need:
            short = int(need - self._cum[-1])
            self._cover(self._lo, self._hi + 2 * short + 30)

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def first(self) -> dt.date:
        """First date of the precomputed range."""
        return np.datetime64(self._lo, "D").astype(dt.date)

    @property
    def last(self) -> dt.date:
        """Last date of the precomputed range."""
        return np.datetime64(self._hi, "D").astype(dt.date)

    def _note_span(self, day_from: np.ndarray, day_to: np.ndarray) -> None:
        """Record the unknown years among the dates day_from..day_to of each row."""
        if day_from.size == 0:
            return
        off = _official()
        y0, y1 = _years_of(day_from), _years_of(np.maximum(day_from, day_to))
        outside = (y0 < off.first_year) | (y1 > off.last_year)
        if not outside.any():
            return
        a, b = y0[outside], y1[outside]
        base, width = int(a.min()), int(b.max() - a.min()) + 1
        spans = np.unique((a - base) * width + (b - base))  # distinct (from, to) year pairs
        for lo, hi in zip(spans // width + base, spans % width + base, strict=True):
            self._unknown_used.update(y for y in range(int(lo), int(hi) + 1)
                                      if not off.first_year <= y <= off.last_year)

    @property
    def unknown_years(self) -> list[int]:
        """Years outside the official calendar that conversions have used so far."""
        return sorted(self._unknown_used)

    @property
    def warnings(self) -> list[str]:
        """One message when a conversion used years the official calendar does not know."""
        years = self.unknown_years
        if not years:
            return []
        off = _official()
        names = ", ".join(str(y) for y in years)
        if years[0] > off.last_year:
            tail = f"ends with {off.last_year}"
        else:
            tail = f"covers {off.first_year} to {off.last_year}"
        return [f"deadlines in {names} use weekends only: the holiday calendar "
                f"(chinesecalendar {off.version}) {tail}"]

    # -- queries ------------------------------------------------------------------------
    def is_workday(self, dates: np.ndarray) -> np.ndarray:
        """Which dates are working days.

        Parameters
        ----------
        dates : numpy.ndarray of datetime64[D] (or anything numpy reads as dates)
            NaT is allowed and gives False.

        Returns
        -------
        numpy.ndarray of bool
        """
        d = np.asarray(dates, dtype="datetime64[D]")
        n = d.astype(np.int64)
        ok = n != _NAT
        out = np.zeros(d.shape, dtype=bool)
        if ok.any():
            v = n[ok]
            self._cover(int(v.min()), int(v.max()))
            out[ok] = self._work[v - self._lo]
            self._note_span(v, v)
        return out

    def add_working_days(self, t: np.ndarray, n: np.ndarray | float | int) -> np.ndarray:
        """Add working days on the working-day clock.

        Parameters
        ----------
        t : numpy.ndarray of datetime64
            Start instants (converted to seconds, floored); NaT gives NaT.
        n : numpy.ndarray of float or int, or a scalar
            Working days to add (``>= 0``; fractions count as fractions of a whole day,
            0.5 = 12 h of the working-day clock), broadcast against ``t``.

        Returns
        -------
        numpy.ndarray of datetime64[s]
            The first instant at which the working-day clock reads clock(t) + n.
        """
        return self._add(t, n, _DAY, None)

    def add_working_hours(self, t: np.ndarray, hours: np.ndarray | float | int) -> np.ndarray:
        """Add working hours on the working-hour clock (working periods of working days).

        Parameters
        ----------
        t : numpy.ndarray of datetime64
            Start instants (converted to seconds, floored); NaT gives NaT. An instant
            outside the working periods starts the clock at the next period's start.
        hours : numpy.ndarray of float or int, or a scalar
            Working hours to add (``>= 0``), broadcast against ``t``.

        Returns
        -------
        numpy.ndarray of datetime64[s]
            The first instant at which the working-hour clock reads clock(t) + hours; a
            result on the end of a period is that end (12:00, not 14:00).
        """
        return self._add(t, hours, 3600, (self._starts, self._ends))

    def _add(self, t: np.ndarray, amount: Any, unit: int,
             periods: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        ts = np.asarray(t, dtype="datetime64[s]")
        amt = np.asarray(amount, dtype=np.float64)
        ts, amt = np.broadcast_arrays(ts, amt)
        secs = ts.astype(np.int64)
        out = np.full(secs.shape, _NAT, dtype=np.int64)
        ok = secs != _NAT
        if np.any(ok & ~(np.isfinite(amt) & (amt >= 0))):
            raise DeadlineError("limits to add must be finite and not negative")
        if not ok.any():
            return out.astype("datetime64[s]")
        s = secs[ok]
        a = np.rint(amt[ok] * unit).astype(np.int64)  # working seconds to add
        day = s // _DAY
        sod = s - day * _DAY  # second of the day
        self._cover(int(day.min()), int(day.max()))
        idx = day - self._lo
        work = self._work[idx]
        if periods is None:
            per_day = _DAY
            inside = np.where(work, sod, 0)
        else:
            per_day = self._per_day
            starts, ends = periods
            inside = np.clip(sod[:, None] - starts[None, :], 0,
                             (ends - starts)[None, :]).sum(axis=1)
            inside = np.where(work, inside, 0)
        target = self._cum[idx] * per_day + inside + a  # clock reading to reach
        # The j-th working day (1-based) holds the clock readings ((j-1)·D, j·D].
        j = -(-target // per_day)
        self._cover_count(int(j.max()))
        r = target - (j - 1) * per_day  # in (0, D] when target > 0
        # smallest i with _cum[i] >= j; the j-th working day is date i - 1 of the range
        wday = np.searchsorted(self._cum, j, side="left") - 1 + self._lo
        if periods is None:
            offset = r
        else:
            starts, ends = periods
            p = np.searchsorted(self._cum_end, r, side="left")
            p = np.minimum(p, len(starts) - 1)
            offset = starts[p] + (r - self._cum_start[p])
        due = wday * _DAY + offset
        due = np.where(a == 0, s, due)
        out[ok] = due
        # note the unknown years whose working days mattered: received day to due day
        last_day = np.maximum(day, (due - 1) // _DAY)
        self._note_span(day, last_day)
        return out.astype("datetime64[s]")


# --------------------------------------------------------------------------- fill_due_at

@dataclass
class DueResult:
    """Result of :func:`fill_due_at`.

    Attributes
    ----------
    due_at : numpy.ndarray of datetime64[s]
        The given deadline where there is one, the computed one where it was missing, NaT
        where it was missing and ``received_at`` is NaT too.
    computed : numpy.ndarray of bool
        True where the deadline was computed.
    warnings : list of str
        At most one message naming the years counted with weekends only.
    """

    due_at: np.ndarray
    computed: np.ndarray
    warnings: list[str] = field(default_factory=list)


def _setting(settings: Mapping[str, Any] | None, name: str, default: Any) -> Any:
    if not settings:
        return default
    if name in settings:
        return settings[name]
    table, _, key = name.partition(".")
    nested = settings.get(table) if hasattr(settings, "get") else None
    if isinstance(nested, Mapping) and key in nested:
        return nested[key]
    return default


def limits_from_settings(settings: Mapping[str, Any] | None
                         ) -> tuple[tuple[str, float], dict[str, tuple[str, float]], str]:
    """Read and check the deadline settings.

    Parameters
    ----------
    settings : Mapping
        A :class:`config.settings.Settings` (dotted keys ``deadlines.default_days``,
        ``deadlines.categories``, ``deadlines.work_hours``) or a plain mapping with those
        keys or a nested ``{"deadlines": {...}}`` table. Missing keys take the defaults of
        this module (:data:`DEFAULT_SETTINGS`).

    Returns
    -------
    default : tuple of (str, float)
        The limit of a category not listed.
    categories : dict
        Category string to limit.
    work_hours : str

    Raises
    ------
    DeadlineError
        Naming the setting (and the category) whose value cannot be read.
    """
    raw_default = _setting(settings, "deadlines.default_days", DEFAULT_DAYS)
    try:
        default = parse_limit(raw_default)
    except DeadlineError as exc:
        raise DeadlineError(f"setting deadlines.default_days (the limit of categories not "
                            f"listed): {exc}") from None
    table = _setting(settings, "deadlines.categories", DEFAULT_LIMITS)
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise DeadlineError(f"setting deadlines.categories must be a table of category = "
                            f"limit, got {table!r}")
    categories: dict[str, tuple[str, float]] = {}
    for cat, value in table.items():
        try:
            categories[cat] = parse_limit(value)
        except DeadlineError as exc:
            raise DeadlineError(f"setting deadlines.categories, category {cat!r}: "
                                f"{exc}") from None
    work_hours = _setting(settings, "deadlines.work_hours", DEFAULT_WORK_HOURS)
    parse_work_hours(work_hours)
    return default, categories, work_hours


def _to_seconds(values: Any, name: str, length: int | None = None) -> np.ndarray:
    """Timestamps as a datetime64[s] numpy array (tz-aware input: its wall-clock time)."""
    if values is None:
        if length is None:
            raise DeadlineError(f"{name} is required")
        return np.full(length, np.datetime64("NaT"), dtype="datetime64[s]")
    if isinstance(values, pd.Index):
        values = pd.Series(values)
    if not isinstance(values, pd.Series):
        arr = np.asarray(values)
        if arr.dtype.kind == "M":
            arr = arr.astype("datetime64[s]").ravel()
        else:
            values = pd.Series(arr.ravel())
    if isinstance(values, pd.Series):
        ser = values
        try:
            if getattr(ser.dtype, "kind", "O") != "M":
                ser = pd.to_datetime(ser)
            if getattr(ser.dt, "tz", None) is not None:
                ser = ser.dt.tz_localize(None)  # the local wall-clock time
        except (ValueError, TypeError, OverflowError) as exc:
            raise DeadlineError(f"{name}: not timestamps ({exc})") from None
        arr = ser.to_numpy()  # keeps the unit, so dates after 2262 do not overflow
        if arr.dtype.kind != "M":
            raise DeadlineError(f"{name}: not timestamps (dtype {ser.dtype})")
        arr = arr.astype("datetime64[s]")
    if length is not None and len(arr) != length:
        raise DeadlineError(f"{name} has {len(arr)} values, received_at has {length}")
    return arr


def fill_due_at(received_at: np.ndarray | pd.Series, categories: Iterable[str | None] | None,
                due_at: np.ndarray | pd.Series | None,
                settings: Mapping[str, Any] | None = None) -> DueResult:
    """Fill the missing handling deadlines (处置时限) from the category limits.

    A missing ``due_at`` is ``received_at`` plus the category's limit on the official
    working-day calendar: the State Council holiday notices (国务院办公厅关于部分节假日
    安排的通知) as carried by chinesecalendar, with make-up working days (调休); in years
    the package does not know, Monday to Friday, with one warning naming those years.

    Parameters
    ----------
    received_at : numpy.ndarray or pandas.Series of datetime64
        Local wall-clock times (a tz-aware Series is taken at its wall-clock time); NaT
        allowed.
    categories : array-like of str or None
        Category of each record, looked up exactly in ``deadlines.categories``; None, NA,
        empty or not listed take ``deadlines.default_days``. None for the whole argument
        means every record takes the default.
    due_at : array-like of datetime64, or None
        Deadlines given by the file, NaT where missing (None: all missing).
    settings : Mapping, optional
        See :func:`limits_from_settings`; None means every default.

    Returns
    -------
    DueResult
        ``due_at`` (datetime64[s]; given values kept, to the second), ``computed`` and
        ``warnings``.

    Raises
    ------
    DeadlineError
        For a limit or working-hours setting that cannot be read, or inputs of different
        lengths.
    """
    default, table, work_hours = limits_from_settings(settings)
    recv = _to_seconds(received_at, "received_at")
    n = len(recv)
    given = _to_seconds(due_at, "due_at", n)

    # limit of each record, by category code (no Python loop over records)
    if categories is None:
        codes = np.full(n, -1, dtype=np.int64)
        uniques: list[Any] = []
    else:
        cat = categories if isinstance(categories, pd.Series) else pd.Series(
            np.asarray(categories, dtype=object) if not isinstance(categories, pd.Index)
            else categories)
        if len(cat) != n:
            raise DeadlineError(f"categories has {len(cat)} values, received_at has {n}")
        codes, uniq = pd.factorize(cat, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        uniques = list(uniq)
    kinds = np.empty(len(uniques) + 1, dtype=np.int8)  # 0 days, 1 hours; last = default
    amounts = np.empty(len(uniques) + 1, dtype=np.float64)
    for i, u in enumerate([*uniques, None]):  # one step per distinct category
        kind, amount = table.get(u, default) if isinstance(u, str) and u else default
        kinds[i], amounts[i] = (kind == "hours"), amount
    codes = np.where(codes < 0, len(uniques), codes)
    row_kind, row_amount = kinds[codes], amounts[codes]

    missing = np.isnat(given)
    todo = missing & ~np.isnat(recv)
    out = given.copy()
    warnings: list[str] = []
    if todo.any():
        r = recv[todo]
        k, a = row_kind[todo], row_amount[todo]
        days_needed = float(np.max(np.where(k == 1, a / 24, a), initial=0.0))
        rd = r.astype("datetime64[D]")
        lo, hi = rd.min(), rd.max()
        cal = WorkCalendar((lo - 7).astype(dt.date),
                           (hi + int(3 * days_needed) + 60).astype(dt.date), work_hours)
        due = np.empty(len(r), dtype="datetime64[s]")
        is_h = k == 1
        if (~is_h).any():
            due[~is_h] = cal.add_working_days(r[~is_h], a[~is_h])
        if is_h.any():
            due[is_h] = cal.add_working_hours(r[is_h], a[is_h])
        out[todo] = due
        warnings = cal.warnings
    return DueResult(due_at=out, computed=todo, warnings=warnings)

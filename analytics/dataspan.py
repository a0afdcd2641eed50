"""The dates the data covers, and the day the pages open on (docs/app.md, "Periods").

A city that loads last year's export, or an archive of 2015, must see that data when it
opens a page, not an empty "this week". The pages therefore take their default period
from the data: when the newest record is older than today, they open on the period that
ends on the newest record's day and say so ("数据截至 2015-12-31"); the date pickers accept
any day from the oldest record to today.

The newest record is the latest complaint ``received_at`` or inspection ``inspected_at``
(void complaints included: the export did reach that day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd


@dataclass(frozen=True)
class DataSpan:
    """First and last record time (naive local wall-clock time); None without records."""

    first: dt.datetime | None
    last: dt.datetime | None

    @property
    def empty(self) -> bool:
        return self.last is None


def data_span(conn: duckdb.DuckDBPyConnection) -> DataSpan:
    """The oldest and newest record time over complaints and inspections."""
    row = conn.execute("""
        SELECT min(t0), max(t1) FROM (
            SELECT min(received_at) AS t0, max(received_at) AS t1 FROM complaints
            UNION ALL
            SELECT min(inspected_at), max(inspected_at) FROM inspections)
    """).fetchone()

    def plain(t) -> dt.datetime | None:
        return None if t is None or pd.isna(t) else pd.Timestamp(t).to_pydatetime()

    return DataSpan(plain(row[0]), plain(row[1]))


def anchor_day(today: dt.date, span: DataSpan) -> dt.date:
    """The day the pages' default periods end on.

    Today, unless the data ends before today: then the newest record's day. Data that
    reaches into the future (a clock set wrong somewhere) does not move the pages past
    today.
    """
    if span.last is None or span.last.date() >= today:
        return today
    return span.last.date()


def date_bounds(today: dt.date, span: DataSpan) -> tuple[dt.date, dt.date]:
    """(earliest, latest) day a date picker offers: the oldest record's day (or a year
    before the anchor when there is no data, or the anchor's year is older) to today."""
    anchor = anchor_day(today, span)
    earliest = anchor - dt.timedelta(days=366)
    if span.first is not None:
        earliest = min(earliest, span.first.date())
    return earliest, max(today, anchor)

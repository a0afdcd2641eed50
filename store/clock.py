"""The city's clock: the zone record times are kept in and the local wall-clock time now.

Every timestamp in the database is the city's local wall-clock time without a zone
(docs/schema.md), Asia/Shanghai by default. Everything that needs "now" or "today"
(import batches, the "in the future" check, the demo's end, the pages' default periods)
takes it from here, so a server whose system clock runs on UTC still stamps and judges in
the city's time.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

#: The local wall-clock zone timestamps are stored in.
LOCAL_TZ = "Asia/Shanghai"


def local_now() -> dt.datetime:
    """The city's wall-clock time now (naive, in :data:`LOCAL_TZ`)."""
    return dt.datetime.now(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)


def local_time(timestamp: float) -> dt.datetime:
    """The city's wall-clock time (naive) at a POSIX ``timestamp``."""
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)

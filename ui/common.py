"""What every page shares: the language, the database, settings, the period filter, and
a guard that turns any failure into a message in words (never a traceback on screen).

Pages stay thin: they lay out and call ``analytics/``; the cached loaders here are keyed on
the database file's version (inode, mtime), so data a CLI import lands shows at the next
rerun, without a restart.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from analytics.dataspan import DataSpan, anchor_day, date_bounds
from analytics.dataspan import data_span as analytics_data_span
from config.settings import Settings, SettingsError, load_settings, settings_path
from store.clock import local_now
from store.database import (
    DatabaseBusyError,
    DatabaseMissingError,
    database_version,
    db_path,
    read_connection,
)

LANGUAGES = {"zh": "中文", "en": "English"}


def language() -> str:
    """zh (default) or en: the session's choice, else the setting ``ui.language``."""
    lang = st.session_state.get("lang")
    if lang in LANGUAGES:
        return lang
    try:
        lang = current_settings()["ui.language"]
    except SettingsError:
        lang = "zh"
    return lang if lang in LANGUAGES else "zh"


def tr(zh: str, en: str) -> str:
    """The text in the current language."""
    return en if language() == "en" else zh


def db_file() -> str:
    return str(db_path())


def db_version() -> tuple[int, int] | None:
    """(inode, mtime) of the database file: the cache key of every loader."""
    return database_version(db_file())


def current_settings() -> Settings:
    p = settings_path(db_file())
    mtime = p.stat().st_mtime_ns if p.exists() else None
    return _settings(str(p), mtime)


@st.cache_data(show_spinner=False)
def _settings(path: str, mtime: int | None) -> Settings:
    return load_settings(path=path) if mtime is not None else Settings()


def today() -> dt.date:
    """The city's today (local time, Asia/Shanghai), or $GRID_TODAY (YYYY-MM-DD) to pin it
    (demos, tests)."""
    pinned = os.environ.get("GRID_TODAY")
    return dt.date.fromisoformat(pinned) if pinned else local_now().date()


def data_span() -> DataSpan:
    """The dates the database's records cover (cached per database version)."""
    return _data_span(db_file(), db_version())


@st.cache_data(show_spinner=False, max_entries=8)
def _data_span(path: str, version) -> DataSpan:
    with read_connection(path) as conn:
        return analytics_data_span(conn)


def anchor() -> dt.date:
    """The day the default periods end on: today, or the newest record's day when the data
    ends before today (analytics.dataspan.anchor_day)."""
    return anchor_day(today(), data_span())


def day_bounds() -> tuple[dt.date, dt.date]:
    """(min_value, max_value) for a date picker: every day the data covers, up to today."""
    return date_bounds(today(), data_span())


def data_as_of_note() -> None:
    """Say so when the pages show data that ends before today (数据截至 2015-12-31)."""
    day = anchor()
    if day < today():
        st.info(tr(f"数据截至 {day:%Y-%m-%d}（最新一条记录的日期）：默认时段以该日为终点，可选择数据覆盖的任何日期。",
                   f"Data as of {day:%Y-%m-%d} (the newest record's day): the default periods "
                   "end on that day; any date the data covers can be picked."))


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def period_choices(day: dt.date, live: bool = True) -> dict[str, Period]:
    """The periods a page offers, relative to ``day``.

    ``live`` (``day`` is today): 本周 / 上周 / 近4周, ISO weeks, Monday to Sunday. Otherwise
    ``day`` is the newest record's day and every choice ends on it or in the week before:
    数据最后一周 (its ISO week up to ``day``), 其前一周, 数据最后4周 (``day`` − 27 days to
    ``day``).
    """
    monday = day - dt.timedelta(days=day.weekday())
    last = monday - dt.timedelta(days=7)
    if not live:
        return {
            "this_week": Period(monday, day, tr("数据最后一周", "Data's last week")),
            "last_week": Period(last, monday - dt.timedelta(days=1),
                                tr("其前一周", "The week before")),
            "last_4_weeks": Period(day - dt.timedelta(days=27), day,
                                   tr("数据最后4周", "Data's last 4 weeks")),
        }
    return {
        "this_week": Period(monday, day, tr("本周", "This week")),
        "last_week": Period(last, monday - dt.timedelta(days=1), tr("上周", "Last week")),
        "last_4_weeks": Period(monday - dt.timedelta(days=28), monday - dt.timedelta(days=1),
                               tr("近4周", "Last 4 weeks")),
    }


def period_filter(key: str, default: str = "last_4_weeks") -> Period:
    """A period picker in the sidebar: this week, last week, last 4 weeks or custom, ending
    today or, for data that ends before today, on the newest record's day."""
    day = anchor()
    data_as_of_note()
    choices = period_choices(day, live=day >= today())
    labels = {k: p.label for k, p in choices.items()} | {"custom": tr("自定义", "Custom")}
    keys = list(labels)
    # the language is part of the key: a keyed selectbox keeps showing its old labels
    pick = st.sidebar.selectbox(tr("时间范围", "Period"), keys, index=keys.index(default),
                                format_func=labels.get, key=f"{key}_period_{language()}")
    if pick != "custom":
        return choices[pick]
    p = choices[default]
    lo, hi = day_bounds()
    # the anchor is part of the key: data with another last day starts the range afresh
    got = st.sidebar.date_input(tr("起止日期", "From – to"), (p.start, p.end),
                                min_value=lo, max_value=hi,
                                key=f"{key}_custom_{language()}_{day.isoformat()}")
    if isinstance(got, (tuple, list)) and len(got) == 2:
        return Period(got[0], got[1], tr("自定义", "Custom"))
    return p


def guard(body: Callable[[], None]) -> None:
    """Run a page; a missing or busy database, bad settings or any error become words."""
    try:
        body()
    except DatabaseMissingError:
        st.warning(tr("还没有数据库。请先运行 `python cli.py demo` 生成示范城市，或在“数据导入”页导入本市数据。",
                      "There is no database yet. Run `python cli.py demo` for the demo city, "
                      "or import your city's data on the Import page."))
    except DatabaseBusyError:
        st.info(tr("数据库正被其他程序占用，请稍后刷新。", "The database is busy; refresh in a moment."))
    except SettingsError as exc:
        st.error(tr("设置文件有误：", "The settings file has a problem: ") + str(exc))
    except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
        # the details go to the server's log for the administrator, not on screen
        print(traceback.format_exc(), file=sys.stderr)
        st.error(tr("出现错误，本页未能显示：", "Something went wrong; this page could not be shown: ")
                 + str(exc))


#: How a page shows a missing figure or an empty cell (never None, nan or NaT).
EMPTY = "—"


def dataframe(data, **kwargs):
    """``st.dataframe`` with empty cells shown as ``—`` (Streamlit's default is ``None``).

    Every table a page shows goes through here, so none can forget."""
    kwargs.setdefault("placeholder", EMPTY)
    return st.dataframe(data, **kwargs)

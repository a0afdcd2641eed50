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

from store.database import DatabaseBusyError, DatabaseMissingError, database_version, db_path
from store.settings import Settings, SettingsError, load_settings, settings_path

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
    """Today, or $GRID_TODAY (YYYY-MM-DD) to pin it (demos, tests)."""
    pinned = os.environ.get("GRID_TODAY")
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


def period_choices(day: dt.date) -> dict[str, Period]:
    """本周 / 上周 / 近4周 (ISO weeks, Monday to Sunday), relative to ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    last = monday - dt.timedelta(days=7)
    return {
        "this_week": Period(monday, day, tr("本周", "This week")),
        "last_week": Period(last, monday - dt.timedelta(days=1), tr("上周", "Last week")),
        "last_4_weeks": Period(monday - dt.timedelta(days=28), monday - dt.timedelta(days=1),
                               tr("近4周", "Last 4 weeks")),
    }


def period_filter(key: str, default: str = "last_4_weeks") -> Period:
    """A period picker in the sidebar: this week, last week, last 4 weeks or custom."""
    choices = period_choices(today())
    labels = {k: p.label for k, p in choices.items()} | {"custom": tr("自定义", "Custom")}
    keys = list(labels)
    # the language is part of the key: a keyed selectbox keeps showing its old labels
    pick = st.sidebar.selectbox(tr("时间范围", "Period"), keys, index=keys.index(default),
                                format_func=labels.get, key=f"{key}_period_{language()}")
    if pick != "custom":
        return choices[pick]
    p = choices[default]
    got = st.sidebar.date_input(tr("起止日期", "From – to"), (p.start, p.end),
                                key=f"{key}_custom_{language()}")
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

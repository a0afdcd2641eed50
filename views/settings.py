"""设置 Settings (/settings): basemap, language, deadlines, score, wall; saved to settings.toml.

The page edits the settings of :mod:`config.settings` (docs/settings.md) and writes them with
:func:`config.settings.save_settings`, which checks every value and replaces the file
atomically. Labels, help and bounds of the inputs come from the registry
(:data:`config.settings.SETTINGS`); the page only lays them out. The pure helpers (tables in
and out, the basemap value, collecting the form) are tested without a browser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from config.settings import (
    BASEMAPS,
    COMPONENT_LABELS,
    SETTINGS,
    Setting,
    Settings,
    SettingsError,
    check_basemap,
    save_settings,
    settings_path,
)
from ui.common import EMPTY, LANGUAGES, current_settings, db_file, guard, tr

#: The basemap choices of the page; "custom" is an XYZ URL template typed in.
BASEMAP_CHOICES: dict[str, tuple[str, str]] = {
    "none": ("无底图（离线，默认）", "None (offline, default)"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "tianditu": ("天地图（需密钥）", "Tianditu (needs a key)"),
    "amap": ("高德地图", "Amap"),
    "custom": ("自定义 XYZ 瓦片地址", "Custom XYZ tile URL"),
}
#: Composite score components with (zh, en) labels (``analytics.scoring.COMPONENT_LABELS``).
WEIGHT_LABELS: dict[str, tuple[str, str]] = COMPONENT_LABELS
DEFAULTS = {s.name: s.default for s in SETTINGS}
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


# --------------------------------------------------------------------------- helpers

def basemap_choice(value: str) -> tuple[str, str]:
    """(choice of the page, custom template) for a ``map.basemap`` value."""
    return (value, "") if value in BASEMAPS else ("custom", value)


def basemap_value(choice: str, template: str = "") -> str:
    """The ``map.basemap`` value of a choice; a custom template must hold {z}, {x}, {y}."""
    if choice != "custom":
        return choice
    return check_basemap((template or "").strip())


def limits_table(categories: Mapping[str, Any]) -> pd.DataFrame:
    """``deadlines.categories`` as an editable table: category, limit (text)."""
    rows = [(str(k), _limit_text(v)) for k, v in categories.items()]
    return pd.DataFrame(rows, columns=["category", "limit"], dtype=object)


def _limit_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""


def parse_limit_cell(text: Any) -> int | float | str:
    """A limit as typed: ``3`` → 3, ``1.5`` → 1.5, ``"4h"`` stays text (checked on save)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text) if float(text).is_integer() else float(text)
    s = str(text).strip()
    if _NUMBER_RE.match(s):
        f = float(s)
        return int(f) if f.is_integer() else f
    return s


def limits_from_table(table: pd.DataFrame) -> dict[str, int | float | str]:
    """The edited limits table as ``deadlines.categories``; SettingsError naming the row."""
    out: dict[str, int | float | str] = {}
    for i, (cat, limit) in enumerate(zip(table["category"], table["limit"], strict=True), 1):
        if _blank(cat) and _blank(limit):
            continue
        if _blank(cat):
            raise SettingsError(f"deadlines.categories: row {i} has a limit ({limit!r}) but no "
                                "category")
        cat = str(cat).strip()
        if _blank(limit):
            raise SettingsError(f"deadlines.categories, category {cat!r}: no limit given; "
                                "expected working days (such as 3) or hours (such as \"4h\")")
        if cat in out:
            raise SettingsError(f"deadlines.categories: category {cat!r} is listed twice")
        out[cat] = parse_limit_cell(limit)
    return out


def grades_table(grades: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([(str(k), float(v)) for k, v in grades.items()],
                        columns=["grade", "min_score"])


def _num(v: Any) -> int | float:
    f = float(v)
    return int(f) if f.is_integer() else f


def collect_values(current: Mapping[str, Any], *, basemap: str, basemap_template: str = "",
                   tianditu_key: str | None = None, language: str | None = None,
                   default_days: float | None = None, limits: pd.DataFrame | None = None,
                   work_hours: str | None = None, weights: Mapping[str, float] | None = None,
                   grades: Mapping[str, float] | None = None,
                   visits_per_week: float | None = None,
                   stale_minutes: float | None = None) -> dict[str, Any]:
    """Every setting from the form: ``current`` with the values given here replaced.

    Raises SettingsError (naming the setting) for a custom basemap without {z}, {x}, {y}
    or a limits table that cannot be read; the rest is checked by ``save_settings``.
    """
    values = {s.name: current[s.name] if s.name in current else s.default for s in SETTINGS}
    values["map.basemap"] = basemap_value(basemap, basemap_template)
    if tianditu_key is not None:
        values["map.tianditu_key"] = tianditu_key.strip()
    if language is not None:
        values["ui.language"] = language
    if default_days is not None:
        values["deadlines.default_days"] = _num(default_days)
    if limits is not None:
        values["deadlines.categories"] = limits_from_table(limits)
    if work_hours is not None:
        values["deadlines.work_hours"] = work_hours.strip()
    if weights is not None:
        values["score.weights"] = {k: _num(v) for k, v in weights.items()}
    if grades is not None:
        values["score.grades"] = {k: _num(v) for k, v in grades.items()}
    if visits_per_week is not None:
        values["coverage.visits_per_week"] = _num(visits_per_week)
    if stale_minutes is not None:
        values["wall.stale_minutes"] = _num(stale_minutes)
    return values


# --------------------------------------------------------------------------- inputs

def number_input(where: Any, name: str, current: Mapping[str, Any]) -> float:
    """The registry's number input of setting ``name`` (label, help, bounds, key)."""
    s = BY_NAME[name]
    return where.number_input(tr(*s.label), min_value=s.low, max_value=s.high, step=s.step,
                              format="%g", value=float(current[name]), key=s.key,
                              help=tr(*s.help))


def text_input(where: Any, name: str, current: Mapping[str, Any], **kwargs: Any) -> str:
    """The registry's text input of setting ``name`` (label, help, key)."""
    s = BY_NAME[name]
    return where.text_input(tr(*s.label), value=str(current[name]), key=s.key,
                            help=tr(*s.help), **kwargs)


# --------------------------------------------------------------------------- page

def render() -> None:
    st.title(tr("设置", "Settings"))
    guard(_body)


def _body() -> None:
    path = settings_path(db_file())
    try:
        current: Mapping[str, Any] = current_settings()
    except SettingsError as exc:
        st.error(tr("设置文件有误，下面显示的是默认值；保存将覆盖该文件：",
                    "The settings file has a problem; the defaults are shown below, and saving "
                    "replaces the file: ") + str(exc))
        current = Settings()
    saved = st.session_state.pop("set_saved", None)
    if saved:
        st.success(tr("已保存到 ", "Saved to ") + f"`{saved}`")
    st.caption(tr("设置文件：", "Settings file: ") + f"`{path}`"
               + ("" if path.exists() else tr("（尚未创建，当前全部为默认值）",
                                              " (not created yet: every value is the default)")))

    # ---------------------------------------------------------------- basemap
    st.subheader(tr("底图", "Basemap"))
    choice0, template0 = basemap_choice(str(current["map.basemap"]))
    choices = list(BASEMAP_CHOICES)
    labels = {k: tr(*v) for k, v in BASEMAP_CHOICES.items()}
    basemap = st.selectbox(tr(*BY_NAME["map.basemap"].label), choices,
                           index=choices.index(choice0), format_func=labels.get,
                           key=BY_NAME["map.basemap"].key)
    template = ""
    key = str(current["map.tianditu_key"])  # kept when the basemap is not tianditu
    if basemap == "none":
        st.info(tr("离线：不加载任何底图，地图只画区划边界和数据，没有任何请求离开内网。",
                   "Offline: no basemap is loaded; the maps draw boundaries and data only, and "
                   "nothing leaves the intranet."))
    else:
        st.warning(tr("使用在线底图时，浏览器会向瓦片服务器请求地图图片（会离开内网）。选择“无底图”则完全离线。",
                      "With an online basemap the browser requests map tiles from the tile "
                      "server (this leaves the intranet). Choose “None” to stay fully offline."))
    if basemap == "tianditu":
        key = text_input(st, "map.tianditu_key", current, type="password")
        if not key.strip():
            st.caption(tr("没有密钥时天地图瓦片无法加载。", "Without a key Tianditu tiles do not load."))
    elif basemap == "amap":
        st.caption(tr("高德底图为 GCJ-02 坐标：地图上绘制的点和面会从 WGS-84 转换（偏移）到 GCJ-02 "
                      "再叠加，以便与底图对齐；库中数据仍为 WGS-84。",
                      "Amap tiles are in GCJ-02: the points and areas drawn on the map are "
                      "shifted from WGS-84 to GCJ-02 to line up with them; the stored data stay "
                      "WGS-84."))
    elif basemap == "custom":
        template = st.text_input(tr("瓦片地址模板", "Tile URL template"), value=template0,
                                 key="set_template",
                                 placeholder="https://tiles.example.gov.cn/{z}/{x}/{y}.png")
        st.caption(tr("必须包含 {z}、{x}、{y}；内网瓦片服务可保持离线。",
                      "Must contain {z}, {x} and {y}; a tile server on the intranet keeps the "
                      "app offline."))

    # ---------------------------------------------------------------- language
    st.subheader(tr("界面语言", "Language"))
    langs = list(LANGUAGES)
    lang0 = current["ui.language"] if current["ui.language"] in langs else "zh"
    language = st.radio(tr(*BY_NAME["ui.language"].label), langs, index=langs.index(lang0),
                        format_func=LANGUAGES.get, horizontal=True,
                        key=BY_NAME["ui.language"].key)

    # ---------------------------------------------------------------- deadlines
    st.subheader(tr("处置时限", "Handling limits"))
    default_days = number_input(st, "deadlines.default_days", current)
    st.caption(tr("类别 → 时限：填工作日数（如 3），或工作小时（如 4h）。记录没有处置时限时按此计算。",
                  "Category → limit: working days (such as 3) or working hours (such as 4h). "
                  "Used when a record carries no deadline."))
    limits = st.data_editor(
        limits_table(current["deadlines.categories"]), key=BY_NAME["deadlines.categories"].key, num_rows="dynamic",
        hide_index=True, width="stretch", placeholder=EMPTY,
        column_config={
            "category": st.column_config.TextColumn(tr("类别（大类或小类）", "Category (or subcategory)")),
            "limit": st.column_config.TextColumn(tr("时限", "Limit"),
                                                 help=tr("工作日数，或如 4h 的工作小时",
                                                         "working days, or working hours as 4h")),
        })
    work_hours = text_input(st, "deadlines.work_hours", current)

    # ---------------------------------------------------------------- score
    st.subheader(tr("综合评分", "Composite score"))
    st.caption(tr("权重为任意非负数，按比例折算；等级为各等级的最低分，低于 D 为 E。",
                  "Weights are any numbers ≥ 0 (normalised); each grade is its lowest score, "
                  "below D is E."))
    cur_w = dict(current["score.weights"])
    wcols = st.columns(len(WEIGHT_LABELS))
    weights = {}
    for col, (k, lab) in zip(wcols, WEIGHT_LABELS.items(), strict=True):
        weights[k] = col.number_input(tr(*lab), min_value=0.0, max_value=1000.0, step=1.0, format="%g",
                                      value=float(cur_w.get(k, 0)),
                                      key=f"{BY_NAME['score.weights'].key}_{k}")
    for k, v in cur_w.items():  # a component the page does not know: kept as it is
        weights.setdefault(k, v)
    cur_g = dict(current["score.grades"])
    gcols = st.columns(max(len(cur_g), 1))
    grades = {}
    for col, (g, v) in zip(gcols, cur_g.items(), strict=False):
        grades[g] = col.number_input(tr(f"{g} 级最低分", f"Lowest score of {g}"), min_value=0.0,
                                     max_value=100.0, step=1.0, format="%g", value=float(v),
                                     key=f"{BY_NAME['score.grades'].key}_{g}")

    # ---------------------------------------------------------------- coverage, wall
    st.subheader(tr("督查覆盖与大屏", "Coverage and wall screen"))
    c1, c2 = st.columns(2)
    visits = number_input(c1, "coverage.visits_per_week", current)
    stale = number_input(c2, "wall.stale_minutes", current)

    st.divider()
    if st.button(tr("保存设置", "Save settings"), type="primary", key="set_save"):
        try:
            values = collect_values(
                current, basemap=basemap, basemap_template=template, tianditu_key=key,
                language=language, default_days=default_days, limits=limits,
                work_hours=work_hours, weights=weights, grades=grades,
                visits_per_week=visits, stale_minutes=stale)
            written = save_settings(values, path=path)
        except SettingsError as exc:
            st.error(tr("设置未保存，有一项不正确：", "Not saved; a value is not valid: ") + str(exc))
        except OSError as exc:
            st.error(tr("设置文件无法写入：", "The settings file could not be written: ") + str(exc))
        else:
            st.session_state["set_saved"] = str(written)
            st.session_state["lang"] = values["ui.language"]
            st.session_state.pop("lang_choice", None)  # the sidebar's picker follows
            st.rerun()

"""The Settings page (views/settings.py) under streamlit.testing: it renders, saves a changed
basemap and deadlines to the settings file named by $GRID_SETTINGS (which then loads with
load_settings), refuses invalid values with a message naming the setting, and its pure
helpers work without a browser.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from config.settings import DEFAULT_LIMITS, SETTINGS, SettingsError, load_settings, save_settings

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from views import settings as page  # noqa: E402

DEFAULTS = {s.name: s.default for s in SETTINGS}


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    settings = tmp_path / "conf" / "settings.toml"
    settings.parent.mkdir()
    monkeypatch.setenv("GRID_DB", str(tmp_path / "grid.duckdb"))
    monkeypatch.setenv("GRID_SETTINGS", str(settings))
    script = tmp_path / "settings_page.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from views.settings import render\n"
        "render()\n", encoding="utf-8")
    return settings, script


def _app(script: Path) -> AppTest:
    at = AppTest.from_file(str(script), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _save(at: AppTest) -> AppTest:
    at.button(key="set_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_renders_with_the_defaults_and_the_offline_note(app_env):
    settings, script = app_env
    at = _app(script)
    assert at.title[0].value == "设置"
    assert not at.error
    assert at.selectbox(key="set_basemap").value == "none"
    assert any("内网" in i.value for i in at.info)  # with no basemap nothing leaves the intranet
    assert any(str(settings) in c.value for c in at.caption)
    limits = at.data_editor[0].value
    assert dict(zip(limits["category"], limits["limit"], strict=True)) == {
        k: str(v) for k, v in DEFAULT_LIMITS.items()}
    assert at.number_input(key="set_default_days").value == 5
    assert not settings.exists()


def test_saving_a_changed_basemap_and_deadlines(app_env):
    settings, script = app_env
    at = _app(script)
    at.selectbox(key="set_basemap").set_value("osm")
    at.number_input(key="set_default_days").set_value(3)
    at.text_input(key="set_work_hours").set_value("08:30-12:00,13:30-17:30")
    at.session_state["set_limits"] = {
        "edited_rows": {0: {"limit": "2"}, 2: {"limit": "4h"}},
        "added_rows": [{"category": "占道经营", "limit": "1.5"}],
        "deleted_rows": [7]}
    at.run()
    assert not at.exception
    _save(at)
    assert not at.error, [e.value for e in at.error]
    assert settings.exists()
    assert any(str(settings) in s.value for s in at.success)
    loaded = load_settings(path=settings)
    assert loaded["map.basemap"] == "osm"
    assert loaded["deadlines.default_days"] == 3
    assert loaded["deadlines.work_hours"] == "08:30-12:00,13:30-17:30"
    expected = dict(DEFAULT_LIMITS)
    first, third, last = list(DEFAULT_LIMITS)[0], list(DEFAULT_LIMITS)[2], list(DEFAULT_LIMITS)[7]
    expected[first], expected[third] = 2, "4h"
    del expected[last]
    expected["占道经营"] = 1.5
    assert loaded["deadlines.categories"] == expected
    # everything else stays the default, and only changed keys are in the file
    assert loaded["score.weights"] == DEFAULTS["score.weights"]
    text = settings.read_text(encoding="utf-8")
    assert "score" not in text and "wall" not in text

    # a fresh session shows the saved values
    at2 = _app(script)
    assert at2.selectbox(key="set_basemap").value == "osm"
    assert at2.number_input(key="set_default_days").value == 3
    assert "占道经营" in list(at2.data_editor[0].value["category"])


def test_tianditu_key_custom_template_and_amap_note(app_env):
    settings, script = app_env
    at = _app(script)
    at.selectbox(key="set_basemap").set_value("tianditu").run()
    at.text_input(key="set_tianditu_key").set_value("abc123").run()
    _save(at)
    s = load_settings(path=settings)
    assert (s["map.basemap"], s["map.tianditu_key"]) == ("tianditu", "abc123")

    at.selectbox(key="set_basemap").set_value("amap").run()
    assert any("GCJ-02" in c.value for c in at.caption)
    assert any("内网" in w.value for w in at.warning)

    at.selectbox(key="set_basemap").set_value("custom").run()
    at.text_input(key="set_template").set_value("https://tiles.city.gov.cn/{z}/{x}/{y}.png").run()
    _save(at)
    assert load_settings(path=settings)["map.basemap"] == \
        "https://tiles.city.gov.cn/{z}/{x}/{y}.png"
    assert load_settings(path=settings)["map.tianditu_key"] == "abc123"  # kept


def test_a_template_without_placeholders_is_refused_naming_the_setting(app_env):
    settings, script = app_env
    at = _app(script)
    at.selectbox(key="set_basemap").set_value("custom").run()
    at.text_input(key="set_template").set_value("https://tiles.city.gov.cn/{z}/{x}.png").run()
    _save(at)
    assert at.error and "map.basemap" in at.error[0].value and "{y}" in at.error[0].value
    assert not settings.exists()


@pytest.mark.parametrize(("edit", "name"), [
    ({"edited_rows": {0: {"limit": "4x"}}, "added_rows": [], "deleted_rows": []},
     "deadlines.categories"),
    ({"edited_rows": {}, "added_rows": [{"category": None, "limit": "3"}], "deleted_rows": []},
     "deadlines.categories"),
    ({"edited_rows": {1: {"category": list(DEFAULT_LIMITS)[0]}}, "added_rows": [],
      "deleted_rows": []}, "listed twice"),
])
def test_invalid_limits_are_refused_naming_the_setting(app_env, edit, name):
    settings, script = app_env
    at = _app(script)
    at.session_state["set_limits"] = edit
    at.run()
    _save(at)
    assert at.error and name in at.error[0].value
    assert not settings.exists()


def test_invalid_work_hours_and_weights_are_refused(app_env):
    settings, script = app_env
    at = _app(script)
    at.text_input(key="set_work_hours").set_value("9-12").run()
    _save(at)
    assert "deadlines.work_hours" in at.error[0].value
    at.text_input(key="set_work_hours").set_value("09:00-12:00").run()
    for k in page.WEIGHT_LABELS:
        at.number_input(key=f"set_w_{k}").set_value(0)
    at.run()
    _save(at)
    assert "score.weights" in at.error[0].value
    assert not settings.exists()


def test_saving_the_language_switches_the_session(app_env):
    settings, script = app_env
    at = _app(script)
    at.radio(key="set_language").set_value("en").run()
    _save(at)
    assert at.session_state["lang"] == "en"
    assert at.title[0].value == "Settings"
    assert load_settings(path=settings)["ui.language"] == "en"


def test_a_broken_settings_file_is_shown_and_can_be_replaced(app_env):
    settings, script = app_env
    settings.write_text("[map]\nbasemap = 3\n", encoding="utf-8")
    at = _app(script)
    assert at.error and "map.basemap" in at.error[0].value
    assert at.selectbox(key="set_basemap").value == "none"  # the defaults are shown
    _save(at)
    assert load_settings(path=settings)["map.basemap"] == "none"


def test_settings_saved_elsewhere_show_on_the_page(app_env):
    settings, script = app_env
    save_settings({**DEFAULTS, "map.basemap": "amap", "wall.stale_minutes": 15,
                   "score.grades": {"A": 95, "B": 80, "C": 60, "D": 45}}, path=settings)
    at = _app(script)
    assert at.selectbox(key="set_basemap").value == "amap"
    assert at.number_input(key="set_stale").value == 15
    assert at.number_input(key="set_g_A").value == 95


# --------------------------------------------------------------------------- pure helpers

def test_limits_table_round_trip():
    table = page.limits_table({"暴露垃圾": 1, "井盖缺失": "4h", "私搭乱建": 15.0, "a": 1.5})
    assert list(table["limit"]) == ["1", "4h", "15", "1.5"]
    assert page.limits_from_table(table) == {"暴露垃圾": 1, "井盖缺失": "4h", "私搭乱建": 15,
                                             "a": 1.5}
    blank = pd.DataFrame({"category": [" 道路积水 ", None, ""], "limit": [" 2 ", None, " "]})
    assert page.limits_from_table(blank) == {"道路积水": 2}
    with pytest.raises(SettingsError, match="道路积水.*no limit"):
        page.limits_from_table(pd.DataFrame({"category": ["道路积水"], "limit": [""]}))


def test_basemap_value():
    assert page.basemap_value("osm", "ignored") == "osm"
    assert page.basemap_choice("https://x/{z}/{x}/{y}") == ("custom", "https://x/{z}/{x}/{y}")
    assert page.basemap_choice("none") == ("none", "")
    with pytest.raises(SettingsError, match="map.basemap"):
        page.basemap_value("custom", "https://x/{z}/{y}")
    with pytest.raises(SettingsError, match="map.basemap"):
        page.basemap_value("custom", "")


def test_collect_values_keeps_what_the_form_does_not_show():
    current = {**DEFAULTS, "score.weights": {"on_time_rate": 1, "closure_rate": 1}}
    values = page.collect_values(current, basemap="none", default_days=2.0,
                                 weights={"on_time_rate": 3.0, "closure_rate": 1.5},
                                 stale_minutes=30.0)
    assert values["deadlines.default_days"] == 2 and isinstance(values["deadlines.default_days"], int)
    assert values["score.weights"] == {"on_time_rate": 3, "closure_rate": 1.5}
    assert values["wall.stale_minutes"] == 30
    assert values["deadlines.categories"] == DEFAULT_LIMITS

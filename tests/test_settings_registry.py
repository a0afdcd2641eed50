"""The settings registry (config/settings.py): defaults and rules defined once, labels drawn.

The defaults of the analytic settings are the analytics modules' own constants (the very
objects, not copies), each rule of meaning gives the same message through the registry as
in the module that defines it, the statistics give the same numbers with no settings as
with the registry's defaults, and the Settings page labels its inputs from the registry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from analytics import coverage, deadlines, scoring
from config.settings import SETTINGS, Settings, SettingsError, validate_settings

BY_NAME = {s.name: s for s in SETTINGS}
DEFAULTS = {s.name: s.default for s in SETTINGS}


def test_analytic_defaults_are_the_modules_own_objects():
    for module in (deadlines, scoring):
        for name, value in module.DEFAULT_SETTINGS.items():
            assert BY_NAME[name].default is value, name
    assert BY_NAME["deadlines.default_days"].default == deadlines.DEFAULT_DAYS == 5
    assert BY_NAME["coverage.visits_per_week"].default == coverage.visits_per_week(None) == 1
    assert BY_NAME["deadlines.work_hours"].default == "09:00-12:00,14:00-18:00"
    assert sum(scoring.DEFAULT_WEIGHTS.values()) == 100
    assert tuple(scoring.DEFAULT_WEIGHTS) == scoring.COMPONENTS


def test_no_settings_and_the_registry_defaults_give_the_same_deadlines_and_scores():
    assert deadlines.limits_from_settings(None) == deadlines.limits_from_settings(Settings())
    recv = np.array(["2026-11-20T10:00", "2026-11-21T09:30"], dtype="datetime64[s]")
    none = np.full(2, np.datetime64("NaT"), dtype="datetime64[s]")
    a = deadlines.fill_due_at(recv, ["井盖缺失", "私搭乱建"], none, None)
    b = deadlines.fill_due_at(recv, ["井盖缺失", "私搭乱建"], none, Settings())
    np.testing.assert_array_equal(a.due_at, b.due_at)
    # 2026-11-20 is a Friday: one working day later is Monday 23rd, 10:00
    assert a.due_at[0] == np.datetime64("2026-11-23T10:00")

    table = pd.DataFrame({"open": [4], "overdue": [1], "filed": [10], "due_in_period": [5],
                          "closed_in_period": [6], "on_time_rate": [0.8],
                          "closure_rate": [0.5], "rework_rate": [0.25]})
    expected = (40 * 0.8 + 30 * 0.5 + 15 * 0.75 + 15 * 0.75) / 100 * 100
    for settings in (None, {}, Settings()):
        assert scoring.score_table(table, settings)["score"].iloc[0] == pytest.approx(expected)
    assert scoring.grade_scores(pd.Series([expected]), None).tolist() == ["C"]   # 60 ≤ 70 < 75


@pytest.mark.parametrize("name, value, rule", [
    ("score.weights", {"speed": 1}, scoring.check_weights),
    ("score.weights", {"on_time_rate": -1, "closure_rate": 2}, scoring.check_weights),
    ("score.weights", {"on_time_rate": 0}, scoring.check_weights),
    ("score.grades", {"A": 101}, scoring.check_grades),
    ("score.grades", {" ": 50}, scoring.check_grades),
    ("coverage.visits_per_week", 1.5,
     lambda v: coverage.visits_per_week({"coverage.visits_per_week": v})),
    ("coverage.visits_per_week", 0,
     lambda v: coverage.visits_per_week({"coverage.visits_per_week": v})),
])
def test_one_rule_one_message(name, value, rule):
    """The registry refuses with the very message of the module that owns the rule."""
    with pytest.raises(ValueError) as own:
        rule(value)
    with pytest.raises(SettingsError) as reg:
        validate_settings({**DEFAULTS, name: value})
    assert str(reg.value) == str(own.value)
    assert name in str(reg.value)


def test_scoring_refuses_what_the_registry_refuses():
    table = pd.DataFrame({"open": [1], "overdue": [0], "filed": [1], "due_in_period": [1],
                          "closed_in_period": [1], "on_time_rate": [1.0],
                          "closure_rate": [1.0], "rework_rate": [0.0]})
    with pytest.raises(scoring.ScoreError, match="score.weights.on_time_rate"):
        scoring.score_table(table, {"score.weights": {"on_time_rate": -1, "no_rework": 1}})


def test_every_setting_has_labels_help_and_a_page_key():
    keys = [s.key for s in SETTINGS]
    assert len(set(keys)) == len(keys)
    for s in SETTINGS:
        assert s.kind in ("number", "text", "choice", "table"), s.name
        assert all(x.strip() for x in (*s.label, *s.help)), s.name
        if s.kind == "number":
            assert s.low is not None and s.high is not None and s.low <= s.default <= s.high


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_labels_its_inputs_from_the_registry(tmp_path, monkeypatch, lang):
    pytest.importorskip("streamlit.testing.v1")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRID_DB", str(tmp_path / "grid.duckdb"))
    monkeypatch.setenv("GRID_SETTINGS", str(tmp_path / "settings.toml"))
    script = Path(tmp_path / "page.py")
    script.write_text("import sys\n"
                      f"sys.path.insert(0, {str(ROOT)!r})\n"
                      "import streamlit as st\n"
                      f"st.session_state['lang'] = {lang!r}\n"
                      "from views.settings import render\n"
                      "render()\n", encoding="utf-8")
    at = AppTest.from_file(str(script), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    i = 0 if lang == "zh" else 1
    shown = 0
    for s in SETTINGS:
        if s.kind == "number":
            w = at.number_input(key=s.key)
        elif s.kind == "text" and s.name != "map.tianditu_key":   # shown for tianditu only
            w = at.text_input(key=s.key)
        else:
            continue
        assert (w.label, w.help) == (s.label[i], s.help[i]), s.name
        if s.kind == "number":
            assert (w.min, w.max, w.step) == (s.low, s.high, s.step), s.name
        assert w.value == s.default
        shown += 1
    assert shown == 4
    assert at.selectbox(key=BY_NAME["map.basemap"].key).label == BY_NAME["map.basemap"].label[i]
    assert at.radio(key=BY_NAME["ui.language"].key).label == BY_NAME["ui.language"].label[i]

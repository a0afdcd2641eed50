"""save_settings: the Settings page's writer (config/settings.py).

Round trip through load_settings, only non-default keys in the file, atomic replacement,
and refusal of invalid values with a message naming the setting (the file left as it was).
"""

from __future__ import annotations

import tomllib

import pytest
from conftest import sha256_of

from config.settings import (
    SETTINGS,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    settings_path,
    validate_settings,
)

DEFAULTS = {s.name: s.default for s in SETTINGS}


def _changed(**kv) -> dict:
    values = dict(DEFAULTS)
    values.update({k.replace("__", "."): v for k, v in kv.items()})
    return values


def test_round_trip_of_every_kind_of_value(tmp_path):
    path = tmp_path / "settings.toml"
    values = _changed(
        map__basemap="https://tiles.example.gov.cn/{z}/{x}/{y}.png",
        map__tianditu_key='k"\\ey',
        ui__language="en",
        deadlines__default_days=3,
        deadlines__categories={"暴露垃圾": 2, "井盖缺失": "4h", "道路 不洁": 1.5, "a.b": 7},
        deadlines__work_hours="08:30-12:00,13:30-17:30",
        score__weights={"on_time_rate": 50, "closure_rate": 30, "no_rework": 20,
                        "not_overdue": 0},
        score__grades={"A": 95, "B": 80, "C": 60, "D": 45.5},
        coverage__visits_per_week=2,
        wall__stale_minutes=15,
    )
    written = save_settings(values, path=path)
    assert written == path
    loaded = load_settings(path=path)
    assert dict(loaded) == values
    assert loaded.source == str(path)


def test_only_values_that_differ_from_the_defaults_are_written(tmp_path):
    path = tmp_path / "settings.toml"
    save_settings(_changed(map__basemap="osm", deadlines__default_days=5.0), path=path)
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert doc == {"map": {"basemap": "osm"}}
    save_settings(DEFAULTS, path=path)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {}
    assert dict(load_settings(path=path)) == DEFAULTS


def test_a_changed_table_replaces_the_builtin_table_as_a_whole(tmp_path):
    path = tmp_path / "settings.toml"
    save_settings(_changed(deadlines__categories={"私搭乱建": 10}), path=path)
    assert load_settings(path=path)["deadlines.categories"] == {"私搭乱建": 10}
    save_settings(_changed(deadlines__categories={}), path=path)
    assert load_settings(path=path)["deadlines.categories"] == {}


def test_settings_not_named_take_their_default(tmp_path):
    path = tmp_path / "settings.toml"
    save_settings(_changed(wall__stale_minutes=5), path=path)
    save_settings({"map.basemap": "amap"}, path=path)
    s = load_settings(path=path)
    assert s["map.basemap"] == "amap" and s["wall.stale_minutes"] == 60
    # keeping the rest is explicit
    save_settings({**s, "ui.language": "en"}, path=path)
    assert load_settings(path=path)["map.basemap"] == "amap"


def test_where_the_file_goes(tmp_path, monkeypatch):
    monkeypatch.delenv("GRID_SETTINGS", raising=False)
    db = tmp_path / "data" / "grid.duckdb"
    written = save_settings(_changed(map__basemap="osm"), db=db)
    assert written == tmp_path / "data" / "settings.toml" == settings_path(db)
    monkeypatch.setenv("GRID_SETTINGS", str(tmp_path / "elsewhere.toml"))
    assert save_settings(_changed(map__basemap="osm")) == tmp_path / "elsewhere.toml"
    assert load_settings()["map.basemap"] == "osm"


@pytest.mark.parametrize(("change", "names"), [
    ({"map.basemap": "https://t.example/{z}/{x}.png"}, "map.basemap"),
    ({"map.basemap": "google"}, "map.basemap"),
    ({"ui.language": "fr"}, "ui.language"),
    ({"deadlines.default_days": -1}, "deadlines.default_days"),
    ({"deadlines.default_days": "5"}, "deadlines.default_days"),
    ({"deadlines.categories": {"暴露垃圾": "4x"}}, "deadlines.categories"),
    ({"deadlines.categories": {"暴露垃圾": True}}, "deadlines.categories"),
    ({"deadlines.categories": "暴露垃圾=1"}, "deadlines.categories"),
    ({"deadlines.work_hours": "9-12"}, "deadlines.work_hours"),
    ({"deadlines.work_hours": "14:00-18:00,09:00-12:00"}, "deadlines.work_hours"),
    ({"score.weights": {"on_time_rate": 0, "closure_rate": 0}}, "score.weights"),
    ({"score.weights": {"speed": 10}}, "score.weights"),
    ({"score.weights": {"on_time_rate": -5, "closure_rate": 10}}, "score.weights"),
    ({"score.grades": {"A": 120}}, "score.grades"),
    ({"wall.stale_minutes": 0}, "wall.stale_minutes"),
    ({"coverage.visits_per_week": -1}, "coverage.visits_per_week"),
    ({"wall.unknown": 1}, "wall.unknown"),
])
def test_invalid_values_are_refused_naming_the_setting(tmp_path, change, names):
    path = tmp_path / "settings.toml"
    save_settings(_changed(map__basemap="osm"), path=path)
    before = sha256_of(path)
    with pytest.raises(SettingsError, match=names.replace(".", r"\.")):
        save_settings({**DEFAULTS, **change}, path=path)
    assert sha256_of(path) == before, "a refused save must leave the file as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_save_replaces_the_file_atomically(tmp_path, monkeypatch):
    """The new text goes to a temporary file beside the target, then os.replace."""
    import os

    path = tmp_path / "settings.toml"
    save_settings(_changed(map__basemap="osm"), path=path)
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((str(src), str(dst)))
        assert load_settings(path=path)["map.basemap"] == "osm"  # old file still whole
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save_settings(_changed(map__basemap="amap"), path=path)
    assert len(calls) == 1 and calls[0][1] == str(path)
    assert os.path.dirname(calls[0][0]) == str(tmp_path)
    assert load_settings(path=path)["map.basemap"] == "amap"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    import os

    path = tmp_path / "settings.toml"
    save_settings(_changed(map__basemap="osm"), path=path)
    before = sha256_of(path)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_settings(_changed(map__basemap="amap"), path=path)
    assert sha256_of(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_validate_settings_accepts_the_defaults_and_the_documented_example():
    assert dict(validate_settings(DEFAULTS)) == DEFAULTS
    s = validate_settings({"deadlines.categories": {"暴露垃圾": 1, "井盖缺失": "4h"},
                           "score.weights": {"on_time_rate": 50, "closure_rate": 30,
                                             "no_rework": 20}})
    assert isinstance(s, Settings)

"""Settings: one registry of every setting (name, default, help), read from a TOML file.

The file is ``settings.toml`` beside the database (``data/settings.toml`` by default), or
the path in ``$GRID_SETTINGS``, or the one passed in. A missing file means every default;
an unknown key or a value of the wrong kind is refused with the file, the key and what was
expected (the habit of datasette's ``SETTINGS``). ``docs/settings.md`` lists them all, and a
test keeps that page in step with :data:`SETTINGS`.

Keys are dotted: ``deadlines.default_days`` is ``default_days`` in the TOML table
``[deadlines]``; table-valued settings (``deadlines.categories``, ``score.weights``) are
whole tables.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One setting: dotted name, default value and a line of help."""

    name: str
    default: Any
    help: str


#: Handling limits of the national standard's common event categories, in working days
#: (a string such as "4h" is working hours). Cities override them in settings.toml.
DEFAULT_LIMITS: dict[str, int | str] = {
    "暴露垃圾": 1, "积存垃圾渣土": 3, "道路不洁": 1, "私搭乱建": 15,
    "井盖缺失": 1, "路面塌陷": 1, "道路积水": 1, "管道破裂": 1,
}

SETTINGS: tuple[Setting, ...] = (
    Setting("deadlines.default_days", 5,
            "handling limit in working days for a category not listed (contract: 5)"),
    Setting("deadlines.categories", DEFAULT_LIMITS,
            "category = working days (a number) or working hours (a string like \"4h\"); "
            "used when a record has no deadline"),
    Setting("deadlines.work_hours", "09:00-12:00,14:00-18:00",
            "working hours of a working day, for limits given in hours"),
    Setting("score.weights", {"on_time_rate": 40, "closure_rate": 30, "no_rework": 15,
                              "not_overdue": 15},
            "weights of the composite score (any positive numbers; they are normalised)"),
    Setting("score.grades", {"A": 90, "B": 75, "C": 60, "D": 40},
            "lowest score of each grade; below D is E"),
    Setting("coverage.visits_per_week", 1,
            "inspections each point is due per ISO week"),
    Setting("map.basemap", "none",
            "basemap of the maps: none | osm | tianditu | amap | an XYZ URL template"),
    Setting("map.tianditu_key", "", "Tianditu key, when map.basemap = tianditu"),
    Setting("ui.language", "zh", "interface language: zh | en"),
    Setting("wall.stale_minutes", 60,
            "the wall screen warns when its data is older than this"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A settings file that cannot be used: unreadable TOML, unknown key, wrong kind."""


def settings_path(db: str | os.PathLike[str] | None = None,
                  path: str | os.PathLike[str] | None = None) -> Path:
    """Where settings are read: ``path``, else $GRID_SETTINGS, else settings.toml by the DB."""
    if path:
        return Path(path)
    if os.environ.get("GRID_SETTINGS"):
        return Path(os.environ["GRID_SETTINGS"])
    from store.database import db_path

    return db_path(db).parent / "settings.toml"


def _flatten(table: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if name in _BY_NAME:
            out[name] = value
        elif isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _check(name: str, value: Any, where: str) -> Any:
    if name not in _BY_NAME:
        known = ", ".join(sorted(_BY_NAME))
        raise SettingsError(f"{where}: unknown setting {name!r}; known settings: {known}")
    default = _BY_NAME[name].default
    if isinstance(default, bool) or not isinstance(default, (int, float, str, dict)):
        return value
    if isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where}: {name} must be a table, got {value!r}")
        return dict(value)
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"{where}: {name} must be a number, got {value!r}")
        return value
    if not isinstance(value, str):
        raise SettingsError(f"{where}: {name} must be text, got {value!r}")
    return value


class Settings(Mapping):
    """Every setting's value: the file's where it gives one, else the default."""

    def __init__(self, values: Mapping[str, Any] | None = None, source: str | None = None):
        self.source = source
        self._values = {s.name: s.default for s in SETTINGS}
        for name, value in (values or {}).items():
            self._values[name] = _check(name, value, source or "settings")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def with_values(self, **values: Any) -> Settings:
        """A copy with some values changed (keys with ``__`` for dots)."""
        merged = {k: v for k, v in self._values.items()}
        merged.update({k.replace("__", "."): v for k, v in values.items()})
        return Settings(merged, self.source)


def load_settings(db: str | os.PathLike[str] | None = None,
                  path: str | os.PathLike[str] | None = None) -> Settings:
    """Read the settings file (see :func:`settings_path`); defaults when there is none."""
    p = settings_path(db, path)
    if not p.exists():
        if path:
            raise SettingsError(f"{p}: settings file not found")
        return Settings(source=None)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not a readable TOML file ({exc})") from None
    return Settings(_flatten(doc), source=str(p))

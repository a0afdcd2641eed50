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

import contextlib
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
            "handling limit in working days for a category not listed (default: 5)"),
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


# --------------------------------------------------------------------------- saving

#: Basemaps known by name; anything else must be an XYZ URL template.
BASEMAPS = ("none", "osm", "tianditu", "amap")
LANGUAGE_CODES = ("zh", "en")
#: The placeholders an XYZ tile URL template must carry.
XYZ_PLACEHOLDERS = ("{z}", "{x}", "{y}")


def check_basemap(value: str) -> str:
    """``value`` if it is a known basemap or a usable XYZ template, else SettingsError."""
    if value in BASEMAPS:
        return value
    text = value.strip()
    missing = [p for p in XYZ_PLACEHOLDERS if p not in text]
    if missing or not text.lower().startswith(("http://", "https://", "/")):
        raise SettingsError(
            f"map.basemap: {value!r} is neither one of {', '.join(BASEMAPS)} nor a tile URL "
            "template starting with http://, https:// or / that contains {z}, {x} and {y}"
            + (f" (missing {', '.join(missing)})" if missing else ""))
    return text


def _number(name: str, value: Any, low: float | None = None, high: float | None = None,
            above: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise SettingsError(f"{name} must be a number, got {value!r}")
    if low is not None and (value <= low if above else value < low):
        raise SettingsError(f"{name} must be {'above' if above else 'at least'} {low}, "
                            f"got {value!r}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high}, got {value!r}")


def validate_settings(values: Mapping[str, Any], where: str = "settings") -> Settings:
    """Every setting checked for kind (as when loading) and for meaning; else SettingsError.

    Beyond the loading checks (known key, right kind): the deadlines read as limits and
    working hours (:mod:`analytics.deadlines`), score weights are known components with
    numbers ≥ 0 (one above 0), grade bands lie in 0–100, the basemap is known or an XYZ
    template with {z}, {x} and {y}, the language is zh or en, counts are not negative.
    The message names the setting.
    """
    s = Settings(values, source=where)
    from analytics.deadlines import DeadlineError, limits_from_settings

    try:
        limits_from_settings(s)
    except DeadlineError as exc:
        msg = str(exc)
        raise SettingsError(msg if "deadlines." in msg else f"deadlines.work_hours: {msg}") from None
    weights = s["score.weights"]
    known = ("on_time_rate", "closure_rate", "no_rework", "not_overdue")
    for k, v in weights.items():
        if k not in known:
            raise SettingsError(f"score.weights: unknown component {k!r}; components: "
                                + ", ".join(known))
        _number(f"score.weights.{k}", v, 0)
    if not any(v > 0 for v in weights.values()):
        raise SettingsError("score.weights: at least one weight must be above 0")
    for k, v in s["score.grades"].items():
        if not str(k).strip():
            raise SettingsError("score.grades: a grade needs a name")
        _number(f"score.grades.{k}", v, 0, 100)
    _number("coverage.visits_per_week", s["coverage.visits_per_week"], 0)
    _number("wall.stale_minutes", s["wall.stale_minutes"], 0, above=True)
    check_basemap(s["map.basemap"])
    if s["ui.language"] not in LANGUAGE_CODES:
        raise SettingsError(f"ui.language must be zh or en, got {s['ui.language']!r}")
    return s


def _toml_key(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        return key
    return _toml_string(key)


def _toml_string(text: str) -> str:
    out = []
    for c in str(text):
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c < " " or c == "\x7f":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, f"\\u{ord(c):04x}"))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _toml_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SettingsError(f"{name} must be a finite number, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    raise SettingsError(f"{name}: cannot write {value!r} ({type(value).__name__}) to TOML")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return dict(a) == dict(b)
    def is_number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if is_number(a) and is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def settings_toml(values: Mapping[str, Any]) -> str:
    """TOML text holding the settings of ``values`` that differ from their defaults."""
    s = Settings(values)
    changed = {x.name: s[x.name] for x in SETTINGS if not _same(s[x.name], x.default)}
    plain: dict[str, dict[str, Any]] = {}
    tables: dict[str, Mapping] = {}
    for name, value in changed.items():
        table, _, key = name.rpartition(".")
        if isinstance(value, Mapping):
            tables[name] = value
        else:
            plain.setdefault(table, {})[key] = value
    lines = ["# Settings of the grid-management app (docs/settings.md). Only the values that",
             "# differ from the defaults are written; a setting not listed takes its default."]
    for table in dict.fromkeys([n.rpartition(".")[0] for n in changed]):
        if table in plain:
            lines += ["", f"[{'.'.join(_toml_key(p) for p in table.split('.'))}]"]
            lines += [f"{_toml_key(k)} = {_toml_value(f'{table}.{k}', v)}"
                      for k, v in plain[table].items()]
        for name, value in tables.items():
            if name.rpartition(".")[0] == table:
                lines += ["", f"[{'.'.join(_toml_key(p) for p in name.split('.'))}]"]
                lines += [f"{_toml_key(str(k))} = {_toml_value(f'{name}.{k}', v)}"
                          for k, v in value.items()]
    return "\n".join(lines) + "\n"


def save_settings(values: Mapping[str, Any], db: str | os.PathLike[str] | None = None,
                  path: str | os.PathLike[str] | None = None) -> Path:
    """Check ``values`` and write them to the settings file atomically; return its path.

    Parameters
    ----------
    values : Mapping
        Dotted setting name -> value, as a :class:`Settings` holds them. A setting not
        named takes its default (pass ``{**load_settings(), **changes}`` to keep the rest).
    db, path
        Where the file goes, as for :func:`settings_path`.

    Only the values that differ from the defaults are written. The text is written to a
    temporary file beside the target, read back and checked, then moved over the target
    with ``os.replace`` (a reader sees the old file or the new one, never half of one).

    Raises
    ------
    SettingsError
        Naming the setting, for an unknown key or a value of the wrong kind or meaning
        (:func:`validate_settings`); the file is then left as it was.
    """
    import tempfile

    p = settings_path(db, path)
    validate_settings(values, where=str(p))
    text = settings_toml(values)
    try:
        back = Settings(_flatten(tomllib.loads(text)), source=str(p))
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug in settings_toml
        raise SettingsError(f"{p}: could not write the settings as TOML ({exc})") from None
    expected = Settings(values)
    bad = [n for n in back if not _same(back[n], expected[n])]
    if bad:  # pragma: no cover - a bug in settings_toml
        raise SettingsError(f"{p}: {bad[0]} would not read back as written")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if p.exists():
            os.chmod(tmp, p.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return p

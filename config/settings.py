"""Settings: one registry of every setting (name, default, check, labels), read from TOML.

The file is ``settings.toml`` beside the database (``data/settings.toml`` by default), or
the path in ``$GRID_SETTINGS``, or the one passed in. A missing file means every default;
an unknown key or a value of the wrong kind is refused with the file, the key and what was
expected (the habit of datasette's ``SETTINGS``). ``docs/settings.md`` lists them all, and a
test keeps that page in step with :data:`SETTINGS`.

Keys are dotted: ``deadlines.default_days`` is ``default_days`` in the TOML table
``[deadlines]``; table-valued settings (``deadlines.categories``, ``score.weights``) are
whole tables.

This package sits above ``analytics`` (docs/architecture.md, "Layers"): the defaults and
rules of the analytic settings are defined once in their modules (``analytics.deadlines``,
``analytics.scoring``, ``analytics.coverage``) and referred to here; analytics takes the
values as a plain mapping and never imports this module. The Settings page
(``views/settings.py``) draws its inputs from the labels, help and bounds below.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics import coverage, deadlines, scoring


class SettingsError(ValueError):
    """A settings file that cannot be used: unreadable TOML, unknown key, wrong kind."""


@dataclass(frozen=True)
class Setting:
    """One setting: dotted name, default, help, and how the Settings page shows it.

    ``help`` and ``label`` are (zh, en). ``kind`` is ``number``, ``text``, ``choice`` or
    ``table``; ``low``/``high``/``step`` bound a number's input; ``key`` is the input's
    widget key on the Settings page; ``check`` (the rule of meaning, beyond the kind)
    raises SettingsError or an error naming the setting.
    """

    name: str
    default: Any
    help: tuple[str, str]
    label: tuple[str, str]
    kind: str
    key: str
    low: float | None = None
    high: float | None = None
    step: float = 1.0
    check: Callable[[Any], Any] | None = None


# --------------------------------------------------------------------------- rules

#: Basemaps known by name; anything else must be an XYZ URL template.
BASEMAPS = ("none", "osm", "tianditu", "amap")
LANGUAGE_CODES = ("zh", "en")
#: The placeholders an XYZ tile URL template must carry.
XYZ_PLACEHOLDERS = ("{z}", "{x}", "{y}")
#: Back-compatible name: the default handling limits live in ``analytics.deadlines``.
DEFAULT_LIMITS = deadlines.DEFAULT_LIMITS
#: The score components' labels (zh, en), from ``analytics.scoring``.
COMPONENT_LABELS = scoring.COMPONENT_LABELS


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


def _check_language(value: str) -> None:
    if value not in LANGUAGE_CODES:
        raise SettingsError(f"ui.language must be zh or en, got {value!r}")


def _check_visits(value: Any) -> None:
    try:
        coverage.visits_per_week({"coverage.visits_per_week": value})
    except coverage.CoverageError as exc:
        raise SettingsError(str(exc)) from None


def _check_stale(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or value <= 0:
        raise SettingsError(f"wall.stale_minutes must be a number above 0, got {value!r}")


SETTINGS: tuple[Setting, ...] = (
    Setting("deadlines.default_days", deadlines.DEFAULT_DAYS,
            ("未列出类别的处置时限（工作日）", "handling limit in working days for a category not "
             f"listed (default: {deadlines.DEFAULT_DAYS})"),
            ("未列出类别的时限（工作日）", "Limit of a category not listed (working days)"),
            "number", "set_default_days", 0.0, float(deadlines.MAX_DAYS)),
    Setting("deadlines.categories", deadlines.DEFAULT_LIMITS,
            ("类别 = 工作日数，或如 \"4h\" 的工作小时；记录没有处置时限时使用",
             "category = working days (a number) or working hours (a string like \"4h\"); "
             "used when a record has no deadline"),
            ("类别 → 时限", "Category → limit"), "table", "set_limits"),
    Setting("deadlines.work_hours", deadlines.DEFAULT_WORK_HOURS,
            ("工作日的工作时间，如 09:00-12:00,14:00-18:00，用于按小时计的时限",
             "working hours of a working day, such as 09:00-12:00,14:00-18:00, for limits "
             "given in hours"),
            ("工作时间", "Working hours"), "text", "set_work_hours"),
    Setting("score.weights", scoring.DEFAULT_WEIGHTS,
            ("综合评分各项的权重（任意非负数，按比例折算）",
             "weights of the composite score (any positive numbers; they are normalised)"),
            ("权重", "Weights"), "table", "set_w", check=scoring.check_weights),
    Setting("score.grades", scoring.DEFAULT_GRADES,
            ("各等级的最低分；低于 D 为 E", "lowest score of each grade; below D is E"),
            ("等级", "Grades"), "table", "set_g", check=scoring.check_grades),
    Setting("coverage.visits_per_week", coverage.visits_per_week(None),
            ("每个点位每个 ISO 周应督查的次数", "inspections each point is due per ISO week"),
            ("每个点位每周应督查次数", "Inspections due per point per week"),
            "number", "set_visits", 0.0, 100.0, check=_check_visits),
    Setting("map.basemap", "none",
            ("地图底图：none | osm | tianditu | amap | XYZ 瓦片地址模板",
             "basemap of the maps: none | osm | tianditu | amap | an XYZ URL template"),
            ("地图底图", "Basemap of the maps"), "choice", "set_basemap", check=check_basemap),
    Setting("map.tianditu_key", "",
            ("天地图密钥，map.basemap = tianditu 时使用", "Tianditu key, when map.basemap = tianditu"),
            ("天地图密钥（tk）", "Tianditu key (tk)"), "text", "set_tianditu_key"),
    Setting("ui.language", "zh", ("界面语言：zh | en", "interface language: zh | en"),
            ("默认语言", "Default language"), "choice", "set_language", check=_check_language),
    Setting("wall.stale_minutes", 60,
            ("大屏数据超过这么多分钟未更新时提示过期",
             "the wall screen warns when its data is older than this"),
            ("大屏数据超过多少分钟提示过期", "Wall warns when data are older than (minutes)"),
            "number", "set_stale", 1.0, 100000.0, 5.0, check=_check_stale),
)

_BY_NAME = {s.name: s for s in SETTINGS}


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


def validate_settings(values: Mapping[str, Any], where: str = "settings") -> Settings:
    """Every setting checked for kind (as when loading) and for meaning; else SettingsError.

    Beyond the loading checks (known key, right kind): the deadlines read as limits and
    working hours (``analytics.deadlines.limits_from_settings``), each setting's ``check``
    (score weights and grades by the rules of ``analytics.scoring``, visits per week by
    ``analytics.coverage``, the basemap, the language, the wall's stale minutes). The
    message names the setting.
    """
    s = Settings(values, source=where)
    try:
        deadlines.limits_from_settings(s)
    except deadlines.DeadlineError as exc:
        msg = str(exc)
        raise SettingsError(msg if "deadlines." in msg else f"deadlines.work_hours: {msg}") from None
    for setting in SETTINGS:
        if setting.check is None:
            continue
        try:
            setting.check(s[setting.name])
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
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

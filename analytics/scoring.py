"""Composite score, grade (A–E) and rank of jurisdictions (考核评分).

Area evaluations of city management combine a few rates into one score out of 100 and
grade it; the components and their weights here are settings (``score.weights``, named and
checked by ``config.settings``, defaults and rules defined here), with these defaults:

* ``on_time_rate`` 40: cases closed by their deadline / cases due in the period (按期结案率);
* ``closure_rate`` 30: cases filed in the period and closed by T / filed (结案率);
* ``no_rework`` 15: 1 − rework rate (返工率);
* ``not_overdue`` 15: 1 − overdue open cases / open cases (1 when nothing is open).

score = 100 · Σ w_k c_k / Σ w_k over the components a jurisdiction has (a rate with an
empty denominator is left out and the weights renormalised); a jurisdiction with no case
at all has no score, no grade and no rank. Grades (``score.grades``): A ≥ 90, B ≥ 75,
C ≥ 60, D ≥ 40, else E, the bands common in Chinese area evaluations (docs/indicators.md). Rank 1
is the best score within the level; equal scores share the better rank.

References
----------
GB/T 30428.4-2016 数字化城市管理信息系统 第4部分：绩效评价 (digital urban management
information system, part 4: performance evaluation), whose indicators include the on-time
closure, closure and rework rates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: The score components with their labels (zh, en), in the order they are shown.
COMPONENT_LABELS: dict[str, tuple[str, str]] = {
    "on_time_rate": ("按期结案率", "On-time closure rate"),
    "closure_rate": ("结案率", "Closure rate"),
    "no_rework": ("无返工（1 − 返工率）", "No rework (1 − rework rate)"),
    "not_overdue": ("未超期（1 − 超期率）", "Not overdue (1 − overdue share)"),
}
COMPONENTS = tuple(COMPONENT_LABELS)
#: Default weights (``score.weights``) and lowest score of each grade (``score.grades``).
DEFAULT_WEIGHTS: dict[str, int] = {"on_time_rate": 40, "closure_rate": 30, "no_rework": 15,
                                   "not_overdue": 15}
DEFAULT_GRADES: dict[str, int] = {"A": 90, "B": 75, "C": 60, "D": 40}
#: The score settings (``config.settings`` names) with their defaults above.
DEFAULT_SETTINGS: dict[str, dict[str, int]] = {"score.weights": DEFAULT_WEIGHTS,
                                               "score.grades": DEFAULT_GRADES}


class ScoreError(ValueError):
    """Score weights or grade bands that cannot be used; the message names the setting."""


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def check_weights(weights: Mapping) -> dict[str, float]:
    """The ``score.weights`` as floats: known components, numbers ≥ 0, one above 0.

    Raises
    ------
    ScoreError
        Naming the setting (and the component) that breaks the rule.
    """
    if not isinstance(weights, Mapping):
        raise ScoreError(f"score.weights must be a table of component = weight, got {weights!r}")
    for k, v in weights.items():
        if k not in COMPONENTS:
            raise ScoreError(f"score.weights: unknown component {k!r}; components: "
                             + ", ".join(COMPONENTS))
        if not _is_number(v) or v < 0:
            raise ScoreError(f"score.weights.{k} must be a number of at least 0, got {v!r}")
    if not any(v > 0 for v in weights.values()):
        raise ScoreError("score.weights: at least one weight must be above 0")
    return {k: float(v) for k, v in weights.items()}


def check_grades(grades: Mapping) -> dict[str, float]:
    """The ``score.grades`` as floats: named grades, lowest scores in 0–100.

    Raises
    ------
    ScoreError
        Naming the setting (and the grade) that breaks the rule.
    """
    if not isinstance(grades, Mapping):
        raise ScoreError(f"score.grades must be a table of grade = lowest score, got {grades!r}")
    for k, v in grades.items():
        if not str(k).strip():
            raise ScoreError("score.grades: a grade needs a name")
        if not _is_number(v) or not 0 <= v <= 100:
            raise ScoreError(f"score.grades.{k} must be a number from 0 to 100, got {v!r}")
    return {str(k): float(v) for k, v in grades.items()}


def _setting(settings: Mapping | None, name: str) -> Mapping:
    if settings is not None and name in settings:
        return settings[name]
    return DEFAULT_SETTINGS[name]


def components(table: pd.DataFrame) -> pd.DataFrame:
    """The score components (0–1, NaN where undefined) of each row of a backlog table."""
    has_case = (table["open"] + table["filed"] + table["due_in_period"]
                + table["closed_in_period"]) > 0
    open_ = table["open"].astype(float)
    not_overdue = (1 - table["overdue"] / open_.where(open_ > 0)).fillna(1.0).where(has_case)
    return pd.DataFrame({
        "on_time_rate": table["on_time_rate"].astype(float),
        "closure_rate": table["closure_rate"].astype(float),
        "no_rework": 1 - table["rework_rate"].astype(float),
        "not_overdue": not_overdue.astype(float),
    }, index=table.index)


def score_table(table: pd.DataFrame, settings: Mapping | None) -> pd.DataFrame:
    """``table`` with a ``score`` column (0–100, NaN without any component).

    ``settings["score.weights"]`` (default :data:`DEFAULT_WEIGHTS`) weighs the components;
    :class:`ScoreError` when they break :func:`check_weights`.
    """
    w = check_weights(_setting(settings, "score.weights"))
    comp = components(table)
    num = np.zeros(len(table))
    den = np.zeros(len(table))
    for k, weight in w.items():
        c = comp[k].to_numpy(dtype=float)
        ok = np.isfinite(c)
        num[ok] += weight * c[ok]
        den[ok] += weight
    out = table.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["score"] = np.where(den > 0, 100 * num / np.where(den > 0, den, 1), np.nan)
    return out


def grade_scores(scores: pd.Series, settings: Mapping | None) -> pd.Series:
    """A–E from the lowest score of each grade (``score.grades``); empty without a score."""
    bands = sorted(check_grades(_setting(settings, "score.grades")).items(), key=lambda kv: -kv[1])
    s = scores.astype(float)
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    out[s.notna()] = "E"
    for grade, low in reversed(bands):
        out[s >= low] = grade
    return out


def rank_scores(scores: pd.Series) -> pd.Series:
    """1 = best; ties share the better rank; no rank without a score."""
    return scores.astype(float).rank(ascending=False, method="min").astype("Int64")

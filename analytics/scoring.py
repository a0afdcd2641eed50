"""Composite score, grade (A–E) and rank of jurisdictions (考核评分).

Area evaluations of city management combine a few rates into one score out of 100 and
grade it; the components and their weights here are settings (``score.weights``), with
these defaults:

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

COMPONENTS = ("on_time_rate", "closure_rate", "no_rework", "not_overdue")


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


def _weights(settings: Mapping) -> dict[str, float]:
    weights = dict(settings["score.weights"])
    unknown = [k for k in weights if k not in COMPONENTS]
    if unknown:
        raise ValueError(f"score.weights: unknown component {unknown[0]!r}; components: "
                         + ", ".join(COMPONENTS))
    bad = [k for k, v in weights.items() if not isinstance(v, (int, float)) or v < 0]
    if bad or not any(v > 0 for v in weights.values()):
        raise ValueError("score.weights: weights must be numbers ≥ 0, at least one above 0")
    return {k: float(v) for k, v in weights.items()}


def score_table(table: pd.DataFrame, settings: Mapping) -> pd.DataFrame:
    """``table`` with a ``score`` column (0–100, NaN without any component)."""
    w = _weights(settings)
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


def grade_scores(scores: pd.Series, settings: Mapping) -> pd.Series:
    """A–E from the lowest score of each grade (``score.grades``); empty without a score."""
    bands = sorted(dict(settings["score.grades"]).items(), key=lambda kv: -kv[1])
    s = scores.astype(float)
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    out[s.notna()] = "E"
    for grade, low in reversed(bands):
        out[s >= low] = grade
    return out


def rank_scores(scores: pd.Series) -> pd.Series:
    """1 = best; ties share the better rank; no rank without a score."""
    return scores.astype(float).rank(ascending=False, method="min").astype("Int64")

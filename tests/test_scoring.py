"""Composite score, grade and rank: hand-computed values, renormalisation, band edges."""

import numpy as np
import pandas as pd
import pytest

from analytics.scoring import grade_scores, rank_scores, score_table
from config.settings import Settings


def _rows(**cols):
    base = {"open": [4], "overdue": [1], "filed": [10], "due_in_period": [8],
            "closed_in_period": [5], "on_time_rate": [0.75], "closure_rate": [0.6],
            "rework_rate": [0.2]}
    base.update(cols)
    return pd.DataFrame(base)


def test_score_by_hand():
    s = score_table(_rows(), Settings())["score"].iloc[0]
    # 40·0.75 + 30·0.6 + 15·(1−0.2) + 15·(1−1/4) = 30 + 18 + 12 + 11.25 = 71.25 (of 100)
    assert s == pytest.approx(71.25)


def test_missing_component_is_left_out_and_weights_renormalised():
    s = score_table(_rows(on_time_rate=[np.nan]), Settings())["score"].iloc[0]
    assert s == pytest.approx(100 * (18 + 12 + 11.25) / 60)


def test_no_case_no_score_and_nothing_open_is_not_overdue():
    empty = _rows(open=[0], overdue=[0], filed=[0], due_in_period=[0], closed_in_period=[0],
                  on_time_rate=[np.nan], closure_rate=[np.nan], rework_rate=[np.nan])
    assert np.isnan(score_table(empty, Settings())["score"].iloc[0])
    none_open = _rows(open=[0], overdue=[0])
    assert score_table(none_open, Settings())["score"].iloc[0] == pytest.approx(30 + 18 + 12 + 15)


def test_weights_from_settings():
    only_on_time = Settings({"score.weights": {"on_time_rate": 1}})
    assert score_table(_rows(), only_on_time)["score"].iloc[0] == pytest.approx(75)
    with pytest.raises(ValueError, match="unknown component"):
        score_table(_rows(), Settings({"score.weights": {"speed": 1}}))


def test_grade_band_edges_and_rank_ties():
    scores = pd.Series([90.0, 89.999, 75.0, 60.0, 40.0, 39.99, np.nan])
    assert grade_scores(scores, Settings()).tolist() == ["A", "B", "B", "C", "D", "E", None]
    assert rank_scores(pd.Series([80.0, 90.0, 80.0, np.nan])).tolist() == [2, 1, 2, pd.NA]

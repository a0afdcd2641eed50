"""Mann–Kendall: an independent double-loop reference, published values, scipy, edge cases."""

import math

import numpy as np
import pytest
from scipy.stats import kendalltau, norm

from analytics.mannkendall import mann_kendall


def _mk_reference(x, alpha=0.05):
    """Textbook Mann–Kendall for one series, written with plain loops."""
    t = len(x)
    s = 0
    for a in range(t - 1):
        for b in range(a + 1, t):
            s += (x[b] > x[a]) - (x[b] < x[a])
    groups = {}
    for v in x:
        groups[v] = groups.get(v, 0) + 1
    ties = sum(g * (g - 1) * (2 * g + 5) for g in groups.values())
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18
    if var == 0 or s == 0:
        z = 0.0
    else:
        z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var)
    p = math.erfc(abs(z) / math.sqrt(2))  # = 2 (1 − Φ(|z|))
    tau = s / (t * (t - 1) / 2)
    trend = (1 if s > 0 else -1) if p < alpha else 0
    return s, var, z, p, tau, trend


def _check_against_reference(x, alpha=0.05):
    got = mann_kendall(x, alpha=alpha)
    for i, row in enumerate(x):
        s, var, z, p, tau, trend = _mk_reference(row.tolist(), alpha)
        assert got.s[i] == s
        assert got.var_s[i] == pytest.approx(var, rel=1e-12, abs=1e-12)
        assert got.z[i] == pytest.approx(z, rel=1e-12, abs=1e-12)
        assert got.p_value[i] == pytest.approx(p, rel=1e-12, abs=1e-12)
        assert got.tau[i] == pytest.approx(tau, rel=1e-12, abs=1e-12)
        assert got.trend[i] == trend


@pytest.mark.parametrize("seed", range(4))
def test_matches_loop_reference_without_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 12)) + np.linspace(0, rng.uniform(-2, 2), 12)
    _check_against_reference(x)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("t", [2, 3, 10, 25])
def test_matches_loop_reference_with_ties(seed, t):
    rng = np.random.default_rng(100 + seed)
    x = rng.integers(0, 4, size=(80, t)).astype(float)  # many ties, some constant rows
    x[:5] += np.arange(t)  # a few with a trend
    x[5] = 2.0  # all tied
    _check_against_reference(x, alpha=0.10)


def test_published_value_for_1_to_100():
    # MannKendall.jl (by the author of pyMannKendall), test/runtests.jl: series 1:100
    r = mann_kendall(np.arange(1.0, 101.0))
    assert r.s[0] == 4950 and r.var_s[0] == 112750.0 and r.tau[0] == 1.0
    assert r.z[0] == pytest.approx(14.73869998208331, rel=1e-13)
    assert r.trend[0] == 1 and r.p_value[0] < 1e-40


def test_hand_worked_example_with_a_tie():
    # x = 1, 2, 2, 3: five increasing pairs and one tie, S = 5; one tied pair of size 2
    # var = (4·3·13 − 2·1·9) / 18 = 138 / 18; Z = (5 − 1) / √(138/18)
    r = mann_kendall(np.array([[1.0, 2.0, 2.0, 3.0]]))
    assert r.s[0] == 5
    assert r.var_s[0] == pytest.approx(138 / 18, rel=1e-15)
    assert r.z[0] == pytest.approx(4 / math.sqrt(138 / 18), rel=1e-15)
    assert r.tau[0] == pytest.approx(5 / 6, rel=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_against_scipy_kendalltau(seed):
    # Against the time index, which has no ties, scipy's asymptotic variance reduces to
    # the Mann–Kendall variance with ties in x, and its z = S / √var has no continuity
    # correction: so |our z| = (|S| − 1) / |S| · |scipy's z|. Without ties in x, scipy's
    # tau-b equals our tau (tau-a).
    rng = np.random.default_rng(seed)
    t = 30
    smooth = rng.normal(size=(20, t)) + np.linspace(0, 3, t)
    tied = rng.integers(0, 6, size=(20, t)).astype(float) + (np.arange(t) > 15)
    ours_smooth, ours_tied = mann_kendall(smooth), mann_kendall(tied)
    for x, ours, no_ties in ((smooth, ours_smooth, True), (tied, ours_tied, False)):
        for i, row in enumerate(x):
            ref = kendalltau(np.arange(t), row, method="asymptotic")
            s = ours.s[i]
            if no_ties:
                assert ours.tau[i] == pytest.approx(ref.statistic, rel=1e-12, abs=1e-14)
            if s == 0:
                assert ours.z[i] == 0 and ours.p_value[i] == 1
                continue
            z_scipy = norm.isf(ref.pvalue / 2)
            assert abs(ours.z[i]) == pytest.approx((abs(s) - 1) / abs(s) * z_scipy, rel=1e-9)


def test_monotone_constant_and_vectorised_shapes():
    t = 12
    up, down, flat = np.arange(t, dtype=float), -np.arange(t, dtype=float), np.full(t, 3.0)
    r = mann_kendall(np.vstack([up, down, flat]))
    assert r.trend.tolist() == [1, -1, 0]
    assert r.tau.tolist() == [1.0, -1.0, 0.0]
    assert r.s.tolist() == [66, -66, 0]
    assert r.z[2] == 0 and r.p_value[2] == 1 and r.var_s[2] == 0
    assert r.trend.dtype == np.int8 and r.s.dtype == np.int64
    empty = mann_kendall(np.zeros((0, t)))
    assert empty.s.shape == (0,) and empty.trend.shape == (0,)
    short = mann_kendall(np.array([[1.0], [2.0]]))
    assert short.z.tolist() == [0, 0] and short.p_value.tolist() == [1, 1]
    assert short.tau.tolist() == [0, 0]


def test_alpha_sets_the_trend_threshold():
    x = np.array([[0, 1, 0, 2, 1, 3, 2, 2, 4, 3]], dtype=float)
    r = mann_kendall(x)
    p = r.p_value[0]
    assert 0.001 < p < 0.5
    assert mann_kendall(x, alpha=p * 1.01).trend[0] == 1
    assert mann_kendall(x, alpha=p * 0.99).trend[0] == 0


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(ValueError, match="2-D"):
        mann_kendall(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="alpha"):
        mann_kendall(np.zeros((2, 3)), alpha=1.5)

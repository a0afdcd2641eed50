"""Mann–Kendall trend test, vectorised over the rows of a (cells × time) array.

Used by :mod:`analytics.emerging` on each cell's series of space-time Gi* z-scores
(docs/hotspots.md, "Emerging hot spots": Mann–Kendall on each cell's weekly z-scores,
significant at 0.05).

Notes
-----
For a series x_0 … x_{T−1}:

    S = Σ_{a<b} sign(x_b − x_a)
    var(S) = [T(T−1)(2T+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18

where t_g is the size of the g-th group of tied values. With the continuity correction
Z = (S − 1)/√var(S) when S > 0, (S + 1)/√var(S) when S < 0 and 0 when S = 0; the two-sided
p-value is 2 (1 − Φ(|Z|)) and Kendall's tau (tau-a) is S / (T(T−1)/2).

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245–259.

Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Charles Griffin.

Hipel, K. W. and McLeod, A. I. (1994). *Time Series Modelling of Water Resources and
Environmental Systems*. Amsterdam: Elsevier (the variance of S with ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass
class MKResult:
    """Mann–Kendall statistics, one entry per row of the input series.

    Attributes
    ----------
    s : ndarray of int64
        The Mann–Kendall statistic S.
    var_s : ndarray of float
        var(S) with the tie correction.
    z : ndarray of float
        The continuity-corrected normal score; 0 when S = 0 or var(S) = 0.
    p_value : ndarray of float
        Two-sided p-value, 2 (1 − Φ(|Z|)); 1 when Z = 0.
    tau : ndarray of float
        Kendall's tau-a, S / (T(T−1)/2); 0 when T < 2.
    trend : ndarray of int8
        +1 (increasing) when p < alpha and S > 0, −1 (decreasing) when p < alpha and
        S < 0, else 0.
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    tau: np.ndarray
    trend: np.ndarray


def _tie_sum(x: np.ndarray) -> np.ndarray:
    """Σ_g t_g(t_g−1)(2t_g+5) over the groups of tied values of each row of ``x``."""
    n, t = x.shape
    if n == 0 or t == 0:
        return np.zeros(n)
    xs = np.sort(x, axis=1)
    starts = np.ones((n, t), dtype=bool)
    starts[:, 1:] = xs[:, 1:] != xs[:, :-1]  # a run of equal values begins here
    first = np.flatnonzero(starts.ravel())  # flat index of each run's first element
    length = np.diff(np.append(first, n * t))  # runs never cross rows: column 0 starts one
    row = first // t
    term = (length * (length - 1) * (2 * length + 5)).astype(np.float64)
    return np.bincount(row, weights=term, minlength=n)


def mann_kendall(series: np.ndarray, alpha: float = 0.05) -> MKResult:
    """Mann–Kendall trend test (Mann 1945; Kendall 1975) on each row of ``series``.

    Parameters
    ----------
    series : array_like of float, shape (n_series, T) or (T,)
        One series per row, oldest first. A 1-D input is treated as a single row (the
        result arrays then have length 1). NaN and infinite values are rejected: the test
        has no convention for missing observations, and a caller that has gaps should
        decide how to fill them.
    alpha : float, default 0.05
        Two-sided significance level for ``trend``.

    Returns
    -------
    MKResult
        Arrays of length n_series. A row whose values are all equal (var(S) = 0), and any
        row when T < 2, gets S = 0, Z = 0, p = 1, tau = 0 and trend 0.

    Raises
    ------
    ValueError
        If ``series`` has more than two dimensions or holds NaN or infinite values, or if
        ``alpha`` is not between 0 and 1.

    Notes
    -----
    Vectorised over rows: S is accumulated over the T − 1 time lags, and the tie groups
    are found by sorting each row and measuring the runs of equal values. The variance
    with ties is Kendall's (1975), as used by Hipel & McLeod (1994).

    Examples
    --------
    >>> r = mann_kendall(np.arange(100.0))
    >>> int(r.s[0]), float(r.var_s[0]), float(r.tau[0]), int(r.trend[0])
    (4950, 112750.0, 1.0, 1)
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"series must be 1-D or 2-D (series × time), got {x.ndim}-D")
    if not np.isfinite(x).all():
        raise ValueError("series holds NaN or infinite values; Mann–Kendall needs complete series")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    n, t = x.shape
    s = np.zeros(n, dtype=np.int64)
    for lag in range(1, t):  # pairs (a, a + lag) for every a, all rows at once
        s += np.sign(x[:, lag:] - x[:, :-lag]).astype(np.int64).sum(axis=1)
    var_s = (t * (t - 1) * (2 * t + 5) - _tie_sum(x)) / 18.0
    z = np.zeros(n)
    ok = var_s > 0
    sd = np.sqrt(np.where(ok, var_s, 1.0))
    z = np.where(ok & (s > 0), (s - 1) / sd, z)
    z = np.where(ok & (s < 0), (s + 1) / sd, z)
    p = 2.0 * norm.sf(np.abs(z))
    pairs = t * (t - 1) / 2
    tau = s / pairs if pairs > 0 else np.zeros(n)
    sig = p < alpha
    trend = np.where(sig & (s > 0), 1, np.where(sig & (s < 0), -1, 0)).astype(np.int8)
    return MKResult(s=s, var_s=var_s, z=z, p_value=p, tau=np.asarray(tau, dtype=np.float64),
                    trend=trend)

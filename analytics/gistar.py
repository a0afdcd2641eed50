"""Getis–Ord Gi* local statistic on any binary or general weights matrix.

The core of the hotspot analysis (docs/hotspots.md): z-scores from counts ``x`` and
a sparse weights matrix ``W`` whose diagonal holds the self-weight (Gi* includes the
cell itself), two-sided normal p-values, and Benjamini–Hochberg false-discovery control.
``analytics/hotspots.py`` builds ``W`` from H3 rings.

Notes
-----
With n observations, mean x̄, population standard deviation S,
W_i = Σ_j w_ij and S1_i = Σ_j w_ij²:

    z_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n S1_i − W_i²) / (n − 1)))

Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286–306. The same formula as
``esda.G_Local(star=True)`` with unstandardised (binary) weights.

Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a practical
and powerful approach to multiple testing. *J. R. Statist. Soc. B* 57(1), 289–300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm

#: FDR levels behind gi_bin = ±1, ±2, ±3.
BIN_ALPHAS = (0.10, 0.05, 0.01)


@dataclass
class GiResult:
    """z-scores, two-sided p-values and FDR bins, in the order of the input."""

    z: np.ndarray
    p_value: np.ndarray
    gi_bin: np.ndarray
    note: str | None = None  # why the statistic is degenerate, when it is


def gi_star_z(x: np.ndarray, w: sp.spmatrix) -> np.ndarray:
    """Gi* z-scores (Ord & Getis 1995) for values ``x`` and weights ``w`` (self included).

    Parameters
    ----------
    x : ndarray of float, shape (n,)
    w : sparse matrix, shape (n, n)
        w[i, j] is the weight of j in i's neighbourhood; the diagonal is the self-weight.

    Returns
    -------
    ndarray of float
        z_i; 0 where the statistic is undefined (all values equal, or n < 2, or a
        neighbourhood that is the whole study area), see :func:`gi_star`.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    w = sp.csr_matrix(w, dtype=np.float64)
    if w.shape != (n, n):
        raise ValueError(f"weights must be {n}×{n} for {n} values, got {w.shape[0]}×{w.shape[1]}")
    if n < 2:
        return np.zeros(n)
    mean = x.mean()
    s = x.std()  # population standard deviation, as in the definition
    wi = np.asarray(w.sum(axis=1)).ravel()
    s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    lag = w @ x
    var = (n * s1 - wi**2) / (n - 1)
    denom = s * np.sqrt(np.maximum(var, 0.0))
    z = np.zeros(n)
    ok = denom > 0
    z[ok] = (lag[ok] - mean * wi[ok]) / denom[ok]
    return z


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """p = 2 (1 − Φ(|z|)), computed with the survival function for precision in the tails."""
    return 2.0 * norm.sf(np.abs(np.asarray(z, dtype=np.float64)))


def bh_reject(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini–Hochberg step-up: which hypotheses are rejected at FDR ``alpha``.

    Sort p ascending; find the largest k with p_(k) ≤ k α / m; reject the k smallest.
    Ties are rejected together (every p ≤ the threshold p_(k) is rejected).
    """
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    order = np.sort(p)
    below = order <= alpha * np.arange(1, m + 1) / m
    if not below.any():
        return np.zeros(m, dtype=bool)
    k = np.flatnonzero(below).max()
    return p <= order[k]


def gi_bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """gi_bin: ±3 / ±2 / ±1 when significant at 0.01 / 0.05 / 0.10 after BH, sign of z; else 0."""
    z = np.asarray(z, dtype=np.float64)
    level = np.zeros(z.size, dtype=np.int8)
    for strength, alpha in zip((1, 2, 3), BIN_ALPHAS, strict=True):
        level[bh_reject(p, alpha)] = strength
    return (np.sign(z).astype(np.int8) * level).astype(np.int8)


def gi_star(x: np.ndarray, w: sp.spmatrix) -> GiResult:
    """Gi* z, p-values and FDR bins; degenerate inputs give z = 0, p = 1, bin 0 and a note."""
    x = np.asarray(x, dtype=np.float64)
    note = None
    if x.size == 0:
        note = "no cells in the study area"
    elif x.size < 2:
        note = "a single cell: Gi* needs at least two"
    elif np.all(x == x[0]):
        note = "all cells have the same count: no hot or cold spots (zero variance)"
    z = gi_star_z(x, w) if note is None else np.zeros(x.size)
    p = two_sided_p(z)
    return GiResult(z, p, gi_bins(z, p), note)

"""Emerging hot spots: space-time Gi*, Mann–Kendall trends and the ESRI-style categories.

docs/hotspots.md, "Emerging hot spots". The input is a cube of counts, one row per cell and one
column per weekly bin (oldest first), and the spatial weights of the cells (self
included on the diagonal, as built by :func:`analytics.studyarea.ring_weights`).

1. Space-time Gi*: the neighbours of bin (i, t) are the bins (j, t') with w_ij ≠ 0 and
   t − time_step ≤ t' ≤ t (t' ≥ 0), weighted w_ij. Mean and population standard deviation
   are those of the whole cube (n = cells × weeks); the z-score is the Gi* of
   :mod:`analytics.gistar` on that space-time neighbourhood, computed without building
   the (n·T × n·T) matrix. p-values are two-sided and the false-discovery step
   (Benjamini–Hochberg, gi_bin ±1/±2/±3) runs over all bins of the cube at once.
2. Trend: the Mann–Kendall test (:mod:`analytics.mannkendall`) on each cell's series of
   space-time z-scores, significant at 0.05.
3. Categories, from the hot weeks H (gi_bin ≥ 1), the cold weeks C (gi_bin ≤ −1), the
   final (last) week and the trend; "at least 90 %" is 10·|H| ≥ 9·T in integers. See
   :func:`classify` for the rules and the order of precedence.

References
----------
Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use of distance
statistics. *Geographical Analysis* 24(3), 189–206.

Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286–306.

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245–259.

Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Charles Griffin.

Esri. "How Emerging Hot Spot Analysis works". ArcGIS Pro documentation, Space Time Pattern
Mining toolbox (the pattern categories: new, consecutive, intensifying, persistent,
diminishing, sporadic, oscillating and historical hot and cold spots).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analytics.errors import OptionError
from analytics.gistar import gi_bins, two_sided_p
from analytics.mannkendall import mann_kendall

#: The smallest number of weekly bins for the command (docs/hotspots.md; checked by the caller).
MIN_WEEKS = 8

#: Category codes in the order of precedence of :func:`classify` (hot before cold).
CATEGORIES = (
    "new_hotspot", "consecutive_hotspot", "intensifying_hotspot", "persistent_hotspot",
    "diminishing_hotspot", "historical_hotspot", "oscillating_hotspot", "sporadic_hotspot",
    "new_coldspot", "consecutive_coldspot", "intensifying_coldspot", "persistent_coldspot",
    "diminishing_coldspot", "historical_coldspot", "oscillating_coldspot", "sporadic_coldspot",
    "no_pattern",
)

#: Chinese names of the categories, for reports and the UI.
CATEGORY_LABELS_ZH = {
    "new_hotspot": "新增热点",
    "consecutive_hotspot": "连续热点",
    "intensifying_hotspot": "加剧热点",
    "persistent_hotspot": "持续热点",
    "diminishing_hotspot": "减弱热点",
    "historical_hotspot": "历史热点",
    "oscillating_hotspot": "振荡热点",
    "sporadic_hotspot": "零星热点",
    "new_coldspot": "新增冷点",
    "consecutive_coldspot": "连续冷点",
    "intensifying_coldspot": "加剧冷点",
    "persistent_coldspot": "持续冷点",
    "diminishing_coldspot": "减弱冷点",
    "historical_coldspot": "历史冷点",
    "oscillating_coldspot": "振荡冷点",
    "sporadic_coldspot": "零星冷点",
    "no_pattern": "无显著模式",
}


@dataclass
class SpaceTimeGi:
    """Space-time Gi* of a (cells × weeks) cube; every array has the cube's shape.

    Attributes
    ----------
    z : ndarray of float, shape (n_cells, T)
    p_value : ndarray of float, shape (n_cells, T)
        Two-sided normal p-values.
    gi_bin : ndarray of int8, shape (n_cells, T)
        ±3 / ±2 / ±1 when significant at 0.01 / 0.05 / 0.10 after Benjamini–Hochberg over
        all bins of the cube, sign of z; else 0.
    note : str or None
        Why the statistic is degenerate (all z = 0), when it is.
    """

    z: np.ndarray
    p_value: np.ndarray
    gi_bin: np.ndarray
    note: str | None = None


@dataclass
class EmergingResult:
    """Per-cell emerging hot spot pattern, with the space-time cube behind it.

    Attributes
    ----------
    category : ndarray of object, shape (n_cells,)
        One of :data:`CATEGORIES`.
    hot_weeks, cold_weeks : ndarray of int64, shape (n_cells,)
        Number of weeks with gi_bin ≥ 1 / gi_bin ≤ −1.
    mk_tau, mk_p : ndarray of float, shape (n_cells,)
        Mann–Kendall tau and two-sided p-value of the cell's z-score series.
    mk_trend : ndarray of int8, shape (n_cells,)
        +1 / −1 / 0: significant increase / decrease of z, or none.
    final_gi_bin : ndarray of int8, shape (n_cells,)
        gi_bin of the last week.
    z, gi_bin : ndarray, shape (n_cells, T)
        The space-time Gi* z-scores and bins.
    note : str or None
        Why nothing can be hot or cold, when so (from :func:`space_time_gi`).
    """

    category: np.ndarray
    hot_weeks: np.ndarray
    cold_weeks: np.ndarray
    mk_tau: np.ndarray
    mk_p: np.ndarray
    mk_trend: np.ndarray
    final_gi_bin: np.ndarray
    z: np.ndarray
    gi_bin: np.ndarray
    note: str | None = None


def _check_cube(counts: np.ndarray, w: sp.spmatrix, time_step: int) -> tuple[np.ndarray,
                                                                              sp.csr_matrix]:
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"counts must be 2-D (cells × weeks), got {x.ndim}-D")
    if not np.isfinite(x).all():
        raise ValueError("counts hold NaN or infinite values")
    n = x.shape[0]
    w = sp.csr_matrix(w, dtype=np.float64)
    if w.shape != (n, n):
        raise ValueError(f"weights must be {n}×{n} for {n} cells, got {w.shape[0]}×{w.shape[1]}")
    if isinstance(time_step, bool) or int(time_step) != time_step or time_step < 0:
        raise ValueError(f"time_step must be a whole number ≥ 0, got {time_step!r}")
    return x, w


def space_time_gi(counts: np.ndarray, w: sp.spmatrix, time_step: int = 1) -> SpaceTimeGi:
    """Space-time Gi* z-scores, p-values and FDR bins of a cube of counts.

    Parameters
    ----------
    counts : array_like of float, shape (n_cells, T)
        Counts per cell (rows) and weekly bin (columns, oldest first).
    w : sparse matrix, shape (n_cells, n_cells)
        Spatial weights, w[i, j] the weight of cell j in cell i's neighbourhood, self
        included on the diagonal (binary ring weights, or any non-negative weights).
    time_step : int, default 1
        How many earlier weeks belong to a bin's neighbourhood: (j, t') is a neighbour of
        (i, t) when w_ij ≠ 0 and t − time_step ≤ t' ≤ t, t' ≥ 0; its weight is w_ij.

    Returns
    -------
    SpaceTimeGi
        With N = n_cells·T, x̄ and S the mean and population standard deviation of the
        cube, m_t = min(t, time_step) + 1 the number of weeks in bin t's window,
        W_it = m_t Σ_j w_ij and S1_it = m_t Σ_j w_ij²::

            z_it = (Σ_j Σ_t' w_ij x_jt' − x̄ W_it) / (S √((N S1_it − W_it²) / (N − 1)))

        which is :func:`analytics.gistar.gi_star_z` on the flattened cube with the
        explicit space-time weights. A bin whose neighbourhood is the whole cube gets
        z = 0. Degenerate cubes (no cells, fewer than two weeks, or every bin the same
        count) give z = 0, p = 1, bin 0 everywhere and a ``note``.

    Raises
    ------
    ValueError
        On a counts array that is not 2-D or holds NaN, weights of the wrong shape, or a
        negative or fractional ``time_step``.
    """
    x, w = _check_cube(counts, w, time_step)
    n, t = x.shape
    note = None
    if n == 0:
        note = "no cells in the study area"
    elif t < 2:
        note = f"{t} weekly bin(s): space-time Gi* needs at least two weeks"
    elif np.all(x == x.flat[0]):
        note = "every cell has the same count in every week: no hot or cold spots (zero variance)"
    z = np.zeros((n, t))
    if note is None:
        big_n = n * t
        mean = x.mean()
        s = x.std()  # population standard deviation over the whole cube
        spatial_lag = np.asarray(w @ x)  # Σ_j w_ij x_jt', shape (n, T)
        lag = spatial_lag.copy()
        for d in range(1, min(int(time_step), t - 1) + 1):  # add the week t − d
            lag[:, d:] += spatial_lag[:, :-d]
        m = np.minimum(np.arange(t), int(time_step)) + 1.0  # weeks in each window
        wi = np.asarray(w.sum(axis=1)).ravel()[:, None] * m[None, :]
        s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()[:, None] * m[None, :]
        var = (big_n * s1 - wi**2) / (big_n - 1)
        denom = s * np.sqrt(np.maximum(var, 0.0))
        ok = denom > 0
        z[ok] = (lag[ok] - mean * wi[ok]) / denom[ok]
    p = two_sided_p(z)
    gi_bin = gi_bins(z.ravel(), p.ravel()).reshape(n, t)  # FDR over all bins of the cube
    return SpaceTimeGi(z=z, p_value=p, gi_bin=gi_bin, note=note)


def _trailing_run(flag: np.ndarray) -> np.ndarray:
    """Length of the run of True values that ends at the last column, per row."""
    rev = ~flag[:, ::-1]
    first_false = np.argmax(rev, axis=1)
    return np.where(rev.any(axis=1), first_false, flag.shape[1])


def _pattern(spot: np.ndarray, other: np.ndarray, up: np.ndarray,
             down: np.ndarray) -> list[np.ndarray]:
    """The eight conditions, in precedence order, for hot (or, mirrored, cold) spots.

    ``spot`` marks the weeks of the kind looked for, ``other`` the weeks of the opposite
    kind; ``up`` / ``down`` the trend that intensifies / diminishes this kind.
    """
    t = spot.shape[1]
    count = spot.sum(axis=1)
    final = spot[:, -1]
    most = 10 * count >= 9 * t  # at least 90 % of the weeks, in integers
    run = _trailing_run(spot)
    new = final & (count == 1)
    consecutive = final & (run == count) & (run >= 2) & ~most
    steady = most & final
    intensifying = steady & up
    persistent = steady & ~up & ~down
    diminishing = steady & down
    historical = most & ~final
    oscillating = final & ~most & other[:, :-1].any(axis=1)
    sporadic = (count > 0) & ~most & ~other.any(axis=1)
    return [new, consecutive, intensifying, persistent, diminishing, historical, oscillating,
            sporadic]


def classify(gi_bin: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """Emerging hot spot category of each cell (docs/hotspots.md; after Esri's Emerging Hot Spot).

    Parameters
    ----------
    gi_bin : array_like of int, shape (n_cells, T)
        Space-time Gi* bins, oldest week first. Hot weeks H: gi_bin ≥ 1; cold weeks C:
        gi_bin ≤ −1; final: the last week.
    trend : array_like of int, shape (n_cells,)
        Mann–Kendall trend of each cell's z-scores: +1 up, −1 down, 0 none.

    Returns
    -------
    ndarray of object, shape (n_cells,)
        Category codes from :data:`CATEGORIES`.

    Notes
    -----
    The first rule that holds wins, in this order (T weeks; "most" = at least 90 %
    of the weeks, 10·|H| ≥ 9·T in integer arithmetic):

    1. new_hotspot: final hot, no other week hot;
    2. consecutive_hotspot: final hot, the hot weeks are one run of at least two weeks
       ending at final, fewer than 90 % hot;
    3. intensifying / 4. persistent / 5. diminishing_hotspot: at least 90 % hot and final
       hot; trend up / none / down;
    6. historical_hotspot: at least 90 % hot, final not hot;
    7. oscillating_hotspot: final hot, fewer than 90 % hot, some earlier week cold;
    8. sporadic_hotspot: some week hot, fewer than 90 % hot, no week cold, none of the
       above;
    9–16. the same eight for cold spots, mirrored (C for H, hot for cold); for cold spots
       *intensifying* is a downward trend (z getting more negative) and *diminishing* an
       upward one;
    17. no_pattern.

    Hot categories are checked before cold ones, so a cell whose pattern satisfies
    both gets the hot one: 9 hot weeks of 10 with the final week cold is
    historical_hotspot, not new_coldspot. A cell that is a "new" hot spot with earlier
    cold weeks is new_hotspot (rule 1 before rule 7), as in Esri's definitions.

    Examples
    --------
    >>> b = np.array([[0] * 9 + [2], [2] * 10, [2] * 9 + [-1]])
    >>> classify(b, np.array([0, 0, 0])).tolist()
    ['new_hotspot', 'persistent_hotspot', 'historical_hotspot']
    """
    b = np.asarray(gi_bin)
    tr = np.asarray(trend)
    if b.ndim != 2:
        raise ValueError(f"gi_bin must be 2-D (cells × weeks), got {b.ndim}-D")
    if b.shape[1] < 1:
        raise ValueError("gi_bin needs at least one week")
    if tr.shape != (b.shape[0],):
        raise ValueError(f"trend must have shape ({b.shape[0]},), got {tr.shape}")
    if not np.isin(tr, (-1, 0, 1)).all():
        raise ValueError("trend values must be -1, 0 or +1")
    hot, cold = b >= 1, b <= -1
    up, down = tr == 1, tr == -1
    conditions = _pattern(hot, cold, up, down) + _pattern(cold, hot, down, up)
    code = np.select(conditions, np.arange(len(conditions)), default=len(conditions))
    return np.asarray(CATEGORIES, dtype=object)[code]


def emerging_from_counts(counts: np.ndarray, w: sp.spmatrix, time_step: int = 1,
                         alpha_trend: float = 0.05) -> EmergingResult:
    """Space-time Gi*, Mann–Kendall trend of z and the category of every cell.

    Parameters
    ----------
    counts : array_like of float, shape (n_cells, T)
        Weekly counts per cell, oldest week first; T ≥ 2 (the command itself asks for at
        least :data:`MIN_WEEKS`).
    w : sparse matrix, shape (n_cells, n_cells)
        Spatial weights with the self-weight on the diagonal (see :func:`space_time_gi`).
    time_step : int, default 1
        Earlier weeks in each bin's neighbourhood.
    alpha_trend : float, default 0.05
        Significance level of the Mann–Kendall trend.

    Returns
    -------
    EmergingResult
        A degenerate cube (no cells, every bin the same count) gives no_pattern for every
        cell and the note of :func:`space_time_gi`.

    Raises
    ------
    ValueError
        When T < 2, and on the invalid inputs of :func:`space_time_gi`.
    """
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"counts must be 2-D (cells × weeks), got {x.ndim}-D")
    if x.shape[1] < 2:
        raise ValueError(f"emerging hot spots need at least 2 weekly bins, got {x.shape[1]}")
    st = space_time_gi(x, w, time_step)
    mk = mann_kendall(st.z, alpha=alpha_trend)
    return EmergingResult(
        category=classify(st.gi_bin, mk.trend),
        hot_weeks=(st.gi_bin >= 1).sum(axis=1).astype(np.int64),
        cold_weeks=(st.gi_bin <= -1).sum(axis=1).astype(np.int64),
        mk_tau=mk.tau,
        mk_p=mk.p_value,
        mk_trend=mk.trend,
        final_gi_bin=st.gi_bin[:, -1].copy(),
        z=st.z,
        gi_bin=st.gi_bin,
        note=st.note,
    )


# --- from the database ------------------------------------------------------------------

#: Output columns of the ``emerging`` command (docs/hotspots.md, "Emerging hot spots").
EMERGING_COLUMNS = ["h3", "category", "hot_weeks", "cold_weeks", "mk_tau", "mk_p",
                    "final_gi_bin", "district", "street", "in_fringe"]


@dataclass
class EmergingQuery:
    """The ``weeks`` ISO weeks ending with the week of ``end``; filters as for hotspots."""

    end: dt.date
    weeks: int = 12
    res: int = 9
    k: int = 1
    time_step: int = 1
    source: str = "complaints"
    categories: list[str] = field(default_factory=list)
    district: str | None = None
    zone: str | None = None
    #: District-level jurisdiction ids whose records count (as :class:`HotspotQuery`).
    scope: tuple[str, ...] | None = None

    def check(self) -> None:
        if self.weeks < MIN_WEEKS:
            raise OptionError(f"at least {MIN_WEEKS} weeks are needed, got {self.weeks}",
                              option="weeks")
        if self.time_step < 0:
            raise OptionError(f"the time step must be 0 weeks or more, got {self.time_step}",
                              option="time-step")
        self.hotspot_query().check()

    def first_monday(self) -> dt.date:
        return self.end - dt.timedelta(days=self.end.weekday()) - dt.timedelta(weeks=self.weeks - 1)

    def hotspot_query(self):
        from analytics.hotspots import HotspotQuery

        return HotspotQuery(self.first_monday(), self.end, res=self.res, k=self.k,
                            source=self.source, categories=list(self.categories),
                            district=self.district, zone=self.zone, scope=self.scope)


@dataclass
class EmergingCells:
    """Every cell of the study area with its pattern; ``weeks`` labels the cube's columns."""

    cells: pd.DataFrame
    weeks: list[str]
    counts: np.ndarray
    result: EmergingResult
    note: str | None
    n_cells: int

    def rows(self, all_cells: bool = False) -> pd.DataFrame:
        """Cells with a pattern (default), or every cell of the study area."""
        cells = self.cells[EMERGING_COLUMNS]  # the integer ``cell`` stays inside
        if all_cells:
            return cells
        return cells[cells.category != "no_pattern"].reset_index(drop=True)


def compute_emerging(conn, q: EmergingQuery) -> EmergingCells:
    """Emerging hot-spot category of every cell of the study area over weekly bins.

    The records are those of :func:`analytics.hotspots.compute_hotspots` for the same
    filters, from the Monday of the first week to ``q.end`` inclusive; when ``q.end`` is
    not a Sunday the last week is partial, and the note says so.
    """
    from analytics.hotspots import weekly_cell_counts
    from analytics.studyarea import base_cells, ring_weights, study_area
    from grids import h3cells

    q.check()
    hq = q.hotspot_query()
    first = q.first_monday()
    counts = weekly_cell_counts(conn, hq, first)
    rec_cells = counts["cell"].to_numpy(dtype=np.uint64)
    if q.zone:
        keep = base_cells(conn, q.res, q.district, q.zone).contains(rec_cells)
        counts, rec_cells = counts[keep], rec_cells[keep]
    area = study_area(conn, q.res, rec_cells, q.district, q.zone)
    cube = np.zeros((len(area), q.weeks))
    if len(counts):
        cube[area.index_of(rec_cells), counts["week"].to_numpy(dtype=np.int64)] = (
            counts["n"].to_numpy(dtype=float))
    result = emerging_from_counts(cube, ring_weights(area, q.k), q.time_step)
    labels = [f"{(first + dt.timedelta(weeks=i)).isocalendar()[0]}-W"
              f"{(first + dt.timedelta(weeks=i)).isocalendar()[1]:02d}" for i in range(q.weeks)]
    notes = [result.note] if result.note else []
    if len(area) and cube.sum() == 0:
        notes = ["no records match the weeks and filters"]
    if q.end.weekday() != 6:
        notes.append(f"the last week {labels[-1]} is partial: records up to {q.end} only")
    frame = pd.DataFrame({
        "h3": h3cells.cells_to_hex(area.cells), "category": result.category,
        "hot_weeks": result.hot_weeks, "cold_weeks": result.cold_weeks,
        "mk_tau": result.mk_tau, "mk_p": result.mk_p,
        "final_gi_bin": result.final_gi_bin.astype(np.int64),
        "district": area.district, "street": area.street, "in_fringe": area.in_fringe,
    })
    frame["cell"] = area.cells  # the H3 index as an integer, for the work inside
    return EmergingCells(frame[EMERGING_COLUMNS + ["cell"]], labels, cube, result,
                         "; ".join(notes) or None, len(area))

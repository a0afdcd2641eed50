"""Emerging hot spots: space-time Gi* against explicit weights and esda, FDR, categories."""

import numpy as np
import pytest
import scipy.sparse as sp

from analytics.emerging import (
    CATEGORIES,
    CATEGORY_LABELS_ZH,
    MIN_WEEKS,
    classify,
    emerging_from_counts,
    space_time_gi,
)
from analytics.gistar import BIN_ALPHAS, bh_reject, gi_star_z, two_sided_p


def _lattice(rows, cols, queen=False):
    """Binary weights of a rows × cols lattice, rook (or queen) contiguity, self included."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    steps = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
             if queen or abs(dr) + abs(dc) <= 1]
    i, j = [], []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in steps:
                if 0 <= r + dr < rows and 0 <= c + dc < cols:
                    i.append(idx[r, c])
                    j.append(idx[r + dr, c + dc])
    return sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(rows * cols, rows * cols))


def _explicit_space_time(w, t, time_step):
    """The (n·T × n·T) space-time weights, bin (i, t) at row i·T + t, built with loops."""
    w = sp.coo_matrix(w)
    n = w.shape[0]
    rows, cols, vals = [], [], []
    for i, j, v in zip(w.row, w.col, w.data, strict=True):
        for week in range(t):
            for earlier in range(max(0, week - time_step), week + 1):
                rows.append(i * t + week)
                cols.append(j * t + earlier)
                vals.append(v)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n * t, n * t))


# ---------------------------------------------------------------- space-time Gi*

@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.parametrize("time_step", [0, 1, 2, 9, 15])
def test_space_time_gi_equals_explicit_matrix_and_esda(time_step):
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(time_step)
    t = 10
    w = _lattice(5, 6)  # 30 cells
    x = rng.poisson(2.0, (30, t)).astype(float)
    x[7:9, 6:] += 6  # some structure
    got = space_time_gi(x, w, time_step)
    big = _explicit_space_time(w, t, time_step)
    assert (big.diagonal() == 1).all()  # every bin is its own neighbour (Gi*)
    np.testing.assert_allclose(got.z.ravel(), gi_star_z(x.ravel(), big), rtol=1e-9, atol=1e-12)
    # esda: neighbours without the bin itself; star=True with binary weights adds self = 1
    coo = big.tocoo()
    neighbours = {k: [] for k in range(big.shape[0])}
    for a, b in zip(coo.row, coo.col, strict=True):
        if a != b:
            neighbours[int(a)].append(int(b))
    lw = libpysal.weights.W(neighbours, silence_warnings=True)
    y = x.ravel()[lw.id_order]
    ref = esda.G_Local(y, lw, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(got.z.ravel()[lw.id_order], ref.Zs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.p_value, two_sided_p(got.z), rtol=1e-15)
    assert got.note is None and got.gi_bin.dtype == np.int8 and got.gi_bin.shape == (30, t)


@pytest.mark.parametrize("time_step", [0, 1, 3])
def test_space_time_gi_with_general_weights(time_step):
    rng = np.random.default_rng(40 + time_step)
    n, t = 25, 8
    w = _lattice(5, 5, queen=True).multiply(rng.uniform(0.2, 3.0, (n, n))).tocsr()  # asymmetric
    x = rng.gamma(2.0, 2.0, (n, t))
    got = space_time_gi(x, w, time_step)
    ref = gi_star_z(x.ravel(), _explicit_space_time(w, t, time_step))
    np.testing.assert_allclose(got.z.ravel(), ref, rtol=1e-9, atol=1e-12)


def _planted_cube(seed=0, side=15, t=12):
    """A side × side queen lattice with three planted 3 × 3 blocks and Poisson(2) noise."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(2.0, (side * side, t)).astype(float)

    def block(r, c):
        return [(r + dr) * side + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]

    persistent, intensifying, new = block(3, 3), block(3, 11), block(11, 7)
    x[persistent] = 12.0  # high every week
    x[intensifying] = 8.0 + 2.0 * np.arange(t)  # high and rising
    x[new, -1] = 20.0  # high in the last week only
    centres = {"persistent": persistent[4], "intensifying": intensifying[4], "new": new[4]}
    return x, _lattice(side, side, queen=True), centres


def test_fdr_runs_over_the_whole_cube_not_per_week():
    x, w, _ = _planted_cube(seed=1)
    st = space_time_gi(x, w, time_step=1)
    p = st.p_value.ravel()
    level = np.zeros(p.size, dtype=int)
    for strength, alpha in zip((1, 2, 3), BIN_ALPHAS, strict=True):
        level[bh_reject(p, alpha)] = strength
    np.testing.assert_array_equal(st.gi_bin.ravel(), np.sign(st.z.ravel()) * level)
    # the data tell the two apart: BH week by week would give other bins
    per_week = np.zeros_like(st.gi_bin)
    for week in range(x.shape[1]):
        lv = np.zeros(x.shape[0], dtype=int)
        for strength, alpha in zip((1, 2, 3), BIN_ALPHAS, strict=True):
            lv[bh_reject(st.p_value[:, week], alpha)] = strength
        per_week[:, week] = np.sign(st.z[:, week]) * lv
    assert not np.array_equal(per_week, st.gi_bin)


# ---------------------------------------------------------------- categories

_CODE = {"H": 2, "h": 1, "C": -2, "c": -1, ".": 0}


def _bins(*patterns):
    return np.array([[_CODE[ch] for ch in p] for p in patterns], dtype=np.int8)


def _one(pattern, trend=0):
    return classify(_bins(pattern), np.array([trend]))[0]


CASES = [
    ("new_hotspot", ".........H", 0),
    ("consecutive_hotspot", "......hHHH", 0),
    ("intensifying_hotspot", ".HHHHHHHHH", 1),
    ("persistent_hotspot", "HHHHhHHHHH", 0),
    ("diminishing_hotspot", "HHHHHHHHHH", -1),
    ("historical_hotspot", "HHHHHHHHH.", 0),
    ("oscillating_hotspot", "C..H.....H", 0),
    ("sporadic_hotspot", "..H..H....", 0),
    ("new_coldspot", ".........C", 0),
    ("consecutive_coldspot", "......cCCC", 0),
    ("intensifying_coldspot", ".CCCCCCCCC", -1),
    ("persistent_coldspot", "CCCCcCCCCC", 0),
    ("diminishing_coldspot", "CCCCCCCCCC", 1),
    ("historical_coldspot", "CCCCCCCCC.", 0),
    ("oscillating_coldspot", "H..C.....C", 0),
    ("sporadic_coldspot", "..C..C....", 0),
    ("no_pattern", "..........", 0),
]


@pytest.mark.parametrize(("code", "pattern", "trend"), CASES, ids=[c[0] for c in CASES])
def test_each_category(code, pattern, trend):
    assert _one(pattern, trend) == code


def test_categories_are_complete_and_classify_is_vectorised():
    assert [c[0] for c in CASES] == list(CATEGORIES)
    assert set(CATEGORY_LABELS_ZH) == set(CATEGORIES)
    assert len(set(CATEGORY_LABELS_ZH.values())) == len(CATEGORIES)
    assert CATEGORY_LABELS_ZH["new_hotspot"] == "新增热点"
    assert CATEGORY_LABELS_ZH["sporadic_coldspot"] == "零星冷点"
    assert CATEGORY_LABELS_ZH["no_pattern"] == "无显著模式"
    got = classify(_bins(*[c[1] for c in CASES]), np.array([c[2] for c in CASES]))
    assert got.dtype == object and got.tolist() == [c[0] for c in CASES]


def test_ninety_percent_boundary():
    assert _one("H.HHHHHHHH") == "persistent_hotspot"  # exactly 9 of 10
    assert _one("H..HHHHHHH") == "sporadic_hotspot"  # 8 of 10, not one run: not persistent
    assert _one("..HHHHHHHH") == "consecutive_hotspot"  # 8 of 10 in one final run
    assert _one("C.CCCCCCCC", 0) == "persistent_coldspot"
    assert _one("HHHHHHHH..") == "sporadic_hotspot"  # 8 of 10, final not hot
    assert _one("." * 2 + "H" * 18) == "persistent_hotspot"  # 18 of 20: exactly 90 %
    assert _one("." * 3 + "H" * 17) == "consecutive_hotspot"
    assert _one("." * 7 + "H" * 63) == "persistent_hotspot"  # 63 of 70
    t12 = "." + "H" * 11, ".." + "H" * 10  # 11 of 12 is ≥ 90 %, 10 of 12 is not
    assert [_one(p) for p in t12] == ["persistent_hotspot", "consecutive_hotspot"]


def test_runs_of_one_and_two():
    assert _one("..H......H") == "sporadic_hotspot"  # final alone, earlier hot: not consecutive
    assert _one(".........H") == "new_hotspot"
    assert _one("........HH") == "consecutive_hotspot"  # run of exactly two ending at final
    assert _one("..H.....HH") == "sporadic_hotspot"  # hot before the final run
    assert _one("CC......HH") == "consecutive_hotspot"  # consecutive before oscillating
    assert _one("C........H") == "new_hotspot"  # new before oscillating
    assert _one("........HH", 1) == "consecutive_hotspot"  # trend matters only at ≥ 90 %


def test_cold_then_hot_is_oscillating():
    assert _one("CC.H.H...H") == "oscillating_hotspot"
    assert _one("..HH.C..HH") == "oscillating_hotspot"
    assert _one("HH.C.C...C") == "oscillating_coldspot"
    assert _one("..H..C....") == "no_pattern"  # both kinds, final neither


def test_hot_is_checked_before_cold():
    assert _one("HHHHHHHHHC") == "historical_hotspot"  # not new_coldspot
    assert _one("HHHHHHHHH.") == "historical_hotspot"
    assert _one("CCCCCCCCCH") == "new_hotspot"  # new before oscillating, hot before cold
    assert _one("H.......CC") == "consecutive_coldspot"  # hot sporadic needs no cold week


def test_classify_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        classify(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        classify(np.zeros((3, 5)), np.zeros(2))
    with pytest.raises(ValueError, match="trend"):
        classify(np.zeros((1, 5)), np.array([2]))


# ---------------------------------------------------------------- the whole pipeline

def test_planted_cells_through_the_pipeline():
    x, w, centre = _planted_cube(seed=0)
    res = emerging_from_counts(x, w, time_step=1)
    assert res.note is None
    assert res.category[centre["persistent"]] == "persistent_hotspot"
    assert res.category[centre["intensifying"]] == "intensifying_hotspot"
    assert res.category[centre["new"]] == "new_hotspot"
    assert res.hot_weeks[centre["persistent"]] == 12
    assert res.hot_weeks[centre["new"]] == 1 and res.final_gi_bin[centre["new"]] >= 1
    assert res.mk_tau[centre["intensifying"]] > 0.9 and res.mk_p[centre["intensifying"]] < 0.05
    assert res.mk_p[centre["persistent"]] >= 0.05
    # the fields agree with each other and with the parts
    st = space_time_gi(x, w, time_step=1)
    np.testing.assert_array_equal(res.z, st.z)
    np.testing.assert_array_equal(res.gi_bin, st.gi_bin)
    np.testing.assert_array_equal(res.hot_weeks, (st.gi_bin >= 1).sum(axis=1))
    np.testing.assert_array_equal(res.cold_weeks, (st.gi_bin <= -1).sum(axis=1))
    np.testing.assert_array_equal(res.final_gi_bin, st.gi_bin[:, -1])
    np.testing.assert_array_equal(res.category, classify(st.gi_bin, res.mk_trend))
    assert set(res.category) <= set(CATEGORIES)
    assert MIN_WEEKS == 8


def test_degenerate_cubes():
    w = _lattice(4, 4)
    zero = emerging_from_counts(np.zeros((16, 10)), w)
    assert zero.note and "zero variance" in zero.note
    assert (zero.category == "no_pattern").all()
    assert (zero.z == 0).all() and (zero.gi_bin == 0).all() and (zero.mk_p == 1).all()
    assert (zero.hot_weeks == 0).all() and (zero.cold_weeks == 0).all()
    flat = space_time_gi(np.full((16, 10), 3.0), w)
    assert flat.note and (flat.p_value == 1).all()
    none = emerging_from_counts(np.zeros((0, 10)), sp.csr_matrix((0, 0)))
    assert none.note == "no cells in the study area" and none.category.shape == (0,)
    short = space_time_gi(np.ones((16, 1)), w)
    assert short.note and (short.z == 0).all()
    with pytest.raises(ValueError, match="at least 2"):
        emerging_from_counts(np.ones((16, 1)), w)


def test_one_cell():
    x = np.array([[0, 1, 0, 2, 1, 0, 3, 9, 10, 12]], dtype=float)
    w = sp.identity(1, format="csr")
    res = emerging_from_counts(x, w, time_step=1)
    ref = gi_star_z(x.ravel(), _explicit_space_time(w, 10, 1))
    np.testing.assert_allclose(res.z.ravel(), ref, rtol=1e-12, atol=1e-12)
    assert res.category.shape == (1,) and res.category[0] in CATEGORIES
    assert res.note is None


def test_rejects_bad_input():
    w = _lattice(2, 2)
    with pytest.raises(ValueError, match="weights"):
        space_time_gi(np.ones((3, 5)), w)
    with pytest.raises(ValueError, match="time_step"):
        space_time_gi(np.ones((4, 5)), w, time_step=-1)
    with pytest.raises(ValueError, match="time_step"):
        space_time_gi(np.ones((4, 5)), w, time_step=1.5)
    with pytest.raises(ValueError, match="NaN"):
        space_time_gi(np.full((4, 5), np.nan), w)
    with pytest.raises(ValueError, match="2-D"):
        space_time_gi(np.ones(5), w)


def test_a_large_cube_runs(capsys):
    rng = np.random.default_rng(11)
    n, t = 90_000, 12
    rows = np.concatenate([np.repeat(np.arange(n), 6), np.arange(n)])
    cols = np.concatenate([rng.integers(0, n, 6 * n), np.arange(n)])
    w = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    w.data[:] = 1.0  # binary, self included
    x = rng.poisson(1.5, (n, t)).astype(float)
    res = emerging_from_counts(x, w, time_step=1)
    assert res.category.shape == (n,) and res.z.shape == (n, t)
    assert set(np.unique(res.category)) <= set(CATEGORIES)
    assert np.isfinite(res.z).all()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""

"""Gi* and Benjamini–Hochberg against published and independent values."""

import numpy as np
import pytest
import scipy.sparse as sp

from analytics.gistar import bh_reject, gi_bins, gi_star, gi_star_z, two_sided_p

# esda's six-point example (esda/tests/test_getisord.py): points, values, distance band 15,
# Gi* with binary weights.
POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
Y = np.array([2, 3, 3.2, 5, 8, 7], dtype=float)
PUBLISHED_Z = np.array([-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331])


def _band_weights(points, threshold):
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return sp.csr_matrix((d <= threshold).astype(float))  # self included: Gi*


def test_published_six_point_example():
    z = gi_star_z(Y, _band_weights(POINTS, 15))
    np.testing.assert_allclose(z, PUBLISHED_Z, rtol=1e-7)


def test_doubled_weights_give_the_same_z():
    w = _band_weights(POINTS, 15)
    np.testing.assert_allclose(gi_star_z(Y, 2 * w), gi_star_z(Y, w), rtol=1e-12)


def test_against_esda_on_random_data():
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, (200, 2))
    y = rng.poisson(3, 200).astype(float)
    w = _band_weights(pts, 12)
    lw = libpysal.weights.WSP(w).to_W(silence_warnings=True)
    ref = esda.G_Local(y, lw, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(gi_star_z(y, w), ref.Zs, rtol=1e-9, atol=1e-12)


def _bh_reference(p, alpha):
    """Textbook BH written independently: loop over ranks."""
    m = len(p)
    ranked = sorted(range(m), key=lambda i: p[i])
    k_max = 0
    for rank, i in enumerate(ranked, start=1):
        if p[i] <= alpha * rank / m:
            k_max = rank
    cut = p[ranked[k_max - 1]] if k_max else -1.0
    return np.array([pi <= cut for pi in p])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.10, 0.05, 0.01])
def test_bh_matches_reference_with_ties(seed, alpha):
    rng = np.random.default_rng(seed)
    p = np.round(np.concatenate([rng.uniform(0, 1, 300), rng.uniform(0, 0.002, 40)]), 4)
    np.testing.assert_array_equal(bh_reject(p, alpha), _bh_reference(p, alpha))


def test_bh_hand_worked_cases():
    # worked example: m = 5, alpha = 0.05 -> thresholds 0.01 .. 0.05
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042])
    np.testing.assert_array_equal(bh_reject(p, 0.05), [True, True, True, True, True])
    # p(2) = 0.012 <= 2 * 0.05 / 5; p(3) = 0.039 > 0.03, p(4) = 0.041 > 0.04, p(5) > 0.05
    p = np.array([0.001, 0.012, 0.039, 0.041, 0.09])
    np.testing.assert_array_equal(bh_reject(p, 0.05), [True, True, False, False, False])


def test_bins_and_degenerate_inputs():
    z = np.array([4.0, -4.0, 0.1, 2.2])
    b = gi_bins(z, two_sided_p(z))
    assert b[0] == 3 and b[1] == -3 and b[2] == 0
    flat = gi_star(np.full(10, 2.0), sp.identity(10, format="csr"))
    assert flat.note and (flat.z == 0).all() and (flat.gi_bin == 0).all()
    assert gi_star(np.array([5.0]), sp.identity(1, format="csr")).note.startswith("a single")
    assert gi_star(np.array([]), sp.csr_matrix((0, 0))).note == "no cells in the study area"
    assert not np.isnan(gi_star(Y, _band_weights(POINTS, 15)).z).any()

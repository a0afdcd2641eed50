"""Tests for grids.crs: published reference values, round trips in metres, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from grids import crs

GEOD = Geod(ellps="WGS84")

# wandergis/coordtransform, test/app.js (same numbers in its README and in
# wyxloading/coordtransform-rs tests/tests.rs), all for the input (116.404, 39.915).
INPUT = (116.404, 39.915)
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_WGS84_NAIVE = (116.39775550083061, 39.91359571849836)  # one-step inverse
# wyxloading/coordtransform-rs, tests/tests.rs: wgs84 -> gcj02 -> bd09 of the same input.
CT_WGS84_TO_BD09 = (116.41662724378733, 39.922699552216216)

# googollee/eviltransform, python/test.py and go/transform_test.go: (wgsLat, wgsLng,
# gcjLat, gcjLng); they check wgs2gcj to 1e-6 degrees and gcj2wgs_exact to 0.5 m.
EVIL_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# eviltransform python/test.py TESTS_bd (bdLat, bdLng, wgsLat, wgsLng). These were made
# by an old eviltransform.py that used math.pi where x_pi = pi*3000/180 belongs (see its
# python/eviltransform.py gcj2bd/bd2gcj); a correct BD-09 must NOT reproduce them.
EVIL_BD_BUGGY = [
    (29.199786, 120.019809, 29.196131605295484, 120.00877901149691),
    (29.210504, 120.036455, 29.206795749156136, 120.0253853970846),
]

INSIDE = {
    "Nanning": (108.32, 22.82), "Beijing": (116.40, 39.90), "Urumqi": (87.6, 43.8),
    "Harbin": (126.6, 45.8), "Lhasa": (91.1, 29.65), "Haikou": (110.3, 20.0),
    "Sanya": (109.5, 18.25), "Kashgar": (75.99, 39.47), "Shenzhen Futian": (114.06, 22.54),
    "Xiamen": (118.09, 24.48), "Hong Kong": (114.17, 22.32), "Macau": (113.54, 22.19),
}
OUTSIDE = {
    "Taipei": (121.56, 25.04), "Kaohsiung": (120.30, 22.62), "Hanoi": (105.85, 21.03),
    "Seoul": (126.98, 37.57), "Pyongyang": (125.75, 39.02), "Tokyo": (139.69, 35.69),
    "Ulaanbaatar": (106.91, 47.92), "Vladivostok": (131.89, 43.12),
    "Boston": (-71.06, 42.36), "Null Island": (0.0, 0.0),
}
FUNCS = [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09, crs.bd09_to_gcj02,
         crs.wgs84_to_bd09, crs.bd09_to_wgs84]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance on the WGS-84 ellipsoid (pyproj), in metres."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """100,000 seeded WGS-84 points in mainland China, >= 0.05 degrees from the outline.

    The margin keeps both ends of a conversion on the same side of the outline, where
    the shift switches on or off by design.
    """
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.0, 135.1, 600_000)
    lat = rng.uniform(17.8, 54.2, 600_000)
    keep = np.ones(lon.size, dtype=bool)
    for dx in (-0.05, 0.0, 0.05):
        for dy in (-0.05, 0.0, 0.05):
            keep &= crs.in_mainland_china(lon + dx, lat + dy)
    assert keep.sum() >= 100_000
    return lon[keep][:100_000], lat[keep][:100_000]


# ---- published values ---------------------------------------------------------------

@pytest.mark.parametrize(("func", "expected"), [
    (crs.wgs84_to_gcj02, CT_WGS84_TO_GCJ02),
    (crs.gcj02_to_bd09, CT_GCJ02_TO_BD09),
    (crs.wgs84_to_bd09, CT_WGS84_TO_BD09),
])
def test_forward_matches_coordtransform(func, expected):
    np.testing.assert_allclose(func(*INPUT), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVIL_WGS_GCJ)
def test_eviltransform_vectors(wlat, wlon, glat, glon):
    np.testing.assert_allclose(crs.wgs84_to_gcj02(wlon, wlat), (glon, glat), rtol=0, atol=1e-9)
    back = crs.gcj02_to_wgs84(glon, glat)
    assert metres(back[0], back[1], wlon, wlat) < 0.01


def test_gcj_inverse_beats_the_naive_published_inverse():
    ours = crs.gcj02_to_wgs84(*INPUT)
    again = crs.wgs84_to_gcj02(*ours)
    np.testing.assert_allclose(again, INPUT, rtol=0, atol=1e-7)
    naive_again = crs.wgs84_to_gcj02(*CT_GCJ02_TO_WGS84_NAIVE)
    our_err = metres(*again, *INPUT)
    naive_err = metres(*naive_again, *INPUT)
    assert naive_err > 0.01 > our_err
    assert metres(*ours, *CT_GCJ02_TO_WGS84_NAIVE) < 5  # same neighbourhood


def test_bd_inverse_close_to_published_closed_form():
    ours = crs.bd09_to_gcj02(*INPUT)
    np.testing.assert_allclose(crs.gcj02_to_bd09(*ours), INPUT, rtol=0, atol=1e-9)
    assert metres(*ours, *CT_BD09_TO_GCJ02) < 0.5
    closed_form_err = metres(*crs.gcj02_to_bd09(*CT_BD09_TO_GCJ02), *INPUT)
    assert closed_form_err > metres(*crs.gcj02_to_bd09(*ours), *INPUT)


@pytest.mark.parametrize(("blat", "blon", "wlat", "wlon"), EVIL_BD_BUGGY)
def test_bd09_uses_x_pi_not_pi(blat, blon, wlat, wlon):
    lon, lat = crs.bd09_to_wgs84(blon, blat)
    assert metres(lon, lat, wlon, wlat) > 3


# ---- accuracy over mainland China -----------------------------------------------------

# Required: < 0.5 m. Asserted: < 1 mm, the accuracy docs/coordinates.md promises.
def test_gcj02_round_trips_under_a_millimetre(china_points):
    wlon, wlat = china_points
    glon, glat = crs.wgs84_to_gcj02(wlon, wlat)
    back = crs.gcj02_to_wgs84(glon, glat)
    assert metres(*back, wlon, wlat).max() < 0.001
    assert metres(*crs.wgs84_to_gcj02(*back), glon, glat).max() < 0.001
    # the iteration matters: the one-step inverse misses by metres somewhere
    dlon, dlat = crs.wgs84_to_gcj02(glon, glat)
    naive = (2 * glon - dlon, 2 * glat - dlat)
    assert metres(*naive, wlon, wlat).max() > 0.5


def test_bd09_round_trips_under_a_millimetre(china_points):
    wlon, wlat = china_points
    blon, blat = crs.wgs84_to_bd09(wlon, wlat)
    back = crs.bd09_to_wgs84(blon, blat)
    assert metres(*back, wlon, wlat).max() < 0.001
    assert metres(*crs.wgs84_to_bd09(*back), blon, blat).max() < 0.001


def test_shift_sizes():
    lon, lat = INSIDE["Nanning"]
    assert 300 < metres(*crs.wgs84_to_gcj02(lon, lat), lon, lat) < 600
    # BD-09 adds roughly another 0.0065/0.006 degrees (about 1 km at these latitudes)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert 500 < metres(*crs.gcj02_to_bd09(glon, glat), glon, glat) < 1500


# ---- outline, outside China, NaN, shapes ------------------------------------------------

def test_in_mainland_china_cities():
    names = list(INSIDE) + list(OUTSIDE)
    lon, lat = np.array([INSIDE.get(n, OUTSIDE.get(n)) for n in names]).T
    got = dict(zip(names, crs.in_mainland_china(lon, lat), strict=True))
    assert {n for n, v in got.items() if v} == set(INSIDE)
    assert not crs.in_mainland_china(np.nan, 30.0)


@pytest.mark.parametrize("func", FUNCS)
def test_outside_china_unchanged(func):
    lon, lat = np.array(list(OUTSIDE.values())).T
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


@pytest.mark.parametrize("func", FUNCS)
def test_nan_passes_through(func):
    lon = np.array([116.404, np.nan, 121.5, np.nan])
    lat = np.array([39.915, 39.9, np.nan, np.nan])
    out_lon, out_lat = func(lon, lat)
    assert np.isnan(out_lon[1:]).all() and np.isnan(out_lat[1:]).all()
    one = func(116.404, 39.915)
    assert (out_lon[0], out_lat[0]) == (one[0], one[1])
    assert out_lon[0] != 116.404


@pytest.mark.parametrize("func", FUNCS)
def test_input_kinds(func):
    scalar = func(116.404, 39.915)
    assert all(isinstance(a, np.ndarray) and a.shape == () for a in scalar)
    listed = func([116.404, 121.5], [39.915, 31.2])
    assert listed[0].shape == (2,) and listed[0][0] == scalar[0]
    grid = func(np.full((2, 3), 116.404), 39.915)  # broadcast, 2-D kept
    assert grid[1].shape == (2, 3) and grid[1][1, 2] == scalar[1]


def test_input_not_modified():
    lon, lat = np.array([116.404]), np.array([39.915])
    crs.gcj02_to_wgs84(lon, lat)
    assert (lon[0], lat[0]) == INPUT


def test_vectorised_large_input(monkeypatch):
    calls = []
    original = crs._gcj_offset

    def counting(lon, lat):
        calls.append(lon.size)
        return original(lon, lat)

    monkeypatch.setattr(crs, "_gcj_offset", counting)
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(100, 120, 200_000), rng.uniform(25, 40, 200_000)
    out_lon, out_lat = crs.gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (200_000,) and np.isfinite(out_lat).all()
    assert len(calls) <= crs.INVERSE_MAX_ITER + 1  # whole-array steps, not per point
    assert max(calls) > 190_000  # a few points fall in the Taiwan rectangle


# ---- names and dispatch ---------------------------------------------------------------

@pytest.mark.parametrize(("alias", "name"), [
    ("WGS84", "wgs84"), ("wgs-84", "wgs84"), ("WGS 84", "wgs84"), ("EPSG:4326", "wgs84"),
    ("4326", "wgs84"), ("gps", "wgs84"), ("GCJ-02", "gcj02"), ("gcj", "gcj02"),
    ("Amap", "gcj02"), ("gaode", "gcj02"), ("高德", "gcj02"), ("Tencent", "gcj02"),
    ("腾讯", "gcj02"), ("火星坐标", "gcj02"), ("火星", "gcj02"), ("BD-09", "bd09"),
    ("bd09ll", "bd09"), ("Baidu", "bd09"), ("百度", "bd09"), ("CGCS2000", "cgcs2000"),
    ("cgcs-2000", "cgcs2000"), ("epsg:4490", "cgcs2000"), ("4490", "cgcs2000"),
    ("TianDiTu", "cgcs2000"), ("天地图", "cgcs2000"), ("国家2000", "cgcs2000"),
    (" gcj02 ", "gcj02"),
])
def test_normalize_crs_aliases(alias, name):
    assert crs.normalize_crs(alias) == name


def test_normalize_crs_error_names_value_and_choices():
    with pytest.raises(ValueError, match="'bd-11'") as info:
        crs.normalize_crs("bd-11")
    for name in crs.CRS_NAMES + ("高德", "epsg:4490"):
        assert name in str(info.value)


def test_convert_dispatch():
    lon, lat = np.array([116.404, 139.69]), np.array([39.915, 35.69])
    np.testing.assert_array_equal(crs.convert(lon, lat, "高德", "百度"),
                                  crs.gcj02_to_bd09(lon, lat))
    np.testing.assert_array_equal(crs.to_wgs84(lon, lat, "amap"), crs.gcj02_to_wgs84(lon, lat))
    np.testing.assert_array_equal(crs.from_wgs84(lon, lat, "baidu"),
                                  crs.wgs84_to_bd09(lon, lat))
    np.testing.assert_array_equal(crs.convert(lon, lat, "cgcs2000", "gcj02"),
                                  crs.wgs84_to_gcj02(lon, lat))
    same = crs.to_wgs84(lon, lat, "EPSG:4490")
    np.testing.assert_array_equal(same, (lon, lat))
    assert same[0] is not lon
    with pytest.raises(ValueError, match="mars"):
        crs.convert(lon, lat, "mars", "wgs84")


def test_transform_geometry_single_and_array():
    point = shapely.Point(*CT_WGS84_TO_GCJ02)
    out = crs.transform_geometry(point, "gcj02")
    assert isinstance(out, shapely.Point)
    np.testing.assert_allclose((out.x, out.y), INPUT, rtol=0, atol=1e-9)

    square = shapely.box(116.404, 39.915, 116.41, 39.92)
    arr = np.array([shapely.Point(*INPUT), square, None, shapely.Point(116.404, 39.915, 50.0)])
    res = crs.transform_geometry(arr, "wgs84", "bd09")
    assert isinstance(res, np.ndarray) and res.shape == (4,) and res[2] is None
    np.testing.assert_allclose(shapely.get_coordinates(res[0])[0], CT_WGS84_TO_BD09,
                               rtol=0, atol=1e-12)
    assert res[1].geom_type == "Polygon" and len(res[1].exterior.coords) == 5
    expected = np.column_stack(crs.wgs84_to_bd09(*shapely.get_coordinates(square).T))
    np.testing.assert_allclose(shapely.get_coordinates(res[1]), expected, rtol=0, atol=1e-12)
    assert res[3].has_z and res[3].z == 50.0

"""The offline web map (ui/webmap.py): nothing from the internet, untrusted text escaped,
the cell budget, the Amap (GCJ-02) shift, size and speed at the budget."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import folium
import h3
import numpy as np
import pandas as pd
import pytest

from grids import crs
from ui import webmap

XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "${alert(1)}",
       "`alert(1)`", "{{ 7*7 }}", "{% if true %}jinja{% endif %}", "a'b\"c&d"]

SQUARE = "POLYGON ((108.30 22.80, 108.40 22.80, 108.40 22.90, 108.30 22.90, 108.30 22.80))"


def _cells(n: int = 40, res: int = 9, seed: int = 1) -> pd.DataFrame:
    """A layer like analytics.celldetail.cell_layer's, around central Nanning."""
    rng = np.random.default_rng(seed)
    centre = h3.latlng_to_cell(22.83, 108.33, res)
    hexes = sorted(h3.grid_disk(centre, 60))[:n]
    ll = np.array([h3.cell_to_latlng(c) for c in hexes])
    count = rng.integers(0, 40, n)
    count[:3] = [0, 1, 150]
    gi = rng.choice([-3, -2, -1, 0, 0, 0, 1, 2, 3], n)
    return pd.DataFrame({
        "h3": hexes, "res": res, "count": count, "value": count.astype(float), "gi_bin": gi,
        "category": rng.choice(["new_hotspot", "persistent_hotspot", "no_pattern"], n),
        "district": "青秀区", "street": [XSS[i % len(XSS)] for i in range(n)],
        "in_fringe": False, "lon": ll[:, 1], "lat": ll[:, 0], "notable": (count > 0) | (gi != 0),
        "cell": np.array([h3.str_to_int(h) for h in hexes], dtype=np.uint64)})


def _points() -> pd.DataFrame:
    return pd.DataFrame({"point_id": [f"P{i}" for i in range(len(XSS))], "name": XSS,
                         "point_type": ["背街小巷", XSS[0]] * 3 + ["公交站点"],
                         "lon": 108.33 + 0.001 * np.arange(len(XSS)), "lat": 22.83})


def _shapes(name: str = "方区") -> pd.DataFrame:
    return pd.DataFrame({"jurisdiction_id": ["D1"], "name": [name], "geometry": [SQUARE]})


def _full_map(basemap: str = "none", key: str = "", mode: str = "count"):
    m, legend = webmap.build_map(
        _cells(), mode, basemap=webmap.basemap_spec(basemap, key), districts=_shapes(XSS[0]),
        streets=_shapes(XSS[1]), fringe=_shapes("城乡结合部"), points=_points(), res=9)
    return m, legend, m.get_root().render()


def _data_blocks(html: str) -> list[dict]:
    """The GeoJSON passed to every layer's addData(...), decoded."""
    out = []
    for m in re.finditer(r"\.addData\((\{.*?\})\);\n", html):
        out.append(json.loads(m.group(1)))
    return out


# ---------------------------------------------------------------- offline
def test_the_map_loads_only_the_vendored_leaflet():
    m = webmap.OfflineMap()
    html = m.get_root().render()
    assert "http" not in html
    assert webmap.LEAFLET_JS in html and webmap.LEAFLET_CSS in html
    # what the page loads: every src/href (element ids are random hex, so not the whole text)
    import re

    loaded = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
    assert loaded and set(loaded) <= {webmap.LEAFLET_JS, webmap.LEAFLET_CSS}, loaded
    for lib in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers",
                "awesome_markers", "cdn.", "d3.js", "d3.min.js", "d3.v"):
        assert lib not in html.lower(), lib
    assert webmap.OfflineMap.default_js == [("leaflet", "/app/static/vendor/leaflet/leaflet.js")]
    assert webmap.OfflineMap.default_css == [("leaflet_css",
                                              "/app/static/vendor/leaflet/leaflet.css")]


def _links(element) -> tuple[list[str], list[str], list]:
    """What streamlit-folium would load for this map (its own walk of the elements)."""
    import branca

    js, css, colormaps = [], [], []

    def walk(e):
        if isinstance(e, branca.colormap.ColorMap):
            colormaps.append(e)
        js.extend(u for _, u in getattr(e, "default_js", []))
        css.extend(u for _, u in getattr(e, "default_css", []))
        for child in getattr(e, "_children", {}).values():
            walk(child)
    walk(element)
    return js, css, colormaps


@pytest.mark.parametrize("basemap,key", [("none", ""), ("osm", ""), ("amap", ""),
                                         ("tianditu", "k3y"),
                                         ("https://tiles.city.gov.cn/{z}/{x}/{y}.png", "")])
def test_no_url_but_the_configured_basemaps(basemap, key):
    m, _, html = _full_map(basemap, key)
    spec = webmap.basemap_spec(basemap, key)
    allowed = [t.url for t in spec.tiles]
    plain = html.replace("\\u0026", "&")
    found = re.findall(r"https?://[^\"'\s]+", plain)
    assert sorted(set(found)) == sorted(set(allowed))
    assert plain.count("http") == len(found)           # no "http" anywhere else
    js, css, colormaps = _links(m)
    assert set(js) == {webmap.LEAFLET_JS} and set(css) == {webmap.LEAFLET_CSS}
    assert colormaps == []
    if basemap == "amap":
        assert m.display_crs == "gcj02"


def test_basemap_settings():
    assert webmap.basemap_spec(None).tiles == () and webmap.basemap_spec("none").warning is None
    osm = webmap.basemap_spec("osm")
    assert osm.tiles[0].url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    amap = webmap.basemap_spec("AMAP")
    assert amap.display_crs == "gcj02" and amap.tiles[0].url == webmap.AMAP_URL
    tdt = webmap.basemap_spec("tianditu", "a b&c")
    assert [t.url.split("/")[3] for t in tdt.tiles] == ["vec_w", "cva_w"]
    assert all(t.url.endswith("tk=a%20b%26c") for t in tdt.tiles)
    assert all("TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in t.url for t in tdt.tiles)
    no_key = webmap.basemap_spec("tianditu", "")
    assert no_key.tiles == () and "tianditu_key" in no_key.warning
    for bad in ("javascript:alert(1)//{z}{x}{y}", "https://x/{z}/{x}.png", "satellite",
                "https://x/{{z}}/{x}/{y}.png", "https://x/{z}/{x}/{y}.png\" onload=\"x"):
        spec = webmap.basemap_spec(bad)
        assert spec.tiles == () and spec.warning, bad
    local = webmap.basemap_spec("/tiles/{z}/{x}/{y}.png")
    assert local.tiles[0].url == "/tiles/{z}/{x}/{y}.png"


# ---------------------------------------------------------------- escaping
def test_untrusted_text_reaches_the_page_escaped():
    _, _, html = _full_map()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    blocks = _data_blocks(html)
    texts = {v for b in blocks for f in b["features"] for v in f["properties"].values()
             if isinstance(v, str)}
    # decoded, every text is the escaped original (the tooltips insert it as HTML); the
    # template-like names ({{ 7*7 }}, {% if %}) come back as they were, not evaluated
    for raw in XSS:
        assert webmap.esc(raw) in texts, raw
        if webmap.esc(raw) != raw:
            assert raw not in texts
    # outside the data, none of the untrusted text appears, escaped or not
    rest = re.sub(r"\.addData\(\{.*?\}\);\n", "", html)
    for raw in XSS:
        assert raw not in rest and webmap.esc(raw) not in rest, raw
    assert "${alert" not in rest and "`alert" not in rest


def test_escape_helper():
    assert webmap.esc("<b>&'\"") == "&lt;b&gt;&amp;&#x27;&quot;"
    assert webmap.esc(None) == "" and webmap.esc(float("nan")) == "" and webmap.esc(3) == "3"


def test_data_cannot_open_a_template_or_close_the_script():
    layer = webmap.StyledGeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": "{{x}}{%y%}{#z#}</script><!--"},
         "geometry": {"type": "Point", "coordinates": [108.3, 22.8]}}]}, style={})
    text = layer.json_text()
    for bad in ("{{", "{%", "{#", "</", "<!"):
        assert bad not in text
    assert json.loads(text)["features"][0]["properties"]["n"] == "{{x}}{%y%}{#z#}</script><!--"


# ---------------------------------------------------------------- layers and legend
def test_cells_carry_their_id_colour_and_tooltip_values():
    cells = _cells()
    styled, legend = webmap.style_cells(cells, "count")
    data = webmap.cells_geojson(styled)
    assert len(data["features"]) == len(cells)
    for f, row in zip(data["features"], styled.itertuples(), strict=True):
        p = f["properties"]
        assert p["h3"] == row.h3 and p["c"] == row.c and p["n"] == row.count
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 7
        exp = [[round(lng, 5), round(lat, 5)] for lat, lng in h3.cell_to_boundary(row.h3)]
        assert ring[:-1] == exp
        assert all(len(str(x).split(".")[-1]) <= 5 for pt in ring for x in pt)
    assert [c for c, _ in legend][:1] == [webmap.ZERO_COLOUR]


def test_class_breaks_and_legends():
    assert webmap.class_breaks(np.array([0, 1, 3, 7, 12, 48, 150, 900])) == [1, 2, 5, 10, 20,
                                                                             50, 100]
    assert webmap.class_breaks(np.array([0.0, 0.0])) == []
    assert webmap.class_breaks(np.array([9.1, 12.0, 130.0])) == [5, 10, 20, 50, 100]
    cells = _cells()
    styled, legend = webmap.style_cells(cells, "count")
    labels = [lab for _, lab in legend]
    assert labels[0].startswith("0") and labels[1] == "1" and labels[-1].startswith("≥")
    b = np.asarray(webmap.class_breaks(cells["value"].to_numpy()))
    for row in styled.itertuples():
        if row.count == 0:
            assert row.c == webmap.ZERO_COLOUR
        else:
            assert row.c == webmap.SEQUENTIAL[int(np.searchsorted(b, row.count, "right") - 1)]
    gi, legend = webmap.style_cells(cells, "gi_bin", "en")
    assert [lab for _, lab in legend][0] == "Hot spot, 99% confidence" and len(legend) == 7
    assert (gi["c"] == cells["gi_bin"].map(webmap.GI_COLOURS)).all()
    em, legend = webmap.style_cells(cells, "emerging")
    assert [lab for _, lab in legend] == ["新增热点", "持续热点", "无显著模式"]
    dens = cells.assign(value=cells["count"] / 0.105)
    _, legend = webmap.style_cells(dens, "density")
    assert legend[1][1].startswith("5 – 10") or legend[1][1].startswith("10 –")
    with pytest.raises(ValueError):
        webmap.style_cells(cells, "heat")
    assert webmap.emerging_label("new_hotspot", "en") == "New hot spot"


def test_points_by_type_and_the_cell_they_are_in():
    pts = _points()
    colours = webmap.point_colours(["背街小巷", "公交站点", XSS[0]])
    data = webmap.points_geojson(pts, colours, 9)
    assert len(data["features"]) == len(pts)
    for f, row in zip(data["features"], pts.itertuples(), strict=True):
        assert f["properties"]["c"] == colours[row.point_type]
        assert f["properties"]["h3"] == h3.latlng_to_cell(row.lat, row.lon, 9)
        assert f["properties"]["n"] == webmap.esc(row.name)
    m = webmap.OfflineMap()
    layer = webmap.add_points(m, pts, colours, 9)
    assert layer.point_radius == 5
    html = m.get_root().render()
    assert "L.circleMarker" in html and "bindTooltip" in html


def test_selection_outline_and_bounds():
    cell = h3.latlng_to_cell(22.83, 108.33, 9)
    group = webmap.selection_layer(cell)
    assert isinstance(group, folium.FeatureGroup)
    m = webmap.OfflineMap()
    group.add_to(m)
    assert cell in m.get_root().render()
    assert webmap.bounds_of(_shapes()) == [[22.8, 108.3], [22.9, 108.4]]
    cells = _cells()
    box = webmap.core_bounds(cells, 1.0)
    busy = cells[cells["count"] > 0]
    assert box == [[busy.lat.min(), busy.lon.min()], [busy.lat.max(), busy.lon.max()]]
    inner = webmap.core_bounds(cells, 0.5)
    assert inner[0][0] >= box[0][0] and inner[1][1] <= box[1][1]


# ---------------------------------------------------------------- the Amap shift
def test_amap_shifts_every_geometry_to_gcj02():
    cells, pts = _cells(), _points()
    styled, _ = webmap.style_cells(cells, "count")
    plain = webmap.cells_geojson(styled, "wgs84")
    shifted = webmap.cells_geojson(styled, "gcj02")
    a = np.array([f["geometry"]["coordinates"][0] for f in plain["features"]])
    b = np.array([f["geometry"]["coordinates"][0] for f in shifted["features"]])
    exp_lon, exp_lat = crs.from_wgs84(a[..., 0], a[..., 1], "gcj02")
    np.testing.assert_allclose(b[..., 0], exp_lon, atol=1.01e-5)
    np.testing.assert_allclose(b[..., 1], exp_lat, atol=1.01e-5)
    metres = np.hypot((b[..., 0] - a[..., 0]) * 102_600, (b[..., 1] - a[..., 1]) * 110_800)
    assert 300 < metres.min() and metres.max() < 700          # the GCJ-02 offset in Nanning
    p0 = webmap.points_geojson(pts, {}, None, "wgs84")["features"][0]["geometry"]["coordinates"]
    p1 = webmap.points_geojson(pts, {}, None, "gcj02")["features"][0]["geometry"]["coordinates"]
    assert p1 == pytest.approx([float(v) for v in crs.from_wgs84(p0[0], p0[1], "gcj02")],
                               abs=1.01e-5)
    o0 = webmap.shapes_geojson(_shapes(), "wgs84")["features"][0]["geometry"]["coordinates"][0]
    o1 = webmap.shapes_geojson(_shapes(), "gcj02")["features"][0]["geometry"]["coordinates"][0]
    assert o1 == pytest.approx([float(v) for v in crs.from_wgs84(o0[0], o0[1], "gcj02")],
                               abs=1.01e-5)
    lon, lat = webmap.from_display(*webmap.to_display([108.33], [22.83], "gcj02"), "gcj02")
    assert (lon[0], lat[0]) == pytest.approx((108.33, 22.83), abs=1e-8)
    m, _, html = _full_map("amap")
    assert m.display_crs == "gcj02"
    first = _data_blocks(html)[0]["features"][0]
    row = cells.sort_values(["count", "h3"], ascending=[False, True]).iloc[0]
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(row.h3)]
    gx, gy = crs.from_wgs84(ring[0][0], ring[0][1], "gcj02")
    assert first["properties"]["h3"] == row.h3
    assert first["geometry"]["coordinates"][0][0] == pytest.approx([float(gx), float(gy)],
                                                                  abs=1.01e-5)


# ---------------------------------------------------------------- the budget
def _layers(sizes: dict[int, tuple[int, int]]):
    """layer_at(r) giving sizes[r] = (cells, notable cells)."""
    calls = []

    def layer_at(r):
        calls.append(r)
        n, k = sizes[r]
        return pd.DataFrame({"h3": [f"{r}-{i:06d}" for i in range(n)],
                             "count": [1] * k + [0] * (n - k), "notable": [True] * k
                             + [False] * (n - k)})
    return layer_at, calls


def test_the_cell_budget():
    layer_at, calls = _layers({9: (80, 30)})
    fit = webmap.fit_cells(layer_at, 9, max_cells=100)
    assert (len(fit.cells), fit.res, fit.dropped_empty, fit.coarsened) == (80, 9, False, False)
    layer_at, _ = _layers({9: (500, 90)})
    fit = webmap.fit_cells(layer_at, 9, max_cells=100)
    assert (len(fit.cells), fit.res, fit.dropped_empty, fit.coarsened) == (90, 9, True, False)
    assert fit.cells["notable"].all() and fit.total == 500
    layer_at, calls = _layers({10: (5000, 400), 9: (900, 150), 8: (200, 60)})
    fit = webmap.fit_cells(layer_at, 10, max_cells=100)
    assert calls == [10, 9, 8]
    assert (fit.res, fit.requested_res, fit.coarsened, len(fit.cells)) == (8, 10, True, 60)
    assert fit.tried == [(10, 5000, 400), (9, 900, 150), (8, 200, 60)]
    layer_at, _ = _layers({7: (900, 300)})
    fit = webmap.fit_cells(layer_at, 7, max_cells=100)
    assert fit.truncated and len(fit.cells) == 100 and fit.res == 7
    # a cheap lower bound of the busy cells passes a resolution over without computing it
    layer_at, calls = _layers({10: (5000, 400), 9: (900, 150), 8: (200, 60)})
    fit = webmap.fit_cells(layer_at, 10, max_cells=100, busy_at={10: 300, 9: 90, 8: 50}.get)
    assert calls == [9, 8] and fit.res == 8
    assert fit.tried == [(10, None, 300), (9, 900, 150), (8, 200, 60)]


def test_the_budget_on_the_synthetic_city(synthetic_city):
    import duckdb

    from analytics.celldetail import cell_layer
    from analytics.hotspots import HotspotQuery

    con = duckdb.connect(str(synthetic_city[0]), read_only=True)
    try:
        def layer_at(r):
            return cell_layer(con, HotspotQuery(dt.date(2026, 10, 26), dt.date(2026, 11, 22),
                                                res=r)).cells
        at10 = layer_at(10)
        busy10 = int(at10["notable"].sum())
        fit = webmap.fit_cells(layer_at, 10, max_cells=busy10 - 1)
        assert fit.coarsened and fit.res == 9 and fit.dropped_empty
        assert len(fit.cells) == int(layer_at(9)["notable"].sum()) < busy10
        assert fit.cells["count"].sum() == at10["count"].sum()   # every record still drawn
        same = webmap.fit_cells(layer_at, 10, max_cells=busy10)
        assert same.res == 10 and len(same.cells) == busy10
    finally:
        con.close()


def test_the_budget_bounds_the_page_size_and_build_time():
    """MAX_CELLS cells (plus outlines and points) give well under 6 MB of HTML."""
    centre = h3.latlng_to_cell(22.83, 108.33, 9)
    hexes = []
    k = 0
    while len(hexes) < webmap.MAX_CELLS:
        k += 1
        hexes = sorted(h3.grid_disk(centre, k))
    hexes = hexes[:webmap.MAX_CELLS]
    ll = np.array([h3.cell_to_latlng(c) for c in hexes])
    rng = np.random.default_rng(3)
    count = rng.integers(1, 300, len(hexes))
    cells = pd.DataFrame({"h3": hexes, "res": 9, "count": count, "value": count.astype(float),
                          "gi_bin": 0, "category": None, "district": "青秀区",
                          "street": "中华路街道", "in_fringe": False, "lon": ll[:, 1],
                          "lat": ll[:, 0], "notable": True,
                          "cell": np.array([h3.str_to_int(h) for h in hexes], dtype=np.uint64)})
    t = time.perf_counter()
    m, _ = webmap.build_map(cells, "density", districts=_shapes(), points=_points(), res=9)
    size = len(m.get_root().render())
    took = time.perf_counter() - t
    assert size <= 6_000_000, f"{size / 1e6:.2f} MB"
    assert took < 3.0, f"{took:.2f} s"   # bench/app_map.py measures it on a quiet machine

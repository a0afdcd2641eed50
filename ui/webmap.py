"""The app's interactive map: Leaflet served by the app itself, layers built from DataFrames.

Offline first. :class:`OfflineMap` loads only the Leaflet copy vendored under
``static/vendor/leaflet`` (served by Streamlit at ``/app/static/...``): no jQuery,
Bootstrap, Font Awesome or any CDN, so the map works on a city intranet with no internet.
No branca colour maps (streamlit-folium would fetch d3 from a CDN for them) and no folium
plugins with JavaScript of their own; the legend is returned as (colour, label) pairs for
the page to draw.

The basemap comes from the setting ``map.basemap``: ``none`` (default), ``osm``,
``tianditu`` (vector + annotation, needs ``map.tianditu_key``), ``amap`` or any XYZ URL
template with ``{z}``/``{x}``/``{y}``. Amap tiles are drawn in GCJ-02, so with ``amap``
every geometry is shifted from WGS-84 to GCJ-02 (:mod:`grids.crs`) before it is drawn;
clicks come back in the same display coordinates (:func:`from_display`).

Untrusted text (point names, street names, categories) reaches the map only as GeoJSON
properties that went through :func:`html.escape`; the tooltips put them into the page as
HTML, so the escaped form is what the browser shows as text.

Cell budget: a hexagon costs 280–300 characters of HTML (compact GeoJSON, coordinates
to 5 decimals, about 1 m). :data:`MAX_CELLS` = 15,000 cells make at most 4.5 MB, which
leaves room for outlines and 2,000 points under 6 MB, and build in about 0.6 s;
:func:`fit_cells` first leaves out the empty, non-significant cells, then steps to a
coarser resolution, and the page says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.template import Template

from grids import h3cells
from ui.basemaps import (  # noqa: F401 - re-exported: the map's public names live here too
    AMAP_URL,
    COORD_DECIMALS,
    OSM_URL,
    TIANDITU_URL,
    Basemap,
    TileSpec,
    _geoms_to_display,
    _rounded,
    basemap_spec,
    from_display,
    to_display,
)
from ui.mapstyle import (  # noqa: F401 - re-exported
    EMERGING_COLOURS,
    GI_COLOURS,
    GI_LABELS,
    POINT_COLOURS,
    SEQUENTIAL,
    ZERO_COLOUR,
    _t,
    class_breaks,
    emerging_label,
    esc,
    point_colours,
    style_cells,
)

LEAFLET_JS = "/app/static/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "/app/static/vendor/leaflet/leaflet.css"

#: Most cells one map draws (see the module docstring for the measure behind it).
MAX_CELLS = 15_000
#: Outlines are simplified to this tolerance (degrees, about 20 m) before drawing.
OUTLINE_TOLERANCE = 0.0002

# --- the map ----------------------------------------------------------------------------

class OfflineMap(folium.Map):
    """A folium map that loads nothing but the vendored Leaflet; no basemap by default.

    Parameters
    ----------
    basemap : Basemap, optional
        From :func:`basemap_spec`; None draws no tiles.
    **kwargs
        As for :class:`folium.Map` (``tiles`` is always None: tiles come from ``basemap``).
    """

    default_js = [("leaflet", LEAFLET_JS)]
    default_css = [("leaflet_css", LEAFLET_CSS)]

    def __init__(self, basemap: Basemap | None = None, **kwargs):
        kwargs["tiles"] = None
        # thousands of cells draw on one canvas far faster than as SVG paths
        kwargs.setdefault("prefer_canvas", True)
        kwargs.setdefault("control_scale", True)
        kwargs.setdefault("zoom_start", 11)
        super().__init__(**kwargs)
        # branca's page header declares the charset with an http-equiv meta; say it plainly
        self.get_root().header.add_child(Element('<meta charset="utf-8" />'), name="meta_http")
        self.basemap = basemap or Basemap("none")
        self.display_crs = self.basemap.display_crs
        for spec in self.basemap.tiles:
            folium.TileLayer(tiles=spec.url, attr=spec.attr, subdomains=spec.subdomains,
                             max_zoom=spec.max_zoom, name=spec.url, control=False
                             ).add_to(self)


# --- layers -----------------------------------------------------------------------------

_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


class _RawElement(Element):
    """Text put into the page as it is (not read as a Jinja template)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class StyledGeoJson(folium.GeoJson):
    """A GeoJson layer styled in the browser from each feature's own colour property.

    folium's ``style_function`` runs in Python on every feature and writes a JavaScript
    ``switch`` listing every feature id under its style (about 300 kB and 0.3 s for 13,000
    cells). Here the colour is a precomputed property (``colour_property``) and the style
    function, written once, reads it: ``style`` is the base style, ``by_colour`` overrides
    per colour value (a paler fill for empty cells), ``highlight`` the style on hover,
    ``point_radius`` turns point features into circle markers, ``stroke_from_colour`` draws
    the outline in the fill colour (so that a cell smaller than a pixel still shows).

    The data are embedded as compact JSON (no spaces, Chinese as UTF-8, ``<`` and ``>``
    escaped so that no text can close the script); every text property must already be
    escaped with :func:`esc`, since tooltips insert them as HTML.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson(null, {
            style: function(feature) {
                var p = feature.properties || {};
                var c = p[{{ this.colour_property|tojson }}];
                var s = Object.assign({}, {{ this.base_style|tojson }},
                                      ({{ this.by_colour|tojson }})[c] || {});
                if (c) {
                    s.fillColor = c;
                    {%- if this.stroke_from_colour %} s.color = c;{% endif %}
                }
                return s;
            },
            {%- if this.highlight_style %}
            onEachFeature: function(feature, layer) {
                layer.on({
                    mouseover: function(e) {
                        if (typeof e.target.setStyle === "function") {
                            e.target.setStyle({{ this.highlight_style|tojson }});
                        }
                    },
                    mouseout: function(e) { {{ this.get_name() }}.resetStyle(e.target); }
                });
            },
            {%- endif %}
            {%- if this.point_radius %}
            pointToLayer: function(feature, latlng) {
                return L.circleMarker(latlng, {radius: {{ this.point_radius|tojson }}});
            },
            {%- endif %}
            ...{{ this.options|tojavascript }}
        });
        {{ this.get_name() }}.addData({{ "null" if this._deferred else this.json_text() }});
        {% endmacro %}
        """)

    def __init__(self, data: dict, *, style: dict, colour_property: str = "c",
                 by_colour: dict | None = None, highlight: dict | None = None,
                 point_radius: float | None = None, stroke_from_colour: bool = False,
                 name: str | None = None,
                 tooltip: folium.GeoJsonTooltip | None = None, **kwargs):
        super().__init__(data, name=name, tooltip=tooltip, **kwargs)
        self.base_style = dict(style)
        self.colour_property = colour_property
        self.by_colour = dict(by_colour or {})
        self.highlight_style = dict(highlight) if highlight else None
        self.point_radius = point_radius
        self.stroke_from_colour = stroke_from_colour
        self._json: str | None = None
        self._deferred = False

    def json_text(self) -> str:
        """The data as compact JSON, safe inside a <script> element (computed once).

        ``<`` and ``>`` are written ``\\u003c`` / ``\\u003e`` (no text can close the
        script), and a ``{`` before ``{``, ``%`` or ``#`` as ``\\u007b`` (no text can open a
        Jinja tag: branca re-reads rendered scripts as templates). Outside strings JSON
        never has ``{{``, ``{%`` or ``{#``, so only text inside strings changes, and the
        browser reads it back unchanged.
        """
        if self._json is None:
            text = (json.dumps(self.data, ensure_ascii=False, separators=(",", ":"),
                               allow_nan=False)
                    .replace("<", "\\u003c").replace(">", "\\u003e")
                    .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
            self._json = _JINJA_OPEN.sub(r"\\u007b", text)
        return self._json

    def render(self, **kwargs):
        """Render as folium does, but put the data into the page as plain text.

        branca turns each element's rendered script into a new Jinja template: megabytes
        of GeoJSON would be parsed again (0.3 s for 13,000 cells) and any ``{{ … }}`` in a
        point name evaluated on the server. The script is rendered first with ``null`` for
        the data, then replaced by the full script as a raw element.
        """
        self._deferred = True
        try:
            super().render(**kwargs)
        finally:
            self._deferred = False
        figure = self.get_root()
        if isinstance(figure, Figure) and self.get_name() in figure.script._children:
            figure.script._children[self.get_name()] = _RawElement(
                self._template.module.script(self, kwargs))

    def _get_self_bounds(self) -> list[list[float | None]]:
        box = self.data.get("bbox")
        if box:  # [west, south, east, north], set by the builders below
            return [[box[1], box[0]], [box[3], box[2]]]
        return super()._get_self_bounds()


def _bbox(lon: np.ndarray, lat: np.ndarray) -> list[float] | None:
    if len(lon) == 0:
        return None
    return [float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))]


def cells_geojson(cells: pd.DataFrame, display_crs: str = "wgs84",
                  fields: Sequence[str] = ("v", "n", "s")) -> dict:
    """A FeatureCollection of the cells' hexagons with properties h3, c (colour) and the
    tooltip fields: v (value text), n (count), s (street, else district; escaped).
    The hexagons come from the integer ``cell`` column; ``h3`` is the id the page shows."""
    hexes = cells["h3"].tolist()
    rings = h3cells.cells_to_boundaries(cells["cell"].to_numpy(np.uint64))
    sizes = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
    flat = np.array([p for ring in rings for p in ring], dtype=np.float64).reshape(-1, 2)
    lon, lat = to_display(flat[:, 1], flat[:, 0], display_crs)
    xy = np.round(np.column_stack([lon, lat]), COORD_DECIMALS).tolist()
    ends = np.cumsum(sizes).tolist()
    colours = cells["c"].tolist()
    text = {"v": cells["v"].map(esc).tolist() if "v" in fields else None,
            "n": cells["count"].astype(np.int64).tolist() if "n" in fields else None}
    if "s" in fields:
        place = cells["street"].where(cells["street"].notna(), cells["district"])
        text["s"] = place.map(esc).tolist()
    features = []
    start = 0
    for i, end in enumerate(ends):
        ring = xy[start:end]
        ring.append(ring[0])
        start = end
        props = {"h3": hexes[i], "c": colours[i]}
        for f in fields:
            props[f] = text[f][i]
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    out = {"type": "FeatureCollection", "features": features}
    box = _bbox(lon, lat)
    if box:
        out["bbox"] = [round(b, COORD_DECIMALS) for b in box]
    return out


CELL_STYLE = {"weight": 0.8, "opacity": 0.8, "fillOpacity": 0.7}
CELL_HIGHLIGHT = {"color": "#111111", "weight": 2, "opacity": 1}


def add_cells(m: folium.Map, cells: pd.DataFrame, mode: str, lang: str = "zh"
              ) -> StyledGeoJson | None:
    """One GeoJson layer of the styled cells (:func:`style_cells`), with a tooltip."""
    if not len(cells):
        return None
    fields = ["n", "s"] if mode == "count" else ["v", "n", "s"]
    aliases = {"v": {"density": _t("density", lang), "gi_bin": _t("gi_bin", lang),
                     "emerging": _t("emerging", lang)}.get(mode, ""),
               "n": _t("records", lang), "s": _t("street", lang)}
    layer = StyledGeoJson(
        cells_geojson(cells, getattr(m, "display_crs", "wgs84"), fields),
        name=_t("cells", lang), style=CELL_STYLE, stroke_from_colour=True,
        by_colour={ZERO_COLOUR: {"fillOpacity": 0.3, "opacity": 0.3}}, highlight=CELL_HIGHLIGHT,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[esc(aliases[f]) for f in fields],
                                      sticky=True))
    layer.add_to(m)
    return layer


def shapes_geojson(shapes: pd.DataFrame, display_crs: str = "wgs84",
                   tolerance: float = OUTLINE_TOLERANCE) -> dict:
    """Outlines (boundaries as lines) of WKT polygons, simplified, with the name escaped."""
    if shapes is None or not len(shapes):
        return {"type": "FeatureCollection", "features": []}
    geoms = shapely.from_wkt(shapes["geometry"].to_numpy(dtype=object))
    lines = shapely.simplify(shapely.boundary(geoms), tolerance, preserve_topology=True)
    lines = _geoms_to_display(lines, display_crs)
    names = shapes["name"].map(esc).tolist() if "name" in shapes else [""] * len(shapes)
    features = []
    for name, g in zip(names, lines, strict=True):
        if g is None or g.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"name": name},
                         "geometry": _rounded(shapely.geometry.mapping(g))})
    out = {"type": "FeatureCollection", "features": features}
    b = shapely.bounds(lines[~shapely.is_empty(lines)]) if len(features) else None
    if b is not None and len(b):
        out["bbox"] = [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                       float(b[:, 3].max())]
    return out


OUTLINE_STYLES = {
    "districts": {"color": "#37474f", "weight": 2.2, "opacity": 0.9, "fill": False},
    "streets": {"color": "#607d8b", "weight": 1.0, "opacity": 0.8, "fill": False},
    "communities": {"color": "#90a4ae", "weight": 0.7, "opacity": 0.8, "dashArray": "2 3",
                    "fill": False},
    "fringe": {"color": "#2e7d32", "weight": 2.5, "opacity": 0.95, "dashArray": "8 5",
               "fill": False},
}


def add_outlines(m: folium.Map, shapes: pd.DataFrame, kind: str, lang: str = "zh"
                 ) -> StyledGeoJson | None:
    """Non-interactive outlines: ``kind`` districts, streets, communities or fringe."""
    data = shapes_geojson(shapes, getattr(m, "display_crs", "wgs84"))
    if not data["features"]:
        return None
    layer = StyledGeoJson(data, name=_t(kind, lang), style=OUTLINE_STYLES[kind],
                          colour_property="", interactive=False)
    layer.add_to(m)
    return layer


def points_geojson(points: pd.DataFrame, colours: dict[str, str], res: int | None,
                   display_crs: str = "wgs84") -> dict:
    """Inspection points with escaped name (n) and type (t), colour (c) and, when ``res``
    is given, the hex of the cell at ``res`` that holds the point (h3)."""
    pts = points[points["lon"].notna() & points["lat"].notna()]
    lon, lat = to_display(pts["lon"].to_numpy(), pts["lat"].to_numpy(), display_crs)
    box = _bbox(lon, lat)
    lon, lat = np.round(lon, COORD_DECIMALS).tolist(), np.round(lat, COORD_DECIMALS).tolist()
    cells = [None] * len(pts)
    if res is not None and len(pts):
        cells = h3cells.cells_to_hex(h3cells.lonlat_to_cells(
            pts["lon"].to_numpy(), pts["lat"].to_numpy(), res)).tolist()
    features = []
    for x, y, name, kind, cell in zip(lon, lat, pts["name"].tolist(), pts["point_type"].tolist(),
                                      cells, strict=True):
        props = {"c": colours.get(kind, "#555555"), "n": esc(name), "t": esc(kind)}
        if cell:
            props["h3"] = cell
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [x, y]}})
    out = {"type": "FeatureCollection", "features": features}
    if box:
        out["bbox"] = box
    return out


POINT_STYLE = {"color": "#222222", "weight": 1, "fillOpacity": 0.95, "radius": 5}


def add_points(m: folium.Map, points: pd.DataFrame, colours: dict[str, str],
               res: int | None = None, lang: str = "zh") -> StyledGeoJson | None:
    """Inspection points as circle markers coloured by type, with name and type on hover."""
    data = points_geojson(points, colours, res, getattr(m, "display_crs", "wgs84"))
    if not data["features"]:
        return None
    layer = StyledGeoJson(
        data, name=_t("points", lang), style=POINT_STYLE, point_radius=5,
        highlight={"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=["n", "t"],
                                      aliases=[esc(_t("name", lang)), esc(_t("type", lang))]))
    layer.add_to(m)
    return layer


def selection_layer(h3_hex: str, display_crs: str = "wgs84", lang: str = "zh"
                    ) -> folium.FeatureGroup:
    """A feature group outlining one cell (for ``st_folium(feature_group_to_add=…)``, so that
    selecting a cell does not rebuild the whole map)."""
    ring = h3cells.cells_to_boundaries(h3cells.hex_to_cells([h3_hex]))[0]
    lon, lat = to_display([p[1] for p in ring], [p[0] for p in ring], display_crs)
    coords = np.round(np.column_stack([lon, lat]), COORD_DECIMALS).tolist()
    coords.append(coords[0])
    group = folium.FeatureGroup(name=_t("selected", lang))
    StyledGeoJson({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"h3": h3_hex},
         "geometry": {"type": "Polygon", "coordinates": [coords]}}]},
        style={"color": "#0050b3", "weight": 4, "fill": False}, colour_property="",
        interactive=False).add_to(group)
    return group


# --- cell budget ------------------------------------------------------------------------

@dataclass
class CellFit:
    """The cells a map draws and how the budget was met.

    ``dropped_empty``: cells with no record and no significant pattern were left out;
    ``coarsened``: the resolution was lowered from ``requested_res`` to ``res``;
    ``truncated``: even at the coarsest resolution only the ``max_cells`` busiest cells
    are drawn.
    """

    cells: pd.DataFrame
    res: int
    requested_res: int
    total: int
    max_cells: int
    dropped_empty: bool = False
    coarsened: bool = False
    truncated: bool = False
    tried: list[tuple[int, int, int]] = field(default_factory=list)


def fit_cells(layer_at: Callable[[int], pd.DataFrame], res: int, max_cells: int = MAX_CELLS,
              min_res: int = 7, busy_at: Callable[[int], int | None] | None = None) -> CellFit:
    """Cells to draw within ``max_cells``.

    ``layer_at(r)`` gives the layer at resolution r (columns of
    :func:`analytics.celldetail.cell_layer`, with ``notable``). All of it is drawn when it
    fits; else only the notable cells (count > 0 or gi_bin ≠ 0 or a pattern); when those
    still do not fit, the same at r − 1, down to ``min_res``. ``busy_at(r)``, when given,
    is a cheap lower bound of the notable cells at r (cells holding records,
    :func:`analytics.celldetail.busy_cells`): above ``max_cells`` the resolution is passed
    over without computing its layer. ``tried`` lists (resolution, cells or None,
    notable cells or their lower bound) of each step.
    """
    r = res
    tried: list = []
    while True:
        if busy_at is not None and r > min_res:
            busy = busy_at(r)
            if busy is not None and busy > max_cells:
                tried.append((r, None, busy))
                r -= 1
                continue
        frame = layer_at(r)
        notable = frame[frame["notable"].to_numpy(dtype=bool)]
        tried.append((r, len(frame), len(notable)))
        if len(frame) <= max_cells:
            return CellFit(frame, r, res, len(frame), max_cells, False, r != res, False, tried)
        if len(notable) <= max_cells:
            return CellFit(notable.reset_index(drop=True), r, res, len(frame), max_cells, True,
                           r != res, False, tried)
        if r <= min_res:
            top = notable.sort_values(["count", "h3"], ascending=[False, True]).head(max_cells)
            return CellFit(top.sort_values("h3").reset_index(drop=True), r, res, len(frame),
                           max_cells, True, r != res, True, tried)
        r -= 1


# --- everything -------------------------------------------------------------------------

def bounds_of(shapes: pd.DataFrame | None = None, cells: pd.DataFrame | None = None
              ) -> list[list[float]] | None:
    """[[south, west], [north, east]] (WGS-84) of WKT shapes, else of cell centres."""
    if shapes is not None and len(shapes):
        b = shapely.bounds(shapely.from_wkt(shapes["geometry"].to_numpy(dtype=object)))
        return [[float(np.nanmin(b[:, 1])), float(np.nanmin(b[:, 0]))],
                [float(np.nanmax(b[:, 3])), float(np.nanmax(b[:, 2]))]]
    if cells is not None and len(cells):
        return [[float(cells["lat"].min()), float(cells["lon"].min())],
                [float(cells["lat"].max()), float(cells["lon"].max())]]
    return None


def core_bounds(cells: pd.DataFrame, share: float = 0.8) -> list[list[float]] | None:
    """[[south, west], [north, east]] holding the central ``share`` of the records.

    Record-weighted quantiles of the cell centres, separately in longitude and latitude:
    the map of a whole city opens on where its records are, not on its rural edges, at a
    zoom where resolution-9 cells are a few pixels wide.
    """
    busy = cells[cells["count"].to_numpy() > 0]
    if not len(busy):
        return bounds_of(None, cells)
    w = busy["count"].to_numpy(dtype=float)
    lo, hi = (1 - share) / 2, 1 - (1 - share) / 2
    out = []
    for col in ("lat", "lon"):
        v = busy[col].to_numpy(dtype=float)
        order = np.argsort(v, kind="stable")
        cum = np.cumsum(w[order]) / w.sum()
        pick = np.searchsorted(cum, [lo, hi]).clip(0, len(v) - 1)
        out.append(v[order][pick].tolist())
    (s, n), (west, east) = out
    return [[s, west], [n, east]]


def add_page_html(m: folium.Map, text: str) -> folium.Map:
    """Put ``text`` into the body of ``m``'s page as it is (not read as a Jinja template).

    ``text`` must already be safe HTML: escape every value in it.
    """
    m.get_root().html.add_child(_RawElement(text))
    return m


def stable_ids(m: folium.Map) -> folium.Map:
    """Give every element of ``m``'s page a sequential id instead of folium's random one.

    The same map then renders to the same HTML, so a screen that redraws it unchanged
    (the wall's refresh) does not reload the map's frame.
    """
    queue: list = [m.get_root()]
    seen: set[int] = set()
    i = 0
    while queue:
        element = queue.pop(0)
        if id(element) in seen:
            continue
        seen.add(id(element))
        element._id = f"{i:032x}"
        i += 1
        queue.extend(element._children.values())
        for part in ("header", "html", "script"):
            sub = getattr(element, part, None)
            if sub is not None and hasattr(sub, "_children"):
                queue.append(sub)
    return m


def build_map(cells: pd.DataFrame, mode: str, *, basemap: Basemap | None = None,
              lang: str = "zh", districts: pd.DataFrame | None = None,
              streets: pd.DataFrame | None = None, communities: pd.DataFrame | None = None,
              fringe: pd.DataFrame | None = None, points: pd.DataFrame | None = None,
              point_palette: dict[str, str] | None = None, res: int | None = None,
              bounds: list[list[float]] | None = None) -> tuple[OfflineMap, list[tuple[str, str]]]:
    """The situation map: cells, outlines, fringe and points, fitted to ``bounds``.

    Returns the map and the cells' legend as (colour, label) pairs (plain text).
    """
    box = bounds or core_bounds(cells) or bounds_of(districts, cells)
    view = None
    if box:
        lon, lat = to_display([box[0][1], box[1][1]], [box[0][0], box[1][0]],
                              (basemap or Basemap("none")).display_crs)
        view = [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]
    centre = [(view[0][0] + view[1][0]) / 2, (view[0][1] + view[1][1]) / 2] if view else None
    m = OfflineMap(basemap=basemap, location=centre)
    # busiest first: the first cells in the page are the ones in view
    cells = cells.sort_values(["count", "h3"], ascending=[False, True], kind="stable")
    styled, legend = style_cells(cells, mode, lang)
    add_cells(m, styled, mode, lang)
    for kind, shapes in (("communities", communities), ("streets", streets),
                         ("districts", districts), ("fringe", fringe)):
        if shapes is not None and len(shapes):
            add_outlines(m, shapes, kind, lang)
    if points is not None and len(points):
        add_points(m, points, point_palette or point_colours(sorted(points["point_type"]
                                                                    .dropna().unique())),
                   res, lang)
    if view:
        m.fit_bounds(view)
    return m, legend

"""A static city map drawn with matplotlib: no tiles, no network, works on any intranet."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from grids.h3cells import cells_to_polygons, hex_to_cells  # noqa: E402
from ui.fonts import cjk_font_name  # noqa: E402


def _rings(geom) -> list[np.ndarray]:
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            out.append(np.asarray(part.exterior.coords))
    return out


def draw_city_map(
    districts: pd.DataFrame, cells: pd.DataFrame, zones: pd.DataFrame | None = None,
    *, title: str = "", width_px: int = 1200, height_px: int = 900,
) -> bytes:
    """PNG of district outlines, per-cell counts (log colour scale) and zones.

    ``districts``: name + WKT geometry; ``cells``: h3 + count; ``zones``: WKT geometry.
    """
    font = cjk_font_name()
    if font:
        plt.rcParams["font.family"] = [font]
    dpi = 100
    fig, ax = plt.subplots(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    ax.set_facecolor("#f4f6f8")
    if len(cells):
        polys = cells_to_polygons(hex_to_cells(cells["h3"]))
        verts = [np.asarray(p.exterior.coords) for p in polys]
        counts = cells["count"].to_numpy(dtype=float)
        coll = PolyCollection(verts, array=np.log10(counts + 1), cmap="YlOrRd", linewidths=0)
        ax.add_collection(coll)
        cb = fig.colorbar(coll, ax=ax, shrink=0.6)
        ticks = [t for t in (1, 10, 100, 1000, 10000) if t <= counts.max() * 1.01]
        cb.set_ticks(np.log10(np.array(ticks) + 1))
        cb.set_ticklabels([str(t) for t in ticks])
        cb.set_label("投诉件数 complaints per cell" if font else "complaints per cell")
    if zones is not None and len(zones):
        for g in shapely.from_wkt(zones["geometry"].to_numpy(dtype=object)):
            for ring in _rings(g):
                ax.plot(ring[:, 0], ring[:, 1], color="#2e7d32", lw=1.2, ls="--")
    geoms = shapely.from_wkt(districts["geometry"].to_numpy(dtype=object)) if len(districts) else []
    for name, g in zip(districts.get("name", []), geoms, strict=False):
        for ring in _rings(g):
            ax.plot(ring[:, 0], ring[:, 1], color="#37474f", lw=0.8)
        if font:
            c = g.representative_point()
            ax.text(c.x, c.y, name, ha="center", va="center", fontsize=11, color="#263238",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.7})
    if len(geoms):
        b = shapely.bounds(np.asarray(geoms))
        ax.set_xlim(b[:, 0].min() - 0.02, b[:, 2].max() + 0.02)
        ax.set_ylim(b[:, 1].min() - 0.02, b[:, 3].max() + 0.02)
    mid = np.deg2rad(np.mean(ax.get_ylim()))
    ax.set_aspect(1 / np.cos(mid))
    ax.set_xlabel("经度 lon (WGS-84)" if font else "lon (WGS-84)")
    ax.set_ylabel("纬度 lat" if font else "lat")
    if title:
        ax.set_title(title)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()

"""Planted truth of the demo city: hotspots and backlog streets, and ``truth.json``.

A planted hotspot is a place (a night market, a fringe dump, a building site, ...) whose
complaints fall inside one to three adjacent H3 resolution-9 "source" cells (about
0.1 km² each). Gi* with k = 1 ring then lights up the source cells and their first ring;
that set is exactly the cells whose centre lies within ``radius_m`` of the hotspot
centre, which is what ``truth.json`` lists as ``cells_res9``.

Kinds and weekly intensity per source cell, in units of `unit` complaints:

- persistent: every week, 1 + 0.3 sin(2 pi (t - last) / 3 + phase) (a three-week swell
  chosen to carry no trend), with a third of Poisson's noise;
- intensifying: every week, rising linearly from 0.6 to 2.5;
- new: only in the final week, 9.

These strengths are designed so that Gi* over the whole period, over the last four
weeks and week by week (space-time) finds them against the broad background; see
``democity.check_truth``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import h3.api.basic_int as h3i
import numpy as np
import shapely

from democity.population import from_km, to_km
from grids.crs import wgs84_to_gcj02

RES = 9
#: (kind, how many, how many of them in the fringe band)
HOTSPOT_PLAN = (("persistent", 8, 3), ("intensifying", 6, 2), ("new", 5, 2))
#: Number of source cells of successive hotspots of a kind.
SIZES = (1, 2, 1, 3, 1, 2, 1, 1)
#: Share of all complaints that are planted hotspot complaints.
PLANTED_SHARE = 0.22
NEW_BURST = 9.0
INTENSIFY_FROM, INTENSIFY_TO = 0.6, 2.5
PERSISTENT_SWELL = 0.3
#: Week-to-week noise of persistent hotspots, as a share of Poisson's.
PERSISTENT_NOISE = 0.35
#: Period (weeks) and end phases (radians) of the persistent swell. Chosen by searching
#: periods 3-8: with the space-time Gi* of docs/hotspots.md (weeks t-1..t, so a window's first
#: week has half the neighbours and a lower z) this swell gives Mann-Kendall |z| < 0.65 on
#: every window of 8-26 weeks ending at the final week: no trend, by design.
PERSISTENT_PERIOD = 3.0
PERSISTENT_PHASES = (-0.39, 0.0)
#: Hotspots keep this far apart and this far from the city's outer edge (km).
MIN_SPACING_KM, MIN_EDGE_KM = 3.0, 2.0
#: A fringe hotspot's centre lies this far outside the core edge (km); a core one this
#: far inside it.
FRINGE_DEPTH_KM = (0.9, 2.1)
CORE_DEPTH_KM = 1.2

#: Themes: label form and the 问题小类 its complaints are about (shares).
THEMES: dict[str, tuple[str, dict[str, float]]] = {
    "dump": ("{stem}村垃圾堆放点", {"暴露垃圾": 0.35, "积存垃圾渣土": 0.30, "焚烧垃圾": 0.20,
                                  "私搭乱建": 0.15}),
    "shacks": ("{stem}片区违建聚集点", {"私搭乱建": 0.55, "积存垃圾渣土": 0.25, "无证掘路": 0.20}),
    "night_market": ("{road}夜市", {"露天烧烤": 0.40, "油烟污染": 0.25, "无照经营游商": 0.20,
                                   "暴露垃圾": 0.15}),
    "market": ("{stem}农贸市场周边", {"店外经营": 0.35, "无照经营游商": 0.30,
                                    "机动车乱停放": 0.15, "道路不洁": 0.20}),
    "site": ("{road}在建工地", {"施工扰民": 0.50, "工地扬尘": 0.30, "施工占道": 0.20}),
    "old_estate": ("{stem}小区", {"非机动车乱停放": 0.30, "暴露垃圾": 0.30, "沿街晾挂": 0.20,
                                "私搭乱建": 0.20}),
    "pipe": ("{road}管网破损点", {"管道破裂": 0.40, "道路积水": 0.35, "路面塌陷": 0.25}),
}
_FRINGE_THEMES = ("dump", "shacks", "dump", "market")
_CORE_THEMES = {"persistent": ("night_market", "market", "old_estate", "site", "night_market"),
                "intensifying": ("site", "night_market", "old_estate", "market"),
                "new": ("site", "pipe", "night_market")}


@dataclass
class Hotspot:
    id: str
    kind: str
    theme: str
    label: str
    lon: float  # WGS-84 centre
    lat: float
    source: list[int]
    footprint: list[int]
    radius_m: int
    inscribed_m: float
    in_fringe: bool
    weekly: np.ndarray = field(repr=False)  # expected complaints per week (all source cells)
    counts: np.ndarray = field(default=None, repr=False)  # drawn complaints per week
    district: str = ""
    street: str = ""
    address: str = ""
    covered: bool = False  # an inspection point sits on it

    @property
    def theme_weights(self) -> dict[str, float]:
        return THEMES[self.theme][1]

    @property
    def start_week(self) -> int:
        active = np.nonzero(self.weekly > 0)[0]
        return int(active[0]) + 1

    @property
    def end_week(self) -> int:
        active = np.nonzero(self.weekly > 0)[0]
        return int(active[-1]) + 1


def _km_dist(lon0, lat0, lon, lat) -> np.ndarray:
    x0, y0 = to_km(lon0, lat0)
    x, y = to_km(lon, lat)
    return np.hypot(x - x0, y - y0)


def _source_cells(rng: np.random.Generator, lon: float, lat: float, size: int) -> list[int]:
    c = h3i.latlng_to_cell(lat, lon, RES)
    if size == 1:
        return [c]
    ring = sorted(set(h3i.grid_ring(c, 1)))
    n1 = ring[int(rng.integers(len(ring)))]
    if size == 2:
        return [c, n1]
    common = sorted(set(h3i.grid_ring(n1, 1)) & set(ring))
    return [c, n1, common[int(rng.integers(len(common)))]]


def _geometry(source: list[int]) -> tuple[float, float, list[int], int, float]:
    """Centre, footprint (source + first ring), radius and inscribed radius (m)."""
    centres = np.array([h3i.cell_to_latlng(c) for c in source])
    lat, lon = centres.mean(axis=0)
    foot = sorted(set().union(*(h3i.grid_disk(c, 1) for c in source)))
    around = sorted(set().union(*(h3i.grid_disk(c, 3) for c in source)) - set(foot))
    d_in = _km_dist(lon, lat, *_lonlat(foot)) * 1000.0
    d_out = _km_dist(lon, lat, *_lonlat(around)) * 1000.0
    if d_out.min() - d_in.max() < 40.0:
        raise ValueError("hotspot footprint is not a disc")
    radius = int(round((d_in.max() + d_out.min()) / 2.0))
    inscribed = min(_inscribed_m(c) for c in source)
    return float(lon), float(lat), foot, radius, inscribed


def _lonlat(cells) -> tuple[np.ndarray, np.ndarray]:
    ll = np.array([h3i.cell_to_latlng(c) for c in cells])
    return ll[:, 1], ll[:, 0]


def _inscribed_m(cell: int) -> float:
    """Distance (m) from the cell centre to the nearest edge midpoint."""
    lat, lon = h3i.cell_to_latlng(cell)
    ring = np.array(h3i.cell_to_boundary(cell))
    mid = (ring + np.roll(ring, -1, axis=0)) / 2.0
    return float(_km_dist(lon, lat, mid[:, 1], mid[:, 0]).min() * 1000.0)


def weekly_profile(kind: str, weeks: int, phase: float) -> np.ndarray:
    """Relative intensity per week (length ``weeks``) for one source cell."""
    t = np.arange(weeks, dtype=float)
    if kind == "persistent":  # anchored at the final week, see PERSISTENT_PERIOD
        return 1.0 + PERSISTENT_SWELL * np.sin(2.0 * np.pi * (t - weeks + 1) / PERSISTENT_PERIOD
                                               + phase)
    if kind == "intensifying":
        return INTENSIFY_FROM + (INTENSIFY_TO - INTENSIFY_FROM) * t / max(weeks - 1, 1)
    out = np.zeros(weeks)
    out[-1] = NEW_BURST
    return out


def plant_hotspots(rng: np.random.Generator, city_km, core_km, band_km, weeks: int,
                   n_complaints: int) -> list[Hotspot]:
    """Choose the hotspots, their cells and their expected weekly complaints."""
    shapely.prepare(city_km)
    edge = shapely.boundary(city_km)
    core_edge = shapely.boundary(core_km)
    inner_core = shapely.buffer(core_km, -CORE_DEPTH_KM)
    taken: list[tuple[float, float]] = []
    drafts = []
    for kind, count, n_fringe in HOTSPOT_PLAN:
        for k in range(count):
            fringe = k < n_fringe
            for _ in range(10_000):
                if fringe:
                    zone = band_km
                else:
                    zone = inner_core
                x0, y0, x1, y1 = shapely.bounds(zone)
                x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
                p = shapely.Point(x, y)
                if not shapely.contains(zone, p):
                    continue
                if shapely.distance(p, edge) < MIN_EDGE_KM:
                    continue
                if fringe:
                    d = shapely.distance(p, core_edge)
                    if not FRINGE_DEPTH_KM[0] <= d <= FRINGE_DEPTH_KM[1]:
                        continue
                if any(np.hypot(x - a, y - b) < MIN_SPACING_KM for a, b in taken):
                    continue
                break
            else:  # pragma: no cover - the zones are large
                raise RuntimeError("could not place a hotspot")
            taken.append((x, y))
            drafts.append((kind, k, fringe, x, y))
    spots: list[Hotspot] = []
    profiles = []
    for n, (kind, k, fringe, x, y) in enumerate(drafts):
        lon, lat = from_km(x, y)
        size = SIZES[k % len(SIZES)]
        for attempt in range(4):
            try:
                source = _source_cells(rng, float(lon), float(lat), size if attempt < 3 else 1)
                clon, clat, foot, radius, inscribed = _geometry(source)
                break
            except ValueError:
                continue
        cx, cy = to_km(clon, clat)
        in_fringe = bool(shapely.contains_xy(band_km, cx, cy))
        themes = _FRINGE_THEMES if fringe else _CORE_THEMES[kind]
        theme = themes[k % len(themes)]
        phase = float(rng.uniform(*PERSISTENT_PHASES))
        profile = weekly_profile(kind, weeks, phase) * len(source)
        profiles.append(profile)
        spots.append(Hotspot(id=f"H{n + 1:02d}", kind=kind, theme=theme, label="",
                             lon=clon, lat=clat, source=source, footprint=foot,
                             radius_m=radius, inscribed_m=inscribed, in_fringe=in_fringe,
                             weekly=profile))
    unit = PLANTED_SHARE * n_complaints / sum(p.sum() for p in profiles)
    for h in spots:
        h.weekly = h.weekly * unit
        if h.kind == "persistent":  # steadier than Poisson, so no chance trend appears
            noisy = h.weekly + rng.normal(0.0, PERSISTENT_NOISE * np.sqrt(h.weekly))
            h.counts = np.maximum(0, np.round(noisy)).astype(np.int64)
        else:
            h.counts = rng.poisson(h.weekly)
    return spots


def hotspot_points(rng: np.random.Generator, h: Hotspot) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """WGS-84 lon, lat and 0-based week of each planted complaint of ``h``.

    Each week's complaints are split evenly over the source cells; points are uniform in
    a disc of 85 % of the inscribed radius around the cell centre, so each lands in its
    source cell.
    """
    week = np.repeat(np.arange(len(h.counts)), h.counts)
    n = len(week)
    src = np.arange(n) % len(h.source)  # an even split of each week over the source cells
    lon_c, lat_c = _lonlat(h.source)
    r = 0.85 * h.inscribed_m / 1000.0 * np.sqrt(rng.uniform(size=n))
    a = rng.uniform(0.0, 2.0 * np.pi, size=n)
    x0, y0 = to_km(lon_c[src], lat_c[src])
    lon, lat = from_km(x0 + r * np.cos(a), y0 + r * np.sin(a))
    return lon, lat, week


def _hex(cells) -> list[str]:
    return [format(int(c), "x") for c in cells]


def hotspot_record(h: Hotspot, planted_lon: np.ndarray, planted_lat: np.ndarray) -> dict:
    """The JSON record of one hotspot."""
    glon, glat = wgs84_to_gcj02(h.lon, h.lat)
    res8 = sorted({h3i.latlng_to_cell(la, lo, 8)
                   for lo, la in zip(planted_lon.tolist(), planted_lat.tolist(), strict=True)})
    return {
        "id": h.id, "kind": h.kind, "theme": h.theme, "label": h.label,
        "address": h.address,
        "centre_wgs84": [round(h.lon, 7), round(h.lat, 7)],
        "centre_gcj02": [round(float(glon), 7), round(float(glat), 7)],
        "radius_m": h.radius_m,
        "start_week": h.start_week, "end_week": h.end_week,
        "cells_res9": _hex(h.footprint),
        "source_cells_res9": _hex(h.source),
        "cells_res8": _hex(res8),
        "district": h.district, "street": h.street, "in_fringe": h.in_fringe,
        "planted_complaints": int(h.counts.sum()),
        "inspection_point_on_it": h.covered,
        "planted_per_week": [int(c) for c in h.counts],
    }


def write_truth(path: str | Path, truth: dict) -> None:
    """``truth.json``: UTF-8, sorted keys, indent 2, newline at the end."""
    text = json.dumps(truth, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")

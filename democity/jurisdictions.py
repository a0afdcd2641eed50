"""Streets, communities and unit grids nested inside Nanning's real districts.

Each level is a Voronoi tessellation of seeds inside each parent, clipped to the
parent, so the children tile their parent exactly (shared edges are the same
coordinates) and every child lies inside its parent. Seeds are drawn from the city's
population density (`democity.population`), so jurisdictions are small in the
built-up centre and large in the rural north (武鸣区) and east; one Lloyd step evens out
the shapes. Pieces of a clipped cell cut off from its main part (at concave parent
edges) are handed to the sibling that shares the longest edge with them.

Everything is computed in local kilometres (see `population.to_km`) and returned in
WGS-84 degrees; `build.py` converts to GCJ-02 for writing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from democity import names as nm
from democity.population import FRINGE_WIDTH_KM, Population, geom_from_km, geom_to_km
from grids.crs import transform_geometry

#: Target sizes: streets/towns in the city, communities/villages, unit grids.
N_STREETS = 70
N_COMMUNITIES = 760
N_GRIDS = 4000
#: Mixture weights (urban, towns, floor) of the seeds of each level.
STREET_MIX = (0.45, 0.0, 0.55)
COMMUNITY_MIX = (0.55, 0.20, 0.25)
GRID_MIX = (0.62, 0.22, 0.16)
#: Fewest children per parent.
MIN_STREETS, MIN_COMMUNITIES, MIN_GRIDS = 3, 2, 2
_POOL_FACTOR = 40  # seed-pool points drawn per wanted child
#: Longest straight edge written (km); see `Level.geoms`.
MAX_EDGE_KM = 0.5


@dataclass
class Level:
    """One level of jurisdictions (WGS-84 geometries; km copies for computing)."""

    frame: pd.DataFrame  # id, name, level, parent_id, seed_x, seed_y (km)
    geoms_km: np.ndarray

    @property
    def geoms(self) -> np.ndarray:
        """WGS-84 geometries, with long straight edges split every `MAX_EDGE_KM`.

        GCJ-02's shift is not linear: a 14 km straight edge shifted at its two ends only
        strays up to about 10 m from where its middle belongs, enough for a child vertex
        lying on it to poke out of the parent. Splitting edges keeps that below 2 cm.
        """
        dense = shapely.segmentize(self.geoms_km, MAX_EDGE_KM)
        return np.array([geom_from_km(g) for g in dense], dtype=object)


def read_districts(path: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The districts file (GCJ-02): frame (id, name, level, parent_id) and WGS-84 geometries."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows, geoms = [], []
    for f in data["features"]:
        p = f["properties"]
        rows.append({"id": str(p["adcode"]), "name": p["name"], "level": "district",
                     "parent_id": str(p.get("parent") or "450100")})
        geoms.append(shapely.geometry.shape(f["geometry"]))
    frame = pd.DataFrame(rows)
    order = np.argsort(frame["id"].to_numpy(), kind="stable")
    wgs = transform_geometry(np.array(geoms, dtype=object)[order], "gcj02", "wgs84")
    return frame.iloc[order].reset_index(drop=True), np.asarray(wgs, dtype=object)


def _polygons(geom) -> list:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]


def tessellate(parent, seeds: np.ndarray) -> list:
    """Clip the Voronoi cells of ``seeds`` (k, 2) to ``parent``; one geometry per seed.

    The cells tile ``parent``. A cell's detached pieces (not its largest part) go to the
    sibling sharing the longest edge with them (or the nearest one); a cell left empty
    comes back as None.
    """
    k = len(seeds)
    if k == 1:
        return [parent]
    x0, y0, x1, y1 = shapely.bounds(parent)
    pad = max(x1 - x0, y1 - y0)
    frame = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    pts = shapely.multipoints(seeds)
    vor = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame, ordered=True))
    clipped = shapely.intersection(vor, parent)
    mains: list = []
    bits: list[tuple[int, object]] = []
    for i, g in enumerate(clipped):
        parts = _polygons(g)
        if not parts:
            mains.append(None)
            continue
        parts.sort(key=lambda p: -p.area)
        mains.append(parts[0])
        bits.extend((i, p) for p in parts[1:])
    pieces: list[list] = [[m] if m is not None else [] for m in mains]
    valid = [j for j, m in enumerate(mains) if m is not None]
    for owner, bit in bits:
        edge = bit.boundary
        shared = [(shapely.length(shapely.intersection(edge, mains[j].boundary)), j)
                  for j in valid if j != owner]
        best_len, best = max(shared) if shared else (0.0, owner)
        if best_len <= 0.0:
            dist = [(shapely.distance(bit, mains[j]), j) for j in valid]
            best = min(dist)[1]
        pieces[best].append(bit)
    return [shapely.union_all(p) if len(p) > 1 else (p[0] if p else None) for p in pieces]


def _relaxed(parent, seeds: np.ndarray) -> tuple[list, np.ndarray]:
    """One Lloyd step: tessellate, move seeds to cell centroids, tessellate again."""
    cells = tessellate(parent, seeds)
    moved = seeds.copy()
    for i, c in enumerate(cells):
        if c is None:
            continue
        cen = shapely.centroid(c)
        if not shapely.contains(parent, cen):
            cen = shapely.point_on_surface(c)
        moved[i] = (cen.x, cen.y)
    cells = tessellate(parent, moved)
    keep = [i for i, c in enumerate(cells) if c is not None]
    return [cells[i] for i in keep], moved[keep]


def _uniform_in(rng: np.random.Generator, geom, n: int) -> np.ndarray:
    """``n`` points uniformly inside ``geom`` by rejection from its bounding box."""
    x0, y0, x1, y1 = shapely.bounds(geom)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xy = np.column_stack([rng.uniform(x0, x1, 4 * n + 8), rng.uniform(y0, y1, 4 * n + 8)])
        ok = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
        out.append(xy[ok])
        got += int(ok.sum())
    return np.concatenate(out)[:n]


def _children(rng: np.random.Generator, pop: Population, parents: list, total: int,
              mix: tuple[float, float, float], minimum: int) -> list[tuple[int, list, np.ndarray]]:
    """Seeds for each parent in proportion to its population mass, then tessellate."""
    n_pool = total * _POOL_FACTOR
    px, py = pop.sample(rng, n_pool, mix)
    tree = shapely.STRtree(parents)
    pi, gi = tree.query(shapely.points(px, py), predicate="within")
    order = np.lexsort((pi, gi))
    pi, gi = pi[order], gi[order]
    mass = np.bincount(gi, minlength=len(parents))
    starts = np.concatenate([[0], np.cumsum(mass)])
    wanted = np.maximum(minimum, np.round(total * mass / max(mass.sum(), 1)).astype(int))
    out = []
    for j, parent in enumerate(parents):
        mine = pi[starts[j]:starts[j + 1]][: wanted[j]]
        seeds = np.column_stack([px[mine], py[mine]])
        if len(seeds) < wanted[j]:
            seeds = np.vstack([seeds, _uniform_in(rng, parent, wanted[j] - len(seeds))])
        cells, seeds = _relaxed(parent, seeds)
        # reading order (north to south, then west to east) numbers the children
        order = np.lexsort((seeds[:, 0], -np.round(seeds[:, 1], 1)))
        out.append((j, [cells[i] for i in order], seeds[order]))
    return out


def _assign_street_names(districts: pd.DataFrame, streets: list[tuple[int, list, np.ndarray]],
                         urban: np.ndarray) -> list[list[str]]:
    """Street (街道) names for urban seeds, town (镇) names for the rest, per district."""
    out = []
    for (j, _cells, _seeds), is_urban in zip(streets, urban, strict=True):
        _name, street_stems, town_stems = nm.DISTRICTS[districts["id"].iloc[j]]
        s_iter, t_iter = iter(street_stems), iter(town_stems)
        got = []
        for k, u in enumerate(is_urban):
            stem = next(s_iter, None) if u else next(t_iter, None)
            if stem is None:  # pool exhausted: use the other pool, then numbers
                stem = next(t_iter, None) if u else next(s_iter, None)
            if stem is None:
                stem = f"{_name[:-1]}第{k + 1}"
            got.append(stem + ("街道" if u else "镇"))
        out.append(got)
    return out


def build(rng: np.random.Generator, districts: pd.DataFrame, district_geoms: np.ndarray,
          core_km, pop: Population) -> tuple[Level, Level, Level, Level, np.ndarray]:
    """District, street, community and grid levels; also the town centres (km).

    ``pop`` is updated with the town centres (seeds of streets outside the core and the
    fringe band) before communities and grids are drawn.
    """
    dist_km = np.array([geom_to_km(g) for g in district_geoms], dtype=object)
    dist_level = Level(districts.assign(seed_x=np.nan, seed_y=np.nan), dist_km)
    # streets / towns
    st = _children(rng, pop, list(dist_km), N_STREETS, STREET_MIX, MIN_STREETS)
    near_core = shapely.buffer(core_km, FRINGE_WIDTH_KM)
    urban = [shapely.contains_xy(near_core, s[:, 0], s[:, 1]) for _, _, s in st]
    street_names = _assign_street_names(districts, st, urban)
    rows, geoms = [], []
    for (j, cells, seeds), nms in zip(st, street_names, strict=True):
        did = districts["id"].iloc[j]
        for k, (c, s, name) in enumerate(zip(cells, seeds, nms, strict=True)):
            rows.append({"id": f"{did}{k + 1:03d}", "name": name, "level": "street",
                         "parent_id": did, "seed_x": s[0], "seed_y": s[1],
                         "urban": name.endswith("街道")})
            geoms.append(c)
    streets = Level(pd.DataFrame(rows), np.array(geoms, dtype=object))
    towns = streets.frame.loc[~streets.frame["urban"], ["seed_x", "seed_y"]].to_numpy()
    pop.towns = towns
    # communities / villages
    stems_c = list(rng.permutation(np.array(nm.community_stems())))
    stems_v = list(rng.permutation(np.array(nm.village_stems())))
    co = _children(rng, pop, list(streets.geoms_km), N_COMMUNITIES, COMMUNITY_MIX,
                   MIN_COMMUNITIES)
    rows, geoms = [], []
    for j, cells, seeds in co:
        sid = streets.frame["id"].iloc[j]
        inside = shapely.contains_xy(near_core, seeds[:, 0], seeds[:, 1])
        for k, (c, s, u) in enumerate(zip(cells, seeds, inside, strict=True)):
            pool = stems_c if u else stems_v
            stem = pool.pop() if pool else f"{streets.frame['name'].iloc[j][:2]}{k + 1}"
            rows.append({"id": f"{sid}{k + 1:03d}", "name": stem + ("社区" if u else "村"),
                         "level": "community", "parent_id": sid, "seed_x": s[0],
                         "seed_y": s[1]})
            geoms.append(c)
    communities = Level(pd.DataFrame(rows), np.array(geoms, dtype=object))
    # unit grids
    gr = _children(rng, pop, list(communities.geoms_km), N_GRIDS, GRID_MIX, MIN_GRIDS)
    rows, geoms = [], []
    for j, cells, seeds in gr:
        cid, cname = communities.frame["id"].iloc[j], communities.frame["name"].iloc[j]
        for k, (c, s) in enumerate(zip(cells, seeds, strict=True)):
            rows.append({"id": f"{cid}{k + 1:03d}", "name": f"{cname}第{k + 1}网格",
                         "level": "grid", "parent_id": cid, "seed_x": s[0], "seed_y": s[1]})
            geoms.append(c)
    grids_level = Level(pd.DataFrame(rows), np.array(geoms, dtype=object))
    return dist_level, streets, communities, grids_level, towns


def feature_collection(name: str, frame: pd.DataFrame, geoms_gcj: np.ndarray,
                       props: list[str], note: str) -> str:
    """GeoJSON text with coordinates rounded to 7 decimals (about 1 cm)."""
    geoms = np.asarray(geoms_gcj, dtype=object)
    if shapely.get_type_id(geoms).max(initial=0) >= 3:  # polygons: exterior rings anticlockwise
        geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    rounded = shapely.transform(geoms, lambda c: np.round(c, 7))
    geo = shapely.to_geojson(rounded)
    feats = []
    records = frame[props].to_dict("records")
    for rec, g in zip(records, geo, strict=True):
        p = json.dumps(rec, ensure_ascii=False, sort_keys=False)
        feats.append(f'{{"type":"Feature","properties":{p},"geometry":{g}}}')
    head = json.dumps({"type": "FeatureCollection", "name": name, "crs_note": note},
                      ensure_ascii=False)[:-1]
    return head + ',"features":[\n' + ",\n".join(feats) + "\n]}\n"


class Locator:
    """Which grid, community, street and district each point (local km) falls in."""

    def __init__(self, districts: Level, streets: Level, communities: Level, grids: Level):
        self.levels = (districts, streets, communities, grids)
        self.tree = shapely.STRtree(grids.geoms_km)

        def parent_index(child: Level, parent: Level) -> np.ndarray:
            pos = pd.Index(parent.frame["id"]).get_indexer(child.frame["parent_id"])
            if (pos < 0).any():
                raise ValueError("a jurisdiction's parent is missing")
            return pos
        self.grid_comm = parent_index(grids, communities)
        self.comm_street = parent_index(communities, streets)
        self.street_dist = parent_index(streets, districts)

    def grid_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the grid holding each point; the nearest grid for points on an edge."""
        pts = shapely.points(x, y)
        grids = self.levels[3].geoms_km
        gi, pi = shapely.STRtree(pts).query(grids, predicate="intersects")
        out = np.full(len(pts), -1, dtype=np.int64)
        out[pi[::-1]] = gi[::-1]  # the lowest grid index wins on shared edges
        miss = np.nonzero(out < 0)[0]
        if len(miss):
            mi, mg = self.tree.query_nearest(pts[miss])
            out[miss[mi[::-1]]] = mg[::-1]
        return out

    def chain(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Community, street and district indices of the grids ``grid``."""
        comm = self.grid_comm[grid]
        street = self.comm_street[comm]
        return comm, street, self.street_dist[street]

"""Assign records to jurisdictions (属地): district → street → community → grid.

Rules (docs/import.md, "Jurisdiction of each record"):

* A record with usable coordinates is placed in the *finest* loaded unit whose polygon
  contains it; the coarser levels follow that unit's parent links, so the four names of
  a record never contradict each other. Where a parent link is missing, that level is
  found by its own point-in-polygon test.
* A record with no coordinates, or outside every polygon, is placed by the names it
  carries (所属区县 / 所属街道 / …), matched to loaded jurisdictions; a name that
  matches nothing is kept as written, with no id.
* Where the record's own name disagrees with the polygon, the polygon wins and the
  level is written to ``name_conflict`` (counted in the import report and listed in the
  view ``jurisdiction_conflicts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from grids.pip import points_in_polygons

#: The jurisdiction levels, top down (属地: 区 → 街道 → 社区 → 网格); the one definition.
LEVELS = ("district", "street", "community", "grid")
#: Output column that holds each level's name.
NAME_COLUMN = {"district": "district", "street": "street", "community": "community", "grid": "grid_id"}
#: Source-name column of each level.
SRC_COLUMN = {lvl: f"src_{NAME_COLUMN[lvl]}" for lvl in LEVELS}

_SUFFIX = re.compile(r"(居委会|村委会|街道办事处|街道办|街道|社区|网格|区|县|市|镇|乡|村)$")


def normalise_name(s: pd.Series) -> pd.Series:
    """Name key for matching: no spaces, common administrative suffixes dropped."""
    s = s.astype("string").str.replace(r"\s+", "", regex=True)
    return s.str.replace(_SUFFIX, "", regex=True)


@dataclass
class _Level:
    ids: np.ndarray
    names: np.ndarray
    parents: np.ndarray
    polygons: np.ndarray
    keys: np.ndarray | None = None  # normalised names

    def __post_init__(self) -> None:
        if self.keys is None:
            self.keys = normalise_name(pd.Series(self.names, dtype=object)).to_numpy(dtype=object)


@dataclass
class JurisdictionIndex:
    """Loaded jurisdiction polygons and parent links, ready for vectorised lookups."""

    levels: dict[str, _Level] = field(default_factory=dict)
    name_of: dict[str, str] = field(default_factory=dict)
    level_of: dict[str, str] = field(default_factory=dict)
    parent_of: dict[str, str | None] = field(default_factory=dict)
    _ancestors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.levels

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of all loaded polygons, or None."""
        geoms = [lv.polygons for lv in self.levels.values() if len(lv.polygons)]
        if not geoms:
            return None
        b = shapely.bounds(np.concatenate(geoms))
        return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def ancestors(self, lvl: str, upper: str) -> np.ndarray:
        """For each unit of ``lvl``, the position of its ancestor among ``upper``'s units, or -1."""
        key = (lvl, upper)
        if key not in self._ancestors:
            pos_in_upper = {j: i for i, j in enumerate(self.levels[upper].ids.tolist())}
            res = np.full(len(self.levels[lvl].ids), -1, dtype=np.int64)
            for i, jid in enumerate(self.levels[lvl].ids.tolist()):
                cur = self.parent_of.get(jid)
                for _ in range(len(LEVELS)):
                    if cur is None or not isinstance(cur, str):
                        break
                    if self.level_of.get(cur) == upper:
                        res[i] = pos_in_upper.get(cur, -1)
                        break
                    cur = self.parent_of.get(cur)
            self._ancestors[key] = res
        return self._ancestors[key]


def build_index(df: pd.DataFrame) -> JurisdictionIndex:
    """A :class:`JurisdictionIndex` of jurisdiction rows (jurisdiction_id, name, level,
    parent_id, geometry as WKT), as the ``jurisdictions`` table holds them."""
    idx = JurisdictionIndex()
    if df.empty:
        return idx
    idx.name_of = dict(zip(df.jurisdiction_id, df.name, strict=True))
    idx.level_of = dict(zip(df.jurisdiction_id, df.level, strict=True))
    idx.parent_of = dict(zip(df.jurisdiction_id, df.parent_id, strict=True))
    for lvl in LEVELS:
        sub = df[df.level == lvl]
        if sub.empty:
            continue
        polys = shapely.from_wkt(sub.geometry.to_numpy(dtype=object), on_invalid="ignore")
        names = sub.name.to_numpy(dtype=object)
        idx.levels[lvl] = _Level(
            ids=sub.jurisdiction_id.to_numpy(dtype=object), names=names,
            parents=sub.parent_id.to_numpy(dtype=object), polygons=polys,
            keys=normalise_name(pd.Series(names, dtype=object)).to_numpy(dtype=object),
        )
    return idx


def locate(
    idx: JurisdictionIndex,
    lon: np.ndarray,
    lat: np.ndarray,
    src: pd.DataFrame,
) -> pd.DataFrame:
    """Jurisdiction of each record.

    Parameters
    ----------
    idx : JurisdictionIndex
        From :func:`build_index` (``ingest.placement.load_index`` reads it from the database).
    lon, lat : ndarray
        WGS-84 coordinates; NaN where a record has none.
    src : DataFrame
        The record's own names, columns ``src_district``, ``src_street``,
        ``src_community``, ``src_grid_id`` (missing columns count as empty).

    Returns
    -------
    DataFrame
        Columns district, street, community, grid_id, district_id, street_id,
        community_id, located_by ('polygon' | 'name' | 'none'), name_conflict.
    """
    n = len(lon)
    pos = {lvl: np.full(n, -1, dtype=np.int64) for lvl in LEVELS}
    # finest loaded level first; coarser levels follow parent links, else their own test
    for lvl in reversed(LEVELS):
        if lvl not in idx.levels:
            continue
        todo = np.flatnonzero(pos[lvl] < 0)
        if len(todo) == 0:
            continue
        hit = points_in_polygons(lon[todo], lat[todo], idx.levels[lvl].polygons)
        rows, found = todo[hit >= 0], hit[hit >= 0]
        pos[lvl][rows] = found
        for upper in LEVELS[: LEVELS.index(lvl)]:
            if upper not in idx.levels:
                continue
            anc = idx.ancestors(lvl, upper)[found]
            fill = (anc >= 0) & (pos[upper][rows] < 0)
            pos[upper][rows[fill]] = anc[fill]
    by_polygon = np.zeros(n, dtype=bool)
    for lvl in LEVELS:
        by_polygon |= pos[lvl] >= 0

    out: dict[str, np.ndarray] = {}
    for lvl in LEVELS:
        names = np.full(n, None, dtype=object)
        ids = np.full(n, None, dtype=object)
        if lvl in idx.levels:
            p = pos[lvl]
            ok = p >= 0
            lv = idx.levels[lvl]
            names[ok] = (lv.ids if lvl == "grid" else lv.names)[p[ok]]
            ids[ok] = lv.ids[p[ok]]
        out[NAME_COLUMN[lvl]] = names
        if lvl != "grid":
            out[f"{lvl}_id"] = ids

    # the record's own names: fallback where no polygon placed it, conflicts where one did
    conflict = np.full(n, "", dtype=object)
    by_name = np.zeros(n, dtype=bool)
    parent_ids = np.full(n, None, dtype=object)
    for lvl in LEVELS:
        col = SRC_COLUMN[lvl]
        name_col = NAME_COLUMN[lvl]
        if col not in src:
            if lvl != "grid":
                parent_ids = out[f"{lvl}_id"]
            continue
        given = src[col].reset_index(drop=True)
        codes, uniques = pd.factorize(given)
        uniq = pd.Series(uniques, dtype=object).astype(str).str.strip()
        valid_u = (uniq != "").to_numpy()
        has = (codes >= 0) & valid_u[np.maximum(codes, 0)] if len(uniq) else codes >= 0
        if lvl in idx.levels:
            placed = pos[lvl] >= 0
            check = has & placed
            if check.any():
                if lvl == "grid":
                    mine = uniq.to_numpy(dtype=object)[codes[check]]
                    theirs = idx.levels[lvl].ids[pos[lvl][check]].astype(str)
                else:
                    mine = normalise_name(uniq).to_numpy(dtype=object)[codes[check]]
                    theirs = idx.levels[lvl].keys[pos[lvl][check]]
                differs = np.flatnonzero(check)[mine != theirs]
                conflict[differs] = conflict[differs] + "," + lvl
        else:
            placed = np.zeros(n, dtype=bool)
        fill = has & ~placed & (out[name_col] == None)  # noqa: E711
        if fill.any():
            names = pd.Series(uniq.to_numpy(dtype=object)[codes[fill]], dtype=object)
            matched = _match_names(idx, lvl, names, pd.Series(parent_ids[fill], dtype=object))
            matched = matched.to_numpy(dtype=object)
            if lvl == "grid":
                out[name_col][fill] = names.to_numpy(dtype=object)
            else:
                official = np.array([idx.name_of.get(m) if isinstance(m, str) else None
                                     for m in matched], dtype=object)
                out[name_col][fill] = np.where(official != None, official,  # noqa: E711
                                               names.to_numpy(dtype=object))
                out[f"{lvl}_id"][fill] = np.where(pd.isna(matched), None, matched)
            by_name |= fill
        if lvl != "grid":
            parent_ids = out[f"{lvl}_id"]
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    frame["located_by"] = np.where(by_polygon, "polygon", np.where(by_name, "name", "none"))
    conflict = np.array([c.lstrip(",") or None for c in conflict], dtype=object) \
        if n and (conflict != "").any() else np.full(n, None, dtype=object)
    frame["name_conflict"] = pd.Series(conflict, dtype=object)
    return frame


def _match_names(
    idx: JurisdictionIndex, lvl: str, names: pd.Series, parents: pd.Series
) -> pd.Series:
    """Jurisdiction id for each name at ``lvl``: unique under the known parent, else city-wide."""
    if lvl not in idx.levels or lvl == "grid":
        if lvl == "grid" and "grid" in idx.levels:
            known = set(idx.levels["grid"].ids.tolist())
            return names.astype(str).where(names.astype(str).isin(known))
        return pd.Series([None] * len(names), index=names.index, dtype=object)
    lv = idx.levels[lvl]
    table = pd.DataFrame({"id": lv.ids, "key": normalise_name(pd.Series(lv.names, dtype=object)),
                          "parent": lv.parents})
    keys = normalise_name(names)
    # unique within parent
    within = table.groupby(["parent", "key"]).id.agg(lambda s: s.iloc[0] if len(s) == 1 else None)
    city = table.groupby("key").id.agg(lambda s: s.iloc[0] if len(s) == 1 else None)
    pairs = pd.MultiIndex.from_arrays([parents.astype(object), keys.astype(object)])
    res = pd.Series(within.reindex(pairs).to_numpy(), index=names.index, dtype=object)
    res = res.where(res.notna(), keys.map(city))
    return res

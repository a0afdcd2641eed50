"""Assign records to jurisdictions (属地): district → street → community → grid.

Rules (contract, "Nothing lost"):

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

import duckdb
import numpy as np
import pandas as pd
import shapely

from grids.pip import points_in_polygons

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


@dataclass
class JurisdictionIndex:
    """Loaded jurisdiction polygons and parent links, ready for vectorised lookups."""

    levels: dict[str, _Level] = field(default_factory=dict)
    name_of: dict[str, str] = field(default_factory=dict)
    level_of: dict[str, str] = field(default_factory=dict)
    parent_of: dict[str, str | None] = field(default_factory=dict)

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


def load_index(conn: duckdb.DuckDBPyConnection) -> JurisdictionIndex:
    """Read the ``jurisdictions`` table into a :class:`JurisdictionIndex`."""
    df = conn.execute(
        "SELECT jurisdiction_id, name, level, parent_id, geometry FROM jurisdictions"
    ).df()
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
        idx.levels[lvl] = _Level(
            ids=sub.jurisdiction_id.to_numpy(dtype=object),
            names=sub.name.to_numpy(dtype=object),
            parents=sub.parent_id.to_numpy(dtype=object),
            polygons=polys,
        )
    return idx


def _ancestor_at(idx: JurisdictionIndex, ids: pd.Series, target: str) -> pd.Series:
    """Ancestor id at level ``target`` of each id (NaN where the chain breaks)."""
    cur = ids.astype(object)
    for _ in range(len(LEVELS)):
        lvl = cur.map(idx.level_of)
        done = (lvl == target) | cur.isna()
        if done.all():
            break
        cur = cur.where(done, cur.map(idx.parent_of))
    lvl = cur.map(idx.level_of)
    return cur.where(lvl == target)


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
        From :func:`load_index`.
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
    ids = {lvl: pd.Series([None] * n, dtype=object) for lvl in LEVELS}
    by_polygon = np.zeros(n, dtype=bool)
    # finest level first; coarser levels from parent links, else their own PIP
    for lvl in reversed(LEVELS):
        if lvl not in idx.levels:
            continue
        known = ids[lvl].notna().to_numpy()
        todo = np.flatnonzero(~known)
        if len(todo) == 0:
            continue
        lv = idx.levels[lvl]
        hit = points_in_polygons(lon[todo], lat[todo], lv.polygons)
        found = hit >= 0
        rows = todo[found]
        ids[lvl].iloc[rows] = lv.ids[hit[found]]
        by_polygon[rows] = True
        got = pd.Series(lv.ids[hit[found]], index=rows, dtype=object)
        for upper in LEVELS[: LEVELS.index(lvl)]:
            anc = _ancestor_at(idx, got, upper)
            fill = anc.notna() & ids[upper].iloc[rows].isna().to_numpy()
            ids[upper].iloc[rows[fill.to_numpy()]] = anc[fill].to_numpy()

    out = pd.DataFrame(index=range(n))
    for lvl in LEVELS:
        names = ids[lvl].map(idx.name_of) if lvl != "grid" else ids[lvl]
        out[NAME_COLUMN[lvl]] = names.astype(object).where(names.notna(), None)
        if lvl != "grid":
            out[f"{lvl}_id"] = ids[lvl].astype(object)

    # the record's own names: fallback where no polygon placed it, conflicts where one did
    conflict = pd.Series([""] * n, dtype=object)
    by_name = np.zeros(n, dtype=bool)
    parent_ids = pd.Series([None] * n, dtype=object)
    for lvl in LEVELS:
        col = SRC_COLUMN[lvl]
        given = src[col] if col in src else pd.Series([None] * n, dtype=object)
        given = given.astype(object).where(given.notna() & (given.astype(str).str.strip() != ""))
        given = given.reset_index(drop=True)
        has = given.notna()
        out_col = NAME_COLUMN[lvl]
        placed = out[out_col].notna()
        if lvl == "grid":
            differs = has & placed & (given.astype(str) != out[out_col].astype(str))
        else:
            differs = has & placed & (normalise_name(given) != normalise_name(out[out_col])).fillna(False)
        conflict[differs.to_numpy()] += "," + lvl
        fill = has & ~placed
        if fill.any():
            matched = _match_names(idx, lvl, given[fill], parent_ids[fill])
            if lvl == "grid":
                out.loc[fill, out_col] = given[fill].astype(str)
            else:
                out.loc[fill, out_col] = matched.map(idx.name_of).fillna(given[fill])
                out.loc[fill, f"{lvl}_id"] = matched
            by_name[fill.to_numpy()] = True
        parent_ids = out[f"{lvl}_id"] if lvl != "grid" else parent_ids
    for c in out.columns:
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["located_by"] = np.where(by_polygon, "polygon", np.where(by_name, "name", "none"))
    conflict = conflict.str.lstrip(",")
    out["name_conflict"] = conflict.where(conflict != "", None).astype(object)
    return out


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


_RELOCATE_TABLES = {
    "complaints": "complaint_id",
    "inspection_points": "point_id",
    "inspections": "inspection_id",
}


def relocate_all(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Re-assign the jurisdiction of every stored record (after boundaries change).

    Returns the number of records re-assigned per table.
    """
    idx = load_index(conn)
    counts: dict[str, int] = {}
    for table, key in _RELOCATE_TABLES.items():
        df = conn.execute(
            f"SELECT {key} AS rid, lon, lat, src_district, src_street, src_community, src_grid_id "
            f"FROM {table}"
        ).df()
        counts[table] = len(df)
        if df.empty:
            continue
        loc = locate(idx, df.lon.to_numpy(dtype=float), df.lat.to_numpy(dtype=float), df)
        loc.insert(0, "rid", df.rid.to_numpy())
        conn.register("_relocated", loc)
        cols = [c for c in loc.columns if c != "rid"]
        sets = ", ".join(f"{c} = r.{c}" for c in cols)
        conn.execute(f"UPDATE {table} AS t SET {sets} FROM _relocated r WHERE t.{key} = r.rid")
        conn.unregister("_relocated")
    return counts

"""Load jurisdiction polygons (属地) and check how the levels nest.

``load_boundaries`` reads one file of district / street / community / grid polygons
(GeoJSON, GeoPackage, Shapefile or GeoParquet), converts it to WGS-84, upserts it into
``jurisdictions`` by id within the level and then checks the hierarchy of the database
as it stands after the load:

``spills_out_of_parent``  part of a unit lies outside its parent's polygon
``overlaps_sibling``      two units with the same parent overlap
``gap_in_parent``         part of a parent is covered by none of its loaded children
``no_parent``             the parent id is not a loaded unit of the level above
``parent_inferred``       no parent id: the parent is the unit of the level above that
                          shares the largest area with it
``invalid_repaired``      an invalid polygon (self-intersection...) repaired with
                          ``shapely.make_valid``, polygonal parts kept

Every problem comes with its size in km² (geodesic, ``grids.areas``); problems under
`SLIVER_KM2` are left out, so floating-point slivers along shared edges do not flood
the report. They are written to ``boundary_issues`` and listed by the report; the load
lands all the same. ``docs/boundaries.md`` describes the rules for users.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import shapely

from grids.areas import (
    SLIVER_KM2,
    geodesic_area_km2,
    grown,
    largest_overlap,
    outside_areas,
    overlapping_pairs,
    uncovered_areas,
)
from grids.locate import LEVELS
from ingest.placement import relocate_all
from ingest.polyfile import (
    BoundaryError,
    checked_ids,
    id_strings,
    pick_field,
    read_polygons,
)
from ingest.readers import file_sha256
from store.clock import local_now
from store.database import next_batch_id, write_transaction

#: How many issues ``BoundaryReport.summary`` lists one by one.
SUMMARY_MAX_ISSUES = 20

#: Property names recognised (case-insensitive, in this order) when no field is given.
ID_FIELDS = ("adcode", "code", "id", "jurisdiction_id", "编码", "代码", "区划代码", "网格编码")
NAME_FIELDS = ("name", "名称", "区划名称", "街道名称", "社区名称", "网格名称")
PARENT_FIELDS = ("parent", "parent_id", "parent_code", "上级编码", "上级代码")
#: 所属区编码, 所属街道代码, ... are parent fields too.
PARENT_PATTERN = re.compile(r"^所属.*(编码|代码)$")
#: Failing the names above: 社区编码, 街道代码, ... (an id) and 社区名称, ... (a name).
ID_PATTERN = re.compile(r"^(?!所属|上级).*(编码|代码)$")
NAME_PATTERN = re.compile(r"^(?!所属|上级).*名称$")
LEVEL_FIELDS = ("level", "级别", "层级")

_HIERARCHY_ISSUES = ("no_parent", "spills_out_of_parent", "overlaps_sibling")


@dataclass
class BoundaryIssue:
    """One row of ``boundary_issues``."""

    level: str
    jurisdiction_id: str
    other_id: str | None
    issue: str
    area_km2: float
    detail: str


@dataclass(kw_only=True)
class LoadReport:
    """The counts every polygon load reports (boundaries, zones): rows read, new, changed,
    unchanged, total area, its batch and warnings; the file and its coordinate system."""

    file: str
    crs: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    area_km2: float = 0.0
    batch_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    def loaded_lines(self, what: str) -> list[str]:
        """``Loaded <what> from FILE (coordinates: …): n new, …; … km² in all.`` and one
        line per warning."""
        return [f"Loaded {what} from {Path(self.file).name} (coordinates: {self.crs}): "
                f"{self.inserted} new, {self.updated} changed, {self.unchanged} unchanged; "
                f"{fmt_km2(self.area_km2)} km² in all."] + [f"Warning: {w}" for w in self.warnings]


@dataclass(kw_only=True)
class BoundaryReport(LoadReport):
    """What ``load_boundaries`` did, and the problems of the affected levels."""

    level: str
    issues: list[BoundaryIssue] = field(default_factory=list)
    relocated: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """The report in plain words, for the command line and the import page."""
        lines = self.loaded_lines(
            f"{self.rows} {self.level} boundar{'y' if self.rows == 1 else 'ies'}")
        if not self.issues:
            lines.append("No boundary problems found.")
            return "\n".join(lines)
        counts = pd.Series([i.issue for i in self.issues]).value_counts()
        kinds = ", ".join(f"{n} {k}" for k, n in counts.items())
        lines.append(f"{len(self.issues)} boundary problems ({kinds}); "
                     f"all listed in table boundary_issues (batch {self.batch_id}):")
        lines += [f"  - {i.detail}" for i in self.issues[:SUMMARY_MAX_ISSUES]]
        if len(self.issues) > SUMMARY_MAX_ISSUES:
            lines.append(f"  ... and {len(self.issues) - SUMMARY_MAX_ISSUES} more")
        return "\n".join(lines)


def fmt_km2(a: float) -> str:
    """Area for messages: 3 decimals under 10 km², else 1 with thousands separators."""
    return f"{a:.4f}" if a < 0.01 else f"{a:.3f}" if a < 10 else f"{a:,.1f}"


# ----------------------------------------------------------------------------- reading


_ABOVE = dict(zip(LEVELS[1:], LEVELS[:-1], strict=True))
_BELOW = dict(zip(LEVELS[:-1], LEVELS[1:], strict=True))


@dataclass
class _Units:
    """The stored units of one level as arrays (geometries parsed and prepared)."""

    ids: np.ndarray
    names: np.ndarray
    parents: np.ndarray
    area: np.ndarray
    geoms: np.ndarray
    _grown: np.ndarray | None = None

    @property
    def grown(self) -> np.ndarray:
        if self._grown is None:
            self._grown = grown(self.geoms)
        return self._grown


def _units(conn: duckdb.DuckDBPyConnection, level: str | None) -> _Units:
    df = conn.execute(
        "SELECT jurisdiction_id, name, parent_id, area_km2, geometry FROM jurisdictions "
        "WHERE level = ? ORDER BY jurisdiction_id", [level or ""]).df()

    def col(c: str) -> np.ndarray:
        return np.array(df[c].astype(object).where(df[c].notna(), None), dtype=object)

    geoms = shapely.from_wkt(df.geometry.to_numpy(dtype=object))
    shapely.prepare(geoms)
    return _Units(col("jurisdiction_id"), col("name"), col("parent_id"),
                  df.area_km2.to_numpy(dtype=float), geoms)


def _infer(level, ids, geoms, area, parents: _Units):
    """Parent ids by largest shared area (None where none), and the parent_inferred issues."""
    best, shared = largest_overlap(geoms, area, parents.geoms, parents.grown)
    above, issues = _ABOVE.get(level), []
    for k in np.flatnonzero(best >= 0):
        pid, pname = parents.ids[best[k]], parents.names[best[k]]
        share = 100 * shared[k] / area[k] if area[k] > 0 else 0
        issues.append(BoundaryIssue(level, ids[k], pid, "parent_inferred", float(shared[k]),
                                    f"{level} {ids[k]} has no parent id; taken as {above} "
                                    f"{pid} ({pname}), which holds {share:.1f}% of its area"))
    return np.where(best >= 0, parents.ids[np.maximum(best, 0)], None), issues


def _reinfer(conn, child: str, kids: _Units, parents: _Units, skip: set[str]) -> list:
    """Infer again the parents of ``child`` units that have none or had one inferred."""
    marked = {r[0] for r in conn.execute(
        "SELECT jurisdiction_id FROM boundary_issues WHERE level = ? AND issue = "
        "'parent_inferred'", [child]).fetchall()}
    redo = np.flatnonzero([(p is None or i in marked) and i not in skip
                           for i, p in zip(kids.ids, kids.parents, strict=True)])
    if not len(redo):
        return []
    kids.parents[redo], issues = _infer(child, kids.ids[redo], kids.geoms[redo],
                                        kids.area[redo], parents)
    upd = pd.DataFrame({"jid": kids.ids[redo], "pid": kids.parents[redo]}, dtype=object)
    conn.register("_reparent", upd)
    conn.execute("UPDATE jurisdictions SET parent_id = r.pid FROM _reparent r "
                 "WHERE level = ? AND jurisdiction_id = r.jid", [child])
    conn.execute("DELETE FROM boundary_issues WHERE level = ? AND issue = 'parent_inferred' "
                 "AND jurisdiction_id IN (SELECT jid FROM _reparent)", [child])
    conn.unregister("_reparent")
    return issues


def _check_pair(conn, child: str, *, skip_infer: set[str]) -> tuple[list, list]:
    """(hierarchy issues, parent inferences) of the ``child`` level against the level above."""
    kids, above = _units(conn, child), _ABOVE.get(child)
    parents = _units(conn, above)
    issues: list[BoundaryIssue] = []
    inferred: list[BoundaryIssue] = []
    ids, names = kids.ids, kids.names
    if len(parents.ids):
        inferred = _reinfer(conn, child, kids, parents, skip_infer)
    groups = np.array(["\x00" if p is None else p for p in kids.parents], dtype=object)
    pa, pb, parea, prough = overlapping_pairs(kids.geoms, groups)
    if len(parents.ids):
        pos = {j: k for k, j in enumerate(parents.ids)}
        pidx = np.array([pos.get(p, -1) for p in kids.parents], dtype=np.int64)
        for k in np.flatnonzero(pidx < 0):
            pid = kids.parents[k]
            why = (f"its parent {pid} is not a loaded {above}" if pid is not None
                   else f"it has no parent id and overlaps no loaded {above}")
            issues.append(BoundaryIssue(child, ids[k], pid, "no_parent", float(kids.area[k]),
                                        f"{child} {ids[k]} ({names[k]}): {why}"))
        has = np.flatnonzero(pidx >= 0)
        inside = np.ones(len(ids), dtype=bool)
        inside[has], spill = outside_areas(kids.geoms[has], parents.geoms[pidx[has]],
                                           parents.grown[pidx[has]])
        for k, a in zip(has, spill, strict=True):
            if a >= SLIVER_KM2:
                pid = parents.ids[pidx[k]]
                issues.append(BoundaryIssue(
                    child, ids[k], pid, "spills_out_of_parent", float(a),
                    f"{child} {ids[k]} ({names[k]}) spills out of its {above} {pid} by "
                    f"{fmt_km2(a)} km² ({100 * a / max(kids.area[k], 1e-12):.1f}% of it)"))
        holders, counts, gap = uncovered_areas(parents.geoms, parents.area, kids.geoms,
                                               kids.area, pidx, inside, pa, prough)
        for h, n, a in zip(holders, counts, gap, strict=True):
            if a >= SLIVER_KM2:
                issues.append(BoundaryIssue(
                    above, parents.ids[h], None, "gap_in_parent", float(a),
                    f"{fmt_km2(a)} km² of {above} {parents.ids[h]} ({parents.names[h]}) is "
                    f"covered by none of its {n} loaded {child} units"))
    issues += [BoundaryIssue(child, ids[i], ids[j], "overlaps_sibling", float(x),
                             f"{child} units {ids[i]} ({names[i]}) and {ids[j]} ({names[j]}) "
                             f"overlap by {fmt_km2(x)} km²")
               for i, j, x in zip(pa, pb, parea, strict=True) if x >= SLIVER_KM2]
    return issues, inferred


def _store_issues(conn, batch: int, issues: list[BoundaryIssue]) -> None:
    if not issues:
        return
    df = pd.DataFrame([vars(i) for i in issues], dtype=object)
    df.insert(0, "batch_id", batch)
    df["area_km2"] = df.area_km2.astype(float)
    conn.register("_issues", df)
    conn.execute("INSERT INTO boundary_issues (batch_id, level, jurisdiction_id, other_id, issue, "
                 "area_km2, detail) SELECT batch_id, level, jurisdiction_id, other_id, issue, "
                 "area_km2, detail FROM _issues")
    conn.unregister("_issues")


def refresh_checks(conn, level: str, batch: int, *, skip_infer: set[str] = frozenset()):
    """Recompute the hierarchy problems that involve ``level`` and store them in ``batch``.

    ``level`` is checked as a child (against the level above, and its siblings) and, when
    the level below is loaded, as a parent (the level below is checked against it).
    Returns the issues found, parent inferences included.
    """
    found: list[BoundaryIssue] = []
    below = _BELOW.get(level)
    has_below = below and conn.execute(
        "SELECT count(*) FROM jurisdictions WHERE level = ?", [below]).fetchone()[0]
    for child in [level] + ([below] if has_below else []):
        issues, inferred = _check_pair(conn, child, skip_infer=skip_infer if child == level
                                       else set())
        conn.execute(
            "DELETE FROM boundary_issues WHERE (level = ? AND issue IN (?, ?, ?)) "
            "OR (level = ? AND issue = 'gap_in_parent')", [child, *_HIERARCHY_ISSUES,
                                                            _ABOVE.get(child) or ""])
        _store_issues(conn, batch, issues + inferred)
        found += inferred + issues
    return found


# ----------------------------------------------------------------------------- loading


def upsert(conn, table: str, key: str, rows: pd.DataFrame, compare: tuple[str, ...], batch: int,
           scope: str = "TRUE", params: tuple = ()) -> tuple[int, int, int]:
    """Upsert ``rows`` into ``table`` by ``key`` (within ``scope``): (inserted, updated, unchanged).

    A row whose ``compare`` columns all equal the stored ones is left alone (keeps its
    batch_id); the others are deleted and inserted with ``batch``.
    """
    old = conn.execute(f"SELECT {key}, {', '.join(compare)} FROM {table} WHERE {scope}",
                       list(params)).df().astype(object)
    old = old.drop_duplicates(key).set_index(key)
    known = rows[key].isin(old.index).to_numpy()
    same = np.zeros(len(rows), dtype=bool)
    if known.any():
        prev = old.reindex(rows[key][known])
        eq = np.ones(int(known.sum()), dtype=bool)
        for col in compare:
            a = rows.loc[known, col].fillna("\x00").to_numpy(dtype=object)
            b = prev[col].where(prev[col].notna(), "\x00").to_numpy(dtype=object)
            eq &= a == b
        same[known] = eq
    write = rows[~same].assign(batch_id=batch)
    cols = ", ".join(write.columns)
    conn.register("_upsert_rows", write)
    conn.execute(f"DELETE FROM {table} WHERE {scope} AND {key} IN "
                 f"(SELECT {key} FROM _upsert_rows)", list(params))
    conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _upsert_rows")
    conn.unregister("_upsert_rows")
    inserted = int((~known).sum())
    return inserted, int(len(rows) - inserted - same.sum()), int(same.sum())


def record_batch(conn, batch: int, kind: str, path: Path, sha: str, started: datetime, *,
                 read: int, inserted: int, updated: int, unchanged: int, fixed: int,
                 crs: str, mapping: dict) -> None:
    """One ``import_batches`` row for a boundary or zone load."""
    conn.execute(
        "INSERT INTO import_batches (batch_id, kind, file_name, sha256, started_at, finished_at, "
        "rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_fixed, crs, "
        "encoding, mapping) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, ?)",
        [batch, kind, path.name, sha, started, local_now(), read, inserted, updated,
         unchanged, fixed, crs, json.dumps(mapping, ensure_ascii=False)])


def load_boundaries(db, path, level: str, *, crs: str | None = None, id_field: str | None = None,
                    name_field: str | None = None,
                    parent_field: str | None = None) -> BoundaryReport:
    """Load jurisdiction polygons of one level into the database (upsert by id).

    Parameters
    ----------
    db : path-like or None
        Database file (``store.database.db_path`` rules).
    path : path-like
        GeoJSON, GeoPackage, Shapefile or GeoParquet of (Multi)Polygons.
    level : str
        district | street | community | grid.
    crs : str, optional
        Coordinate system of the file when it is not WGS-84 or declares none: wgs84,
        gcj02, bd09, cgcs2000 or an EPSG code. Default: what the file declares.
    id_field, name_field, parent_field : str, optional
        Property names; default: the first recognised name (``ID_FIELDS`` ...).

    Returns
    -------
    BoundaryReport
        Counts, warnings and the hierarchy problems of the database after the load.

    Raises
    ------
    BoundaryError
        The file cannot be loaded; the database is left untouched.
    """
    if str(level).strip().lower() not in LEVELS:
        raise BoundaryError(f"--level {level!r}: expected one of {' | '.join(LEVELS)}")
    level = str(level).strip().lower()
    pf = read_polygons(path, crs=crs, what=level)
    id_col = pick_field(pf, id_field, ID_FIELDS, role="id", pattern=ID_PATTERN, required=True)
    name_col = pick_field(pf, name_field, NAME_FIELDS, role="name", pattern=NAME_PATTERN)
    parent_col = pick_field(pf, parent_field, PARENT_FIELDS, role="parent", pattern=PARENT_PATTERN)
    ids = checked_ids(pf, id_col)
    names = id_strings(pf.properties[name_col]) if name_col else np.full(len(ids), None)
    parents = id_strings(pf.properties[parent_col]) if parent_col else np.full(len(ids), None)
    report = BoundaryReport(file=str(path), level=level, crs=pf.crs, rows=len(ids),
                            warnings=list(pf.warnings))
    if name_col is None:
        report.warnings.append(f"no name property (expected one of {', '.join(NAME_FIELDS)}); "
                               f"names left empty")
    lvl_col = pick_field(pf, None, LEVEL_FIELDS, role="level")
    if lvl_col:
        said = pf.properties[lvl_col].astype(str).str.strip().str.lower()
        other = said.isin(LEVELS) & (said != level)
        if other.any():
            report.warnings.append(f"{int(other.sum())} features say {lvl_col}="
                                   f"{said[other].iloc[0]} but were loaded as {level}")
    area = geodesic_area_km2(pf.geoms)
    report.area_km2 = float(area.sum())
    rows = pd.DataFrame({
        "jurisdiction_id": pd.Series(ids, dtype=object), "name": pd.Series(names, dtype=object),
        "level": level, "parent_id": pd.Series(parents, dtype=object), "area_km2": area,
        "geometry": pd.Series(shapely.to_wkt(pf.geoms, rounding_precision=-1), dtype=object)})
    sha = file_sha256(pf.path)
    started = local_now()
    with write_transaction(db) as conn:
        batch = next_batch_id(conn)
        report.batch_id = batch
        above = _ABOVE.get(level)
        pre_inferred: list[BoundaryIssue] = []
        no_parent = np.flatnonzero(rows.parent_id.isna().to_numpy())
        if above and len(no_parent):
            ptab = _units(conn, above)
            if len(ptab.ids):
                rows.loc[rows.index[no_parent], "parent_id"], pre_inferred = _infer(
                    level, ids[no_parent], pf.geoms[no_parent], area[no_parent], ptab)
        report.inserted, report.updated, report.unchanged = upsert(
            conn, "jurisdictions", "jurisdiction_id", rows, ("name", "parent_id", "geometry"),
            batch, "level = ?", (level,))
        touched = set(ids.tolist())
        conn.register("_touched", pd.DataFrame({"jid": list(touched)}, dtype=object))
        conn.execute("DELETE FROM boundary_issues WHERE level = ? AND jurisdiction_id IN "
                     "(SELECT jid FROM _touched) AND issue IN ('invalid_repaired', "
                     "'parent_inferred')", [level])
        conn.unregister("_touched")
        repaired = [BoundaryIssue(level, ids[i], None, "invalid_repaired", float(area[i]),
                                  f"{level} {ids[i]} (feature {i + 1}): invalid polygon "
                                  f"({reason}) repaired with make_valid; {fmt_km2(area[i])} km² "
                                  f"of polygon kept")
                    for i, reason in pf.repaired.items()]
        _store_issues(conn, batch, repaired + pre_inferred)
        found = refresh_checks(conn, level, batch, skip_infer=touched)
        report.issues = repaired + pre_inferred + found
        report.relocated = relocate_all(conn)   # stored records follow the new boundaries
        record_batch(conn, batch, f"boundaries:{level}", pf.path, sha, started,
                     read=len(ids), inserted=report.inserted, updated=report.updated,
                     unchanged=report.unchanged, fixed=len(pf.repaired), crs=pf.crs_code,
                     mapping={"jurisdiction_id": id_col, "name": name_col,
                              "parent_id": parent_col})
    return report

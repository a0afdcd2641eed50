"""Tagged area polygons (zones): the urban-rural fringe (城乡结合部) first of all.

``load_zones`` loads polygons a city has drawn, under a kind (``fringe``, ``market``, ...);
``derive_fringe`` builds the fringe as a band of a given width outside a built-up core,
clipped to the loaded districts. Both store WGS-84 WKT and a geodesic area in ``zones``
and upsert by ``zone_id`` within the kind (two kinds may both number their zones 1, 2, ...
without overwriting each other). Files are read by ``ingest.polyfile.read_polygons`` (same
formats, coordinate systems and errors as jurisdiction boundaries); the band's geometry
is ``grids.band.fringe_band``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from grids.areas import geodesic_area_km2
from grids.band import fringe_band
from ingest.boundaries import (
    NAME_FIELDS,
    NAME_PATTERN,
    LoadReport,
    fmt_km2,
    record_batch,
    upsert,
)
from ingest.polyfile import BoundaryError, checked_ids, id_strings, pick_field, read_polygons
from ingest.readers import file_sha256
from store.clock import local_now
from store.database import next_batch_id, write_transaction

#: Property names recognised (case-insensitive, in this order) for a zone's id and name.
ZONE_ID_FIELDS = ("zone_id", "id", "code", "编码", "代码")
ZONE_NAME_FIELDS = ("zone_name",) + NAME_FIELDS + ("区域名称",)
#: Id, kind and name pattern of the derived fringe (one zone, replaced by each derivation).
DERIVED_FRINGE_ID = "fringe-derived"
DERIVED_FRINGE_KIND = "fringe"
DERIVED_FRINGE_NAME = "城乡结合部（核心区外{width}公里）"

_KIND = re.compile(r"^[\w\-]+$")


@dataclass(kw_only=True)
class ZoneReport(LoadReport):
    """What ``load_zones`` or ``derive_fringe`` did."""

    kind: str
    zone_ids: list[str] = field(default_factory=list)
    width_km: float | None = None       # set by derive_fringe

    def summary(self) -> str:
        """The report in plain words."""
        if self.width_km is not None:
            state = ("new" if self.inserted else "changed" if self.updated else "unchanged")
            lines = [f"Derived the fringe zone {DERIVED_FRINGE_ID} ({state}): a "
                     f"{self.width_km:g} km band outside the core in {Path(self.file).name} "
                     f"(coordinates: {self.crs}), clipped to the loaded districts; "
                     f"{fmt_km2(self.area_km2)} km²."]
            return "\n".join(lines + [f"Warning: {w}" for w in self.warnings])
        return "\n".join(self.loaded_lines(f"{self.rows} {self.kind} zone(s)"))


def _check_kind(kind: str) -> str:
    k = str(kind).strip()
    if not k or not _KIND.match(k):
        raise BoundaryError(f"--kind {kind!r}: expected one word such as fringe or market "
                            f"(letters, digits, '_' or '-')")
    return k


def _zone_rows(ids, names, kind: str, geoms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "zone_id": pd.Series(ids, dtype=object), "name": pd.Series(names, dtype=object),
        "kind": kind, "area_km2": geodesic_area_km2(geoms),
        "geometry": pd.Series(shapely.to_wkt(geoms, rounding_precision=-1), dtype=object)})


def load_zones(db, path, kind: str, *, crs: str | None = None, name_field: str | None = None,
               id_field: str | None = None) -> ZoneReport:
    """Load tagged area polygons into ``zones`` (upsert by ``zone_id`` within ``kind``).

    Parameters
    ----------
    db : path-like or None
        Database file.
    path : path-like
        GeoJSON, GeoPackage, Shapefile or GeoParquet of (Multi)Polygons.
    kind : str
        One word: ``fringe`` or any other kind a city uses.
    crs : str, optional
        As for ``ingest.boundaries.load_boundaries``.
    name_field, id_field : str, optional
        Property names; default the first of ``ZONE_NAME_FIELDS`` / ``ZONE_ID_FIELDS``.
        Without an id property the ids are ``<kind>-<n>``, n the feature number (1, 2, ...).

    Raises
    ------
    BoundaryError
        The file cannot be loaded; the database is left untouched.
    """
    kind = _check_kind(kind)
    pf = read_polygons(path, crs=crs, what=f"{kind} zone")
    id_col = pick_field(pf, id_field, ZONE_ID_FIELDS, role="id")
    name_col = pick_field(pf, name_field, ZONE_NAME_FIELDS, role="name", pattern=NAME_PATTERN)
    n = len(pf.geoms)
    ids = checked_ids(pf, id_col) if id_col else np.array([f"{kind}-{k + 1}" for k in range(n)],
                                                          dtype=object)
    names = id_strings(pf.properties[name_col]) if name_col else np.full(n, None)
    rows = _zone_rows(ids, names, kind, pf.geoms)
    report = ZoneReport(file=str(path), kind=kind, crs=pf.crs, rows=n,
                        area_km2=float(rows.area_km2.sum()),
                        zone_ids=list(ids), warnings=list(pf.warnings))
    report.warnings += [f"{pf.label(i, ids)}: invalid polygon ({why}) repaired with make_valid"
                        for i, why in pf.repaired.items()]
    sha, started = file_sha256(pf.path), local_now()
    with write_transaction(db) as conn:
        report.batch_id = batch = next_batch_id(conn)
        report.inserted, report.updated, report.unchanged = upsert(
            conn, "zones", "zone_id", rows, ("name", "geometry"), batch, "kind = ?", (kind,))
        record_batch(conn, batch, f"zones:{kind}", pf.path, sha, started, read=n,
                     inserted=report.inserted, updated=report.updated,
                     unchanged=report.unchanged, fixed=len(pf.repaired), crs=pf.crs_code,
                     mapping={"zone_id": id_col, "name": name_col})
    return report


def derive_fringe(db, core_path, *, width_km: float = 3.0, crs: str | None = None) -> ZoneReport:
    """Derive the urban-rural fringe as a band outside the built-up core.

    Fringe = (core buffered by ``width_km`` on the ground) minus core, clipped to the
    union of the loaded districts; stored as one zone ``fringe-derived`` of kind
    ``fringe`` named ``城乡结合部（核心区外{width}公里）``, replacing an earlier one.

    Parameters
    ----------
    db : path-like or None
        Database file; districts must be loaded.
    core_path : path-like
        Polygon file of the built-up core (any number of polygons).
    width_km : float
        Band width in kilometres, > 0.
    crs : str, optional
        Coordinate system of the core file, as for ``load_boundaries``.

    Raises
    ------
    BoundaryError
        Width not positive, no districts loaded, unreadable core file, or a band that
        misses every district.
    """
    try:
        width_km = float(width_km)
    except (TypeError, ValueError):
        raise BoundaryError(f"--width-km {width_km!r}: expected a number of kilometres") from None
    if not np.isfinite(width_km) or width_km <= 0:
        raise BoundaryError(f"--width-km {width_km:g}: expected a width above 0 km")
    pf = read_polygons(core_path, crs=crs, what="core")
    core = shapely.union_all(pf.geoms)
    sha, started = file_sha256(pf.path), local_now()
    name = DERIVED_FRINGE_NAME.format(width=f"{width_km:g}")
    with write_transaction(db) as conn:
        wkt = [r[0] for r in conn.execute(
            "SELECT geometry FROM jurisdictions WHERE level = 'district'").fetchall()]
        if not wkt:
            raise BoundaryError("no districts are loaded; load them first with "
                                "`load-boundaries FILE --level district`")
        districts = shapely.union_all(shapely.from_wkt(np.array(wkt, dtype=object)))
        band = fringe_band(core, districts, width_km)
        if band.is_empty:
            raise BoundaryError(f"{pf.path}: the {width_km:g} km band around the core lies "
                                f"outside every loaded district; check the core file and its "
                                f"coordinate system")
        rows = _zone_rows([DERIVED_FRINGE_ID], [name], DERIVED_FRINGE_KIND,
                          np.array([band], dtype=object))
        report = ZoneReport(file=str(core_path), kind=DERIVED_FRINGE_KIND, crs=pf.crs, rows=1,
                            area_km2=float(rows.area_km2.iat[0]),
                            zone_ids=[DERIVED_FRINGE_ID], warnings=list(pf.warnings),
                            width_km=width_km)
        report.batch_id = batch = next_batch_id(conn)
        report.inserted, report.updated, report.unchanged = upsert(
            conn, "zones", "zone_id", rows, ("name", "geometry"), batch, "kind = ?",
            (DERIVED_FRINGE_KIND,))
        record_batch(conn, batch, "zones:fringe-derived", pf.path, sha, started, read=1,
                     inserted=report.inserted, updated=report.updated,
                     unchanged=report.unchanged, fixed=len(pf.repaired), crs=pf.crs_code,
                     mapping={"width_km": width_km, "core_polygons": len(pf.geoms)})
    return report

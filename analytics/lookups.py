"""What the pages offer and draw besides the statistics: the choices of their filters and
the shapes of their maps, read from the database.

Every query a page needs goes through a function here or in another ``analytics`` module,
tested without Streamlit (tests/test_lookups.py); the pages only lay out what these return.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.records import Records

#: Columns of a shape frame (jurisdictions and zones alike): id, name, geometry as WKT.
SHAPE_COLUMNS = ["jurisdiction_id", "name", "geometry"]


def filter_choices(conn: duckdb.DuckDBPyConnection) -> dict:
    """The values the situation map's filters offer.

    Returns
    -------
    dict
        ``categories`` ({"complaints": [...], "inspections": [...], "all": [...]}, the
        categories of the records the statistics count), ``districts`` (names, by id),
        ``streets`` ({district name: [street names]}), ``zones`` (zone kinds) and
        ``point_types`` (most frequent first).
    """
    def col(sql: str) -> list:
        return [r[0] for r in conn.execute(sql).fetchall()]

    def categories(source: str) -> list:  # of the records the statistics count
        sql, params = Records(source, needs=("category",)).select(("category",))
        return [r[0] for r in conn.execute(f"SELECT DISTINCT category FROM ({sql}) "
                                           "ORDER BY 1", params).fetchall()]

    comp, insp = categories("complaints"), categories("inspections")
    juris = conn.execute("SELECT jurisdiction_id, name, level, parent_id FROM jurisdictions "
                         "WHERE level IN ('district', 'street') ORDER BY level, "
                         "jurisdiction_id").df()
    types = col("SELECT point_type FROM inspection_points WHERE point_type IS NOT NULL "
                "GROUP BY 1 ORDER BY count(*) DESC, 1")
    districts = juris[juris.level == "district"]
    streets = juris[juris.level == "street"]
    by_district = {d.name: streets[streets.parent_id == d.jurisdiction_id].name.tolist()
                   for d in districts.itertuples()}
    return {"categories": {"complaints": comp, "inspections": insp,
                           "all": sorted(set(comp) | set(insp))},
            "districts": districts.name.tolist(), "streets": by_district,
            "zones": zone_kinds(conn), "point_types": types}


def zone_kinds(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The zone kinds loaded (``fringe`` and any a city named), sorted."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT kind FROM zones WHERE kind IS NOT NULL ORDER BY 1").fetchall()]


def jurisdiction_shapes(conn: duckdb.DuckDBPyConnection, level: str, *,
                        parent: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Outlines of the jurisdictions of ``level``: all, the children of the ``parent``
    named, or the one ``name``d; columns :data:`SHAPE_COLUMNS`, by id."""
    if parent:
        return conn.execute(
            "SELECT j.jurisdiction_id, j.name, j.geometry FROM jurisdictions j "
            "JOIN jurisdictions p ON j.parent_id = p.jurisdiction_id "
            "WHERE j.level = ? AND p.name = ? ORDER BY j.jurisdiction_id",
            [level, parent]).df()
    if name is not None:
        return conn.execute("SELECT jurisdiction_id, name, geometry FROM jurisdictions "
                            "WHERE level = ? AND name = ? ORDER BY jurisdiction_id",
                            [level, name]).df()
    return conn.execute("SELECT jurisdiction_id, name, geometry FROM jurisdictions "
                        "WHERE level = ? ORDER BY jurisdiction_id", [level]).df()


def zone_shapes(conn: duckdb.DuckDBPyConnection, kind: str) -> pd.DataFrame:
    """Outlines of the zones of ``kind``: zone_id, name, geometry (WKT), by id."""
    return conn.execute("SELECT zone_id, name, geometry FROM zones WHERE kind = ? "
                        "ORDER BY zone_id", [kind]).df()


def inspection_points(conn: duckdb.DuckDBPyConnection, types: tuple | list, *,
                      district: str | None = None, street: str | None = None) -> pd.DataFrame:
    """Located inspection points of the given types (in the district / street named):
    point_id, name, point_type, lon, lat, by id."""
    where, params = ["point_type IN (" + ",".join("?" * len(types)) + ")"], list(types)
    if not types:
        where = ["false"]
    if district:
        where.append("district = ?")
        params.append(district)
    if street:
        where.append("street = ?")
        params.append(street)
    return conn.execute("SELECT point_id, name, point_type, lon, lat FROM inspection_points "
                        "WHERE lon IS NOT NULL AND " + " AND ".join(where)
                        + " ORDER BY point_id", params).df()

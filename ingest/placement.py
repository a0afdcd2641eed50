"""Placing stored records in the loaded jurisdictions: the index read from the database,
and every record placed again after boundaries change (docs/boundaries.md). The geometry
itself (point in polygon, names as a fallback) is :mod:`grids.locate`."""

from __future__ import annotations

import duckdb

from grids.locate import JurisdictionIndex, build_index, locate


def load_index(conn: duckdb.DuckDBPyConnection) -> JurisdictionIndex:
    """Read the ``jurisdictions`` table into a :class:`grids.locate.JurisdictionIndex`."""
    return build_index(conn.execute(
        "SELECT jurisdiction_id, name, level, parent_id, geometry FROM jurisdictions "
        "ORDER BY level, jurisdiction_id").df())


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

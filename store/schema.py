"""Tables, views and SQL macros of the grid database.

The canonical field names are those of ``docs/import.md``; ``docs/schema.md``
describes every column. ``ensure_schema`` is idempotent and runs inside every write.
"""

from __future__ import annotations

import duckdb

SCHEMA_VERSION = "1"

#: Columns shared by every located record (complaints, points, inspections).
_LOCATION_COLUMNS = """
    lon DOUBLE,                 -- WGS-84 longitude (NULL when the record has no usable coordinates)
    lat DOUBLE,                 -- WGS-84 latitude
    cell UBIGINT,               -- fine H3 cell, resolution 12 (h3_hex(cell) gives the hex string)
    district VARCHAR,           -- jurisdiction names, by point-in-polygon, else the record's own name
    street VARCHAR,
    community VARCHAR,
    grid_id VARCHAR,
    district_id VARCHAR,        -- jurisdiction ids of the same (NULL when known by name only)
    street_id VARCHAR,
    community_id VARCHAR,
    located_by VARCHAR,         -- 'polygon' | 'name' | 'none'
    name_conflict VARCHAR,      -- level(s) where the record's own name disagrees with the polygon
    src_district VARCHAR,       -- names as written in the source file
    src_street VARCHAR,
    src_community VARCHAR,
    src_grid_id VARCHAR,
    extra VARCHAR,              -- JSON object of the source columns that map to no canonical field
    batch_id INTEGER            -- import batch that last wrote the row
"""

TABLES: dict[str, str] = {
    "meta": """
        CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)
    """,
    "import_batches": """
        CREATE TABLE IF NOT EXISTS import_batches (
            batch_id INTEGER PRIMARY KEY,
            kind VARCHAR,
            file_name VARCHAR,
            sha256 VARCHAR,
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            rows_read BIGINT,
            rows_inserted BIGINT,
            rows_updated BIGINT,
            rows_unchanged BIGINT,
            rows_rejected BIGINT,
            rows_fixed BIGINT,           -- rows loaded with a note (a fix such as swapped lat/lon, or a value set aside)
            crs VARCHAR,
            encoding VARCHAR,
            mapping VARCHAR              -- JSON: canonical field -> source column actually used
        )
    """,
    "rejected_rows": """
        CREATE TABLE IF NOT EXISTS rejected_rows (
            batch_id INTEGER,
            row_number BIGINT,           -- row in the source file, header = row 1 (as a spreadsheet shows it)
            field VARCHAR,
            reason VARCHAR,
            raw VARCHAR
        )
    """,
    "import_notes": """
        CREATE TABLE IF NOT EXISTS import_notes (
            batch_id INTEGER,
            row_number BIGINT,
            field VARCHAR,
            note VARCHAR                 -- a row that was loaded after a fix, and what was fixed
        )
    """,
    "complaints": f"""
        CREATE TABLE IF NOT EXISTS complaints (
            complaint_id VARCHAR NOT NULL,
            received_at TIMESTAMP NOT NULL,
            category VARCHAR,
            subcategory VARCHAR,
            description VARCHAR,
            address VARCHAR,
            status VARCHAR,              -- open | closed | void
            status_raw VARCHAR,
            due_at TIMESTAMP,
            closed_at TIMESTAMP,
            reworked INTEGER,
            satisfied BOOLEAN,
            source VARCHAR,
            {_LOCATION_COLUMNS}
        )
    """,
    "inspection_points": f"""
        CREATE TABLE IF NOT EXISTS inspection_points (
            point_id VARCHAR NOT NULL,
            name VARCHAR,
            point_type VARCHAR,
            {_LOCATION_COLUMNS}
        )
    """,
    "inspections": f"""
        CREATE TABLE IF NOT EXISTS inspections (
            inspection_id VARCHAR NOT NULL,
            point_id VARCHAR,
            inspected_at TIMESTAMP NOT NULL,
            team VARCHAR,
            problem_category VARCHAR,
            problems INTEGER,
            deduction DOUBLE,
            rectify_due TIMESTAMP,
            rectified_at TIMESTAMP,
            {_LOCATION_COLUMNS}
        )
    """,
    "jurisdictions": """
        CREATE TABLE IF NOT EXISTS jurisdictions (
            jurisdiction_id VARCHAR NOT NULL,
            name VARCHAR,
            level VARCHAR,               -- district | street | community | grid
            parent_id VARCHAR,
            area_km2 DOUBLE,
            geometry VARCHAR,            -- WKT, WGS-84
            batch_id INTEGER
        )
    """,
    "zones": """
        CREATE TABLE IF NOT EXISTS zones (
            zone_id VARCHAR NOT NULL,
            name VARCHAR,
            kind VARCHAR,                -- fringe | any other kind a city uses
            area_km2 DOUBLE,
            geometry VARCHAR,            -- WKT, WGS-84
            batch_id INTEGER
        )
    """,
    "boundary_issues": """
        CREATE TABLE IF NOT EXISTS boundary_issues (
            batch_id INTEGER,
            level VARCHAR,
            jurisdiction_id VARCHAR,
            other_id VARCHAR,
            issue VARCHAR,               -- spills_out_of_parent | overlaps_sibling | gap_in_parent | no_parent | parent_inferred | invalid_repaired
            area_km2 DOUBLE,
            detail VARCHAR
        )
    """,
}

MACROS = [
    # Parent of a fine H3 cell at resolution r (0-15): set the resolution bits, fill the
    # finer digits with 7. Bit layout per the H3 index specification (h3geo.org/docs/core-library/h3Indexing).
    """
    CREATE OR REPLACE MACRO h3_parent(cell, r) AS
        (((cell::UBIGINT & ~(15::UBIGINT << 52) & ~((1::UBIGINT << (3 * (15 - r))) - 1))
          | (r::UBIGINT << 52) | ((1::UBIGINT << (3 * (15 - r))) - 1))::UBIGINT)
    """,
    "CREATE OR REPLACE MACRO h3_hex(cell) AS lower(hex(cell::UBIGINT))",
    "CREATE OR REPLACE MACRO h3_resolution(cell) AS ((cell::UBIGINT >> 52) & 15)::INTEGER",
]

VIEWS = [
    """
    CREATE OR REPLACE VIEW records_h3 AS
    SELECT 'complaints' AS kind, complaint_id AS record_id, received_at AS at, category, cell,
           h3_hex(cell) AS h3_r12,
           h3_hex(h3_parent(cell, 11)) AS h3_r11, h3_hex(h3_parent(cell, 10)) AS h3_r10,
           h3_hex(h3_parent(cell, 9)) AS h3_r9, h3_hex(h3_parent(cell, 8)) AS h3_r8,
           h3_hex(h3_parent(cell, 7)) AS h3_r7, district, street, community, grid_id
    FROM complaints WHERE cell IS NOT NULL
    UNION ALL
    SELECT 'inspections', inspection_id, inspected_at, problem_category, cell,
           h3_hex(cell), h3_hex(h3_parent(cell, 11)), h3_hex(h3_parent(cell, 10)),
           h3_hex(h3_parent(cell, 9)), h3_hex(h3_parent(cell, 8)), h3_hex(h3_parent(cell, 7)),
           district, street, community, grid_id
    FROM inspections WHERE cell IS NOT NULL
    """,
    """
    CREATE OR REPLACE VIEW jurisdiction_conflicts AS
    SELECT 'complaints' AS kind, complaint_id AS record_id, name_conflict,
           src_district, district, src_street, street, src_community, community
    FROM complaints WHERE name_conflict IS NOT NULL
    UNION ALL
    SELECT 'inspection_points', point_id, name_conflict, src_district, district, src_street,
           street, src_community, community
    FROM inspection_points WHERE name_conflict IS NOT NULL
    """,
]


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every table, macro and view that does not exist yet."""
    for ddl in TABLES.values():
        conn.execute(ddl)
    for ddl in MACROS:
        conn.execute(ddl)
    for ddl in VIEWS:
        conn.execute(ddl)
    conn.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
        [SCHEMA_VERSION],
    )

"""City overview: record counts per district and per H3 cell (the first page of the app)."""

from __future__ import annotations

import duckdb
import pandas as pd

from grids.h3cells import ANALYSIS_RESOLUTIONS

OVERVIEW_COLUMNS = ["jurisdiction_id", "district", "area_km2", "complaints", "open_complaints",
                    "points", "inspections", "complaints_per_km2"]


def district_overview(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Counts per district, every loaded district listed (zeros included), plus a city row.

    Records are counted by their stored ``district`` (point-in-polygon, else the name they
    carry); records placed in no district appear in a row ``（未定位）`` so that the
    district rows always add up to the city row.

    Returns
    -------
    DataFrame
        Columns ``OVERVIEW_COLUMNS``; the last row has ``district = '全市'``.
    """
    df = conn.execute("""
        WITH d AS (
            SELECT jurisdiction_id, name AS district, area_km2 FROM jurisdictions
            WHERE level = 'district'
        ),
        c AS (
            SELECT coalesce(district, '（未定位）') AS district, count(*) AS complaints,
                   count(*) FILTER (WHERE status = 'open') AS open_complaints
            FROM complaints GROUP BY 1
        ),
        p AS (SELECT coalesce(district, '（未定位）') AS district, count(*) AS points
              FROM inspection_points GROUP BY 1),
        i AS (SELECT coalesce(district, '（未定位）') AS district, count(*) AS inspections
              FROM inspections GROUP BY 1),
        names AS (
            SELECT district FROM d UNION SELECT district FROM c
            UNION SELECT district FROM p UNION SELECT district FROM i
        )
        SELECT d.jurisdiction_id, n.district, d.area_km2,
               coalesce(c.complaints, 0) AS complaints,
               coalesce(c.open_complaints, 0) AS open_complaints,
               coalesce(p.points, 0) AS points, coalesce(i.inspections, 0) AS inspections
        FROM names n
        LEFT JOIN d USING (district) LEFT JOIN c USING (district)
        LEFT JOIN p USING (district) LEFT JOIN i USING (district)
        ORDER BY d.jurisdiction_id NULLS LAST, n.district
    """).df()
    total = {
        "jurisdiction_id": None, "district": "全市",
        "area_km2": df["area_km2"].sum() if df["area_km2"].notna().any() else None,
    }
    for col in ("complaints", "open_complaints", "points", "inspections"):
        df[col] = df[col].astype("int64")
        total[col] = int(df[col].sum())
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["complaints_per_km2"] = (df["complaints"] / df["area_km2"]).where(df["area_km2"] > 0)
    return df[OVERVIEW_COLUMNS]


def cell_counts(conn: duckdb.DuckDBPyConnection, res: int = 8, source: str = "complaints") -> pd.DataFrame:
    """Records per H3 cell at ``res`` (7-11), derived in SQL from each record's fine cell.

    Returns
    -------
    DataFrame
        Columns ``h3`` (hex), ``count``; cells without records are not listed.
    """
    if res not in ANALYSIS_RESOLUTIONS:
        raise ValueError(f"res must be one of {ANALYSIS_RESOLUTIONS}, got {res}")
    if source not in ("complaints", "inspections"):
        raise ValueError(f"source must be complaints or inspections, got {source!r}")
    return conn.execute(f"""
        SELECT h3_hex(h3_parent(cell, {int(res)})) AS h3, count(*) AS count
        FROM {source} WHERE cell IS NOT NULL GROUP BY 1 ORDER BY 1
    """).df()

"""The import history: every batch (``import_batches``) and the rows a batch did not load
(``rejected_rows``), newest first, as the import page and analysts read them."""

from __future__ import annotations

import duckdb
import pandas as pd

#: Columns of :func:`import_history`.
HISTORY_COLUMNS = ["batch_id", "kind", "file_name", "started_at", "finished_at", "rows_read",
                   "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected", "crs",
                   "encoding"]


def import_history(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every import batch, newest first: :data:`HISTORY_COLUMNS`."""
    return conn.execute(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM import_batches "
                        "ORDER BY batch_id DESC").df()


def batch_rejections(conn: duckdb.DuckDBPyConnection, batch_id: int) -> pd.DataFrame:
    """The rejected rows of one batch: row_number, field, reason, raw, by row."""
    return conn.execute("SELECT row_number, field, reason, raw FROM rejected_rows "
                        "WHERE batch_id = ? ORDER BY row_number", [int(batch_id)]).df()

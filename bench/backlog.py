"""Benchmark: backlog indicators at all four levels on 1,000,000 complaints, next to pandas.

    python bench/backlog.py [--rows 1000000] [--repeat 3]

Takes the demo city (built with ``python cli.py demo`` when missing), copies it, and grows
its complaints to ``--rows`` by repeating them under new ids (same places, times, statuses
and deadlines), plus the demo's inspection problems. Then, as of the end of the demo:

* **ours**: ``analytics.backlog.compute_backlog`` for district, street, community and grid
  and the city row (one DuckDB query with grouping sets; deadlines, previous period, score,
  grade and rank included);
* **pandas**: the straightforward way: read the same case columns into a DataFrame, then
  for each level a boolean column per indicator and a ``groupby().sum()``, plus medians;
  no previous period, no score (so it does less work than ours).

Both start from the database file. Times are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from bench.common import arguments, best, demo_db  # noqa: E402

T = dt.datetime(2026, 11, 23)
START = T - dt.timedelta(days=7)
LEVELS = (("district_id", "district"), ("street_id", "street"),
          ("community_id", "community"), ("grid_id", "grid"))



def grow(db: Path, rows: int) -> int:
    from store.database import write_transaction

    with write_transaction(db) as conn:
        n = conn.execute("SELECT count(*) FROM complaints").fetchall()[0][0]
        copies = -(-rows // n) - 1
        for k in range(1, copies + 1):
            conn.execute("INSERT INTO complaints SELECT * REPLACE "
                         f"(complaint_id || '-r{k}' AS complaint_id) FROM complaints "
                         f"WHERE NOT contains(complaint_id, '-r') LIMIT {min(n, rows - n * k)}")
        return conn.execute("SELECT count(*) FROM complaints").fetchall()[0][0]


def pandas_backlog(db: Path) -> dict[str, pd.DataFrame]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        loc = "district_id, street_id, community_id, grid_id"
        df = con.execute(
            "SELECT received_at AS recv, due_at AS due, closed_at AS closed, status, "
            f"coalesce(reworked, 0) AS reworked, {loc} FROM complaints UNION ALL "
            "SELECT inspected_at, rectify_due, rectified_at, CASE WHEN rectified_at IS NULL "
            f"THEN 'open' ELSE 'closed' END, 0, {loc} FROM inspections WHERE problems > 0").df()
    finally:
        con.close()
    t, s = pd.Timestamp(T), pd.Timestamp(START)
    nv = df.status != "void"
    is_open = (df.recv <= t) & nv & (df.closed.isna() & (df.status != "closed") | (df.closed > t))
    closed_in = (df.closed >= s) & (df.closed <= t) & nv
    due_in = (df.due >= s) & (df.due <= t) & nv
    filed = (df.recv >= s) & (df.recv <= t) & nv
    flags = pd.DataFrame({
        "open": is_open, "overdue": is_open & (df.due < t),
        "due_soon": is_open & (df.due >= t) & (df.due < t + pd.Timedelta(hours=24)),
        "backlog_30d": is_open & (df.recv < t - pd.Timedelta(days=30)),
        "filed": filed, "filed_closed": filed & ~is_open, "due_in_period": due_in,
        "closed_on_time": due_in & (df.closed <= df.due), "closed_in_period": closed_in,
        "reworked_closed": closed_in & (df.reworked > 0)})
    hours = ((df.closed - df.recv).dt.total_seconds() / 3600).where(closed_in)
    out = {}
    for key, name in LEVELS:
        g = flags.groupby(df[key], dropna=False)
        table = g.sum()
        table["median_hours_to_close"] = hours.groupby(df[key], dropna=False).median()
        table["closure_rate"] = table.filed_closed / table.filed
        table["on_time_rate"] = table.closed_on_time / table.due_in_period
        table["rework_rate"] = table.reworked_closed / table.closed_in_period
        out[name] = table
    return out


def main() -> int:
    p = arguments(__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    a = p.parse_args()

    from analytics.backlog import BacklogQuery, compute_backlog
    from store.database import read_connection

    src = demo_db(a.db)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.duckdb"
        shutil.copy(src, db)
        t0 = time.perf_counter()
        n = grow(db, a.rows)
        print(f"complaints: {n:,} (grown in {time.perf_counter() - t0:.1f} s); "
              f"as of {T:%Y-%m-%d %H:%M}, period from {START:%Y-%m-%d}; best of {a.repeat}")

        def ours():
            with read_connection(db) as conn:
                return compute_backlog(conn, BacklogQuery(T, START))

        t_ours, res = best(ours, a.repeat)
        t_pd, ref = best(lambda: pandas_backlog(db), a.repeat)
        rows = res.table
        for _, name in LEVELS:
            mine = rows[(rows.level == name) & rows.jurisdiction_id.notna()].set_index(
                "jurisdiction_id")
            theirs = ref[name].loc[ref[name].index.notna()]
            common = mine.index.intersection(theirs.index)
            for col in ("open", "overdue", "filed", "closed_on_time"):
                assert (mine.loc[common, col].to_numpy() == theirs.loc[common, col].to_numpy()).all(), \
                    (name, col)
        print(f"ours (4 levels + city, prev period, score)  {t_ours:6.3f} s")
        print(f"pandas (read + 4 groupbys)                  {t_pd:6.3f} s")
        print(f"ratio: ours is {t_pd / t_ours:.1f}x pandas' speed; counts agree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

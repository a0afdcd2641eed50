"""Soak the wall (/wall?refresh=1) for many refresh cycles: the Streamlit server's RSS, its
open DuckDB file handles and threads, printed at intervals. Not a test (no assertions).

A cycle is one run of the wall's fragment, counted by the run number the page writes
(``data-run``); every cycle reads the database afresh (one refresh slot per second), so
each one queries DuckDB, computes Gi* twice and the backlog twice, and builds the map.

    python bench/wall_soak.py [--db data/grid.duckdb] [--cycles 500] [--every 25]

Needs Debian's chromium and the playwright package (tests/browser.py). Runs on a copy of
the database, with GRID_TODAY pinned to the day of its newest complaint.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import psutil  # noqa: E402

from tests.browser import browser_available, browser_page, running_app, wait_ready  # noqa: E402


def _server(base: str) -> psutil.Process:
    port = int(base.rsplit(":", 1)[1])
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
            return psutil.Process(c.pid)
    raise RuntimeError("streamlit server process not found")


def _duckdb_files(proc: psutil.Process) -> int:
    return sum(1 for f in proc.open_files() if f.path.endswith((".duckdb", ".duckdb.wal")))


def _run(page) -> int:
    return int(page.eval_on_selector(".wall-title", "e => +e.dataset.run"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "data" / "grid.duckdb"))
    ap.add_argument("--cycles", type=int, default=500)
    ap.add_argument("--every", type=int, default=25)
    args = ap.parse_args()
    if browser_available():
        sys.exit(browser_available())
    tmp = Path(tempfile.mkdtemp(prefix="wall_soak_"))
    db = Path(shutil.copy(args.db, tmp / "grid.duckdb"))
    con = duckdb.connect(str(db), read_only=True)
    newest = con.execute("SELECT max(received_at) FROM complaints").fetchone()[0]
    con.close()
    today = str(newest.date()) if newest else "2026-11-23"
    with running_app(db, today=today) as base, browser_page() as (page, rec):
        server = _server(base)
        page.goto(f"{base}/wall?refresh=1")
        wait_ready(page, "城市网格化管理指挥大屏", "[data-testid='wall-tile']", idle=False)
        rss0 = server.memory_info().rss
        t0 = time.monotonic()
        run0 = _run(page)
        print(f"{'cycle':>6} {'seconds':>8} {'RSS MB':>8} {'growth MB':>10} {'duckdb files':>13}"
              f" {'threads':>8}")
        for cycle in range(0, args.cycles + 1, args.every):
            page.wait_for_function(f"() => {{ const e = document.querySelector('.wall-title');"
                                   f" return e && +e.dataset.run >= {run0 + cycle}; }}",
                                   timeout=600_000)
            rss = server.memory_info().rss
            print(f"{cycle:>6} {time.monotonic() - t0:>8.0f} {rss / 2**20:>8.0f} "
                  f"{(rss - rss0) / 2**20:>10.1f} {_duckdb_files(server):>13} "
                  f"{server.num_threads():>8}", flush=True)
        errors = page.locator("[data-testid='stException'], [data-testid='stAlert']").count()
        print("error boxes on screen:", errors)
        print("requests leaving 127.0.0.1:", len(rec.outside()), "dialogs:", len(rec.dialogs))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

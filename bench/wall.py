"""Benchmark: one refresh of the wall (/wall) on the whole demo city, server side.

    python bench/wall.py [--db data/grid.duckdb] [--repeat 3]

Times ``analytics.wall.wall_numbers`` (two Gi* runs, two backlog runs, the overdue cases,
the counts) for the city and for one district, and the map page built from it, as of the
end of the demo's last day. The first run is cold (the study area is cached per process).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import arguments, best, demo_db  # noqa: E402


def main() -> int:
    p = arguments(__doc__)
    p.add_argument("--interval", type=float, default=60.0, help="the wall's ?refresh= seconds")
    a = p.parse_args()
    db = demo_db(a.db)

    from analytics.wall import wall_numbers
    from config.settings import Settings
    from store.database import read_connection
    from views.wall import _map_page

    settings = Settings()
    with read_connection(db) as conn:
        newest = conn.execute("SELECT max(received_at) FROM complaints").fetchone()[0]
        now = dt.datetime.combine(newest.date() + dt.timedelta(days=1), dt.time())
        outlines = conn.execute("SELECT jurisdiction_id, name, geometry FROM jurisdictions "
                                "WHERE level = 'district' ORDER BY jurisdiction_id").df()
        fringe = conn.execute("SELECT zone_id, name, geometry FROM zones "
                              "WHERE kind = 'fringe' ORDER BY zone_id").df()
        print(f"demo city as of {now:%Y-%m-%d %H:%M}; best of {a.repeat}")
        for district in (None, "青秀区"):
            t = time.perf_counter()
            wall_numbers(conn, now, district, settings)
            cold = time.perf_counter() - t
            warm, n = best(lambda d=district: wall_numbers(conn, now, d, settings), a.repeat)
            t_map, page = best(lambda n=n: _map_page(n, outlines, fringe, settings, "zh"),
                               a.repeat)
            print(f"{district or 'city':<8} wall_numbers cold {cold:6.3f} s, warm {warm:6.3f} s;"
                  f" map page {t_map:6.3f} s, {len(page.encode()) / 2**20:.2f} MB;"
                  f" one refresh {warm + t_map:6.3f} s")
            print(f"  ratio: a refresh takes {(warm + t_map) / a.interval:.1%} of the "
                  f"{a.interval:.0f} s refresh interval (the baseline: the screen's own clock)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: Gi* over the whole demo city at resolutions 9 and 10, ours next to esda.

    python bench/hotspots.py [--db data/grid.duckdb] [--res 9 10] [--repeat 3]

Uses the demo city's database (built with ``python cli.py demo`` when it is missing) and
the complaints of its 26 weeks. For each resolution, from the same cells and counts:

* **ours, core**: neighbour build (``grids.h3cells.grid_disk_pairs`` from the cells alone,
  centres included) + Gi* z + p-values + Benjamini–Hochberg bins (``analytics.gistar``);
* **esda**: rings from ``h3.grid_disk`` for every cell (the same rings), libpysal ``W`` from
  them, ``esda.G_Local(star=True, transform='B', permutations=0)``: z and p only, no FDR;
* **ours, end to end**: ``analytics.hotspots.compute_hotspots`` from the database (SQL
  counts, study area, names, fringe, output frame), first with the study-area cache empty
  (cold) and then warm, as the app sees it on its second query;
* at resolution 9 also the emerging hot spots of the last 12 weeks (space-time Gi*,
  Mann–Kendall, categories) from the database, warm.

The z-scores of both are compared (max absolute difference printed). Times are the best of
``--repeat`` runs.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.common import arguments, best, demo_db  # noqa: E402


def main() -> int:
    p = arguments(__doc__)
    p.add_argument("--res", type=int, nargs="+", default=[9, 10])
    a = p.parse_args()

    import h3
    from esda.getisord import G_Local
    from libpysal.weights import W

    from analytics import studyarea
    from analytics.gistar import gi_star
    from analytics.hotspots import HotspotQuery, compute_hotspots
    from grids import h3cells
    from store.database import read_connection

    db = demo_db(a.db)

    start, end = dt.date(2026, 5, 25), dt.date(2026, 11, 22)
    with read_connection(db) as conn:
        n_rec = conn.execute("SELECT count(*) FROM complaints WHERE received_at >= ? AND "
                             "received_at < ?", [start, end + dt.timedelta(days=1)]).fetchall()
    print(f"demo city: {n_rec[0][0]:,} complaints, {start} – {end}; best of {a.repeat}")
    for res in a.res:
        q = HotspotQuery(start, end, res=res)
        with read_connection(db) as conn:
            studyarea.clear_cache()
            t = time.perf_counter()
            result = compute_hotspots(conn, q)
            cold = time.perf_counter() - t
            warm, _ = best(lambda conn=conn, q=q: compute_hotspots(conn, q), a.repeat)
        cells = h3cells.hex_to_cells(result.cells.h3)
        x = result.cells["count"].to_numpy(dtype=float)

        def ours(cells=cells, x=x):
            i, j = h3cells.grid_disk_pairs(cells, 1)
            import scipy.sparse as sp
            w = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(len(cells), len(cells)))
            return gi_star(x, w)

        t_ours, g_ours = best(ours, a.repeat)

        hexes = list(result.cells.h3)

        def esda_run(hexes=hexes, x=x):
            members = set(hexes)
            nb = {c: [d for d in h3.grid_disk(c, 1) if d in members and d != c] for c in hexes}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w = W(nb, id_order=hexes, silence_warnings=True)
                return G_Local(x, w, transform="B", star=True, permutations=0)

        t_esda, g_esda = best(esda_run, min(a.repeat, 2) if res >= 10 else a.repeat)
        diff = float(np.max(np.abs(g_ours.z - g_esda.Zs)))
        print(f"\nres {res}: {len(cells):,} cells, {int(x.sum()):,} records, "
              f"{int((g_ours.gi_bin >= 2).sum())} cells gi_bin >= 2")
        print(f"  ours core (neighbours + Gi* + FDR)  {t_ours:7.3f} s")
        print(f"  esda (rings + W + G_Local)          {t_esda:7.3f} s")
        print(f"  ratio: ours is {t_esda / t_ours:.1f}x esda's speed; max |z diff| {diff:.1e}")
        print(f"  ours end to end from the database   {cold:7.3f} s cold, {warm:.3f} s warm")
        if res == 9:
            from analytics.emerging import EmergingQuery, compute_emerging

            with read_connection(db) as conn:
                t_em, em = best(lambda conn=conn: compute_emerging(
                    conn, EmergingQuery(end, weeks=12, res=9)), a.repeat)
            print(f"  emerging hot spots, 12 weeks        {t_em:7.3f} s "
                  f"({len(em.rows())} cells with a pattern)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

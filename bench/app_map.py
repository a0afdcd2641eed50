"""Benchmark: the situation map's server-side build on the whole demo city.

    python bench/app_map.py [--db data/grid.duckdb] [--res 9 10] [--mode count] [--repeat 3]

Uses the demo city's database (built with ``python cli.py demo`` when it is missing). For
each resolution and two periods (the page's default, the last 4 ISO weeks, and all 26
weeks), with the layers the page draws by default (cells in ``--mode``, count by default;
district and street outlines, the fringe; no points):

* **layer data**: ``analytics.celldetail.cell_layer`` through the cell budget
  (``ui.webmap.fit_cells``, MAX_CELLS) from the database, study-area cache warm (the page
  caches these frames; this is what a new filter costs);
* **folium map**: ``ui.webmap.build_map`` from those frames (GeoJSON of the cells,
  outlines, styles, legend);
* **HTML**: ``m.get_root().render()``, the whole page the map becomes.

Printed: the best of ``--repeat`` runs of each step and of the sum, the HTML size in MB,
the cells drawn and whether the budget left out empty cells or switched resolution. The
aim: resolution 9 in at most 1.5 s and 6 MB.
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
    p.add_argument("--res", type=int, nargs="+", default=[9, 10])
    p.add_argument("--mode", default="count", choices=["count", "density", "gi_bin", "emerging"])
    a = p.parse_args()

    from analytics import studyarea
    from analytics.celldetail import busy_cells, cell_layer
    from analytics.hotspots import HotspotQuery
    from analytics.lookups import jurisdiction_shapes, zone_shapes
    from store.database import read_connection
    from ui import webmap

    db = demo_db(a.db)

    end = dt.date(2026, 11, 22)
    periods = [("last 4 weeks (page default)", end - dt.timedelta(days=27)),
               ("all 26 weeks", end - dt.timedelta(weeks=26) + dt.timedelta(days=1))]
    with read_connection(db) as conn:
        n = conn.execute("SELECT count(*) FROM complaints").fetchall()[0][0]
        districts = jurisdiction_shapes(conn, "district")
        streets = jurisdiction_shapes(conn, "street")
        fringe = zone_shapes(conn, "fringe")
    print(f"demo city: {n:,} complaints; {a.mode} layer; MAX_CELLS {webmap.MAX_CELLS:,}; "
          f"best of {a.repeat}")
    with read_connection(db) as conn:
        for res in a.res:
            for label, start in periods:
                def layer(start=start, res=res):
                    return webmap.fit_cells(
                        lambda r: cell_layer(conn, HotspotQuery(start, end, res=r), a.mode).cells, res,
                        busy_at=lambda r: busy_cells(conn, HotspotQuery(start, end, res=r)))

                def build(fit):
                    return webmap.build_map(fit.cells, a.mode, districts=districts,
                                            streets=streets, fringe=fringe, res=fit.res)[0]

                def whole(layer=layer, build=build):
                    return build(layer()).get_root().render()

                studyarea.clear_cache()
                t = time.perf_counter()
                layer()
                cold = time.perf_counter() - t
                t_layer, fit = best(layer, a.repeat)
                t_build, m = best(lambda fit=fit, build=build: build(fit), a.repeat)
                t_both, html = best(lambda fit=fit, build=build: build(fit).get_root().render(),
                                    a.repeat)
                t_html = max(t_both - t_build, 0.0)   # a fresh map each time
                t_all, _ = best(whole, a.repeat)
                switch = (f"switched to res {fit.res}" if fit.coarsened else
                          "empty cells left out" if fit.dropped_empty else "no")
                print(f"\nres {res}, {label} ({start} – {end}): {len(fit.cells):,} cells "
                      f"drawn at res {fit.res} of {fit.total:,}; budget: {switch}")
                print(f"  layer data (warm study area)   {t_layer:7.3f} s   (cold {cold:.3f} s)")
                print(f"  folium map                     {t_build:7.3f} s")
                print(f"  render to HTML                 {t_html:7.3f} s")
                print(f"  whole build                    {t_all:7.3f} s   "
                      f"HTML {len(html) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

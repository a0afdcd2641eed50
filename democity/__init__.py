"""The demo city: Nanning's seven real districts with generated streets, communities,
unit grids, inspection points, weekly inspections and hotline complaints, plus the
truth that was planted in them (hotspots and backlog streets).

Entry points
------------
`democity.build.write_demo_files`
    Write the raw files (GeoJSON in GCJ-02, an Excel ledger, a GBK CSV, truth.json).
`democity.build.build_demo`
    Delete the database, write the files and load them the way a user would.
``python -m democity.check_truth data/demo``
    Check with an independent Gi* that the planted hotspots are found.

Modules: `population` (local frame, core, fringe band, density), `jurisdictions`
(nested Voronoi tessellations), `truth` (hotspots, truth.json), `records` (complaints),
`inspections` (points and visits), `xlsx` (deterministic workbook writer), `names`
(word pools).
"""

from democity.build import build_demo, write_demo_files

__all__ = ["build_demo", "write_demo_files"]

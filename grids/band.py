"""The fringe band: a strip of a given width on the ground outside a core, within districts.

Pure geometry (no files, no database): ``ingest.zones.derive_fringe`` reads the core
file and the loaded districts and stores what ``fringe_band`` returns.
"""

from __future__ import annotations

import numpy as np
import shapely

from grids.areas import to_local_metres, transform_with

#: Segments per quarter circle when buffering the core (rounded corners of the band).
BUFFER_QUAD_SEGS = 16


def fringe_band(core, districts, width_km: float):
    """The fringe geometry: ``core`` buffered by ``width_km``, minus the core, within ``districts``.

    Parameters
    ----------
    core, districts : shapely geometry
        WGS-84 (unions of the core polygons and of the districts).
    width_km : float
        Band width on the ground.

    Returns
    -------
    shapely geometry
        WGS-84 (Multi)Polygon, possibly empty.

    Notes
    -----
    The buffer is drawn in metres in an azimuthal-equidistant projection centred on the
    core (``grids.areas.local_aeqd``), so the band has its true width in every direction.
    """
    c = core.centroid
    (core_m, dist_m), back = to_local_metres(np.array([core, districts], dtype=object), c.x, c.y)
    band = shapely.difference(shapely.buffer(core_m, width_km * 1000.0,
                                             quad_segs=BUFFER_QUAD_SEGS), core_m)
    band = shapely.intersection(band, dist_m)
    band = transform_with(band, back)
    polys = [g for g in shapely.get_parts(band) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()

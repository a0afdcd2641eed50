"""Where people live and complain in the demo city: a local metric frame, the built-up
core, the fringe band, and a smooth "population" density to draw places from.

All geometry here is WGS-84 longitude/latitude; distances are worked out in a local
equirectangular frame in kilometres (`to_km` / `from_km`), which at Nanning's size
(about 110 x 150 km) is accurate to well under 1 %. The density is a mixture of

- an anisotropic Gaussian over the urban centre (Nanning spreads east-west along the
  Yong river),
- smaller Gaussians over town centres,
- a uniform floor over all seven districts (villages everywhere),

each with its own weight, so that jurisdictions, inspection points and complaints can be
drawn from the same city with different degrees of concentration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

#: Centre of the local frame and of central Nanning (WGS-84), near 朝阳广场 on the Yong river.
CITY_CENTRE = (108.335, 22.815)
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * np.cos(np.radians(CITY_CENTRE[1]))
#: Built-up core: semi-axes (km) of the irregular ellipse it is drawn around.
CORE_AXES_KM = (13.0, 8.0)
#: Width of the urban-rural fringe band outside the core (km).
FRINGE_WIDTH_KM = 3.0


def to_km(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees to local kilometres east and north of `CITY_CENTRE`."""
    return ((np.asarray(lon, dtype=float) - CITY_CENTRE[0]) * KM_PER_DEG_LON,
            (np.asarray(lat, dtype=float) - CITY_CENTRE[1]) * KM_PER_DEG_LAT)


def from_km(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of `to_km`."""
    return (np.asarray(x, dtype=float) / KM_PER_DEG_LON + CITY_CENTRE[0],
            np.asarray(y, dtype=float) / KM_PER_DEG_LAT + CITY_CENTRE[1])


def geom_to_km(geom):
    """A WGS-84 geometry in local kilometres."""
    return shapely.transform(geom, lambda c: np.column_stack(to_km(c[:, 0], c[:, 1])))


def geom_from_km(geom):
    """A local-kilometre geometry back in WGS-84 degrees."""
    return shapely.transform(geom, lambda c: np.column_stack(from_km(c[:, 0], c[:, 1])))


def make_core(rng: np.random.Generator, city_km) -> shapely.Geometry:
    """The built-up core (local km): an ellipse around the centre with a wavy edge.

    Three low harmonics with seeded phases bend the edge by up to about a quarter of the
    radius, so the core looks drawn rather than geometric. Clipped to the city.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, 181)[:-1]
    a, b = CORE_AXES_KM
    r = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
    amp = np.array([0.10, 0.07, 0.05])
    phase = rng.uniform(0.0, 2.0 * np.pi, 3)
    wobble = sum(amp[k] * np.sin((k + 2) * theta + phase[k]) for k in range(3))
    r = r * (1.0 + wobble)
    core = shapely.Polygon(np.column_stack([r * np.cos(theta) + 0.6, r * np.sin(theta)]))
    core = shapely.intersection(core, city_km)
    parts = [p for p in shapely.get_parts(core) if p.geom_type == "Polygon"]
    return max(parts, key=lambda p: p.area)


def fringe_band(core_km, city_km, width_km: float = FRINGE_WIDTH_KM):
    """Band of ``width_km`` outside the core, inside the city (local km)."""
    ring = shapely.difference(shapely.buffer(core_km, width_km, quad_segs=16), core_km)
    return shapely.intersection(ring, city_km)


@dataclass
class Population:
    """A mixture density over the city, in local km.

    Parameters
    ----------
    city_km : shapely geometry
        Union of the districts (local km); every draw lands inside it.
    urban_sigma_km : (float, float)
        East-west and north-south standard deviations of the urban Gaussian.
    towns : (k, 2) array
        Town centres (local km).
    town_sigma_km : float
        Standard deviation of each town's Gaussian.
    """

    city_km: shapely.Geometry
    urban_centre_km: tuple[float, float] = (0.6, 0.0)
    urban_sigma_km: tuple[float, float] = (9.0, 6.0)
    towns: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    town_sigma_km: float = 2.0

    def __post_init__(self) -> None:
        shapely.prepare(self.city_km)
        self.bounds = shapely.bounds(self.city_km)

    def sample(self, rng: np.random.Generator, n: int,
               weights: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points (local km) from the mixture (urban, towns, floor) with ``weights``.

        Points outside the city are redrawn from the same component until all are in.
        """
        w = np.asarray(weights, dtype=float)
        if len(self.towns) == 0:
            w[1] = 0.0
        w = w / w.sum()
        comp = rng.choice(3, size=n, p=w)
        x = np.empty(n)
        y = np.empty(n)
        todo = np.arange(n)
        while len(todo):
            c = comp[todo]
            xs, ys = self._draw(rng, c)
            ok = shapely.contains_xy(self.city_km, xs, ys)
            x[todo[ok]] = xs[ok]
            y[todo[ok]] = ys[ok]
            todo = todo[~ok]
        return x, y

    def _draw(self, rng: np.random.Generator, comp: np.ndarray):
        n = len(comp)
        gx, gy = rng.standard_normal(n), rng.standard_normal(n)
        ux, uy = rng.uniform(size=n), rng.uniform(size=n)
        x0, y0, x1, y1 = self.bounds
        x = np.where(comp == 0, self.urban_centre_km[0] + gx * self.urban_sigma_km[0],
                     x0 + ux * (x1 - x0))
        y = np.where(comp == 0, self.urban_centre_km[1] + gy * self.urban_sigma_km[1],
                     y0 + uy * (y1 - y0))
        if len(self.towns):
            t = rng.integers(0, len(self.towns), size=n)
            is_town = comp == 1
            x = np.where(is_town, self.towns[t, 0] + gx * self.town_sigma_km, x)
            y = np.where(is_town, self.towns[t, 1] + gy * self.town_sigma_km, y)
        return x, y

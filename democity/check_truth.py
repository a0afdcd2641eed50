"""Independent check that the planted hotspots of a demo folder are found by Gi*.

Run ``python -m democity.check_truth data/demo``. It reads the raw files the generator
wrote (not the database), so it checks the files a user would load:

1. Study area: H3 resolution-9 cells whose centre lies in the union of the streets
   (which tile the seven districts), plus any cell holding a located complaint.
2. Getis-Ord Gi* (Ord & Getis 1995) with binary weights, k = 1 ring, self included:
   z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1))), S the
   population standard deviation, two-sided normal p, Benjamini-Hochberg over all
   cells; hot = significant at 0.05 with z > 0 (gi_bin >= 2).
3. For the whole period and for the last 4 weeks: the share of planted cells
   (``cells_res9`` of the hotspots active in the window) that are hot, and the share
   of hot cells outside every planted area.
4. Space-time Gi* over weekly counts (k = 1 ring, weeks t-1..t), BH over all bins,
   hot = gi_bin >= 1 (0.10), Mann-Kendall on each cell's z series; for each planted
   cell: share of hot weeks, trend, and the emerging category (docs/hotspots.md).

This module deliberately shares no code with ``analytics/``: it is the yardstick.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.special import ndtr

from grids.crs import gcj02_to_wgs84, transform_geometry

RES = 9
ALPHA_HOT = 0.05


def study_cells(union_wgs, extra: np.ndarray) -> np.ndarray:
    """Res-9 cells with centre in ``union_wgs`` plus the cells in ``extra`` (uint64)."""
    found: list[int] = []
    for part in shapely.get_parts(union_wgs):
        outer = [(y, x) for x, y in part.exterior.coords]
        holes = [[(y, x) for x, y in r.coords] for r in part.interiors]
        found.extend(h3i.polygon_to_cells(h3i.LatLngPoly(outer, *holes), RES))
    return np.union1d(np.array(found, dtype=np.uint64), extra.astype(np.uint64))


def ring_weights(cells: np.ndarray, k: int = 1) -> sp.csr_matrix:
    """Binary weights w_ij = 1 when grid distance <= k (self included), both in ``cells``."""
    cells = np.asarray(cells, dtype=np.uint64)
    rows, cols = [], []
    for i, c in enumerate(cells.tolist()):
        disk = np.fromiter(h3i.grid_disk(c, k), dtype=np.uint64)
        pos = np.searchsorted(cells, disk)
        pos[pos >= len(cells)] = 0
        hit = cells[pos] == disk
        rows.append(np.full(int(hit.sum()), i))
        cols.append(pos[hit])
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(cells), len(cells)))


def bh_significant(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg step-up: True where p is significant at FDR ``alpha``."""
    flat = p.ravel()
    m = len(flat)
    order = np.argsort(flat, kind="stable")
    ok = flat[order] <= alpha * np.arange(1, m + 1) / m
    out = np.zeros(m, dtype=bool)
    if ok.any():
        out[order[: np.nonzero(ok)[0].max() + 1]] = True
    return out.reshape(p.shape)


def gi_star(x: np.ndarray, w: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values for counts ``x`` over the cells of ``w``."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    wi = np.asarray(w.sum(axis=1)).ravel()
    s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    xbar, s = x.mean(), x.std()
    z = (w @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))
    return z, 2.0 * ndtr(-np.abs(z))


def hot_cells(x: np.ndarray, w: sp.csr_matrix, alpha: float = ALPHA_HOT) -> np.ndarray:
    z, p = gi_star(x, w)
    return bh_significant(p, alpha) & (z > 0)


def space_time_z(x: np.ndarray, w: sp.csr_matrix) -> np.ndarray:
    """Space-time Gi* z for a (cells, weeks) count cube; neighbours k rings, weeks t-1..t."""
    n, t = x.shape
    lag_s = np.asarray(w @ x)
    lag = lag_s.copy()
    lag[:, 1:] += lag_s[:, :-1]
    wi_s = np.asarray(w.sum(axis=1)).ravel()
    wi = np.repeat(wi_s[:, None], t, axis=1)
    wi[:, 1:] *= 2
    s1 = wi  # binary weights
    big_n = n * t
    xbar, s = x.mean(), x.std()
    return (lag - xbar * wi) / (s * np.sqrt((big_n * s1 - wi ** 2) / (big_n - 1)))


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall tau and two-sided p for each row of ``series`` (no tie correction)."""
    m, t = series.shape
    s = np.zeros(m)
    for i in range(t - 1):
        s += np.sign(series[:, i + 1:] - series[:, i:i + 1]).sum(axis=1)
    var = t * (t - 1) * (2 * t + 5) / 18.0
    zs = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    return s / (t * (t - 1) / 2), 2.0 * ndtr(-np.abs(zs))


def emerging_category(hot: np.ndarray, cold: np.ndarray, tau: np.ndarray,
                      mk_p: np.ndarray) -> np.ndarray:
    """Emerging hot-spot categories (docs/hotspots.md) for rows of weekly hot/cold flags."""
    t = hot.shape[1]
    n_hot = hot.sum(axis=1)
    final = hot[:, -1]
    most = n_hot >= 0.9 * t
    trend_up = (mk_p < 0.05) & (tau > 0)
    trend_down = (mk_p < 0.05) & (tau < 0)
    # one run of hot weeks ending at the final week
    run = np.zeros(len(hot), dtype=int)
    alive = np.ones(len(hot), dtype=bool)
    for j in range(t - 1, -1, -1):
        alive &= hot[:, j]
        run += alive
    out = np.full(len(hot), "no_pattern", dtype=object)
    rules = [
        ("sporadic_hotspot", (n_hot > 0) & ~most & ~cold.any(axis=1)),
        ("oscillating_hotspot", final & ~most & cold[:, :-1].any(axis=1)),
        ("historical_hotspot", most & ~final),
        ("diminishing_hotspot", most & final & trend_down),
        ("persistent_hotspot", most & final & ~trend_up & ~trend_down),
        ("intensifying_hotspot", most & final & trend_up),
        ("consecutive_hotspot", final & (run == n_hot) & (run >= 2) & ~most),
        ("new_hotspot", final & (n_hot == 1)),
    ]
    for name, mask in rules:  # later rules take precedence
        out[mask] = name
    return out


def _read_complaints(folder: Path) -> pd.DataFrame:
    df = pd.read_csv(folder / "complaints.csv", encoding="gbk", dtype=str, keep_default_na=False)
    t = pd.to_datetime(df["受理时间"], format="%Y/%m/%d %H:%M", errors="coerce")
    lon = pd.to_numeric(df["经度"], errors="coerce").to_numpy()
    lat = pd.to_numeric(df["纬度"], errors="coerce").to_numpy()
    ok = t.notna().to_numpy() & np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
    wlon, wlat = gcj02_to_wgs84(lon[ok], lat[ok])
    return pd.DataFrame({"t": t[ok].to_numpy(), "lon": wlon, "lat": wlat})


def _union_wgs(folder: Path):
    data = json.loads((folder / "streets.geojson").read_text(encoding="utf-8"))
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in data["features"]], dtype=object)
    return shapely.union_all(transform_geometry(geoms, "gcj02", "wgs84"))


def check(folder: str | Path) -> dict:
    """All the figures of the module docstring, as a dict."""
    folder = Path(folder)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    union = _union_wgs(folder)
    shapely.prepare(union)
    rec = _read_complaints(folder)
    inside = shapely.contains_xy(union, rec["lon"].to_numpy(), rec["lat"].to_numpy())
    rec = rec[inside]
    rec_cells = np.fromiter(map(h3i.latlng_to_cell, rec["lat"], rec["lon"], [RES] * len(rec)),
                            dtype=np.uint64, count=len(rec))
    cells = study_cells(union, np.unique(rec_cells))
    w = ring_weights(cells)
    idx = np.searchsorted(cells, rec_cells)
    end = pd.Timestamp(truth["parameters"]["end"])
    n_weeks = int(truth["parameters"]["weeks"])
    week0 = end.normalize() - pd.Timedelta(days=end.day_of_week) - pd.Timedelta(weeks=n_weeks - 1)
    week = ((rec["t"] - week0).dt.days // 7).to_numpy()
    cube = np.zeros((len(cells), n_weeks))
    np.add.at(cube, (idx, week), 1.0)
    spots = truth["hotspots"]
    cell_sets = {h["id"]: np.searchsorted(cells, np.array([int(c, 16) for c in h["cells_res9"]],
                                                          dtype=np.uint64)) for h in spots}
    out: dict = {"study_cells": int(len(cells)), "located_complaints": int(len(rec)),
                 "windows": {}, "emerging": {}}
    for label, first in (("all_weeks", 0), ("last_4_weeks", n_weeks - 4)):
        z, p = gi_star(cube[:, first:].sum(axis=1), w)
        hot = bh_significant(p, ALPHA_HOT) & (z > 0)
        active = [h for h in spots if h["end_week"] >= first + 1]
        planted = np.zeros(len(cells), dtype=bool)
        every = np.zeros(len(cells), dtype=bool)
        for h in spots:
            every[cell_sets[h["id"]]] = True
        for h in active:
            planted[cell_sets[h["id"]]] = True
        out["windows"][label] = {
            "hot_cells": int(hot.sum()),
            "planted_cells": int(planted.sum()),
            "planted_hot_share": round(float(hot[planted].mean()), 4),
            "hot_outside_planted_share": round(float((hot & ~every).sum() / max(hot.sum(), 1)), 4),
            "min_z_planted": round(float(z[planted].min()), 2),
            "max_z_outside_planted": round(float(z[~every].max()), 2),
            "per_hotspot": {h["id"]: round(float(hot[cell_sets[h["id"]]].mean()), 3)
                            for h in active},
        }
    for label, span in (("12_weeks", 12), (f"{n_weeks}_weeks", n_weeks)):
        if span > n_weeks:
            continue
        sub = cube[:, n_weeks - span:]
        z = space_time_z(sub, w)
        p = 2.0 * ndtr(-np.abs(z))
        hot = bh_significant(p, 0.10) & (z > 0)
        cold = bh_significant(p, 0.10) & (z < 0)
        res = {"hot_bins_outside_planted": 0, "per_kind": {}}
        every = np.zeros(len(cells), dtype=bool)
        for h in spots:
            every[cell_sets[h["id"]]] = True
        res["hot_bins_outside_planted"] = int(hot[~every].sum())
        res["hot_bins"] = int(hot.sum())
        for kind in ("persistent", "intensifying", "new"):
            sel = np.unique(np.concatenate([cell_sets[h["id"]] for h in spots if h["kind"] == kind]
                                           or [np.zeros(0, dtype=np.int64)]))
            if not len(sel):
                continue
            tau, mk_p = mann_kendall(z[sel])
            cat = emerging_category(hot[sel], cold[sel], tau, mk_p)
            res["per_kind"][kind] = {
                "cells": int(len(sel)),
                "mean_hot_week_share": round(float(hot[sel].mean()), 4),
                "hot_in_90pct_of_weeks": round(float((hot[sel].mean(axis=1) >= 0.9).mean()), 4),
                "significant_upward_trend": round(float(((mk_p < 0.05) & (tau > 0)).mean()), 4),
                "hot_only_in_final_week": round(float((hot[sel, -1] & (hot[sel].sum(axis=1) == 1))
                                                      .mean()), 4),
                "categories": {str(k): int(v) for k, v in
                               zip(*np.unique(cat.astype(str), return_counts=True), strict=True)},
            }
        out["emerging"][label] = res
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path("data/demo")
    if not (folder / "truth.json").exists():
        print(f"{folder}: no truth.json here; run the demo generator first", file=sys.stderr)
        return 2
    print(json.dumps(check(folder), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

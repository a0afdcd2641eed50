"""Build the demo city: write its raw files, then load them like a user would.

`write_demo_files` writes, into one folder, the files a Chinese city has lying around
(GeoJSON jurisdictions in GCJ-02, an Excel inspection ledger with a title row, a GBK
hotline export) plus ``truth.json`` with what was planted. `build_demo` deletes the old
database and loads those files through the same functions the commands
``load-boundaries``, ``derive-fringe`` and ``ingest`` call.

Same seed and arguments, same bytes: all randomness comes from one
``numpy.random.default_rng(seed)`` and no file records the wall-clock time. The one
exception is the default end: without ``end`` the demo ends today, at the current minute
of the city's local time (`store.clock.local_now`), and that moment is the only thing
that reads the clock.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from democity import inspections as insp
from democity import jurisdictions as jur
from democity import names as nm
from democity import population as popmod
from democity import records as rec
from democity import truth as tr
from democity import xlsx
from grids.crs import transform_geometry, wgs84_to_gcj02

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS_FILE = ROOT / "data" / "nanning" / "nanning_districts_gcj02.geojson"
GCJ_NOTE = "GCJ-02 (Amap) longitude/latitude"
LEVEL_FILES = (("street", "streets.geojson"), ("community", "communities.geojson"),
               ("grid", "grids.geojson"))
LEDGER_TITLE = "南宁市文明城市创建常态化督查台账（{year}年）"
LEDGER_SHEET = "督查台账"


def _check_args(end: dt.date, weeks: int, complaints: int) -> None:
    if not isinstance(end, dt.date) or isinstance(end, dt.datetime):
        raise ValueError(f"--end {end!r}: expected a date such as 2026-11-22")
    if int(weeks) < 4:
        raise ValueError(f"--weeks {weeks}: expected at least 4 weeks")
    if int(complaints) < 1000:
        raise ValueError(f"--complaints {complaints}: expected at least 1000")


def _gcj(geoms_wgs: np.ndarray) -> np.ndarray:
    return np.asarray(transform_geometry(np.asarray(geoms_wgs, dtype=object), "wgs84", "gcj02"),
                      dtype=object)


def _zone_of(core_km, band_km, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    zone = np.full(len(x), 2, dtype=np.int64)
    zone[shapely.contains_xy(band_km, x, y)] = 1
    zone[shapely.contains_xy(core_km, x, y)] = 0
    return zone


def _name_hotspots(rng: np.random.Generator, spots: list, locator: jur.Locator,
                   roads: np.ndarray) -> None:
    """District, street, label and address of each hotspot."""
    d, s, c, _g = locator.levels
    stems_v = np.array(nm.village_stems(), dtype=object)
    for h in spots:
        x, y = popmod.to_km(h.lon, h.lat)
        gi = locator.grid_index(np.array([x]), np.array([y]))
        ci, si, di = (int(v[0]) for v in locator.chain(gi))
        h.district = str(d.frame["name"].iloc[di])
        h.street = str(s.frame["name"].iloc[si])
        community = str(c.frame["name"].iloc[ci])
        stem = community[:-2] if community.endswith("社区") else community[:-1]
        if h.theme in ("dump", "shacks") and not community.endswith("村"):
            stem = str(stems_v[int(rng.integers(len(stems_v)))])
        road = str(roads[si, int(rng.integers(roads.shape[1]))])
        form = tr.THEMES[h.theme][0]
        h.label = form.replace("{road}", road).replace("{stem}", stem)
        if h.theme in ("dump", "shacks"):
            h.address = f"南宁市{h.district}{h.street}{h.label}"
        else:
            h.address = f"南宁市{h.district}{road}{int(rng.integers(1, 300))}号"


def _points_geojson(frame: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> str:
    glon, glat = wgs84_to_gcj02(lon, lat)
    geoms = shapely.points(np.round(glon, 6), np.round(glat, 6))
    props = frame.rename(columns={"point_id": "点位编号", "name": "点位名称",
                                  "point_type": "点位类型", "district": "所属区县",
                                  "street": "所属街道"})
    cols = ["点位编号", "点位名称", "点位类型", "所属区县", "所属街道"]
    return jur.feature_collection("inspection_points", props, geoms, cols, GCJ_NOTE)


def resolve_end(end: dt.date | None, now: dt.datetime | None) -> tuple[dt.date, dt.datetime | None]:
    """(end day, wall-clock now) of a demo build.

    ``end`` None: the demo ends today, ``now`` (default `store.clock.local_now`, the
    city's local time). ``end`` given and ``now`` None: the end day's 23:59, no clock
    read. An aware ``now`` is converted to the city's time zone.
    """
    if now is not None:
        if not isinstance(now, dt.datetime):
            raise ValueError(f"now {now!r}: expected a datetime")
        if now.tzinfo is not None:
            from zoneinfo import ZoneInfo

            from ingest.values import LOCAL_TZ

            now = now.astimezone(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)
    if end is None:
        if now is None:
            from store.clock import local_now

            now = local_now()
        end = now.date()
    return end, now


def write_demo_files(out_dir: str | Path, *, seed: int = 7, end: dt.date | None = None,
                     now: dt.datetime | None = None, weeks: int = 26,
                     complaints: int = 200_000) -> dict[str, Path]:
    """Write the demo city's raw files into ``out_dir``; returns {name: path}.

    Files: streets / communities / grids / core / points (.geojson, GCJ-02),
    inspections.xlsx, complaints.csv (GBK) and truth.json. The districts are the real
    ones in ``data/nanning/`` (`DISTRICTS_FILE`).

    The period ends on ``end``; the export moment (when the simulated hotline system
    exported its data) is ``end`` 23:59 when ``now`` is None. Without ``end`` the demo
    ends today: ``now`` defaults to `store.clock.local_now` and the export moment is
    ``now`` floored to the minute (likewise when ``now`` falls on ``end``; a ``now``
    after ``end`` changes nothing). No record lies after the export moment: on the final
    day the received times are fitted into [00:00, export time] of that day with the
    day's hourly rhythm (`democity.records.fit_final_day`, so every row keeps its day
    and ISO week and the number of complaints and the planted hotspots stay), the final
    day gets the share of a day's volume received by then, cases closing later are open
    at export, and inspection visits and rectifications after it have not happened yet.
    Same ``seed``, ``end`` and ``now``, same bytes.
    """
    end, now = resolve_end(end, now)
    _check_args(end, weeks, complaints)
    start, export = rec.period(end, weeks, now)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # --- the city: districts, core, fringe, jurisdictions
    districts, dist_wgs = jur.read_districts(DISTRICTS_FILE)
    city_km = shapely.union_all([popmod.geom_to_km(g) for g in dist_wgs])
    core_km = popmod.make_core(rng, city_km)
    band_km = popmod.fringe_band(core_km, city_km)
    pop = popmod.Population(city_km)
    levels = jur.build(rng, districts, dist_wgs, core_km, pop)
    d_lv, s_lv, c_lv, g_lv, _towns = levels
    locator = jur.Locator(d_lv, s_lv, c_lv, g_lv)
    roads = rec.street_roads(rng, len(s_lv.frame))
    # --- planted hotspots and complaints
    spots = tr.plant_hotspots(rng, city_km, core_km, band_km, weeks, complaints)
    for k, h in enumerate(spots):
        h.covered = (h.kind != "new") and (k % 2 == 0)
    _name_hotspots(rng, spots, locator, roads)
    drawn = [tr.hotspot_points(rng, h) for h in spots]
    p_lon = np.concatenate([p[0] for p in drawn])
    p_lat = np.concatenate([p[1] for p in drawn])
    p_week = np.concatenate([p[2] for p in drawn])
    p_spot = np.concatenate([np.full(len(p[0]), k) for k, p in enumerate(drawn)])
    n_bg = complaints - len(p_lon)
    bx, by = pop.sample(rng, n_bg, rec.COMPLAINT_MIX)
    b_lon, b_lat = popmod.from_km(bx, by)
    ax = np.concatenate([bx, popmod.to_km(p_lon, p_lat)[0]])
    ay = np.concatenate([by, popmod.to_km(p_lon, p_lat)[1]])
    grid = locator.grid_index(ax, ay)
    comm, street, dist = locator.chain(grid)
    located = {"district": dist, "street": street, "community": comm,
               "zone": _zone_of(core_km, band_km, ax, ay)}
    names = {"district": d_lv.frame["name"].to_numpy(dtype=object),
             "street": s_lv.frame["name"].to_numpy(dtype=object),
             "community": c_lv.frame["name"].to_numpy(dtype=object)}
    by_dist = {j: np.nonzero(locator.street_dist == j)[0] for j in range(len(d_lv.frame))}
    volume = np.bincount(street[:n_bg], minlength=len(s_lv.frame))
    urban = s_lv.frame["urban"].to_numpy()
    top = np.argsort(-np.where(urban, volume, -1), kind="stable")[:12]
    backlog = np.sort(rng.choice(top, size=rec.N_BACKLOG_STREETS, replace=False))
    cframe, cstats = rec.make_complaints(
        rng, n_total=complaints, start=start, export=export, bg_lonlat=(b_lon, b_lat),
        planted=(p_lon, p_lat, p_week, p_spot), spots=spots, located=located, names=names,
        street_idx_by_district=by_dist, roads=roads, backlog_streets=backlog)
    # --- inspection points and inspections
    pts = insp.place_points(rng, pop, band_km, spots)
    pg = locator.grid_index(pts["x"].to_numpy(), pts["y"].to_numpy())
    pc, ps, pd_ = locator.chain(pg)
    pts = insp.name_points(rng, pts, d_lv.frame["id"].to_numpy()[pd_], ps,
                           names["community"][pc], roads, {h.id: h.label for h in spots})
    pts = pts.assign(district=names["district"][pd_], street=names["street"][ps])
    order = np.argsort(pts["point_id"].to_numpy(), kind="stable")
    pts = pts.iloc[order].reset_index(drop=True)
    ps = ps[order]
    iframe, istats = insp.inspect(rng, pts, ps, len(s_lv.frame), start, export, weeks)
    # --- write
    paths: dict[str, Path] = {}
    for (level, fname), lv in zip(LEVEL_FILES, (s_lv, c_lv, g_lv), strict=True):
        text = jur.feature_collection(f"nanning_demo_{level}", lv.frame, _gcj(lv.geoms),
                                      ["id", "name", "level", "parent_id"], GCJ_NOTE)
        paths[fname] = out / fname
        paths[fname].write_text(text, encoding="utf-8")
    core_frame = pd.DataFrame([{"id": "core-1", "name": "南宁市中心城区建成区", "kind": "core"}])
    core_wgs = np.array([popmod.geom_from_km(core_km)], dtype=object)
    paths["core.geojson"] = out / "core.geojson"
    paths["core.geojson"].write_text(jur.feature_collection(
        "built_up_core", core_frame, _gcj(core_wgs), ["id", "name", "kind"], GCJ_NOTE),
        encoding="utf-8")
    plon, plat = popmod.from_km(pts["x"].to_numpy(), pts["y"].to_numpy())
    paths["points.geojson"] = out / "points.geojson"
    paths["points.geojson"].write_text(_points_geojson(pts, plon, plat), encoding="utf-8")
    paths["inspections.xlsx"] = out / "inspections.xlsx"
    xlsx.write_table(paths["inspections.xlsx"], iframe, sheet=LEDGER_SHEET,
                     title=LEDGER_TITLE.format(year=end.year))
    paths["complaints.csv"] = out / "complaints.csv"
    rec.write_csv(cframe, paths["complaints.csv"])
    # --- truth
    spot_records = []
    for h, (lo, la, _w) in zip(spots, drawn, strict=True):
        r = tr.hotspot_record(h, lo, la)
        hx, hy = popmod.to_km(h.lon, h.lat)
        r["nearest_point_m"] = int(round(1000 * float(np.min(np.hypot(pts["x"] - hx,
                                                                       pts["y"] - hy)))))
        spot_records.append(r)
    frames = {"streets.geojson": s_lv, "communities.geojson": c_lv, "grids.geojson": g_lv}
    truth = {
        "seed": int(seed),
        "parameters": {
            "seed": int(seed), "end": end.isoformat(), "weeks": int(weeks),
            "complaints": int(complaints), "first_day": str(start.astype("datetime64[D]")),
            "export_time": _stamp(export),
            "planted_share": tr.PLANTED_SHARE, "fringe_width_km": popmod.FRINGE_WIDTH_KM,
            "limit_working_days": {**nm.LIMIT_DAYS, "default": nm.DEFAULT_LIMIT_DAYS},
        },
        "coordinates": "files: GCJ-02; centre_wgs84 and H3 cells: WGS-84 "
                       "(h3.latlng_to_cell on WGS-84 coordinates)",
        "notes": {
            "weeks": "numbered 1..weeks; week 1 is the ISO week starting on first_day "
                     "(a Monday), the last is the ISO week of end",
            "cells_res9": "H3 res-9 cells whose centre lies within radius_m of the centre: "
                          "the source cells and their first ring (what Gi* with k=1 marks)",
            "source_cells_res9": "the res-9 cells the planted complaints fall in",
            "cells_res8": "the res-8 cells the planted complaints fall in",
            "backlog": "open = not 已办结/已作废 at as_of; overdue = open and 处置时限 < as_of; "
                       "planted_* = cases held open on purpose; rows without 受理时间 excluded",
        },
        "districts_file": str(DISTRICTS_FILE.relative_to(ROOT)),
        "files": {
            **{f: {"features": int(len(lv.frame))} for f, lv in frames.items()},
            "core.geojson": {"features": 1},
            "points.geojson": {"features": int(len(pts))},
            "inspections.xlsx": {"rows": int(len(iframe)), "sheet": LEDGER_SHEET,
                                 "title_row": 1, "header_row": 2},
            "complaints.csv": {"rows": int(len(cframe["工单编号"])), "encoding": "gbk"},
        },
        "jurisdictions": {
            "districts": int(len(d_lv.frame)), "streets": int(len(s_lv.frame)),
            "of_which_towns": int((~s_lv.frame["urban"]).sum()),
            "communities": int(len(c_lv.frame)),
            "of_which_villages": int(c_lv.frame["name"].str.endswith("村").sum()),
            "grids": int(len(g_lv.frame)),
        },
        "fringe": {"core_area_km2": round(float(core_km.area), 1),
                   "band_area_km2": round(float(band_km.area), 1)},
        "hotspots": spot_records,
        "backlog": {"as_of": _stamp(export),
                    "streets": cstats.pop("backlog_streets")},
        "complaints": cstats,
        "inspection_points": {"rows": int(len(pts)),
                              "types": {str(k): int(v) for k, v in
                                        pts["point_type"].value_counts().sort_index().items()}},
        "inspections": istats,
    }
    paths["truth.json"] = out / "truth.json"
    tr.write_truth(paths["truth.json"], truth)
    return paths


def build_demo(db: str | Path | None, *, seed: int = 7, end: dt.date | None = None,
               now: dt.datetime | None = None, weeks: int = 26, complaints: int = 200_000,
               out_dir: str | Path = "data/demo") -> dict:
    """Replace the database by the demo city: write the files, load them like a user.

    ``end`` and ``now`` as in `write_demo_files`: without ``end`` the demo ends today at
    the current minute (``now``, default `store.clock.local_now`, read once).

    Order: districts, streets, communities, grids (``load_boundaries``), the fringe
    band from the core (``derive_fringe``, 3 km), then points, inspections and
    complaints (``ingest_file``), all with ``crs='gcj02'``. Ingest judges "in the
    future" against ``now`` when there is one (the build's moment, never before the
    export moment), else against the day after ``end`` 00:00.

    The new database is built next to the old one (``<db>.demo-new``) and renamed over
    it only when every step has succeeded, so a failure leaves the old database as it
    was; on success the old database is gone.

    Returns
    -------
    dict
        ``db`` (path), ``files`` ({name: path}), ``log`` (one line per step) and
        ``seconds``.
    """
    import os

    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file
    from ingest.zones import derive_fringe
    from store.database import db_path

    t0 = time.perf_counter()
    path = db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(path.name + ".demo-new")
    _remove(work)
    end, now = resolve_end(end, now)
    files = write_demo_files(out_dir, seed=seed, end=end, now=now, weeks=weeks,
                             complaints=complaints)
    log = [f"wrote {len(files)} files to {out_dir} in {time.perf_counter() - t0:.1f} s"]
    try:
        steps = [("district", DISTRICTS_FILE)] + [(lv, files[f]) for lv, f in LEVEL_FILES]
        for level, f in steps:
            rep = load_boundaries(work, f, level, crs="gcj02")
            log.append(_line(rep, f"{level}: {Path(f).name}"))
        rep = derive_fringe(work, files["core.geojson"], width_km=popmod.FRINGE_WIDTH_KM,
                            crs="gcj02")
        log.append(_line(rep, "fringe: core.geojson"))
        if now is None:
            now = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0))
        for kind, f in (("points", "points.geojson"), ("inspections", "inspections.xlsx"),
                        ("complaints", "complaints.csv")):
            res = ingest_file(work, kind, files[f], crs="gcj02", now=now)
            log.append(_line(res, f"{kind}: {f}"))
        os.replace(work, path)
    finally:
        _remove(work)
    seconds = time.perf_counter() - t0
    log.append(f"demo built in {seconds:.1f} s")
    return {"db": str(path), "files": {k: str(v) for k, v in files.items()}, "log": log,
            "seconds": seconds}


def _stamp(export: np.datetime64) -> str:
    """``2026-11-22 23:59:59`` for an export at the end of its day (the whole last
    minute), else the export minute itself, ``2026-12-09 15:37:00``."""
    text = str(export).replace("T", " ")
    return text + (":59" if rec.export_minute(export) == 1439 else ":00")


def _remove(db: Path) -> None:
    """Delete a database file and the files DuckDB and the store keep beside it."""
    for p in (db, db.with_name(db.name + ".wal"), db.with_name(db.name + ".lock"),
              *db.parent.glob(db.name + ".writing-*")):
        if p.exists():
            p.unlink()


def _line(report, what: str) -> str:
    for attr in ("summary_line", "summary"):
        f = getattr(report, attr, None)
        if callable(f):
            return f"{what}: {f()}"
    return f"{what}: done"

"""Benchmark: 1,000,000 complaints (CSV, GCJ-02) end to end, ours next to a naive baseline.

    python bench/ingest.py [--rows 1000000] [--skip-baseline]

Both runs read the same generated file into a database that already holds Nanning's seven
districts and ~4,000 grid polygons nested in them. Each runs in its own process so that its
peak memory (max RSS) is its own.

* ours: ``ingest.pipeline.ingest_file`` (reading, parsing and checks, GCJ-02 → WGS-84,
  H3, point-in-polygon for every level, upsert, batch bookkeeping, atomic replace);
* baseline: what a first script does — pandas ``read_csv``, per-row ``h3`` call,
  geopandas ``sjoin`` for the jurisdiction, DuckDB insert of the frame (same coordinate
  conversion, no checks, no upsert).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from democity.build import DISTRICTS_FILE as DISTRICTS  # noqa: E402  (data/nanning/, committed)

CATEGORIES = ["市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件"]
STATUSES = ["已办结", "已办结", "已办结", "处置中", "已派遣", "返工", "已作废"]


def make_inputs(work: Path, rows: int, seed: int = 1) -> tuple[Path, Path, Path]:
    """Districts (GCJ-02 GeoJSON), grids nested in them, and the complaints CSV."""
    import geopandas as gpd
    import shapely

    from grids.crs import transform_geometry, wgs84_to_gcj02

    rng = np.random.default_rng(seed)
    d = gpd.read_file(DISTRICTS)
    dw = transform_geometry(np.asarray(d.geometry.values), "gcj02")
    union = shapely.union_all(dw)
    seeds_lon = np.concatenate([rng.normal(108.36, 0.08, 3000), rng.uniform(107.9, 108.9, 2000)])
    seeds_lat = np.concatenate([rng.normal(22.82, 0.06, 3000), rng.uniform(22.4, 23.6, 2000)])
    seeds = shapely.points(seeds_lon, seeds_lat)
    seeds = seeds[shapely.contains(union, seeds)]
    vor = np.asarray(shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=union.envelope)))
    grids, parents = [], []
    for code, dist in zip(d["adcode"], dw, strict=True):
        cut = shapely.intersection(vor, dist)
        keep = ~shapely.is_empty(cut) & (shapely.area(cut) > 1e-7)
        grids.extend(cut[keep])
        parents.extend([code] * int(keep.sum()))
    gj = gpd.GeoDataFrame({"id": [f"{p}{i:06d}" for i, p in enumerate(parents)],
                           "name": [f"第{i}网格" for i in range(len(parents))],
                           "parent_id": parents},
                          geometry=transform_geometry(np.asarray(grids), "wgs84", "gcj02"),
                          crs="EPSG:4326")
    grid_file = work / "grids.geojson"
    gj.to_file(grid_file, driver="GeoJSON")

    lon = np.concatenate([rng.normal(108.35, 0.06, rows * 7 // 10),
                          rng.uniform(107.95, 108.8, rows - rows * 7 // 10)])
    lat = np.concatenate([rng.normal(22.82, 0.05, rows * 7 // 10),
                          rng.uniform(22.5, 23.4, rows - rows * 7 // 10)])
    glon, glat = wgs84_to_gcj02(lon, lat)
    received = pd.Timestamp("2026-05-25") + pd.to_timedelta(rng.integers(0, 180 * 1440, rows), "min")
    due = received + pd.to_timedelta(rng.integers(1, 15, rows), "D")
    closed = received + pd.to_timedelta(rng.integers(10, 20 * 1440, rows), "min")
    status = np.array(STATUSES)[rng.integers(0, len(STATUSES), rows)]
    closed_txt = np.where(status == "已办结", closed.strftime("%Y/%m/%d %H:%M"), "")
    closed_txt = np.where(closed > pd.Timestamp("2026-11-22 23:59"), "", closed_txt)
    df = pd.DataFrame({
        "工单编号": [f"GD{i:09d}" for i in range(rows)],
        "受理时间": received.strftime("%Y/%m/%d %H:%M"),
        "来源渠道": np.array(["12345热线", "微信公众号", "政务APP"])[rng.integers(0, 3, rows)],
        "问题大类": np.array(CATEGORIES)[rng.integers(0, 5, rows)],
        "问题描述": np.array(["路边有暴露垃圾未清理", "小区门口占道经营", "夜间施工扰民"])[
            rng.integers(0, 3, rows)],
        "经度": np.round(glon, 6), "纬度": np.round(glat, 6),
        "处理状态": status, "处置时限": due.strftime("%Y/%m/%d %H:%M"), "办结时间": closed_txt,
    })
    csv = work / "complaints.csv"
    df.to_csv(csv, index=False, encoding="utf-8")
    return DISTRICTS, grid_file, csv


def prepare_db(db: Path, districts: Path, grids: Path) -> None:
    from ingest.boundaries import load_boundaries

    load_boundaries(db, districts, "district", crs="gcj02", id_field="adcode", name_field="name")
    load_boundaries(db, grids, "grid", crs="gcj02")


def run_ours(db: Path, csv: Path) -> dict:
    from ingest.pipeline import ingest_file

    t = time.perf_counter()
    res = ingest_file(db, "complaints", csv, crs="gcj02")
    secs = time.perf_counter() - t
    return {"seconds": secs, "rows": res.rows_read, "inserted": res.inserted,
            "rejected": res.rejected}


def run_baseline(db: Path, csv: Path) -> dict:
    import duckdb
    import geopandas as gpd
    import h3
    import shapely

    from grids.crs import gcj02_to_wgs84

    t = time.perf_counter()
    df = pd.read_csv(csv, encoding="utf-8")
    lon, lat = gcj02_to_wgs84(df["经度"].to_numpy(), df["纬度"].to_numpy())
    df["lon"], df["lat"] = lon, lat
    df["cell"] = [h3.latlng_to_cell(a, b, 12) for a, b in zip(lat, lon, strict=True)]
    con = duckdb.connect(str(db))
    jur = con.execute("SELECT jurisdiction_id, name, level, parent_id, geometry FROM jurisdictions").df()
    grid = jur[jur.level == "grid"]
    gg = gpd.GeoDataFrame(grid[["jurisdiction_id", "parent_id"]],
                          geometry=shapely.from_wkt(grid.geometry.to_numpy()), crs="EPSG:4326")
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(pts, gg, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    names = jur.set_index("jurisdiction_id")["name"]
    joined["district"] = joined["parent_id"].map(names)
    out = pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))
    con.execute("CREATE TABLE baseline AS SELECT * FROM out")
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": len(out)}


def _child(which: str, db: Path, csv: Path) -> dict:
    """Run one side in a fresh process; add its peak memory."""
    cmd = [sys.executable, __file__, "--child", which, "--db", str(db), "--csv", str(csv)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{which} run failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--child", choices=["ours", "baseline"])
    ap.add_argument("--db")
    ap.add_argument("--csv")
    a = ap.parse_args()
    if a.child:
        fn = run_ours if a.child == "ours" else run_baseline
        res = fn(Path(a.db), Path(a.csv))
        res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        districts, grids, csv = make_inputs(work, a.rows)
        base_db = work / "base.duckdb"
        prepare_db(base_db, districts, grids)
        print(f"inputs: {a.rows:,} complaints, {csv.stat().st_size / 1e6:.0f} MB CSV; "
              f"prepared in {time.perf_counter() - t:.1f} s")
        results = {}
        for which in (["ours"] if a.skip_baseline else ["ours", "baseline"]):
            db = work / f"{which}.duckdb"
            db.write_bytes(base_db.read_bytes())
            r = _child(which, db, csv)
            results[which] = r
            print(f"{which:9s} {r['seconds']:7.2f} s  {a.rows / r['seconds']:>10,.0f} rows/s  "
                  f"peak {r['peak_mb']:,.0f} MB")
        if "baseline" in results:
            ratio = results["baseline"]["seconds"] / results["ours"]["seconds"]
            print(f"ratio: ours is {ratio:.1f}x the baseline's speed "
                  f"({results['ours']['seconds']:.2f} s vs {results['baseline']['seconds']:.2f} s)")


if __name__ == "__main__":
    main()

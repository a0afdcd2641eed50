"""Shared fixtures and helpers: a fixed "now", a fresh database path, file digests.

Keep this file small and generic; fixtures used by one test module belong in that module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sys
from pathlib import Path

import pytest

#: The project folder (``python cli.py`` runs from here).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The app's environment variables come from the tests themselves, never from the shell that
# runs them (a developer's GRID_DB would otherwise point page tests at a real database).
for _var in ("GRID_DB", "GRID_TODAY", "GRID_SETTINGS"):
    os.environ.pop(_var, None)

#: The wall-clock time tests judge "in the future" against: Monday of ISO week 2026-W48.
NOW = dt.datetime(2026, 11, 23, 12, 0)


@pytest.fixture
def now() -> dt.datetime:
    """2026-11-23 12:00, naive local (Asia/Shanghai) wall-clock time."""
    return NOW


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a database file that does not exist yet, in the test's own folder."""
    return tmp_path / "grid.duckdb"


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (to show that a failed write changed nothing)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="session")
def district_template(tmp_path_factory) -> Path:
    """A database with one square district, D1 (tests/fixtures/boundaries), loaded once."""
    from ingest.boundaries import load_boundaries

    path = tmp_path_factory.mktemp("template") / "g.duckdb"
    fixture = ROOT / "tests" / "fixtures" / "boundaries" / "district_square.geojson"
    load_boundaries(path, fixture, "district", crs="wgs84")
    return path


@pytest.fixture
def district_db(tmp_path: Path, district_template: Path) -> Path:
    """A fresh copy of the one-district database, for a test to change."""
    return Path(shutil.copy(district_template, tmp_path / "g.duckdb"))


#: The synthetic city's planted cluster, WGS-84 (central Nanning).
CLUSTER = (108.33, 22.83)
#: Nanning's seven districts, GCJ-02, committed with the project (data/nanning/ATTRIBUTION.md);
#: the same file as ``democity.build.DISTRICTS_FILE``.
NANNING = ROOT / "data" / "nanning" / "nanning_districts_gcj02.geojson"


@pytest.fixture(scope="session")
def synthetic_city(tmp_path_factory):
    """Nanning's 7 districts with 6,000 scattered complaints and 800 around CLUSTER.

    Four weeks, 2026-10-26 to 2026-11-22; every third complaint 街面秩序, the rest 市容环境.
    Returns (database path, the complaints as a DataFrame with the CSV's columns).
    Treat the database as read-only (copy it to change it).
    """
    import numpy as np
    import pandas as pd

    from ingest.boundaries import load_boundaries
    from ingest.pipeline import ingest_file

    tmp = tmp_path_factory.mktemp("hot")
    db = tmp / "hot.duckdb"
    load_boundaries(db, NANNING, "district", crs="gcj02")
    rng = np.random.default_rng(8)
    n_bg, n_hot = 6000, 800
    lon = np.concatenate([rng.uniform(107.8, 108.9, n_bg), rng.normal(CLUSTER[0], 0.004, n_hot)])
    lat = np.concatenate([rng.uniform(22.2, 23.5, n_bg), rng.normal(CLUSTER[1], 0.004, n_hot)])
    cats = np.where(np.arange(n_bg + n_hot) % 3 == 0, "街面秩序", "市容环境")
    days = rng.integers(0, 28, n_bg + n_hot)
    when = pd.Timestamp("2026-10-26 09:00") + pd.to_timedelta(days, "D")
    df = pd.DataFrame({"工单编号": [f"H{i:05d}" for i in range(n_bg + n_hot)],
                       "受理时间": when.strftime("%Y/%m/%d %H:%M"), "问题大类": cats,
                       "经度": lon, "纬度": lat})
    csv = tmp / "c.csv"
    df.to_csv(csv, index=False)
    ingest_file(db, "complaints", csv, crs="wgs84", now=NOW)
    return db, df


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory):
    """The full demo city (python cli.py demo, seed 7), built once per session (~30 s).

    Returns (database path, truth.json as a dict). Treat it as read-only.
    """
    import json

    from democity.build import build_demo

    tmp = tmp_path_factory.mktemp("demo-full")
    db = tmp / "grid.duckdb"
    build_demo(db, end=dt.date(2026, 11, 22), out_dir=tmp / "files")
    return db, json.loads((tmp / "files" / "truth.json").read_text(encoding="utf-8"))

"""Shared fixtures and helpers: a fixed "now", a fresh database path, file digests.

Keep this file small and generic; fixtures used by one test module belong in that module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import pytest

#: The project folder (``python cli.py`` runs from here).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
    from grids.boundaries import load_boundaries

    path = tmp_path_factory.mktemp("template") / "g.duckdb"
    fixture = ROOT / "tests" / "fixtures" / "boundaries" / "district_square.geojson"
    load_boundaries(path, fixture, "district", crs="wgs84")
    return path


@pytest.fixture
def district_db(tmp_path: Path, district_template: Path) -> Path:
    """A fresh copy of the one-district database, for a test to change."""
    return Path(shutil.copy(district_template, tmp_path / "g.duckdb"))

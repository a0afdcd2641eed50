"""`python cli.py demo` end to end at a small size: loads cleanly and is reproducible."""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["complaints", "inspection_points", "inspections", "jurisdictions", "zones",
          "rejected_rows", "import_notes", "boundary_issues"]
SMALL = ["--complaints", "20000", "--weeks", "8", "--end", "2026-11-22", "--seed", "7"]


def _build(tmp: Path, name: str) -> Path:
    db = tmp / f"{name}.duckdb"
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "demo",
                          "--out-dir", str(tmp / f"{name}-files"), *SMALL],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "demo city ready" in res.stdout
    return db


def _contents(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
        out["import_batches"] = con.execute(
            "SELECT * EXCLUDE (started_at, finished_at) FROM import_batches ORDER BY batch_id"
        ).fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    return _build(tmp, "a"), _build(tmp, "b"), tmp


def test_two_builds_have_identical_tables(two_builds):
    a, b, _ = two_builds
    ca, cb = _contents(a), _contents(b)
    for table in ca:
        assert ca[table] == cb[table], table


def test_demo_loads_what_truth_says(two_builds):
    a, _, tmp = two_builds
    truth = json.loads((tmp / "a-files" / "truth.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(a), read_only=True)
    try:
        n_levels = dict(con.execute("SELECT level, count(*) FROM jurisdictions GROUP BY 1").fetchall())
        complaints = con.execute("SELECT count(*) FROM complaints").fetchall()[0][0]
        batches = con.execute("SELECT kind, rows_read, rows_rejected FROM import_batches "
                              "WHERE kind = 'complaints'").fetchall()
        fringe = con.execute("SELECT count(*) FROM zones WHERE kind = 'fringe'").fetchall()[0][0]
        unlocated = con.execute("SELECT count(*) FROM complaints WHERE lon IS NULL").fetchall()[0][0]
        issues = con.execute("SELECT count(*) FROM boundary_issues").fetchall()[0][0]
    finally:
        con.close()
    assert n_levels["district"] == 7
    assert n_levels["street"] >= 50 and n_levels["community"] >= 500 and n_levels["grid"] >= 2000
    assert fringe == 1 and issues == 0
    (_, read, rejected), = batches
    assert read == 20000
    assert complaints == read - rejected
    assert 0 < rejected <= 0.01 * read
    planted = truth["complaints"]
    assert rejected == planted["rows_without_received_time"]
    assert complaints == planted["loadable_rows"]
    assert 0 < unlocated <= planted["rows_without_coordinates"]  # kept, placed by name


def test_demo_rejects_bad_arguments(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(tmp_path / "x.duckdb"),
                          "demo", "--weeks", "2", "--end", "2026-11-22"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "weeks" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.duckdb").exists()

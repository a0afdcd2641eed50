"""A killed import leaves the live database as it was; readers and writers share the file.

Real imports run as ``python cli.py`` subprocesses on generated files of up to 200,000
complaints. See ``store/database.py`` for the copy-and-replace scheme these tests hold
to its promises.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from conftest import NOW, ROOT, sha256_of

from ingest.pipeline import ingest_file

#: Rows of the file an import is killed in the middle of (about 6 s to import).
BIG_ROWS = 200_000
#: Rows of the file imported while another process reads (about 3 s).
MEDIUM_ROWS = 60_000
#: Rows of each of the two files imported at the same time.
SMALL_ROWS = 20_000
SEED_ROWS = 25

pytestmark = pytest.mark.slow


def write_complaints(path: Path, n: int, prefix: str, seed: int) -> Path:
    """``n`` plausible complaints (GCJ-02, Nanning) with ids ``<prefix>0000001``..."""
    rng = np.random.default_rng(seed)
    # every time at least 5 days before NOW (2026-11-23), hence also before the real clock
    # by which the command line judges "in the future": the same rows on any day
    start = np.datetime64(NOW.date() - dt.timedelta(days=210), "s")
    received = start + rng.integers(0, 200 * 86_400, n).astype("timedelta64[s]")
    closed = received + rng.integers(3_600, 5 * 86_400, n).astype("timedelta64[s]")
    is_closed = rng.random(n) < 0.7

    def text(t: np.ndarray) -> np.ndarray:
        return np.char.replace(np.datetime_as_string(t, unit="s"), "T", " ")

    table = pa.table({
        "工单编号": np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), 7)),
        "受理时间": text(received),
        "问题类型": rng.choice(["市容环境", "道路破损", "噪音扰民", "违章停车", "垃圾清运"], n),
        "问题描述": rng.choice(["垃圾堆放，影响通行", "井盖缺失", "夜间施工噪音", "占道经营"], n),
        "经度": np.round(108.22 + rng.random(n) * 0.25, 6),
        "纬度": np.round(22.74 + rng.random(n) * 0.16, 6),
        "处理状态": np.where(is_closed, "已办结", "处理中"),
        "办结时间": np.where(is_closed, text(closed), ""),
        "所属区县": rng.choice(["青秀区", "兴宁区", "江南区", "西乡塘区"], n),
    })
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crash_files")
    return {
        "seed": write_complaints(folder / "seed.csv", SEED_ROWS, "S", 1),
        "big": write_complaints(folder / "big.csv", BIG_ROWS, "K", 2),
        "medium": write_complaints(folder / "medium.csv", MEDIUM_ROWS, "R", 3),
        "a": write_complaints(folder / "a.csv", SMALL_ROWS, "A", 4),
        "b": write_complaints(folder / "b.csv", SMALL_ROWS, "B", 5),
    }


@pytest.fixture
def live_db(db_path: Path, files) -> Path:
    """A live database that already holds the seed complaints."""
    assert ingest_file(db_path, "complaints", files["seed"], crs="gcj02", now=NOW).inserted \
        == SEED_ROWS
    return db_path


def counts(db: Path) -> tuple[int, int]:
    """(complaints, import batches), read the way an analyst's tool would: read-only."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return (conn.execute("SELECT count(*) FROM complaints").fetchone()[0],
                conn.execute("SELECT count(*) FROM import_batches").fetchone()[0])
    finally:
        conn.close()


def start_ingest(db: Path, csv: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "cli.py", "--db", str(db), "ingest", "complaints", str(csv),
         "--crs", "gcj02"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def working_copies(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".writing-*"))


def wait_until(cond: Callable[[], bool], proc: subprocess.Popen, timeout: float = 60) -> bool:
    """Poll ``cond`` every 5 ms; False when ``proc`` ended or time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if cond():
            return True
        time.sleep(0.005)
    return False


def lock_is_free(db: Path) -> bool:
    fd = os.open(str(db) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return -1


def test_sigkill_midway_leaves_the_live_database_intact(live_db, files):
    digest, before = sha256_of(live_db), counts(live_db)
    live_size = live_db.stat().st_size

    def copy_made_then(seconds: float) -> Callable[[], bool]:
        seen: list[float] = []

        def cond() -> bool:
            if not seen and any(_size(p) >= live_size for p in working_copies(live_db)):
                seen.append(time.monotonic())
            return bool(seen) and time.monotonic() - seen[0] >= seconds
        return cond

    def copy_growing() -> bool:  # DuckDB is writing the new rows into the working copy
        return any(_size(p) > live_size for p in working_copies(live_db))

    for moment, cond in (("while checking rows", copy_made_then(0.5)),
                         ("while writing rows", copy_growing)):
        proc = start_ingest(live_db, files["big"])
        reached = wait_until(cond, proc)
        assert reached and proc.poll() is None, f"the import ended before {moment}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert working_copies(live_db), f"killed {moment}: its half-written copy is there"
        assert sha256_of(live_db) == digest, f"killed {moment}: the live file changed"
        assert counts(live_db) == before
        assert lock_is_free(live_db), f"killed {moment}: the lock is still held"

    out = finish(start_ingest(live_db, files["big"]))
    assert out.splitlines()[0] == f"read={BIG_ROWS} inserted={BIG_ROWS} updated=0 rejected=0"
    assert counts(live_db) == (before[0] + BIG_ROWS, before[1] + 1)
    assert not working_copies(live_db), "the next writer cleans up after the killed ones"
    assert lock_is_free(live_db)


def test_error_after_rows_were_written_leaves_the_live_file_as_it_was(live_db, files,
                                                                      monkeypatch):
    """An exception late in the transaction (rows already upserted) changes nothing."""
    import ingest.pipeline as pipeline

    real_upsert = pipeline._upsert

    def upsert_then_fail(conn, *args, **kwargs):
        real_upsert(conn, *args, **kwargs)
        assert conn.execute("SELECT count(*) FROM complaints").fetchone()[0] == \
            SEED_ROWS + SMALL_ROWS, "the rows are in the transaction"
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(pipeline, "_upsert", upsert_then_fail)
    digest, before = sha256_of(live_db), counts(live_db)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_file(live_db, "complaints", files["a"], crs="gcj02", now=NOW)
    assert sha256_of(live_db) == digest and counts(live_db) == before
    assert not working_copies(live_db) and lock_is_free(live_db)


READER = r"""
import json, os, sys, time
import duckdb
db, stop = sys.argv[1], sys.argv[2]
counts, errors = [], []
while True:
    last = os.path.exists(stop)
    try:
        conn = duckdb.connect(db, read_only=True)
        try:
            counts.append(conn.execute("SELECT count(*) FROM complaints").fetchone()[0])
        finally:
            conn.close()
    except Exception as exc:
        errors.append(repr(exc))
    if last:
        break
    time.sleep(0.05)
print(json.dumps({"counts": counts, "errors": errors}))
"""


def test_readers_keep_reading_while_an_import_runs(live_db, files, tmp_path):
    before, _ = counts(live_db)
    stop = tmp_path / "stop-reading"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(live_db), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        assert finish(start_ingest(live_db, files["medium"])).startswith(f"read={MEDIUM_ROWS} ")
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    seen = json.loads(out)
    assert seen["errors"] == []
    assert len(seen["counts"]) >= 10, "the reader read all along the import"
    assert set(seen["counts"]) <= {before, before + MEDIUM_ROWS}, "only whole versions"
    assert seen["counts"][0] == before and seen["counts"][-1] == before + MEDIUM_ROWS


def test_two_imports_at_once_both_land(live_db, files):
    before = counts(live_db)
    procs = [start_ingest(live_db, files["a"]), start_ingest(live_db, files["b"])]
    for proc in procs:
        assert finish(proc).splitlines()[0] == \
            f"read={SMALL_ROWS} inserted={SMALL_ROWS} updated=0 rejected=0"
    # each writer copies the live file: had they not queued, one import would be lost
    assert counts(live_db) == (before[0] + 2 * SMALL_ROWS, before[1] + 2)
    conn = duckdb.connect(str(live_db), read_only=True)
    try:
        batches = conn.execute("SELECT file_name, rows_inserted FROM import_batches "
                               "ORDER BY batch_id DESC LIMIT 2").fetchall()
        prefixes = conn.execute("SELECT left(complaint_id, 1) AS p, count(*) FROM complaints "
                                "GROUP BY p ORDER BY p").fetchall()
    finally:
        conn.close()
    assert sorted(batches) == [("a.csv", SMALL_ROWS), ("b.csv", SMALL_ROWS)]
    assert prefixes == [("A", SMALL_ROWS), ("B", SMALL_ROWS), ("S", SEED_ROWS)]
    assert not working_copies(live_db)

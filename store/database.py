"""How one writer and many readers share the DuckDB file.

DuckDB lets a file be opened by one read-write process *or* by many read-only
processes, never both at once. A writer that held the live file open would lock
the running app out for the length of an import. So writers never open the live
file:

1. take an exclusive lock on ``<db>.lock`` (writers queue behind each other);
2. copy the live file to ``<db>.writing-<pid>`` and open that copy read-write;
3. do all the work in one transaction, commit, checkpoint and close;
4. ``os.replace`` the copy over the live file (atomic on POSIX file systems).

Readers open the live file read-only for as long as one request takes. A reader that
opened the file before a replace keeps reading the old, complete version; the next
read sees the new one. A writer killed at any point (even SIGKILL) leaves the live file
exactly as it was; its half-written copy is removed by the next writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from store.schema import ensure_schema

DEFAULT_DB = Path("data/grid.duckdb")
ENV_DB = "GRID_DB"


class DatabaseMissingError(FileNotFoundError):
    """The database file does not exist yet."""


class DatabaseBusyError(TimeoutError):
    """Another writer held the database for longer than the wait allowed."""


def db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: the argument, else ``$GRID_DB``, else ``data/grid.duckdb``."""
    if path:
        return Path(path)
    env = os.environ.get(ENV_DB)
    return Path(env) if env else DEFAULT_DB


@contextlib.contextmanager
def read_connection(path: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the live database read-only for the length of a ``with`` block.

    Raises
    ------
    DatabaseMissingError
        When the file does not exist (nothing has been imported yet).
    """
    p = db_path(path)
    if not p.exists():
        raise DatabaseMissingError(
            f"database {p} does not exist yet: run `python cli.py demo` or import data first"
        )
    last: Exception | None = None
    for _ in range(50):
        try:
            conn = duckdb.connect(str(p), read_only=True)
            conn.execute("SET enable_progress_bar = false")
            break
        except duckdb.IOException as exc:  # someone opened the live file read-write by hand
            last = exc
            time.sleep(0.1)
    else:
        raise DatabaseBusyError(f"database {p} is locked by another program: {last}")
    try:
        yield conn
    finally:
        conn.close()


def _lock_file(p: Path, timeout: float) -> int:
    fd = os.open(str(p) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise DatabaseBusyError(
                    f"another import is writing {p}; waited {timeout:.0f} s"
                ) from None
            time.sleep(0.05)


def _remove_stale_copies(p: Path) -> None:
    for stale in p.parent.glob(p.name + ".writing-*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _fsync_path(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_database(src: Path, dst: Path) -> None:
    """Copy the database file ``src`` (and its write-ahead log, if any) to ``dst``; nothing
    when ``src`` does not exist yet."""
    if src.exists():
        shutil.copyfile(src, dst)
        wal = Path(str(src) + ".wal")
        if wal.exists():
            shutil.copyfile(wal, Path(str(dst) + ".wal"))


@contextlib.contextmanager
def write_transaction(
    path: str | os.PathLike[str] | None = None, *, timeout: float = 600.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Give a connection inside one transaction; the live file changes only on success.

    The body runs against a private copy of the database. When it returns, the
    transaction commits and the copy atomically replaces the live file; when it raises,
    the copy is thrown away and the live file is untouched.
    """
    p = db_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock_file(p, timeout)
    work = p.with_name(f"{p.name}.writing-{os.getpid()}")
    try:
        _remove_stale_copies(p)
        copy_database(p, work)
        conn = duckdb.connect(str(work))
        conn.execute("SET enable_progress_bar = false")
        try:
            conn.execute("BEGIN TRANSACTION")
            ensure_schema(conn)
            yield conn
            conn.execute("COMMIT")
            conn.execute("CHECKPOINT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        if Path(str(work) + ".wal").exists():
            raise RuntimeError(f"DuckDB left a write-ahead log beside {work}; not replacing {p}")
        _fsync_path(work)
        os.replace(work, p)
        _fsync_path(p.parent)
    finally:
        for leftover in (work, Path(str(work) + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def next_batch_id(conn: duckdb.DuckDBPyConnection) -> int:
    """The next free ``import_batches.batch_id`` (1, 2, ...: deterministic for the demo)."""
    rows = conn.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM import_batches").fetchall()
    return int(rows[0][0])


def database_version(path: str | os.PathLike[str] | None = None) -> tuple[int, int] | None:
    """(inode, mtime_ns) of the live file: changes whenever a write lands. For cache keys."""
    p = db_path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)
